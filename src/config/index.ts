export type { ConfigProvider, ConfigStore } from './config-provider.js';
export { isConfigProvider, isConfigStore, staticConfig } from './config-provider.js';
export { ConfigConflictError } from './config-conflict.js';
export type { FileConfigStoreOptions, FileSaveOptions } from './file-config-store.js';
export { FileConfigStore } from './file-config-store.js';
export type { InMemoryConfigStoreOptions } from './in-memory-config-store.js';
export { InMemoryConfigStore } from './in-memory-config-store.js';
export type { ConfigIssue, MigrationConfig } from './migration-config.js';
export { MigrationConfigError, migrationConfigSchema, parseMigrationConfig } from './migration-config.js';
export { phases } from './phases.js';
export type {
  RampApproval,
  RampBlock,
  RampChange,
  RampPause,
  RampPendingApproval,
  RampRollback,
  RampState,
  RampStateStore,
  RampVerdict,
  StoredRampStep,
} from './ramp-state.js';
export { isRampStateStore } from './ramp-state.js';
