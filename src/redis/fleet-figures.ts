import type { Arm } from '../core/events.js';
import type { ArmStats, FingerprintCount, MigrationStats, ShadowStats } from '../core/stats.js';
import type { ArmFigures } from '../observe/arm-metrics.js';
import type { SerializedHistogram } from './fleet-histogram.js';
import { FleetHistogram } from './fleet-histogram.js';

// The fleet's figures as instances publish them to Redis, and their sum:
// what FleetStats writes each interval and reads back from every instance.
// Figures from other instances (other versions, garbage) are read defensively.

/** One arm's figures as an instance publishes them. */
export interface PublishedArm {
  readonly calls: number;
  readonly errors: number;
  readonly latency: SerializedHistogram;
}

/** What one instance publishes each interval. */
export interface Published {
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

/** The figures of one arm: calls, errors and a latency histogram. */
export class ArmCounter {
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
    const calls = finite(arm.calls);
    this.calls += calls;
    // An instance cannot fail more calls than it made: more errors published would push the fleet's rate past 1.
    this.errors += Math.min(finite(arm.errors), calls);
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

/** A count read from another instance: finite and positive, else 0. */
export function finite(value: unknown): number {
  return typeof value === 'number' && Number.isFinite(value) && value > 0 ? value : 0;
}

/** The fleet's figures: every arm, shadow and counter summed over `all`, rates recomputed from the sums. */
export function summarize(all: readonly Published[], windowMs: number): Omit<MigrationStats, 'migration' | 'config' | 'phase'> {
  const arms = (pick: (p: Published) => { readonly old: PublishedArm; readonly new: PublishedArm }, arm: Arm) => {
    const counter = new ArmCounter();
    for (const p of all) counter.addPublished(pick(p)?.[arm]);
    return counter.figures();
  };
  const armStats = (arm: Arm): ArmStats => ({ ...arms((p) => p.total, arm), window: arms((p) => p.window, arm) });
  return {
    windowMs,
    old: armStats('old'),
    new: armStats('new'),
    shadow: sumShadow(all.map((p) => p.shadow)),
    fallbacks: all.reduce((sum, p) => sum + finite(p.fallbacks), 0),
    rollbacks: all.reduce((sum, p) => sum + finite(p.rollbacks), 0),
    missingKeys: all.reduce((sum, p) => sum + finite(p.missingKeys), 0),
  };
}

/** A figure published by an instance, or undefined when it is not one. */
export function parsePublished(raw: unknown): Published | undefined {
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
  // Each instance's mismatches at most its comparisons, so the fleet's mismatch rate stays within [0, 1].
  const capped = (get: (s: ShadowStats) => unknown, cap: (s: ShadowStats) => unknown) =>
    all.reduce((total, s) => total + Math.min(finite(safeGet(s, get)), finite(safeGet(s, cap))), 0);
  const compared = sum((s) => s.compared);
  const mismatched = capped((s) => s.mismatched, (s) => s.compared);
  const windowCompared = sum((s) => s.window.compared);
  const windowMismatched = capped((s) => s.window.mismatched, (s) => s.window.compared);
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
