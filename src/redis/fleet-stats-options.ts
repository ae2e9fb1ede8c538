import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';
import { z } from 'zod';
import type { GlueLike } from '../core/glue-like.js';
import { describeValue } from '../errors.js';
import type { Clock } from '../observe/clock.js';
import type { Logger } from '../observe/logger.js';
import { loggerOption } from '../observe/logger.js';
import { field, option, parseOptions } from '../option-schema.js';
import { redisOption } from './options.js';

/** Options of FleetStats. Checked once, in the constructor. */
export interface FleetStatsOptions {
  /** An ioredis client (not closed by FleetStats). Required. */
  readonly redis: Redis;
  /**
   * Prefix of the fleet's keys: `${key}:instances` (a set of instance ids) and
   * `${key}:instance:${id}` (a hash per instance, with a TTL). Use one per
   * migration, e.g. `checkout:fleet`. Required.
   */
  readonly key: string;
  /** This instance's glue: its calls are counted, its events forwarded, its `rollback` used. Required. */
  readonly glue: GlueLike;
  /** How often this instance publishes its figures and reads the fleet's, in ms (at least 10). @default 1000 */
  readonly intervalMs?: number;
  /** How long an instance's figures outlive its last publish, in ms (at least `intervalMs`): a dead instance drops out after this. @default 3 × intervalMs */
  readonly ttlMs?: number;
  /** Names this instance in Redis. @default `${hostname}:${pid}:${random}` */
  readonly instanceId?: string;
  /** Clock of this instance's sliding window (the glue's window length is used). @default systemClock */
  readonly clock?: Clock;
  /** Receives publish and read failures (logged once until it works again). @default silentLogger */
  readonly logger?: Logger;
  /** Start publishing on a timer right away. With false, call `refresh()` yourself. @default true */
  readonly autoStart?: boolean;
}

function isGlue(value: unknown): boolean {
  if (typeof value !== 'object' || value === null) return false;
  const candidate = value as Partial<Record<keyof GlueLike, unknown>>;
  return typeof candidate.stats === 'function' && typeof candidate.on === 'function' && typeof candidate.rollback === 'function';
}

const schema = z
  .strictObject({
    redis: redisOption.client(),
    key: redisOption.string('the prefix of the fleet figures in Redis'),
    glue: field<GlueLike>(isGlue, 'a MigrationGlue (stats, on, rollback)'),
    intervalMs: redisOption.ms(10).default(1000),
    ttlMs: redisOption.ms(0).optional(),
    instanceId: redisOption.string('this instance in Redis').optional(),
    clock: option.clock(),
    logger: loggerOption('silent'),
    autoStart: option.boolean().default(true),
  })
  .superRefine((o, ctx) => {
    if (o.ttlMs !== undefined && o.ttlMs < o.intervalMs) {
      ctx.addIssue({ code: 'custom', path: ['ttlMs'], message: `must be a finite number of milliseconds, at least ${o.intervalMs}, got ${describeValue(o.ttlMs)}` });
    }
  })
  .transform((o) => ({ ...o, ttlMs: o.ttlMs ?? 3 * o.intervalMs, instanceId: o.instanceId ?? defaultInstanceId() }));

/** FleetStatsOptions with defaults resolved. */
export type ResolvedFleetStatsOptions = z.output<typeof schema>;

/** Checks FleetStats' options once and resolves their defaults. @throws InvalidOptionError naming the bad or unknown option. */
export function resolveFleetStatsOptions(options: FleetStatsOptions): ResolvedFleetStatsOptions {
  return parseOptions(schema, options, 'FleetStats');
}

function defaultInstanceId(): string {
  return `${hostname()}:${process.pid}:${randomBytes(4).toString('hex')}`;
}
