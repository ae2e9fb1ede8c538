import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import type { Redis } from 'ioredis';
import { z } from 'zod';
import type { Logger } from '../observe/logger.js';
import { safeLogger, silentLogger } from '../observe/logger.js';
import { field, parseOptions } from '../option-schema.js';
import { requireRedis } from './options.js';
import type { SaveFence } from './redis-config-store.js';

/** Options of RedisLease. Checked once, in the constructor. */
export interface RedisLeaseOptions {
  /** An ioredis client (not closed by the lease). Required. */
  readonly redis: Redis;
  /** The Redis key of the lease, e.g. `checkout:ramp-lease`. Required. */
  readonly key: string;
  /** How long the lease lasts without renewal, in ms (at least 100): how long a dead leader blocks the ramp. @default 10000 */
  readonly ttlMs?: number;
  /** Who holds it, for humans reading Redis; a random suffix makes each lease object unique. @default `${hostname}:${pid}` */
  readonly owner?: string;
  /** @default silentLogger */
  readonly logger?: Logger;
}

const nonEmpty = (what: string) => field<string>((value) => typeof value === 'string' && value.length > 0, `a non-empty string (${what})`);

const leaseOptionsSchema = z.strictObject({
  redis: z.unknown(),
  key: nonEmpty('the Redis key of the lease'),
  ttlMs: field<number>((value) => typeof value === 'number' && Number.isFinite(value) && value >= 100, 'a finite number of milliseconds, at least 100').default(10_000),
  owner: nonEmpty('who holds the lease').optional(),
  logger: z.unknown().optional(),
});

// Renew or release only while the key still holds our token: never extend or delete someone else's lease.
const RENEW_SCRIPT = `
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return 0
`;
const RELEASE_SCRIPT = `
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
`;

/**
 * A lease in Redis that at most one holder has at a time: `SET key token NX
 * PX ttl` to take it, a compare-and-renew script to keep it, a
 * compare-and-delete script to give it back. A holder that dies stops
 * renewing, and the lease expires after `ttlMs`.
 *
 * `held` is this process's belief, true until the lease's TTL could have run
 * out since the last successful take or renewal; a paused process may still
 * believe it after Redis expired it. What must never happen twice is
 * therefore fenced in Redis itself: `fence` makes a RedisConfigStore save
 * conditional on the lease, atomically.
 */
export class RedisLease {
  /** The Redis key of the lease. */
  readonly key: string;
  /** The value this holder writes: unique per lease object. */
  readonly token: string;
  /** Lease duration in ms. */
  readonly ttlMs: number;
  readonly #redis: Redis;
  readonly #logger: Logger;
  #heldUntil = 0;
  #timer: ReturnType<typeof setInterval> | undefined;

  /** @throws InvalidOptionError naming the bad option and the value received. */
  constructor(options: RedisLeaseOptions) {
    const parsed = parseOptions(leaseOptionsSchema, options, 'RedisLease');
    this.#redis = requireRedis(parsed.redis);
    this.key = parsed.key;
    this.ttlMs = parsed.ttlMs;
    const owner = parsed.owner ?? `${hostname()}:${process.pid}`;
    this.token = `${owner}:${randomBytes(8).toString('hex')}`;
    this.#logger = parsed.logger === undefined ? silentLogger : safeLogger(parsed.logger as Logger);
  }

  /** True while this holder believes it holds the lease (see the class comment). */
  get held(): boolean {
    return performance.now() < this.#heldUntil;
  }

  /** Makes a RedisConfigStore save conditional on this lease. */
  get fence(): SaveFence {
    return { key: this.key, token: this.token };
  }

  /**
   * Takes the lease when free, or renews it when already ours. Resolves
   * whether this holder has it now. Rejects with the Redis error when Redis
   * could not be asked (the lease then counts as not held).
   */
  async acquire(): Promise<boolean> {
    const started = performance.now();
    try {
      const taken = await this.#redis.set(this.key, this.token, 'PX', Math.ceil(this.ttlMs), 'NX');
      if (taken === 'OK') {
        if (!this.held) this.#logger.info({ lease: this.key, token: this.token }, 'lease taken');
        this.#heldUntil = started + this.ttlMs;
        return true;
      }
      return await this.#renewFrom(started);
    } catch (err) {
      this.#heldUntil = 0;
      throw err;
    }
  }

  /** Extends the lease by `ttlMs` when this holder still has it; resolves whether it does. */
  async renew(): Promise<boolean> {
    try {
      return await this.#renewFrom(performance.now());
    } catch (err) {
      this.#heldUntil = 0;
      throw err;
    }
  }

  /** Gives the lease back (only if still ours), so another holder need not wait for it to expire. */
  async release(): Promise<void> {
    this.stop();
    this.#heldUntil = 0;
    await this.#redis.eval(RELEASE_SCRIPT, 1, this.key, this.token);
  }

  /**
   * Renews the lease every third of `ttlMs` while held, so a long task keeps
   * it; a failed renewal is logged and ends the belief. Stop with `stop()`.
   * The timer does not keep the process alive.
   */
  keepAlive(): void {
    if (this.#timer !== undefined) return;
    this.#timer = setInterval(() => {
      if (!this.held) return;
      this.renew().catch((err: unknown) => this.#logger.warn({ err, lease: this.key }, 'lease could not be renewed'));
    }, Math.max(10, this.ttlMs / 3));
    this.#timer.unref?.();
  }

  /** Stops `keepAlive()`. */
  stop(): void {
    if (this.#timer !== undefined) clearInterval(this.#timer);
    this.#timer = undefined;
  }

  async #renewFrom(started: number): Promise<boolean> {
    const renewed = await this.#redis.eval(RENEW_SCRIPT, 1, this.key, this.token, String(Math.ceil(this.ttlMs)));
    if (renewed === 1) {
      this.#heldUntil = started + this.ttlMs;
      return true;
    }
    if (this.held) this.#logger.warn({ lease: this.key, token: this.token }, 'lease lost');
    this.#heldUntil = 0;
    return false;
  }
}
