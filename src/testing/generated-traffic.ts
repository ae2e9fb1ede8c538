import type { Arm } from '../core/events.js';
import { InvalidOptionError, describeValue } from '../errors.js';
import { fakeService } from './fake-service.js';
import type { NewArmBehaviour, Script, TrafficLevel, TrafficModel, TrafficSegment } from './replay-traffic.js';

// The generated traffic model of replayMigration: levels in force over
// time, from segments or from a function read once per simulated minute.

const minute = 60_000;

const quiet: TrafficLevel = Object.freeze({ callsPerMinute: 0, old: {}, new: {} });

/** Traffic from levels: segments, or a function read once per simulated minute. */
export class GeneratedTraffic implements TrafficModel {
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

/** Checks segments and sorts them by `from`. @throws InvalidOptionError naming the bad entry (`traffic[i]...`). */
export function checkSegments(segments: readonly TrafficSegment[]): readonly TrafficSegment[] {
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
