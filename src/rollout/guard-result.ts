import type { MetricVerdict, Verdict } from './judge.js';

// What RollbackGuard.check() answers.

/** Old's figures new is compared with: live (old in the same step) or the baseline measured before new took traffic. */
export interface Control {
  readonly source: 'live' | 'baseline';
  readonly calls: number;
  readonly errorRate: number;
  readonly p95: number;
}

/** What `check()` found about the step in force. */
export interface GuardResult {
  /** `pass`: the ramp may advance; `fail`: roll back; `inconclusive`: hold and gather more calls. */
  readonly verdict: Verdict;
  /** False when the step failed, or a routing bug (sample ratio mismatch) holds it. */
  readonly ok: boolean;
  /** True when the verdict is `pass`: what a ramp needs to advance. */
  readonly enough: boolean;
  /** Why the step failed or what holds it: each names the metric, its estimate and always-valid interval, and the limit. */
  readonly reasons: readonly string[];
  /** Every metric judged in this phase, with its figures. */
  readonly metrics: readonly MetricVerdict[];
  /** Calls and comparisons counted in the step so far. */
  readonly samples: { readonly new: number; readonly old: number; readonly compared: number };
  readonly control: Control | undefined;
  /** When the step in force began (the guard's clock, ms). */
  readonly since: number;
  /** True once the step has been inconclusive for longer than `maxInconclusiveMs`. */
  readonly stalled: boolean;
  /** Further calls (or comparisons) the first metric holding the step needs, by estimate; undefined when none can be given. */
  readonly needed: number | undefined;
}
