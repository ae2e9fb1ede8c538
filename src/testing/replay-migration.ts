import { InMemoryConfigStore } from '../config/in-memory-config-store.js';
import type { MigrationConfig } from '../config/migration-config.js';
import { phases } from '../config/phases.js';
import type { Arm } from '../core/events.js';
import { MigrationGlue } from '../core/migration-glue.js';
import { InvalidOptionError, describeValue } from '../errors.js';
import { bucketOf } from '../hashing/hasher.js';
import { silentLogger } from '../observe/logger.js';
import type { RollbackCriteria } from '../rollout/criteria.js';
import { resolveCriteria } from '../rollout/criteria.js';
import type { BlockedBy } from '../rollout/ramp-controller.js';
import { RampController } from '../rollout/ramp-controller.js';
import type { RampStep } from '../rollout/ramp-plan.js';
import { defaultRamp, validatePlan } from '../rollout/ramp-plan.js';
import type { RollbackGuardOptions } from '../rollout/rollback-guard.js';
import { RollbackGuard } from '../rollout/rollback-guard.js';
import type { FakeScript, FakeService, LatencyScript, SleepingClock } from './fake-service.js';
import { fakeService } from './fake-service.js';
import { ManualClock, defaultStartTime } from './manual-clock.js';
import type { Random } from './random.js';
import { deriveSeed, seededRandom } from './random.js';

const minute = 60_000;
const hour = 60 * minute;

/** A latency in a replay: fixed ms, or a distribution drawn under the replay's seed. */
export type ReplayLatency = number | Extract<LatencyScript<unknown>, { readonly kind: string }>;

/** How one side behaves while a traffic level is in force. */
export interface ArmBehaviour {
  /** Share of its calls that fail, 0 to 1. @default 0 */
  readonly errorRate?: number;
  /** How long its calls take, in ms. @default 0 */
  readonly latencyMs?: ReplayLatency;
}

/** How new behaves: like old, plus how often it answers differently (seen in shadow mode only). */
export interface NewArmBehaviour extends ArmBehaviour {
  /** Share of its answers that differ from old's, 0 to 1. @default 0 */
  readonly mismatchRate?: number;
}

/** The traffic in force at a time: its volume and how each side behaves. */
export interface TrafficLevel {
  /** Calls per minute across both sides (>= 0). */
  readonly callsPerMinute: number;
  readonly old: ArmBehaviour;
  readonly new: NewArmBehaviour;
}

/** A traffic level in force from `from` (included) to `to` (excluded), ms since the replay's start. */
export interface TrafficSegment extends TrafficLevel {
  readonly from: number;
  readonly to: number;
}

/** One call as recorded in production. */
export interface RecordedCall {
  /** When it was made: ms since the epoch, or a Date. */
  readonly at: number | Date;
  /** The side that served it; without one, the call describes both sides. */
  readonly arm?: Arm;
  readonly ok: boolean;
  readonly latencyMs: number;
}

/**
 * The history to replay: generated segments, a function of the time since
 * the start (read once per simulated minute), or calls recorded in production.
 */
export type ReplayTraffic = readonly TrafficSegment[] | ((offsetMs: number) => TrafficLevel) | readonly RecordedCall[];

