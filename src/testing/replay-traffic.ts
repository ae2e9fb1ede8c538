import type { Arm } from '../core/events.js';
import { InvalidOptionError, describeValue } from '../errors.js';
import type { FakeScript, LatencyScript } from './fake-service.js';
import { GeneratedTraffic, checkSegments } from './generated-traffic.js';
import { defaultStartTime } from './manual-clock.js';
import type { Random } from './random.js';
import { RecordedTraffic, checkRecorded } from './recorded-traffic.js';

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

