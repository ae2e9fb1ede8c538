import { z } from 'zod';
import type { Clock } from '../observe/clock.js';
import { option, parseOptions } from '../option-schema.js';
import type { PartitionLease, PartitionLeases } from './partition.js';

/** Options of InMemoryPartitionLeases. */
export interface InMemoryPartitionLeasesOptions {
  /** How long a lease lasts without renewal, in ms: how long a worker that stopped renewing blocks its range. @default 30000 */
  readonly ttlMs?: number;
  /** Decides expiry; inject a ManualClock in tests to expire leases explicitly. @default systemClock */
  readonly clock?: Clock;
}

const schema = z.strictObject({
  ttlMs: option.timerMs().default(30_000),
  clock: option.clock(),
});

/**
 * PartitionLeases in process memory, shared by the workers of one process
 * (tests, a run split over several connections). A lease expires `ttlMs`
 * after it was taken or last renewed, as read on `clock`; an expired lease
 * can be taken by anyone and no longer renews, as in Redis.
 */
export class InMemoryPartitionLeases implements PartitionLeases {
  readonly #ttlMs: number;
  readonly #clock: Clock;
  readonly #held = new Map<string, { readonly token: object; readonly owner: string; expiresAt: number }>();

  /** @throws InvalidOptionError naming the bad option. */
  constructor(options: InMemoryPartitionLeasesOptions = {}) {
    const { ttlMs, clock } = parseOptions(schema, options, 'InMemoryPartitionLeases');
    this.#ttlMs = ttlMs;
    this.#clock = clock;
  }

  async acquire(name: string, owner: string): Promise<PartitionLease | undefined> {
    const held = this.#held;
    const clock = this.#clock;
    const ttlMs = this.#ttlMs;
    const current = held.get(name);
    if (current !== undefined && clock.now() < current.expiresAt) return undefined;
    const entry = { token: {}, owner, expiresAt: clock.now() + ttlMs };
    held.set(name, entry);
    const ours = (): boolean => held.get(name)?.token === entry.token && clock.now() < entry.expiresAt;
    return {
      async renew(): Promise<boolean> {
        if (!ours()) return false;
        entry.expiresAt = clock.now() + ttlMs;
        return true;
      },
      async release(): Promise<void> {
        if (held.get(name)?.token === entry.token) held.delete(name);
      },
    };
  }
}
