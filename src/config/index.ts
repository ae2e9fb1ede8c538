export type { ConfigProvider, ConfigStore } from './config-provider.js';
export { isConfigProvider, isConfigStore, staticConfig } from './config-provider.js';
export type { FileConfigStoreOptions } from './file-config-store.js';
export { FileConfigStore } from './file-config-store.js';
export { InMemoryConfigStore } from './in-memory-config-store.js';
export type { ConfigIssue, MigrationConfig } from './migration-config.js';
export { MigrationConfigError, migrationConfigSchema, parseMigrationConfig } from './migration-config.js';
export type { PhaseName } from './phases.js';
export { phaseOf, phases } from './phases.js';
