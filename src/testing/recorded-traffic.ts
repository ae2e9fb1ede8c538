import type { Arm } from '../core/events.js';
import { InvalidOptionError, describeValue } from '../errors.js';
import type { RecordedCall, ReplayInput, Script, TrafficModel } from './replay-traffic.js';

// The recorded traffic model of replayMigration: each side answers like the
// calls it served in production in the same window.

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
export class RecordedTraffic implements TrafficModel {
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

/** Checks recorded calls and sorts them by time. @throws InvalidOptionError naming the bad entry (`traffic[i]...`). */
export function checkRecorded(calls: readonly RecordedCall[]): { at: number; arm: Arm | undefined; ok: boolean; latencyMs: number }[] {
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

