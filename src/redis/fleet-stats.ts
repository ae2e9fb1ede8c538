import type { Redis } from 'ioredis';
import type { ConfigChangeEvent, FallbackEvent, RollbackEvent, SettledEvent, ShadowErrorEvent } from '../core/events.js';
import type { GlueLike, GlueLikeMismatch } from '../core/glue-like.js';
import { phaseOf } from '../core/routing.js';
import type { MigrationStats } from '../core/stats.js';
import type { Clock } from '../observe/clock.js';
import { Emitter } from '../observe/emitter.js';
import type { Logger } from '../observe/logger.js';
import { SlotRing, resolveWindowOptions } from '../observe/slot-ring.js';
import type { Published } from './fleet-figures.js';
import { ArmCounter, parsePublished, summarize } from './fleet-figures.js';
import type { FleetStatsOptions } from './fleet-stats-options.js';
import { resolveFleetStatsOptions } from './fleet-stats-options.js';

export type { FleetStatsOptions } from './fleet-stats-options.js';

/** The events a FleetStats forwards or makes; see `on`. */
interface FleetEvents {
  settled: SettledEvent;
  fallback: Pick<FallbackEvent<unknown>, 'migration' | 'key'>;
  mismatch: GlueLikeMismatch;
  shadowError: Pick<ShadowErrorEvent<unknown>, 'migration' | 'key' | 'reason'>;
  configChange: ConfigChangeEvent;
  rollback: RollbackEvent;
}

/**
 * The fleet's figures for one migration, shaped like a glue so that
 * `new RollbackGuard(fleetStats, criteria)` judges the whole fleet: a
 * migration with little traffic per instance is still judged on enough
 * samples.
 *
 * Each instance counts its glue's served calls (from its `settled` events:
 * calls, errors and latency histograms per arm, over the glue's sliding
 * window and in total) and publishes them, with the glue's shadow figures,
 * to a Redis hash of its own every `intervalMs`, with a TTL; it then reads
 * every instance's hash and sums them. `stats()` returns those sums
 * (at most one interval old) with the local glue's config; `rollback()`
 * rolls the local glue back, which (through the shared config store)
 * reaches every instance. `settled` fires for each call the local glue's
 * new side served and after each read of the fleet's figures, `mismatch`
 * for each local mismatch and when the fleet's count grew, so the guard's
 * `watch()` judges the fleet without polling of its own.
 */
export class FleetStats implements GlueLike {
  readonly name: string;
  /** This instance's id in Redis. */
  readonly instanceId: string;
  readonly #redis: Redis;
  readonly #glue: GlueLike;
  readonly #setKey: string;
  readonly #hashKey: string;
  readonly #keyPrefix: string;
  readonly #intervalMs: number;
  readonly #ttlMs: number;
  readonly #windowMs: number;
  readonly #logger: Logger;
  readonly #clock: Clock;
  readonly #emitter: Emitter<FleetEvents>;
  readonly #ring: SlotRing;
  readonly #slots: { readonly old: ArmCounter; readonly new: ArmCounter }[];
  readonly #total = { old: new ArmCounter(), new: new ArmCounter() };
  readonly #detach: (() => void)[] = [];
  #fleet: ReturnType<typeof summarize> | undefined;
  #instances = 0;
  #fleetMismatched = 0;
  #timer: ReturnType<typeof setInterval> | undefined;
  #refreshing: Promise<void> | undefined;
  #failing = false;
  #closed = false;

