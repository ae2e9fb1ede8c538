import type { Redis } from 'ioredis';
import { z } from 'zod';
import type { MigrationConfig } from '../config/migration-config.js';
import type { Clock } from '../observe/clock.js';
import type { Logger } from '../observe/logger.js';
import { field, option } from '../option-schema.js';

/** Options of RedisConfigStore. Checked once, in the constructor. */
export interface RedisConfigStoreOptions {
  /**
   * An ioredis client for commands; the store also makes one `duplicate()`
   * of it for pub/sub. The store never closes this client. Required.
   */
  readonly redis: Redis;
  /** The Redis key holding the config record (a JSON string). Required. */
  readonly key: string;
  /**
   * Served from construction until the key has been read, and written to the
   * key when it does not exist yet (the first instance wins).
   * @default phases.preparation()
   */
  readonly initial?: MigrationConfig;
  /**
   * Receives changes, refused configs, lost and regained connections.
   * @default silentLogger
   */
  readonly logger?: Logger;
  /** The pub/sub channel saves are published on. @default `${key}:changes` */
  readonly channel?: string;
  /** Stamps `savedAt` on each save (what a lease-driven ramp measures holds from). @default systemClock */
  readonly clock?: Clock;
}

/** What the store knows about the record in force besides the config. */
export interface RedisConfigInfo {
  /** Version of the record in force: +1 per save; 0 before the key was read. */
  readonly version: number;
  /** Clock time of the save that produced it (ms), undefined before the key was read. */
  readonly savedAt: number | undefined;
  /** True when the config in force came from a rollback (as opposed to a migration that never used new). */
  readonly rolledBack: boolean;
  /** True once the key has been read. */
  readonly loaded: boolean;
}

/** Makes a save conditional on a lease: it fails with ERR_LEASE_LOST unless `key` holds `token`. */
export interface SaveFence {
  readonly key: string;
  readonly token: string;
}

/** Options of one `save`. */
export interface RedisSaveOptions {
  /** Save only while this lease is held (checked atomically with the write). */
  readonly fence?: SaveFence;
  /**
   * Replace the record even when the key holds no valid record (garbage written
   * by hand or by another program): the operator's way out. Without it, only a
   * rollback replaces an invalid record; any other save rejects with
   * `ERR_INVALID_CONFIG` naming the key and what is wrong.
   * @default false
   */
  readonly overwriteInvalid?: boolean;
}

/** The schema RedisConfigStore parses its options with (the client and logger are checked apart, keeping their messages). */
export const redisStoreOptionsSchema = z.strictObject({
  redis: z.unknown(),
  key: field<string>((value) => typeof value === 'string' && value.length > 0, 'a non-empty string (the Redis key of the config)'),
  initial: z.unknown().optional(),
  logger: z.unknown().optional(),
  channel: field<string>((value) => typeof value === 'string' && value.length > 0, 'a non-empty string (a pub/sub channel)').optional(),
  clock: option.clock(),
});

export const redisSaveSchema = z.strictObject({
  fence: field<SaveFence>(
    (value) => typeof value === 'object' && value !== null && typeof (value as SaveFence).key === 'string' && typeof (value as SaveFence).token === 'string' && (value as SaveFence).token !== '',
    'a lease { key, token } with non-empty strings',
  ).optional(),
  overwriteInvalid: option.boolean().optional(),
});
