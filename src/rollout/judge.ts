import type { PhaseName } from '../core/routing.js';
import type { LatencyHistogram } from '../observe/latency-histogram.js';
import type { Bound, Counts } from './sequential.js';
import { mixtureRadius, rateBound, rateDifferenceBound, upperQuantileLevel } from './sequential.js';

/** What one arm did during the step being judged. */
export interface ArmEvidence {
  readonly calls: number;
  readonly errors: number;
  /** Latencies of the arm's calls in the step (ms). */
  readonly latency?: LatencyHistogram;
}

/** Old's figures that new is compared with: live in the same step, or a baseline measured before new took traffic. */
export interface ControlEvidence extends ArmEvidence {
  readonly source: 'live' | 'baseline';
  /** Old's P95 (ms) when no histogram is known (a baseline given as figures). */
  readonly p95?: number;
}

/** Everything the judge knows about the step in force, counted since the step began. */
export interface StepEvidence {
  readonly phase: PhaseName;
  /** The percentage of keys new should serve (canary). */
  readonly percentage: number;
  readonly new: ArmEvidence;
  readonly control: ControlEvidence | undefined;
  /** Shadow comparisons: value mismatches, and calls where new failed while old answered. */
  readonly shadow: { readonly compared: number; readonly valueMismatches: number; readonly newErrors: number };
  /** Old's own failures in the step, the control for new's transient errors in shadow. */
  readonly oldInShadow: Counts;
  /** Value mismatches of old against itself (A/A), the comparator's noise floor, when measured. */
  readonly noise: Counts | undefined;
  /** Distinct routing keys each side served by bucket (canary): the sample-ratio check. */
  readonly keys: { readonly old: number; readonly new: number };
}

/** The settings the judge needs, resolved from the rollback criteria. */
export interface JudgeSettings {
  readonly maxErrorRate: number;
  readonly maxErrorRateOverBaseline: number;
  readonly maxP95Ratio: number;
  readonly maxMismatchRate: number;
  readonly minSamples: number;
  /** Error level of each single test (the false-rollback bound shared out over tests and steps). */
  readonly alpha: number;
  /** Error level of the sample-ratio check, which holds the ramp and never rolls back. */
  readonly ratioAlpha: number;
}

/** Settings plus whether to estimate the calls still needed (a search, not wanted on every call). */
interface Explained extends JudgeSettings {
  readonly explain: boolean;
}

/** What the judge may say of a step. */
export type Verdict = 'pass' | 'fail' | 'inconclusive';

/** A metric the judge tests. */
export type MetricName = 'errorRate' | 'errorRateOverControl' | 'latency' | 'valueMismatches' | 'shadowErrors' | 'sampleRatio';

/** The judgement of one metric, with the figures behind it. */
export interface MetricVerdict {
  readonly metric: MetricName;
  readonly verdict: Verdict;
  /** Point estimate and always-valid bounds of what is tested. */
  readonly bound: Bound;
  /** The effect size guarded against: fail when the lower bound is above it, pass when the upper bound is below it. */
  readonly limit: number;
  /** Trials the metric rests on (new's calls, comparisons or keys). */
  readonly samples: number;
  /** Estimated further trials before the metric can pass, when it is inconclusive. */
  readonly needed: number | undefined;
  /** One line for people: metric, estimate, interval, limit. */
  readonly text: string;
}

/** The judge's answer for a step. */
export interface Judgement {
  readonly verdict: Verdict;
  readonly metrics: readonly MetricVerdict[];
  /** Why the step failed (when `fail`), or what holds it (when `inconclusive`). */
  readonly reasons: readonly string[];
}

/** One-sample proportion tested against an upper limit. */
function judgeRate(metric: MetricName, counts: Counts, limit: number, s: JudgeSettings, what: string): MetricVerdict {
  const bound = rateBound(counts, s.alpha, tuningPoint(s));
  return decide(metric, bound, limit, counts.trials, s, what, (n) => rateBound(scaled(counts, n), s.alpha, tuningPoint(s)));
}