  /** @throws InvalidOptionError naming the bad option and the value received. */
  constructor(options: FleetStatsOptions) {
    const resolved = resolveFleetStatsOptions(options);
    this.#redis = resolved.redis;
    this.#keyPrefix = resolved.key;
    this.#glue = resolved.glue;
    this.name = this.#glue.name;
    this.#intervalMs = resolved.intervalMs;
    this.#ttlMs = resolved.ttlMs;
    this.instanceId = resolved.instanceId;
    this.#logger = resolved.logger;
    this.#clock = resolved.clock;
    this.#windowMs = this.#glue.stats().windowMs;
    const window = resolveWindowOptions({ clock: this.#clock, windowMs: this.#windowMs });
    this.#slots = Array.from({ length: window.slots }, () => ({ old: new ArmCounter(), new: new ArmCounter() }));
    this.#ring = new SlotRing(
      window,
      (index) => {
        const slot = this.#slots[index];
        slot?.old.clear();
        slot?.new.clear();
      },
      () => {
        for (const slot of this.#slots) {
          slot.old.clear();
          slot.new.clear();
        }
      },
    );
    this.#setKey = `${this.#keyPrefix}:instances`;
    this.#hashKey = `${this.#keyPrefix}:instance:${this.instanceId}`;
    this.#emitter = new Emitter<FleetEvents>(this.#logger);
    this.#detach.push(
      this.#glue.on('settled', (event) => this.#onSettled(event)),
      this.#glue.on('fallback', (event) => this.#emitter.emit('fallback', event)),
      this.#glue.on('mismatch', (event) => this.#emitter.emit('mismatch', event)),
      this.#glue.on('shadowError', (event) => this.#emitter.emit('shadowError', event)),
      this.#glue.on('configChange', (event) => this.#emitter.emit('configChange', event)),
      this.#glue.on('rollback', (event) => this.#emitter.emit('rollback', event)),
    );
    if (resolved.autoStart) this.start();
  }

  /** Publishes and reads every `intervalMs` until `stop()`; the timer does not keep the process alive. */
  start(): void {
    if (this.#closed || this.#timer !== undefined) return;
    this.#timer = setInterval(() => void this.refresh(), this.#intervalMs);
    this.#timer.unref?.();
    void this.refresh();
  }

  /** Stops the timer (figures already published expire after `ttlMs`). */
  stop(): void {
    if (this.#timer !== undefined) clearInterval(this.#timer);
    this.#timer = undefined;
  }

  /** Number of instances whose figures the last read summed (this one included). */
  get instances(): number {
    return this.#instances;
  }

  /**
   * Publishes this instance's figures and reads the fleet's now. Never
   * rejects: a Redis failure is logged once and the last fleet figures stay.
   * Concurrent calls share one refresh.
   */
  refresh(): Promise<void> {
    this.#refreshing ??= this.#refresh().finally(() => {
      this.#refreshing = undefined;
    });
    return this.#refreshing;
  }

  /**
   * The fleet's figures from the last read, with the local glue's config.
   * Before the first read, this instance's own figures.
   */
  stats(): MigrationStats {
    const local = this.#glue.stats();
    const fleet = this.#fleet ?? summarize([this.#snapshot(local)], this.#windowMs);
    return { migration: this.name, config: local.config, phase: phaseOf(local.config), ...fleet };
  }

  /** Rolls the local glue back; through the shared config store every instance follows. */
  rollback(reason: string): Promise<boolean> {
    return this.#glue.rollback(reason);
  }

  /** `settled`: a local call new served, or a fresh read of the fleet's figures (arm `new`, key undefined). */
  on(event: 'settled', listener: (event: SettledEvent) => void): () => void;
  /** `fallback`: forwarded from the local glue. */
  on(event: 'fallback', listener: (event: FleetEvents['fallback']) => void): () => void;
  /** `mismatch`: a local mismatch event, or `{ migration, fleet: true }` when the fleet's mismatch count grew. */
  on(event: 'mismatch', listener: (event: GlueLikeMismatch) => void): () => void;
  /** `shadowError`: forwarded from the local glue. */
  on(event: 'shadowError', listener: (event: FleetEvents['shadowError']) => void): () => void;
  /** `configChange`: forwarded from the local glue. */
  on(event: 'configChange', listener: (event: ConfigChangeEvent) => void): () => void;
  /** `rollback`: forwarded from the local glue. */
  on(event: 'rollback', listener: (event: RollbackEvent) => void): () => void;
  on<E extends keyof FleetEvents>(event: E, listener: (payload: FleetEvents[E]) => void): () => void {
    return this.#emitter.on(event, listener);
  }

