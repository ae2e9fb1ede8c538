import type { Redis } from 'ioredis';
import type { MigrationConfig } from '../config/migration-config.js';
import { MigrationConfigError, isRolledBack, parseMigrationConfig } from '../config/migration-config.js';
import type { RampChange, RampState } from '../config/ramp-state.js';
import { Listeners } from '../config/listeners.js';
import { emptyRampState, nextRevision, parseRampState, sameRampState } from '../config/ramp-state.js';
import type { Logger } from '../observe/logger.js';
import { FleetError } from './fleet-error.js';
import type { SaveReply, StoredRecord } from './redis-config-record.js';
import { invalidRecordError, parseRecord } from './redis-config-record.js';

/** How often an update reads again after another instance wrote between its read and its write. */
const maxAttempts = 50;

/** What RedisRampState needs of its RedisConfigStore. */
export interface RampStorePort {
  readonly redis: Redis;
  readonly key: string;
  readonly logger: Logger;
  /** The config, version and rollback flag in force in the store. */
  readonly current: () => { readonly config: MigrationConfig; readonly version: number; readonly rolledBack: boolean };
  /** Writes a record: compare-and-set against `expected` unless it is a rollback. */
  readonly write: (config: MigrationConfig, version: number, expected: string, usedNew: boolean, ramp: RampState) => Promise<SaveReply>;
  /** Serves a record this instance wrote, or read. */
  readonly adoptSaved: (raw: string) => void;
  readonly applyRead: (record: StoredRecord) => void;
  /** Logs a refused record once. */
  readonly refuse: (raw: string, error: MigrationConfigError) => void;
}

/**
 * The ramp state of a RedisConfigStore: kept in the config's record (so it
 * is written, published and fenced with it), served from memory, and
 * updated by read, change, compare-and-set, retried on a concurrent write.
 */
export class RedisRampState {
  readonly #port: RampStorePort;
  readonly #listeners: Listeners<RampState>;
  #ramp: RampState | undefined;

  constructor(port: RampStorePort) {
    this.#port = port;
    this.#listeners = new Listeners(port.logger, 'ramp listener threw', { key: port.key });
  }

  /** The state in force, or undefined before a record held one. */
  get stored(): RampState | undefined {
    return this.#ramp;
  }

  /** Follows a record's state (a record without one keeps the state in force); notifies on a change. */
  take(ramp: RampState | undefined): void {
    const before = this.#ramp;
    this.#ramp = ramp ?? before;
    if (this.#ramp === undefined || (before !== undefined && sameRampState(this.#ramp, before))) return;
    this.#listeners.notify(this.#ramp);
  }

  subscribe(listener: (ramp: RampState) => void): () => void {
    return this.#listeners.add(listener);
  }

  close(): void {
    this.#listeners.close();
  }

  /** See RedisConfigStore.updateRamp. */
  async update(change: (ramp: RampState, config: MigrationConfig) => RampChange | undefined): Promise<void> {
    const { redis, key } = this.#port;
    for (let attempt = 0; attempt < maxAttempts; attempt++) {
      const raw = await redis.get(key);
      const stored = raw === null ? undefined : parseRecord(raw);
      const valid = stored instanceof MigrationConfigError ? undefined : stored;
      const inForce = this.#port.current();
      const base = valid?.config ?? inForce.config;
      const baseRamp = valid?.ramp ?? (raw === null ? this.#ramp : undefined) ?? emptyRampState();
      const result = change(baseRamp, base);
      if (result === undefined) {
        if (valid !== undefined) this.#port.applyRead(valid);
        return;
      }
      const config = result.config === undefined ? base : parseMigrationConfig(result.config);
      const ramp = parseRampState(nextRevision(result.ramp, baseRamp));
      if (ramp === undefined) throw new TypeError('[migration-glue] updateRamp: the change returned an invalid ramp state');
      if (stored instanceof MigrationConfigError && !isRolledBack(config)) {
        this.#port.refuse(raw as string, stored);
        throw invalidRecordError(key, stored);
      }
      const usedNew = !isRolledBack(base) || (valid?.rolledBack ?? inForce.rolledBack);
      const reply = await this.#port.write(config, valid?.version ?? inForce.version, raw ?? '', usedNew, ramp);
      if (reply.status === 1) {
        if (typeof reply.record === 'string') this.#port.adoptSaved(reply.record);
        return;
      }
    }
    throw new FleetError('ERR_CONFLICT', `ramp state not saved to "${key}": other instances kept writing; try again`);
  }
}