/** Difference of proportions (new − control) tested against an upper limit. */
function judgeDifference(metric: MetricName, a: Counts, b: Counts, limit: number, s: JudgeSettings, what: string): MetricVerdict {
  const bound = rateDifferenceBound(a, b, s.alpha, tuningPoint(s) * 10);
  const ratio = a.trials > 0 ? b.trials / a.trials : 1;
  return decide(metric, bound, limit, a.trials, s, what, (n) =>
    rateDifferenceBound(scaled(a, n), scaled(b, Math.round(n * ratio)), s.alpha, tuningPoint(s) * 10),
  );
}

/** The number of trials where the bounds are tightest: ten times the minimum sample. */
function tuningPoint(s: JudgeSettings): number {
  return s.minSamples * 10;
}

/** `counts` grown to `n` trials at the same rate. */
function scaled(counts: Counts, n: number): Counts {
  const rate = counts.trials > 0 ? counts.events / counts.trials : 0;
  return { trials: n, events: rate * n };
}

function decide(
  metric: MetricName,
  bound: Bound,
  limit: number,
  samples: number,
  s: JudgeSettings,
  what: string,
  at: (n: number) => Bound,
): MetricVerdict {
  const enough = samples >= s.minSamples;
  let verdict: Verdict = 'inconclusive';
  if (enough && bound.lower > limit) verdict = 'fail';
  else if (enough && bound.upper <= limit) verdict = 'pass';
  const needed = verdict === 'inconclusive' && (s as Explained).explain === true ? neededTrials(samples, s.minSamples, limit, at) : undefined;
  const text = `${what} ${pct(bound.estimate)} (always-valid interval ${pct(bound.lower)} to ${pct(bound.upper)}, limit ${pct(limit)}) over ${samples}`;
  return { metric, verdict, bound, limit, samples, needed, text };
}

/**
 * Further trials after which the upper bound would fall below the limit if
 * the estimate stayed where it is, and minSamples is reached; undefined when
 * it never would (the estimate itself is at or above the limit).
 */
function neededTrials(samples: number, minSamples: number, limit: number, at: (n: number) => Bound): number | undefined {
  let low = Math.max(samples, 1);
  let high = Math.max(samples, minSamples, 1);
  for (let i = 0; ; i++) {
    const bound = at(high);
    if (bound.estimate >= limit || i >= 60) return undefined;
    if (bound.upper <= limit) break;
    low = high;
    high *= 2;
  }
  // Bisect to within 1 %: the first n at which the upper bound reaches the limit.
  while (high - low > Math.max(1, low * 0.01)) {
    const mid = Math.floor((low + high) / 2);
    if (at(mid).upper <= limit) high = mid;
    else low = mid;
  }
  // The judge waits for minSamples whatever the bound says.
  return Math.max(0, minSamples - samples, Math.ceil(high - samples));
}

/**
 * Judges one step: every metric that applies to its phase, each an
 * always-valid test of "new is worse than the limit" (fail) against
 * "new is within the limit" (pass). The step fails when any metric fails,
 * passes when every metric passes, and is otherwise inconclusive.
 */