/** Options of replayMigration. */
export interface ReplayMigrationOptions {
  /** The history to replay. */
  readonly traffic: ReplayTraffic;
  /** @default defaultRamp */
  readonly plan?: readonly RampStep[];
  /** The criteria under test, merged over the defaults. @default defaultRollbackCriteria */
  readonly criteria?: Partial<RollbackCriteria>;
  /** Clock time of the replay's start (ms since the epoch or a Date). @default the first recorded call, or 2026-01-01T00:00:00Z */
  readonly start?: number | Date;
  /** How long to replay, in ms. @default to the end of the last segment or recorded call; required with a function */
  readonly durationMs?: number;
  /** The ramp ticks this often, in ms of simulated time. @default 3600000 (1 hour) */
  readonly tickEveryMs?: number;
  /** Asked before each step, with the step and the clock time; may be async. @default every step approved */
  readonly approve?: (step: RampStep, at: number) => boolean | Promise<boolean>;
  /** The config the replay starts in. The ramp takes its first step once shadow has enough clean comparisons. @default phases.shadow() */
  readonly config?: MigrationConfig;
  /** Old's figures before new took traffic. @default captured by the guard while new serves nothing */
  readonly baseline?: RollbackGuardOptions['baseline'];
  /**
   * Calls driven per side and window, at most. More traffic than this is
   * sampled down; at least `criteria.minSamples`, so that sampling never
   * changes whether a side has enough samples. @default 2 × minSamples
   */
  readonly maxCallsPerWindow?: number;
  /**
   * How failures (and mismatches) fall among the calls: `spread` gives each
   * side exactly its rate, evenly; `random` draws each call under the seed,
   * with the noise of a sample of `maxCallsPerWindow` calls. @default 'spread'
   */
  readonly errors?: 'spread' | 'random';
  /** After a rollback, resume the ramp (in shadow mode, from its first step) this long after. @default never: the replay stops at the rollback */
  readonly resumeAfterMs?: number;
  /** Seed of every draw. @default 1 */
  readonly seed?: number;
}

/** A step the ramp took. */
export interface ReplayStep {
  /** Clock time, ms since the epoch. */
  readonly at: number;
  /** Ms since the replay's start. */
  readonly offsetMs: number;
  readonly percentage: number;
}

/** A rollback the guard made. */
export interface ReplayRollback {
  readonly at: number;
  readonly offsetMs: number;
  /** The percentage of keys new served when it rolled back (0 in shadow). */
  readonly percentage: number;
  /** The guard's reason, naming the criterion and the figures. */
  readonly reason: string;
}

/** The ramp's status after one tick, with the traffic of the window before it. */
export interface ReplayTick {
  readonly at: number;
  readonly offsetMs: number;
  /** The percentage of keys on new after the tick (0 in shadow and after a rollback). */
  readonly percentage: number;
  readonly blockedBy: BlockedBy;
  /** The guard's reasons when blocked by the guard. */
  readonly reasons?: readonly string[];
  /** Calls the traffic had in the window before the tick. */
  readonly calls: number;
  /** Calls actually driven through the glue for them (sampled down to `maxCallsPerWindow` per side). */
  readonly driven: number;
}

/** What replayMigration returns. */
export interface ReplayResult {
  /** Every step the ramp took, in order. */
  readonly steps: readonly ReplayStep[];
  /** Every rollback, in order. */
  readonly rollbacks: readonly ReplayRollback[];
  /** The percentage of keys on new at the end (0 after a rollback). */
  readonly finalPercentage: number;
  /** Why the ramp was not advancing at the end (`done` once the plan's last hold is over). */
  readonly blockedBy: BlockedBy;
  /** One entry per tick. */
  readonly timeline: readonly ReplayTick[];
  /** Clock time the replay ended: the end of the traffic, or the rollback tick. */
  readonly endedAt: number;
}

interface ReplayInput {
  readonly userId: string;
  /** Shared by both sides: a call fails on a side when `u` is below that side's error rate. */
  readonly u: number;
  /** New answers differently from old when `v` is below its mismatch rate. */
  readonly v: number;
}

type Script = FakeScript<ReplayInput, number>;

/** Where the scripts of both fakes come from: generated levels or recorded calls. */
interface TrafficModel {
  /** Ms after the start where the traffic ends. */
  readonly endMs: number;
  /** Calls in [from, to), ms after the start. */
  callsIn(from: number, to: number): number;
  /** Called before a window is driven with `driven` calls. */
  beginWindow(from: number, to: number, driven: number): void;
  /** The script of `arm` at `offset`: the same object while nothing changes. */
  scriptAt(arm: Arm, offset: number): Script;
}