  /** Stops the timer, stops following the glue, and removes this instance's figures from Redis. Idempotent. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.stop();
    for (const detach of this.#detach) detach();
    this.#emitter.clear();
    await this.#refreshing;
    try {
      await this.#redis.multi().srem(this.#setKey, this.instanceId).del(this.#hashKey).exec();
    } catch (err) {
      this.#logger.warn({ err, instance: this.instanceId }, 'fleet figures could not be removed from redis; they expire on their own');
    }
  }

  #onSettled(event: SettledEvent): void {
    const index = this.#ring.advance();
    const slot = this.#slots[index];
    slot?.[event.arm].record(event.ok, event.durationMs);
    this.#total[event.arm].record(event.ok, event.durationMs);
    if (event.arm === 'new') this.#emitter.emit('settled', event);
  }

  #snapshot(local: MigrationStats): Published {
    this.#ring.advance();
    const window = { old: new ArmCounter(), new: new ArmCounter() };
    for (const slot of this.#slots) {
      window.old.add(slot.old);
      window.new.add(slot.new);
    }
    return {
      at: this.#clock.now(),
      windowMs: this.#windowMs,
      window: { old: window.old.serialize(), new: window.new.serialize() },
      total: { old: this.#total.old.serialize(), new: this.#total.new.serialize() },
      shadow: local.shadow,
      fallbacks: local.fallbacks,
      rollbacks: local.rollbacks,
      missingKeys: local.missingKeys,
    };
  }

  async #refresh(): Promise<void> {
    if (this.#closed) return;
    try {
      const mine = this.#snapshot(this.#glue.stats());
      const ttl = Math.ceil(this.#ttlMs);
      await this.#redis
        .multi()
        .hset(this.#hashKey, 'figures', JSON.stringify(mine))
        .pexpire(this.#hashKey, ttl)
        .sadd(this.#setKey, this.instanceId)
        .pexpire(this.#setKey, Math.max(ttl, 60_000))
        .exec();
      const ids = await this.#redis.smembers(this.#setKey);
      const pipeline = this.#redis.pipeline();
      for (const id of ids) pipeline.hget(`${this.#keyPrefix}:instance:${id}`, 'figures');
      const replies = (await pipeline.exec()) ?? [];
      const published: Published[] = [];
      const gone: string[] = [];
      replies.forEach(([err, raw], i) => {
        const id = ids[i] as string;
        if (err !== null) return;
        if (raw === null || raw === undefined) {
          gone.push(id);
          return;
        }
        const parsed = parsePublished(raw);
        if (parsed !== undefined) published.push(parsed);
      });
      if (gone.length > 0) await this.#redis.srem(this.#setKey, ...gone);
      if (this.#closed) return;
      this.#instances = published.length;
      this.#fleet = summarize(published.length > 0 ? published : [mine], this.#windowMs);
      if (this.#failing) {
        this.#failing = false;
        this.#logger.info({ instance: this.instanceId }, 'fleet figures reachable again');
      }
    } catch (err) {
      if (!this.#failing) {
        this.#failing = true;
        this.#logger.warn({ err, instance: this.instanceId }, 'fleet figures could not be published or read; keeping the last ones');
      }
      return;
    }
    const fleet = this.#fleet;
    if (fleet.new.window.calls > 0) {
      this.#emitter.emit('settled', { migration: this.name, key: undefined, arm: 'new', ok: true, durationMs: 0 });
    }
    if (fleet.shadow.mismatched > this.#fleetMismatched) this.#emitter.emit('mismatch', { migration: this.name, fleet: true });
    this.#fleetMismatched = fleet.shadow.mismatched;
  }
}
