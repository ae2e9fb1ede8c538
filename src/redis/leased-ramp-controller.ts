import type { ConfigStore } from '../config/config-provider.js';
import type { MigrationConfig } from '../config/migration-config.js';
import type { RampStateStore } from '../config/ramp-state.js';
import { phases } from '../config/phases.js';
import { z } from 'zod';
import { newShare, phaseOf } from '../core/routing.js';
import { field, option, parseOptions } from '../option-schema.js';
import type { Clock } from '../observe/clock.js';
import { systemClock } from '../observe/clock.js';
import type { Logger } from '../observe/logger.js';
import { safeLogger } from '../observe/logger.js';
import type { RampControllerOptions, RampStatus } from '../rollout/ramp-controller.js';
import { RampController } from '../rollout/ramp-controller.js';
import { defaultRamp, validatePlan } from '../rollout/ramp-plan.js';
import { FleetError } from './fleet-error.js';
import type { RedisConfigStore } from './redis-config-store.js';
import type { RedisLease } from './redis-lease.js';

const isRedisStore = (value: unknown): boolean =>
  typeof value === 'object' && value !== null && typeof (value as Partial<RedisConfigStore>).save === 'function' && typeof (value as Partial<RedisConfigStore>).info === 'function';
const isLease = (value: unknown): boolean =>
  typeof value === 'object' && value !== null && typeof (value as Partial<RedisLease>).acquire === 'function' && typeof (value as Partial<RedisLease>).token === 'string';

// The store and the lease are checked here; every other option by the RampController built from them.
const leaseSchema = z.strictObject({
  store: field<RedisConfigStore>(isRedisStore, 'a RedisConfigStore'),
  lease: field<RedisLease>(isLease, 'a RedisLease'),
});
const runSchema = z.strictObject({ intervalMs: option.positiveNumber().optional() });

/** The store and lease of `options`, read once (an options value that is not an object is named as such). */
function pick(options: unknown): unknown {
  if (typeof options !== 'object' || options === null) return options;
  const { store, lease } = options as Partial<LeasedRampControllerOptions>;
  return { store, lease };
}

/** Options of LeasedRampController: those of RampController, with a Redis store and a lease. */
export interface LeasedRampControllerOptions extends Omit<RampControllerOptions, 'store'> {
  /** The fleet's shared config store: the ramp's state is read from it. Required. */
  readonly store: RedisConfigStore;
  /** The lease that makes one controller of the fleet the one that advances. Required. */
  readonly lease: RedisLease;
}

/** A RampStatus, plus whether this controller led the fleet at its last tick. */
export interface LeasedRampStatus extends RampStatus {
  readonly leader: boolean;
}

/**
 * A RampController that only advances while it holds a fleet-wide lease,
 * so that exactly one controller of the fleet moves the ramp however many
 * instances run one.
 *
 * Each `tick()` takes or renews the lease; without it, nothing happens.
 * With it, a RampController is built (on the first tick of a new leader)
 * from the shared config store: the step in force is the store's
 * percentage and its hold counts from the store's `savedAt`, so a new leader
 * continues where a dead one stopped, neither skipping nor repeating a step.
 * Every save it makes is fenced by the lease, atomically in Redis: a leader
 * that lost the lease while paused cannot advance. A store whose config came
 * from a rollback keeps the ramp put until `resume()`, on every leader.
 * Give the store and this controller the same clock (both default to the
 * system clock).
 */
export class LeasedRampController {
  readonly #options: LeasedRampControllerOptions;
  readonly #store: RedisConfigStore;
  readonly #lease: RedisLease;
  readonly #clock: Clock;
  readonly #logger: Logger;
  readonly #name: string;
  readonly #plan: RampControllerOptions['plan'];
  readonly #fenced: ConfigStore;
  #inner: RampController | undefined;
  #ticking: Promise<LeasedRampStatus> | undefined;
  #timer: ReturnType<typeof setInterval> | undefined;
  #closed = false;

  /** @throws InvalidOptionError on a missing store or lease, or any option RampController refuses. */
  constructor(options: LeasedRampControllerOptions) {
    const { store, lease } = parseOptions(leaseSchema, pick(options), 'LeasedRampController');
    this.#options = options;
    this.#store = store;
    this.#lease = lease;
    this.#plan = validatePlan(options.plan ?? defaultRamp);
    this.#clock = options.clock ?? systemClock;
    this.#logger = safeLogger(options.logger);
    this.#name = options.name ?? 'migration';
    const fence = this.#lease.fence;
    // The ramp's state (status, approvals, pause) rides along unfenced: only steps must never happen twice.
    const fenced: ConfigStore & RampStateStore = {
      current: () => this.#store.current(),
      subscribe: (listener) => this.#store.subscribe(listener),
      save: (config: MigrationConfig) => this.#store.save(config, { fence }),
      rampState: () => this.#store.rampState(),
      rolledBack: () => this.#store.rolledBack(),
      updateRamp: (change) => this.#store.updateRamp(change),
      subscribeRamp: (listener) => this.#store.subscribeRamp(listener),
    };
    this.#fenced = fenced;
    // Builds and drops a controller once, so that a bad option throws here rather than on the first tick.
    this.#build().close();
  }