/**
 * Plays a traffic history through a real MigrationGlue, RollbackGuard and
 * RampController on a ManualClock, and tells when the ramp would have
 * stepped and when the guard would have rolled back: to tune a plan and
 * criteria on past incidents before trusting them.
 *
 * The replay starts in shadow mode (or `config`) and ticks the ramp every
 * `tickEveryMs`. It does not drive every call: before each tick it drives the
 * calls of the guard's window (`criteria.windowMs`) before it, at most
 * `maxCallsPerWindow` per side, spread evenly over the window, with routing
 * keys chosen so that each side gets its share. A bad spell that falls
 * entirely between two windows goes unseen. Each side's fake follows the
 * level in force at the time of each call; with recorded calls, each side
 * replays the calls it served in that window (see docs/testing.md).
 * @example
 * const day = 86_400_000;
 * const legacy = { errorRate: 0.002, latencyMs: { kind: 'normal', mean: 120, sd: 30 } } as const;
 * const v2 = { errorRate: 0, latencyMs: 60 };
 * const result = await replayMigration({
 *   traffic: [
 *     { from: 0, to: 12 * day, callsPerMinute: 6_000, old: legacy, new: v2 },
 *     { from: 12 * day, to: 16 * day, callsPerMinute: 6_000, old: legacy, new: { ...v2, errorRate: 0.05 } },
 *   ],
 *   criteria: { maxErrorRate: 0.02, maxErrorRateOverBaseline: 0.01 },
 * });
 * result.rollbacks[0]; // { at, offsetMs: 12 d 57 min, percentage: 25, reason: 'rollback guard: new error rate 5 % > 2 % over 100 calls' }
 * @throws InvalidOptionError naming the bad option and the value received.
 */
