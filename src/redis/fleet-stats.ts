import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';
import { phaseOf } from '../core/routing.js';
import type { Arm, ConfigChangeEvent, RollbackEvent, SettledEvent } from '../core/events.js';
import type { ArmStats, FingerprintCount, MigrationStats, ShadowStats } from '../core/stats.js';
import { InvalidOptionError, describeValue } from '../errors.js';
import type { ArmFigures } from '../observe/arm-metrics.js';
import type { Clock } from '../observe/clock.js';
import { systemClock } from '../observe/clock.js';
import { Emitter } from '../observe/emitter.js';
import type { Logger } from '../observe/logger.js';
import { safeLogger, silentLogger } from '../observe/logger.js';
import { SlotRing, resolveWindowOptions } from '../observe/slot-ring.js';
import type { AnyGlue } from '../rollout/rollback-guard.js';
import type { SerializedHistogram } from './fleet-histogram.js';
import { FleetHistogram } from './fleet-histogram.js';
import { optionalMs, requireRedis, requireString } from './options.js';

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
  readonly glue: AnyGlue;
  /** How often this instance publishes its figures and reads the fleet's, in ms (at least 10). @default 1000 */
  readonly intervalMs?: number;
  /** How long an instance's figures outlive its last publish, in ms: a dead instance drops out after this. @default 3 × intervalMs */
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

/** One arm's figures as an instance publishes them. */
interface PublishedArm {
  readonly calls: number;
  readonly errors: number;
  readonly latency: SerializedHistogram;
}

/** What one instance publishes each interval. */
interface Published {
  readonly at: number;
  readonly windowMs: number;
  readonly window: { readonly old: PublishedArm; readonly new: PublishedArm };
  readonly total: { readonly old: PublishedArm; readonly new: PublishedArm };
  readonly shadow: ShadowStats;
  readonly fallbacks: number;
  readonly rollbacks: number;
  /** Absent in figures published by an older version: counted as 0. */
  readonly missingKeys?: number;
}

/** The events a FleetStats forwards or makes; see `on`. */
interface FleetEvents {
  settled: SettledEvent;
  mismatch: unknown;
  configChange: ConfigChangeEvent;
  rollback: RollbackEvent;
}

class ArmCounter {
  calls = 0;
  errors = 0;
  readonly latency = new FleetHistogram();

  record(ok: boolean, durationMs: number): void {
    this.calls++;
    if (!ok) this.errors++;
    this.latency.record(durationMs);
  }

  add(other: ArmCounter): void {
    this.calls += other.calls;
    this.errors += other.errors;
    this.latency.add(other.latency);
  }

  addPublished(arm: PublishedArm | undefined): void {
    if (arm === undefined) return;
    this.calls += finite(arm.calls);
    this.errors += finite(arm.errors);
    if (typeof arm.latency === 'object' && arm.latency !== null) this.latency.addSerialized(arm.latency);
  }

  clear(): void {
    this.calls = 0;
    this.errors = 0;
    this.latency.clear();
  }

  serialize(): PublishedArm {
    return { calls: this.calls, errors: this.errors, latency: this.latency.serialize() };
  }

  figures(): ArmFigures {
    const { p50, p95, p99 } = this.latency.percentiles();
    return { calls: this.calls, errors: this.errors, errorRate: this.calls === 0 ? 0 : this.errors / this.calls, p50, p95, p99 };
  }
}

function finite(value: unknown): number {
  return typeof value === 'number' && Number.isFinite(value) && value > 0 ? value : 0;
}

