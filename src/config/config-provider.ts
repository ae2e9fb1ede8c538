import type { MigrationConfig } from './migration-config.js';
import { parseMigrationConfig } from './migration-config.js';

/** Supplies the config in force. `current()` runs on every call: it must answer from memory, no I/O. */
export interface ConfigProvider {
  /** The config in force now. Called once per routed call. */
  current(): MigrationConfig;
  /** Calls `listener` after each change; returns a function that stops it. */
  subscribe(listener: (config: MigrationConfig) => void): () => void;
  /** Releases watchers and connections. Optional. */
  close?(): void | Promise<void>;
}

/** A ConfigProvider that rollback and the ramp can write. */
export interface ConfigStore extends ConfigProvider {
  /** Validates, stores, notifies; rejects with MigrationConfigError on a bad config. */
  save(config: MigrationConfig): Promise<void>;
}

/** True when `provider` can be written (has `save`). */
export function isConfigStore(provider: ConfigProvider): provider is ConfigStore {
  return typeof (provider as Partial<ConfigStore>).save === 'function';
}

/**
 * A provider whose config never changes (validated once). A glue given a
 * static config rolls back by switching itself, since there is nowhere to save.
 * @throws MigrationConfigError on a bad config.
 */
export function staticConfig(config: MigrationConfig): ConfigProvider {
  const parsed = parseMigrationConfig(config);
  return Object.freeze({
    current: () => parsed,
    subscribe: () => () => {},
  });
}

/** True when `value` looks like a ConfigProvider rather than a plain config object. */
export function isConfigProvider(value: unknown): value is ConfigProvider {
  if (typeof value !== 'object' || value === null) return false;
  try {
    return typeof (value as Partial<ConfigProvider>).current === 'function' && typeof (value as Partial<ConfigProvider>).subscribe === 'function';
  } catch {
    // a trapping or revoked Proxy: not a provider (parseMigrationConfig then names what is wrong)
    return false;
  }
}
