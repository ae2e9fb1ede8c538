import type { Redis } from 'ioredis';
import { z } from 'zod';
import type { PartitionLease, PartitionLeases } from '../data/partition.js';
import type { Logger } from '../observe/logger.js';
import { loggerOption } from '../observe/logger.js';
import { parseOptions } from '../option-schema.js';
import { redisOption } from './options.js';
import { RedisLease } from './redis-lease.js';

/** Options of redisPartitionLeases. */
export interface RedisPartitionLeasesOptions {
  /** An ioredis client (not closed by the leases). Required. */
  readonly redis: Redis;
  /** Prepended to each lease's name to make its Redis key, e.g. `users-backfill:` gives `users-backfill:range-3`. Required. */
  readonly prefix: string;
  /** How long a lease lasts without renewal, in ms (at least 100): how long a dead worker blocks its range. @default 30000 */
  readonly ttlMs?: number;
  /** @default silentLogger */
  readonly logger?: Logger;
}

const schema = z.strictObject({
  redis: redisOption.client(),
  prefix: redisOption.string('the prefix of the lease keys'),
  ttlMs: redisOption.ms(100).default(30_000),
  logger: loggerOption('silent'),
});

/**
 * PartitionLeases in Redis, for workers in several processes or machines:
 * each range's lease is a RedisLease (`SET key token NX PX ttl`, renewed and
 * released only by a script that checks the token). While a range is
 * worked, its lease is renewed after each batch and every third of `ttlMs`
 * by a timer (so a long batch keeps it); a worker that dies stops renewing
 * and its ranges are free again after `ttlMs`.
 * @throws InvalidOptionError naming the bad option.
 */
export function redisPartitionLeases(options: RedisPartitionLeasesOptions): PartitionLeases {
  const { redis, prefix, ttlMs, logger } = parseOptions(schema, options, 'redisPartitionLeases');
  return Object.freeze({
    async acquire(name: string, owner: string): Promise<PartitionLease | undefined> {
      const lease = new RedisLease({ redis, key: `${prefix}${name}`, ttlMs, owner, logger });
      if (!(await lease.acquire())) return undefined;
      lease.keepAlive();
      return {
        renew: () => lease.renew(),
        release: () => lease.release(),
      };
    },
  });
}