function defaultInstanceId(): string {
  return `${hostname()}:${process.pid}:${randomBytes(4).toString('hex')}`;
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
export class FleetStats implements AnyGlue {
  readonly name: string;
  /** This instance's id in Redis. */
  readonly instanceId: string;
  readonly #redis: Redis;
  readonly #glue: AnyGlue;
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
  #fleet: Omit<MigrationStats, 'migration' | 'config' | 'phase'> | undefined;
  #instances = 0;
  #fleetMismatched = 0;
  #timer: ReturnType<typeof setInterval> | undefined;
  #refreshing: Promise<void> | undefined;
  #failing = false;
  #closed = false;

  /** @throws InvalidOptionError naming the bad option and the value received. */
  constructor(options: FleetStatsOptions) {
    if (typeof options !== 'object' || options === null) {
      throw new InvalidOptionError('redis', `is required (an ioredis client), got options ${describeValue(options)}`);
    }
    this.#redis = requireRedis(options.redis);
    this.#keyPrefix = requireString(options.key, 'key', 'the prefix of the fleet figures in Redis');
    const glue: unknown = options.glue;
    const candidate = glue as Partial<AnyGlue> | null;
    if (typeof glue !== 'object' || candidate === null || typeof candidate.stats !== 'function' || typeof candidate.on !== 'function' || typeof candidate.rollback !== 'function') {
      throw new InvalidOptionError('glue', `must be a MigrationGlue (stats, on, rollback), got ${describeValue(glue)}`);
    }
    this.#glue = glue as AnyGlue;
    this.name = this.#glue.name;
    this.#intervalMs = optionalMs(options.intervalMs, 'intervalMs', 1000, 10);
    this.#ttlMs = optionalMs(options.ttlMs, 'ttlMs', 3 * this.#intervalMs, this.#intervalMs);
    this.instanceId = options.instanceId === undefined ? defaultInstanceId() : requireString(options.instanceId, 'instanceId', 'this instance in Redis');
    this.#logger = options.logger === undefined ? silentLogger : safeLogger(options.logger);
    this.#clock = options.clock ?? systemClock;
    const autoStart: unknown = options.autoStart ?? true;
    if (typeof autoStart !== 'boolean') throw new InvalidOptionError('autoStart', `must be true or false, got ${describeValue(autoStart)}`);
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
      this.#glue.on('mismatch', (event) => this.#emitter.emit('mismatch', event)),
      this.#glue.on('configChange', (event) => this.#emitter.emit('configChange', event)),
      this.#glue.on('rollback', (event) => this.#emitter.emit('rollback', event)),
    );
    if (autoStart) this.start();
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
    const fleet = this.#fleet ?? this.#summarize([this.#snapshot(local)]);
    return { migration: this.name, config: local.config, phase: phaseOf(local.config), ...fleet };
  }

  /** Rolls the local glue back; through the shared config store every instance follows. */
  rollback(reason: string): Promise<boolean> {
    return this.#glue.rollback(reason);
  }

  /** `settled`: a local call new served, or a fresh read of the fleet's figures (arm `new`, key undefined). */
  on(event: 'settled', listener: (event: SettledEvent) => void): () => void;
  /** `mismatch`: a local mismatch event, or `{ migration, fleet: true }` when the fleet's mismatch count grew. */
  on(event: 'mismatch', listener: (event: unknown) => void): () => void;
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
      this.#fleet = this.#summarize(published.length > 0 ? published : [mine]);
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

  #summarize(all: readonly Published[]): Omit<MigrationStats, 'migration' | 'config' | 'phase'> {
    const arms = (pick: (p: Published) => { readonly old: PublishedArm; readonly new: PublishedArm }, arm: Arm) => {
      const counter = new ArmCounter();
      for (const p of all) counter.addPublished(pick(p)?.[arm]);
      return counter.figures();
    };
    const armStats = (arm: Arm): ArmStats => ({ ...arms((p) => p.total, arm), window: arms((p) => p.window, arm) });
    return {
      windowMs: this.#windowMs,
      old: armStats('old'),
      new: armStats('new'),
      shadow: sumShadow(all.map((p) => p.shadow)),
      fallbacks: all.reduce((sum, p) => sum + finite(p.fallbacks), 0),
      rollbacks: all.reduce((sum, p) => sum + finite(p.rollbacks), 0),
      missingKeys: all.reduce((sum, p) => sum + finite(p.missingKeys), 0),
    };
  }
}

function parsePublished(raw: unknown): Published | undefined {
  if (typeof raw !== 'string') return undefined;
  try {
    const value: unknown = JSON.parse(raw);
    if (typeof value !== 'object' || value === null) return undefined;
    const p = value as Partial<Published>;
    if (typeof p.window !== 'object' || typeof p.total !== 'object' || typeof p.shadow !== 'object') return undefined;
    return value as Published;
  } catch {
    return undefined;
  }
}

/** Sums the shadow figures of every instance; rates are recomputed from the sums. */
function sumShadow(all: readonly ShadowStats[]): ShadowStats {
  const sum = (get: (s: ShadowStats) => unknown) => all.reduce((total, s) => total + finite(safeGet(s, get)), 0);
  const compared = sum((s) => s.compared);
  const mismatched = sum((s) => s.mismatched);
  const windowCompared = sum((s) => s.window.compared);
  const windowMismatched = sum((s) => s.window.mismatched);
  const fingerprints = new Map<string, FingerprintCount>();
  for (const s of all) {
    const list = safeGet(s, (x) => x.fingerprints);
    if (!Array.isArray(list)) continue;
    for (const f of list as FingerprintCount[]) {
      if (typeof f?.fingerprint !== 'string') continue;
      const seen = fingerprints.get(f.fingerprint);
      fingerprints.set(f.fingerprint, { fingerprint: f.fingerprint, description: String(f.description), count: (seen?.count ?? 0) + finite(f.count) });
    }
  }
  return {
    compared,
    matched: sum((s) => s.matched),
    mismatched,
    mismatchesByKind: {
      value: sum((s) => s.mismatchesByKind.value),
      error: sum((s) => s.mismatchesByKind.error),
      flaky: sum((s) => s.mismatchesByKind.flaky),
    },
    errors: sum((s) => s.errors),
    timeouts: sum((s) => s.timeouts),
    skipped: sum((s) => s.skipped),
    skippedBy: {
      sampledOut: sum((s) => s.skippedBy.sampledOut),
      overCapacity: sum((s) => s.skippedBy.overCapacity),
      missingKey: sum((s) => s.skippedBy.missingKey),
      outsidePercentage: sum((s) => s.skippedBy.outsidePercentage),
    },
    inFlight: sum((s) => s.inFlight),
    inputMutations: sum((s) => s.inputMutations),
    mismatchRate: compared === 0 ? 0 : mismatched / compared,
    aa: all.some((s) => safeGet(s, (x) => x.aa) === true),
    window: {
      compared: windowCompared,
      mismatched: windowMismatched,
      errors: sum((s) => s.window.errors),
      timeouts: sum((s) => s.window.timeouts),
      mismatchRate: windowCompared === 0 ? 0 : windowMismatched / windowCompared,
    },
    fingerprints: [...fingerprints.values()].sort((a, b) => b.count - a.count).slice(0, 20),
  };
}

/** Reads a field of a figure received from another instance, which may lack it. */
function safeGet<T>(value: T, get: (v: T) => unknown): unknown {
  try {
    return get(value);
  } catch {
    return undefined;
  }
}