export async function replayMigration(options: ReplayMigrationOptions): Promise<ReplayResult> {
  if (typeof options !== 'object' || options === null) {
    throw new InvalidOptionError('options', `must be an object, got ${describeValue(options)}`);
  }
  const criteria = resolveCriteria(options.criteria);
  const plan = validatePlan(options.plan ?? defaultRamp);
  const seed = options.seed ?? 1;
  if (typeof seed !== 'number' || !Number.isInteger(seed)) throw new InvalidOptionError('seed', `must be an integer, got ${describeValue(seed)}`);
  const tickEveryMs = optionalMs(options.tickEveryMs, 'tickEveryMs', true) ?? hour;
  const resumeAfterMs = optionalMs(options.resumeAfterMs, 'resumeAfterMs', false);
  const cap = options.maxCallsPerWindow ?? 2 * criteria.minSamples;
  if (!Number.isSafeInteger(cap) || cap < criteria.minSamples) {
    throw new InvalidOptionError('maxCallsPerWindow', `must be an integer >= criteria.minSamples (${criteria.minSamples}), got ${describeValue(options.maxCallsPerWindow)}`);
  }
  const errors = options.errors ?? 'spread';
  if (errors !== 'spread' && errors !== 'random') throw new InvalidOptionError('errors', `must be 'spread' or 'random', got ${describeValue(errors)}`);
  const approve = options.approve;
  if (approve !== undefined && typeof approve !== 'function') {
    throw new InvalidOptionError('approve', `must be a function (step, at) => boolean | Promise<boolean>, got ${describeValue(approve)}`);
  }
  const { model, start } = resolveTraffic(options);
  const drawU = draws(seededRandom(deriveSeed(seed, 'replay', 'failures')), errors === 'spread');
  const drawV = draws(seededRandom(deriveSeed(seed, 'replay', 'mismatches')), errors === 'spread');
  const endMs = optionalMs(options.durationMs, 'durationMs', true) ?? model.endMs;

  const clock = new ManualClock({ start, autoAdvance: false });
  // Calls run one at a time, so a sleep may move the clock at once: no macrotask per call keeps a month of traffic fast.
  const sleeper: SleepingClock = {
    now: () => clock.now(),
    sleep: (ms) => {
      clock.advance(ms);
      return Promise.resolve();
    },
  };
  const fakes: Record<Arm, FakeService<ReplayInput, number>> = {
    old: fakeService<ReplayInput, number>({ name: 'old', output: [0], seed, clock: sleeper }),
    new: fakeService<ReplayInput, number>({ name: 'new', output: [0], seed, clock: sleeper }),
  };
  const store = new InMemoryConfigStore(options.config ?? phases.shadow());
  const glue = new MigrationGlue<ReplayInput, number>({
    name: 'replay',
    oldService: fakes.old,
    newService: fakes.new,
    config: store,
    clock,
    logger: silentLogger,
    windowMs: criteria.windowMs,
    // Old first, then new: with a clock moved by each sleep, overlapping calls would add up each other's latency.
    shadow: { order: 'old-first', isolateInput: 'none' },
  });
  const guard = new RollbackGuard(glue, criteria, {
    logger: silentLogger,
    ...(options.baseline === undefined ? {} : { baseline: options.baseline }),
  });
  const ramp = new RampController({
    store,
    plan,
    guard,
    clock,
    logger: silentLogger,
    name: 'replay',
    ...(approve === undefined ? {} : { approve: (step: RampStep) => approve(step, clock.now()) }),
  });

  const steps: ReplayStep[] = [];
  const rollbacks: ReplayRollback[] = [];
  const timeline: ReplayTick[] = [];
  const offRollback = glue.on('rollback', (event) => {
    rollbacks.push({ at: event.at, offsetMs: event.at - start, percentage: servedPercentage(event.before), reason: event.reason });
  });
  const stopWatching = guard.watch();
  const keys = new KeyPool('replay');
  const current: Partial<Record<Arm, Script>> = {};

  const drive = async (from: number, to: number): Promise<{ calls: number; driven: number }> => {
    const calls = model.callsIn(from, to);
    const config = store.current();
    const percentage = servedPercentage(config);
    const toNew = Math.round((calls * percentage) / 100);
    const counts = { new: Math.min(toNew, cap), old: Math.min(calls - toNew, cap) };
    const driven = counts.new + counts.old;
    if (driven === 0) return { calls, driven };
    model.beginWindow(from, to, driven);
    const split = percentage > 0 && percentage < 100 ? keys.split(Math.round(percentage * 100)) : undefined;
    const next = { old: 0, new: 0 };
    const timeOf = (arm: Arm, i: number) => from + ((i + 0.5) * (to - from)) / counts[arm];
    const drain = config.shadowMode;
    while (next.old < counts.old || next.new < counts.new) {
      const arm: Arm = next.new >= counts.new || (next.old < counts.old && timeOf('old', next.old) <= timeOf('new', next.new)) ? 'old' : 'new';
      const offset = timeOf(arm, next[arm]);
      const userId = split === undefined ? keys.any() : split[arm]();
      next[arm] += 1;
      if (clock.now() < start + offset) clock.set(start + offset);
      for (const side of ['old', 'new'] as const) {
        const script = model.scriptAt(side, clock.now() - start);
        if (current[side] !== script) {
          fakes[side].setScript(script);
          current[side] = script;
        }
      }
      await glue.process({ userId, u: drawU(), v: drawV() }).catch(ignore);
      if (drain) await glue.drain();
    }
    fakes.old.clearCalls();
    fakes.new.clearCalls();
    return { calls, driven };
  };

  let lastRollbackAt: number | undefined;
  let previousStep = ramp.status().step;
  let tickAt = 0;
  try {
    while (tickAt < endMs) {
      const from = tickAt;
      tickAt = Math.min(tickAt + tickEveryMs, endMs);
      const { calls, driven } = await drive(Math.max(from, tickAt - criteria.windowMs), tickAt);
      if (clock.now() < start + tickAt) clock.set(start + tickAt);
      let status = await ramp.tick();
      if (status.step !== previousStep && status.step >= 0) {
        steps.push({ at: clock.now(), offsetMs: clock.now() - start, percentage: status.percentage });
      }
      previousStep = status.step;
      if (status.blockedBy === 'rolledBack') {
        lastRollbackAt ??= rollbacks.at(-1)?.at ?? clock.now();
        if (resumeAfterMs !== undefined && clock.now() >= lastRollbackAt + resumeAfterMs) {
          await ramp.resume();
          lastRollbackAt = undefined;
          status = ramp.status();
          previousStep = status.step;
        }
      }
      timeline.push({
        at: clock.now(),
        offsetMs: clock.now() - start,
        percentage: servedPercentage(store.current()),
        blockedBy: status.blockedBy,
        ...(status.reasons === undefined ? {} : { reasons: status.reasons }),
        calls,
        driven,
      });
      if (status.blockedBy === 'rolledBack' && resumeAfterMs === undefined) break;
    }
    return {
      steps,
      rollbacks,
      finalPercentage: servedPercentage(store.current()),
      blockedBy: ramp.status().blockedBy,
      timeline,
      endedAt: clock.now(),
    };
  } finally {
    stopWatching();
    offRollback();
    ramp.close();
    await glue.close();
  }
}