  /** True when this controller held the lease at its last tick (and believes it still does). */
  get leader(): boolean {
    return this.#inner !== undefined && this.#lease.held;
  }

  /** Where the ramp stands, as the shared store says; the blocks of the last tick when leading. */
  status(): LeasedRampStatus {
    if (this.#inner !== undefined) {
      const inner = this.#inner.status();
      return { ...(this.#store.info().rolledBack && inner.blockedBy !== 'rolledBack' ? { ...inner, blockedBy: 'rolledBack' } : inner), leader: this.leader };
    }
    const config = this.#store.current();
    const plan = this.#plan ?? defaultRamp;
    const phase = phaseOf(config);
    const step = phase === 'canary' || phase === 'full' ? plan.findIndex((s) => s.percentage === newShare(config)) : -1;
    const since = this.#store.info().savedAt ?? this.#clock.now();
    const hold = step >= 0 ? (plan[step]?.holdMs ?? 0) : 0;
    return {
      step,
      percentage: config.newSystemPercentage,
      since,
      nextAt: since + hold,
      blockedBy: this.#store.info().rolledBack ? 'rolledBack' : null,
      leader: false,
    };
  }

  /**
   * Takes or renews the lease; while held, advances the ramp at most one
   * step as RampController does. Concurrent calls share one tick. Never
   * advances without the lease, nor after a rollback until `resume()`.
   * @throws the Redis error when the lease could not be asked for.
   */
  tick(): Promise<LeasedRampStatus> {
    this.#ticking ??= this.#tick().finally(() => {
      this.#ticking = undefined;
    });
    return this.#ticking;
  }

  /** Ticks every `intervalMs` of real time (keep it well below the lease's `ttlMs`) until `stop()`. */
  run(given: { intervalMs?: number } = {}): void {
    const intervalMs = parseOptions(runSchema, given, 'LeasedRampController.run').intervalMs ?? Math.min(60_000, this.#lease.ttlMs / 3);
    this.stop();
    this.#lease.keepAlive();
    this.#timer = setInterval(() => {
      this.tick().catch((err: unknown) => this.#logger.error({ err, migration: this.#name }, 'leased ramp tick failed'));
    }, intervalMs);
    this.#timer.unref?.();
  }

  /** Stops `run()` (the lease is kept until it expires or `close()`). */
  stop(): void {
    if (this.#timer !== undefined) clearInterval(this.#timer);
    this.#timer = undefined;
    this.#lease.stop();
  }

  /**
   * After a rollback, once new is fixed: when leading, saves shadow mode
   * (fenced by the lease) and starts the ramp again from its first step.
   * Resolves whether it resumed: false when not rolled back or not leading.
   */
  async resume(): Promise<boolean> {
    if (!this.#store.info().rolledBack) return false;
    if (!(await this.#lease.acquire())) return false;
    await this.#store.save(phases.shadow(), { fence: this.#lease.fence });
    this.#inner?.close();
    this.#inner = this.#build();
    this.#options.journal?.record('resume', { migration: this.#name });
    this.#logger.info({ migration: this.#name }, 'ramp resumed in shadow mode');
    return true;
  }

  /** Stops ticking and following the store, and gives the lease back. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.stop();
    this.#inner?.close();
    this.#inner = undefined;
    await this.#lease.release().catch((err: unknown) => this.#logger.warn({ err, lease: this.#lease.key }, 'lease could not be released; it expires on its own'));
  }

  async #tick(): Promise<LeasedRampStatus> {
    if (this.#closed) return this.status();
    let leading: boolean;
    try {
      leading = await this.#lease.acquire();
    } catch (err) {
      this.#dropInner();
      throw err;
    }
    if (!leading) {
      this.#dropInner();
      return this.status();
    }
    if (this.#store.info().rolledBack) return { ...this.status(), blockedBy: 'rolledBack' };
    this.#inner ??= this.#build();
    try {
      const status = await this.#inner.tick();
      return { ...status, leader: this.#lease.held };
    } catch (err) {
      if (FleetError.is(err, 'ERR_LEASE_LOST')) {
        this.#logger.warn({ migration: this.#name }, 'lease lost during a ramp tick; the step was not taken');
        this.#dropInner();
        return this.status();
      }
      if (FleetError.is(err, 'ERR_CONFLICT')) {
        // Someone else changed the config meanwhile; the next tick decides again from it.
        this.#logger.warn({ migration: this.#name, err }, 'config changed during a ramp tick; the step was not taken');
        this.#dropInner();
        return this.status();
      }
      throw err;
    }
  }

  #dropInner(): void {
    this.#inner?.close();
    this.#inner = undefined;
  }

  /** A RampController that starts from the shared store: its step, and the time that step was saved. */
  #build(): RampController {
    const { lease: _lease, store: _store, ...rest } = this.#options;
    const config = this.#store.current();
    const savedAt = this.#store.info().savedAt;
    const phase = phaseOf(config);
    const since = savedAt !== undefined && (phase === 'canary' || phase === 'full') ? savedAt : undefined;
    return new RampController({ ...rest, store: this.#fenced, ...(since === undefined ? {} : { since }) });
  }
}
