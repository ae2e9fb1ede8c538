import type { Arm } from '../core/events.js';
import { InvalidOptionError, describeValue } from '../errors.js';
import type { FakeScript, LatencyScript } from './fake-service.js';
import { fakeService } from './fake-service.js';
import { defaultStartTime } from './manual-clock.js';
import type { Random } from './random.js';

const minute = 60_000;


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


/** The input of each replayed call: its routing key and the draws that decide how each side answers. */
export interface ReplayInput {
  readonly userId: string;
  /** Shared by both sides: a call fails on a side when `u` is below that side's error rate. */
  readonly u: number;
  /** New answers differently from old when `v` is below its mismatch rate. */
  readonly v: number;
}

/** What a side's fake does while a level (or a recorded window) is in force. */
export type Script = FakeScript<ReplayInput, number>;

/** Where the scripts of both fakes come from: generated levels or recorded calls. */
export interface TrafficModel {
  /** Ms after the start where the traffic ends. */
  readonly endMs: number;
  /** Calls in [from, to), ms after the start. */
  callsIn(from: number, to: number): number;
  /** Called before the calls of [from, to) are driven. */
  beginWindow(from: number, to: number): void;
  /** The script of `arm` at `offset`: the same object while nothing changes. */
  scriptAt(arm: Arm, offset: number): Script;
}

/** Options of replayMigration that describe the history. */
export interface TrafficOptions {
  readonly traffic: ReplayTraffic;
  readonly start?: number | Date;
  readonly durationMs?: number;
}

/**
 * Checks the history and builds its model; the start is `options.start`, else the first recorded call, else the default start time.
 * @throws InvalidOptionError naming the bad option or entry and the value received.
 */
export function resolveTraffic(options: TrafficOptions): { model: TrafficModel; start: number } {
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
export function draws(random: Random, spread: boolean): () => number {
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
