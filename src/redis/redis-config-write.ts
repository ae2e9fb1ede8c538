import type { Redis } from 'ioredis';
import { undoesUnseenRollback } from '../config/config-conflict.js';
import type { MigrationConfig } from '../config/migration-config.js';
import { MigrationConfigError, isRolledBack } from '../config/migration-config.js';
import type { RampState } from '../config/ramp-state.js';
import type { Clock } from '../observe/clock.js';
import type { Logger } from '../observe/logger.js';
import { FleetError } from './fleet-error.js';
import type { SaveFence } from './redis-config-options.js';
import type { SaveReply } from './redis-config-record.js';
import { invalidRecordError, parseRecord } from './redis-config-record.js';
import type { RecordInForce } from './redis-record-in-force.js';

/** Where a RedisConfigStore's record lives and what it serves. */
export interface RecordPort {
  readonly redis: Redis;
  readonly key: string;
  readonly logger: Logger;
  readonly rec: RecordInForce;
}

/** What one save of a RedisConfigStore works with. */
export interface WritePort extends RecordPort {
  /** Runs the save script at the version in force, against the record `expected`. */
  eval(expected: string, usedNew: boolean): Promise<SaveReply>;
  /** Serves the record the save wrote. */
  adoptSaved(raw: string): void;
}

/**
 * Writes `config` with compare-and-set on the record in force. Refuses to
 * undo a rollback applied after the save was decided (`seen` is the version
 * it was decided at), and on a lost race serves the winner's record before
 * rejecting with `ERR_CONFLICT`.
 */
export async function writeConfig(port: WritePort, config: MigrationConfig, fence: SaveFence | undefined, seen: number | undefined, overwriteInvalid: boolean): Promise<void> {
  const { key, rec } = port;
  if (undoesUnseenRollback(config, rec.config, rec.version > (seen ?? rec.version))) {
    throw new FleetError(
      'ERR_CONFLICT',
      `config not saved to "${key}": it was rolled back (version ${rec.version}) after this save was decided, and stays rolled back; decide again from the rolled-back config`,
    );
  }
  let expected = rec.raw;
  if (overwriteInvalid) {
    const raw = await port.redis.get(key);
    if (raw !== null && parseRecord(raw) instanceof MigrationConfigError) expected = raw;
  }
  const usedNew = !isRolledBack(rec.config) || rec.rolledBack;
  const { status, version, record, previous } = await port.eval(expected, usedNew);
  if (status === -1) {
    throw new FleetError('ERR_LEASE_LOST', `config not saved to "${key}": the lease "${fence?.key ?? ''}" is not held by this instance`);
  }
  if (status === 0) {
    const mine = rec.version;
    if (typeof record === 'string') {
      const stored = parseRecord(record);
      if (stored instanceof MigrationConfigError) {
        rec.refuse(record, stored);
        throw invalidRecordError(key, stored);
      }
      // Even when closed: the caller is told to decide again from what this store now serves.
      rec.apply(stored, 'read');
    }
    throw new FleetError(
      'ERR_CONFLICT',
      `config not saved to "${key}": another instance saved version ${String(version)} while this one was at ${mine}; this instance now serves it, decide again and retry`,
    );
  }
  if (typeof record !== 'string') return;
  if (typeof previous === 'string' && previous !== '' && previous !== rec.raw) {
    const replaced = parseRecord(previous);
    if (replaced instanceof MigrationConfigError) {
      port.logger.warn({ key, issues: replaced.issues, config }, `redis key "${key}" held an invalid record; replaced by this save`);
    }
  }
  port.adoptSaved(record);
}

/**
 * The key's record. When Redis lost the key, the record in force (with
 * `ramp`, the ramp state it holds) is written onto it first, never over an
 * existing one, and a restore after the first read is logged.
 */
export async function readOrRestore(port: RecordPort, ramp: RampState | undefined, clock: Clock, loaded: boolean): Promise<string | null> {
  const { redis, key, rec } = port;
  const raw = await redis.get(key);
  if (raw !== null) return raw;
  const record = {
    version: Math.max(rec.version, 1),
    savedAt: rec.savedAt ?? Math.floor(clock.now()),
    rolledBack: rec.rolledBack,
    config: rec.config,
    ...(ramp === undefined ? {} : { ramp: JSON.stringify(ramp) }),
  };
  const written = await redis.set(key, JSON.stringify(record), 'NX');
  if (written === 'OK' && loaded) {
    port.logger.warn({ key, version: record.version, config: record.config }, 'redis config key was missing; restored the last good config');
  }
  return redis.get(key);
}