export function judgeStep(e: StepEvidence, settings: JudgeSettings, options: { readonly explain?: boolean } = {}): Judgement {
  // `needed` is estimated only when someone reads it (check()), not on every judged call.
  const s: Explained = { ...settings, explain: options.explain ?? true };
  const metrics: MetricVerdict[] = [];
  if (e.phase === 'shadow') {
    const noise = e.noise === undefined ? 0 : rateBound(e.noise, s.alpha, tuningPoint(s)).upper;
    metrics.push(
      judgeRate(
        'valueMismatches',
        { trials: e.shadow.compared, events: e.shadow.valueMismatches },
        s.maxMismatchRate + noise,
        s,
        'shadow value mismatches',
      ),
    );
    metrics.push(
      judgeDifference(
        'shadowErrors',
        { trials: e.shadow.compared, events: e.shadow.newErrors },
        e.oldInShadow,
        s.maxErrorRateOverBaseline,
        s,
        "new's errors in shadow over old's",
      ),
    );
  } else if (e.phase === 'canary' || e.phase === 'full') {
    const fresh = { trials: e.new.calls, events: e.new.errors };
    metrics.push(judgeRate('errorRate', fresh, s.maxErrorRate, s, 'new error rate'));
    if (e.control !== undefined && e.control.calls > 0) {
      metrics.push(
        judgeDifference(
          'errorRateOverControl',
          fresh,
          { trials: e.control.calls, events: e.control.errors },
          s.maxErrorRateOverBaseline,
          s,
          `new error rate over old's (${e.control.source})`,
        ),
      );
      const latency = judgeLatency(e, e.control, s);
      if (latency !== undefined) metrics.push(latency);
    }
    if (e.phase === 'canary') metrics.push(judgeSampleRatio(e, s));
  }
  const failed = metrics.filter((m) => m.verdict === 'fail' && m.metric !== 'sampleRatio');
  const ratio = metrics.find((m) => m.metric === 'sampleRatio');
  let verdict: Verdict;
  let reasons: string[];
  if (failed.length > 0) {
    verdict = 'fail';
    reasons = failed.map((m) => m.text);
  } else if (ratio !== undefined && ratio.verdict === 'fail') {
    verdict = 'inconclusive';
    reasons = [`sample ratio mismatch, a routing bug: ${ratio.text}`];
  } else if (metrics.length > 0 && metrics.every((m) => m.verdict === 'pass')) {
    verdict = 'pass';
    reasons = [];
  } else {
    verdict = 'inconclusive';
    reasons = metrics.length === 0 ? ['nothing to judge: new serves no traffic in this phase'] : metrics.filter((m) => m.verdict !== 'pass').map((m) => m.text);
  }
  return { verdict, metrics, reasons };
}

/**
 * Latency, as the share of new's calls slower than `maxP95Ratio` times the
 * control's P95. If new's P95 is at most that ratio times old's, at most
 * 5 % of new's calls are slower than it; the test is on that share. The
 * control's P95 is read high (an upper confidence quantile) so that an
 * unlucky control sample cannot make a healthy new look slow.
 */
function judgeLatency(e: StepEvidence, control: ControlEvidence, s: JudgeSettings): MetricVerdict | undefined {
  const latency = e.new.latency;
  if (latency === undefined) return undefined;
  let p95: number;
  if (control.latency !== undefined && control.latency.count > 0) {
    p95 = control.latency.percentile(upperQuantileLevel(0.95, control.latency.count, s.alpha));
  } else if (control.p95 !== undefined && control.p95 > 0) {
    p95 = control.p95;
  } else {
    return undefined;
  }
  if (!(p95 > 0)) return undefined;
  const threshold = s.maxP95Ratio * p95;
  const slow = latency.countAbove(threshold);
  return judgeRate(
    'latency',
    { trials: latency.count, events: slow },
    0.05,
    s,
    `share of new's calls slower than ${s.maxP95Ratio}x old's p95 (${ms(threshold)}, ${control.source})`,
  );
}

/**
 * Sample ratio: each distinct key is a fair draw with probability
 * `percentage` of landing on new (the hash is uniform), so the share of
 * keys new served must stay inside an always-valid interval around it. A
 * share outside means keys are routed wrongly (instances with different
 * configs or salts, a broken hasher), which no metric can be trusted under.
 */
function judgeSampleRatio(e: StepEvidence, s: JudgeSettings): MetricVerdict {
  const trials = e.keys.new + e.keys.old;
  const expected = e.percentage / 100;
  const counts = { trials, events: e.keys.new };
  const estimate = trials > 0 ? e.keys.new / trials : expected;
  const radius = Math.sqrt(expected * (1 - expected)) * mixtureRadius(trials, s.ratioAlpha, tuningPoint(s) * 10);
  const bound = { estimate, lower: Math.max(0, estimate - radius), upper: Math.min(1, estimate + radius) };
  const off = trials >= s.minSamples && (expected < bound.lower || expected > bound.upper);
  const text = `share of keys on new ${pct(estimate)} (always-valid interval ${pct(bound.lower)} to ${pct(bound.upper)}, expected ${pct(expected)}) over ${counts.trials} keys`;
  return { metric: 'sampleRatio', verdict: off ? 'fail' : 'pass', bound, limit: expected, samples: trials, needed: undefined, text };
}

function pct(rate: number): string {
  return `${Number((rate * 100).toFixed(3))} %`;
}

function ms(value: number): string {
  return `${Number(value.toFixed(2))} ms`;
}