function ignore(): void {}

/** The percentage of keys new serves under `config`: 0 in shadow, preparation and after a rollback. */
function servedPercentage(config: MigrationConfig): number {
  return config.newSystemEnabled && !config.shadowMode ? config.newSystemPercentage : 0;
}

function optionalMs(value: number | undefined, option: string, positive: boolean): number | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0 || (positive && value === 0)) {
    throw new InvalidOptionError(option, `must be a finite number of ms ${positive ? '> 0' : '>= 0'}, got ${describeValue(value)}`);
  }
  return value;
}

/** Routing keys `user-0`, `user-1`, … split by the side a percentage sends them to. */
class KeyPool {
  readonly #salt: string;
  readonly #buckets: number[] = [];
  #cursor = 0;
  readonly #splits = new Map<number, Record<Arm, () => string>>();

  constructor(salt: string) {
    this.#salt = salt;
  }

  /** Keys in turn, whatever their side. */
  any(): string {
    const key = `user-${this.#cursor}`;
    this.#cursor = (this.#cursor + 1) % 10_000;
    return key;
  }

  /** For a threshold in buckets (percentage × 100, strictly between 0 and 10000): a source of keys per side. */
  split(threshold: number): Record<Arm, () => string> {
    const cached = this.#splits.get(threshold);
    if (cached !== undefined) return cached;
    const sides: Record<Arm, string[]> = { old: [], new: [] };
    const fill = (from: number, to: number) => {
      for (let i = from; i < to; i++) {
        this.#buckets[i] ??= bucketOf(`user-${i}`, this.#salt);
        sides[(this.#buckets[i] as number) < threshold ? 'new' : 'old'].push(`user-${i}`);
      }
    };
    let size = 10_000;
    fill(0, size);
    // A share of 0.01 % may miss every key of the first ten thousand.
    while ((sides.new.length === 0 || sides.old.length === 0) && size < 1_000_000) fill(size, (size += 10_000));
    const cycle = (list: string[]) => {
      let i = 0;
      return () => list[i++ % list.length] as string;
    };
    const split = { old: cycle(sides.old), new: cycle(sides.new) };
    this.#splits.set(threshold, split);
    return split;
  }
}

function resolveTraffic(options: ReplayMigrationOptions): { model: TrafficModel; start: number } {
  const traffic = options.traffic;
  if (typeof traffic === 'function') {
    if (options.durationMs === undefined) throw new InvalidOptionError('durationMs', 'is required when `traffic` is a function');
    return { model: new GeneratedTraffic(traffic, Infinity), start: startOf(options.start, defaultStartTime) };
  }
  if (!Array.isArray(traffic) || traffic.length === 0) {
    throw new InvalidOptionError('traffic', `must be a non-empty array of segments or recorded calls, or a function, got ${describeValue(traffic)}`);
  }
  const first: unknown = traffic[0];
  if (typeof first === 'object' && first !== null && 'at' in first) {
    const calls = checkRecorded(traffic as readonly RecordedCall[]);
    const start = startOf(options.start, calls[0]?.at ?? defaultStartTime);
    return { model: new RecordedTraffic(calls, start), start };
  }
  const segments = checkSegments(traffic as readonly TrafficSegment[]);
  const byTime = (offset: number) => segments.find((segment) => segment.from <= offset && offset < segment.to);
  const endMs = Math.max(...segments.map((segment) => segment.to));
  return { model: new GeneratedTraffic(byTime, endMs, segments), start: startOf(options.start, defaultStartTime) };
}

/**
 * Draws in [0, 1): evenly spread (a golden-ratio sequence from a seeded
 * phase: any run of n draws has close to n × rate below any rate) or random.
 */
function draws(random: Random, spread: boolean): () => number {
  if (!spread) return random;
  let u = random();
  return () => {
    u = (u + 0.618_033_988_749_895) % 1;
    return u;
  };
}

function startOf(value: number | Date | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  const time = value instanceof Date ? value.getTime() : value;
  if (typeof time !== 'number' || !Number.isFinite(time)) {
    throw new InvalidOptionError('start', `must be ms since the epoch or a valid Date, got ${describeValue(value)}`);
  }
  return time;
}

const quiet: TrafficLevel = Object.freeze({ callsPerMinute: 0, old: {}, new: {} });

/** Traffic from levels: segments, or a function read once per simulated minute. */
class GeneratedTraffic implements TrafficModel {
  readonly endMs: number;
  readonly #levelAt: (offset: number) => TrafficLevel | undefined;
  readonly #segments: readonly TrafficSegment[] | undefined;
  readonly #scripts = new WeakMap<TrafficLevel, Record<Arm, Script>>();
  #minute: { index: number; level: TrafficLevel } | undefined;

  constructor(
    levelAt: (offset: number) => TrafficLevel | undefined,
    endMs: number,
    segments?: readonly TrafficSegment[],
  ) {
    this.#levelAt = levelAt;
    this.endMs = endMs;
    this.#segments = segments;
  }

  callsIn(from: number, to: number): number {
    let calls = 0;
    if (this.#segments !== undefined) {
      for (const segment of this.#segments) {
        const overlap = Math.min(to, segment.to) - Math.max(from, segment.from);
        if (overlap > 0) calls += (segment.callsPerMinute * overlap) / minute;
      }
      return Math.round(calls);
    }
    for (let at = from; at < to; at = (Math.floor(at / minute) + 1) * minute) {
      const until = Math.min(to, (Math.floor(at / minute) + 1) * minute);
      calls += (this.#level(at).callsPerMinute * (until - at)) / minute;
    }
    return Math.round(calls);
  }

  beginWindow(): void {}

  scriptAt(arm: Arm, offset: number): Script {
    const level = this.#level(offset);
    let scripts = this.#scripts.get(level);
    if (scripts === undefined) {
      scripts = { old: this.#script('old', level.old), new: this.#script('new', level.new) };
      this.#scripts.set(level, scripts);
    }
    return scripts[arm];
  }

  #script(arm: Arm, behaviour: NewArmBehaviour): Script {
    // One draw per call for both sides: a call that fails on the more reliable side fails on the other too, as a bad request would.
    const errorRate = behaviour.errorRate ?? 0;
    const mismatchRate = behaviour.mismatchRate ?? 0;
    return {
      output: arm === 'new' && mismatchRate > 0 ? (input) => (input.v < mismatchRate ? 1 : 0) : [0],
      latency: behaviour.latencyMs ?? 0,
      failOn: errorRate > 0 ? (input) => input.u < errorRate : undefined,
    };
  }

  #level(offset: number): TrafficLevel {
    if (this.#segments !== undefined) return this.#levelAt(offset) ?? quiet;
    const index = Math.floor(offset / minute);
    if (this.#minute?.index !== index) {
      const level = this.#levelAt(index * minute);
      checkLevel(level, `traffic(${index * minute})`);
      this.#minute = { index, level: level as TrafficLevel };
    }
    return this.#minute.level;
  }
}

interface TimedCall {
  readonly offset: number;
  readonly ok: boolean;
  readonly latencyMs: number;
}

/**
 * Traffic from recorded calls. The replay's ramp routes differently from
 * production, so a call is not replayed as is: each side, in each window,
 * answers with the calls it served in that window in production, in turn
 * (or drawn under the seed with `errors: 'random'`). A side that served
 * nothing in a window borrows the window of its latest earlier calls, or
 * else of its first ones.
 */
class RecordedTraffic implements TrafficModel {
  readonly endMs: number;
  readonly #all: readonly number[];
  readonly #byArm: Record<Arm, readonly TimedCall[]>;
  readonly #offsets: Record<Arm, readonly number[]>;
  readonly #scripts: Record<Arm, Script>;
  #window: Record<Arm, readonly TimedCall[]>;

  constructor(calls: readonly { at: number; arm: Arm | undefined; ok: boolean; latencyMs: number }[], start: number) {
    const timed = calls.filter((call) => call.at >= start).map((call) => ({ ok: call.ok, latencyMs: call.latencyMs, arm: call.arm, offset: call.at - start }));
    this.#all = timed.map((call) => call.offset);
    this.#byArm = {
      old: timed.filter((call) => call.arm !== 'new'),
      new: timed.filter((call) => call.arm !== 'old'),
    };
    this.#offsets = { old: this.#byArm.old.map((call) => call.offset), new: this.#byArm.new.map((call) => call.offset) };
    for (const arm of ['old', 'new'] as const) {
      if (this.#byArm[arm].length === 0) throw new InvalidOptionError('traffic', `has no recorded call of ${arm} (calls without an arm count for both)`);
    }
    this.endMs = (this.#all.at(-1) ?? 0) + 1;
    this.#window = this.#byArm;
    this.#scripts = { old: this.#script('old'), new: this.#script('new') };
  }

  callsIn(from: number, to: number): number {
    return lowerBound(this.#all, to) - lowerBound(this.#all, from);
  }

  beginWindow(from: number, to: number): void {
    const windowOf = (arm: Arm): readonly TimedCall[] => {
      const offsets = this.#offsets[arm];
      let lo = lowerBound(offsets, from);
      let hi = lowerBound(offsets, to);
      if (lo === hi) {
        // Nothing of this side in the window: borrow the same span of its nearest calls, earlier ones first.
        const span = to - from;
        if (lo > 0) {
          hi = lo;
          lo = lowerBound(offsets, (offsets[lo - 1] as number) - span);
        } else {
          hi = lowerBound(offsets, (offsets[0] as number) + span);
        }
      }
      // Failures first, then by latency: the shared draw `u` picks a failure on both sides up to the lower failure share.
      return this.#byArm[arm].slice(lo, hi).sort((a, b) => Number(a.ok) - Number(b.ok) || a.latencyMs - b.latencyMs);
    };
    this.#window = { old: windowOf('old'), new: windowOf('new') };
  }

  scriptAt(arm: Arm): Script {
    return this.#scripts[arm];
  }

  #script(arm: Arm): Script {
    const pick = (input: ReplayInput): TimedCall => {
      const calls = this.#window[arm];
      return calls[Math.min(calls.length - 1, Math.floor(input.u * calls.length))] as TimedCall;
    };
    return {
      output: [0],
      latency: (input) => pick(input).latencyMs,
      failOn: (input) => !pick(input).ok,
    };
  }
}

/** Index of the first element >= value in a sorted list. */
function lowerBound(sorted: readonly number[], value: number): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if ((sorted[mid] as number) < value) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

function checkRecorded(calls: readonly RecordedCall[]): { at: number; arm: Arm | undefined; ok: boolean; latencyMs: number }[] {
  const checked = calls.map((call, i) => {
    const where = `traffic[${i}]`;
    if (typeof call !== 'object' || call === null) throw new InvalidOptionError(where, `must be { at, arm?, ok, latencyMs }, got ${describeValue(call)}`);
    const at = call.at instanceof Date ? call.at.getTime() : call.at;
    if (typeof at !== 'number' || !Number.isFinite(at)) throw new InvalidOptionError(`${where}.at`, `must be ms since the epoch or a valid Date, got ${describeValue(call.at)}`);
    if (call.arm !== undefined && call.arm !== 'old' && call.arm !== 'new') {
      throw new InvalidOptionError(`${where}.arm`, `must be 'old', 'new' or undefined, got ${describeValue(call.arm)}`);
    }
    if (typeof call.ok !== 'boolean') throw new InvalidOptionError(`${where}.ok`, `must be a boolean, got ${describeValue(call.ok)}`);
    if (typeof call.latencyMs !== 'number' || !Number.isFinite(call.latencyMs) || call.latencyMs < 0) {
      throw new InvalidOptionError(`${where}.latencyMs`, `must be a finite number of ms >= 0, got ${describeValue(call.latencyMs)}`);
    }
    return { at, arm: call.arm, ok: call.ok, latencyMs: call.latencyMs };
  });
  // Stable: calls recorded in the same millisecond keep their order.
  return checked.sort((a, b) => a.at - b.at);
}

function checkSegments(segments: readonly TrafficSegment[]): readonly TrafficSegment[] {
  segments.forEach((segment, i) => {
    const where = `traffic[${i}]`;
    if (typeof segment !== 'object' || segment === null) {
      throw new InvalidOptionError(where, `must be a segment { from, to, callsPerMinute, old, new }, got ${describeValue(segment)}`);
    }
    const { from, to } = segment;
    if (typeof from !== 'number' || !Number.isFinite(from) || from < 0) throw new InvalidOptionError(`${where}.from`, `must be ms >= 0 since the start, got ${describeValue(from)}`);
    if (typeof to !== 'number' || !Number.isFinite(to) || to <= from) throw new InvalidOptionError(`${where}.to`, `must be a finite number of ms > from (${from}), got ${describeValue(to)}`);
    checkLevel(segment, where);
  });
  const sorted = [...segments].sort((a, b) => a.from - b.from);
  sorted.forEach((segment, i) => {
    const before = sorted[i - 1];
    if (before !== undefined && segment.from < before.to) {
      throw new InvalidOptionError('traffic', `segments must not overlap: one from ${before.from} to ${before.to}, another from ${segment.from}`);
    }
  });
  return sorted;
}

const latencyProbe = fakeService<unknown, number>({ output: [0] });

function checkLevel(level: unknown, where: string): void {
  if (typeof level !== 'object' || level === null) throw new InvalidOptionError(where, `must be { callsPerMinute, old, new }, got ${describeValue(level)}`);
  const { callsPerMinute } = level as TrafficLevel;
  if (typeof callsPerMinute !== 'number' || !Number.isFinite(callsPerMinute) || callsPerMinute < 0) {
    throw new InvalidOptionError(`${where}.callsPerMinute`, `must be a finite number >= 0, got ${describeValue(callsPerMinute)}`);
  }
  for (const arm of ['old', 'new'] as const) {
    const behaviour: unknown = (level as Record<Arm, unknown>)[arm];
    const path = `${where}.${arm}`;
    if (typeof behaviour !== 'object' || behaviour === null) throw new InvalidOptionError(path, `must be { errorRate?, latencyMs? }, got ${describeValue(behaviour)}`);
    const { errorRate, latencyMs, mismatchRate } = behaviour as NewArmBehaviour;
    for (const [name, rate] of [['errorRate', errorRate], ['mismatchRate', mismatchRate]] as const) {
      if (rate !== undefined && (typeof rate !== 'number' || !(rate >= 0 && rate <= 1))) {
        throw new InvalidOptionError(`${path}.${name}`, `must be a number from 0 to 1, got ${describeValue(rate)}`);
      }
    }
    if (typeof latencyMs === 'function') throw new InvalidOptionError(`${path}.latencyMs`, 'must be ms or a distribution, got a function');
    try {
      latencyProbe.setScript({ output: [0], latency: latencyMs });
    } catch (error) {
      const detail = error instanceof InvalidOptionError ? error.message.replace(/^\[migration-glue\] option `latency` /, '') : String(error);
      throw new InvalidOptionError(`${path}.latencyMs`, detail);
    }
  }
}
