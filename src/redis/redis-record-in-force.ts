import type { Listeners } from '../config/listeners.js';
import type { MigrationConfig } from '../config/migration-config.js';
import { MigrationConfigError, sameConfig } from '../config/migration-config.js';
import type { RampState } from '../config/ramp-state.js';
import type { Logger } from '../observe/logger.js';
import type { StoredRecord } from './redis-config-record.js';
import { parseRecord } from './redis-config-record.js';

/** Where a record came from: a save of this instance, a read of the key, or a message of another instance. */
export type RecordSource = 'message' | 'read' | 'save';

/**
 * The config record a RedisConfigStore serves, and the rule for taking a
 * new one: a record from Redis is validated (an invalid one is refused and
 * logged once, and the last good one keeps serving), and never replaces a
 * newer one. Listeners hear each change of config.
 */
export class RecordInForce {
  config: MigrationConfig;
  /** Version of the record in force: +1 per save; 0 before the key was read. */
  version = 0;
  /** The record in force exactly as Redis holds it: what a save compares the key with. */
  raw = '';
  savedAt: number | undefined;
  rolledBack = false;
  // The last refused record, so a bad value logs once however often it is read.
  #lastRefused: string | undefined;
  readonly #key: string;
  readonly #logger: Logger;
  readonly #listeners: Listeners<MigrationConfig>;
  readonly #takeRamp: (ramp: RampState | undefined) => void;

  constructor(key: string, initial: MigrationConfig, logger: Logger, listeners: Listeners<MigrationConfig>, takeRamp: (ramp: RampState | undefined) => void) {
    this.#key = key;
    this.config = initial;
    this.#logger = logger;
    this.#listeners = listeners;
    this.#takeRamp = takeRamp;
  }

  /** Validates a record from Redis and serves it when it is not older than the one in force. */
  adopt(raw: string, source: RecordSource): void {
    const record = parseRecord(raw);
    if (record instanceof MigrationConfigError) {
      this.refuse(raw, record);
      return;
    }
    this.apply(record, source);
  }

  /** Serves a valid record unless it is older than the one in force; notifies when the config changed. */
  apply(record: StoredRecord, source: RecordSource): void {
    this.#lastRefused = undefined;
    // An older version is a message or read overtaken by a newer save; equal versions differ only after Redis lost the key.
    if (record.version < this.version) return;
    const before = this.config;
    this.version = record.version;
    this.raw = record.raw;
    this.savedAt = record.savedAt;
    this.rolledBack = record.rolledBack;
    this.#takeRamp(record.ramp);
    if (sameConfig(before, record.config)) return;
    this.config = record.config;
    if (source !== 'save') this.#logger.info({ key: this.#key, version: record.version, before, after: record.config }, 'config changed in redis');
    this.#listeners.notify(record.config);
  }

  /** Logs an invalid record once; the config in force stays. */
  refuse(raw: string, error: MigrationConfigError): void {
    if (raw === this.#lastRefused) return;
    this.#lastRefused = raw;
    this.#logger.error(
      { key: this.#key, issues: error.issues, config: this.config },
      `config in redis key "${this.#key}" refused, keeping the last good config: ${error.message}`,
    );
  }
}
