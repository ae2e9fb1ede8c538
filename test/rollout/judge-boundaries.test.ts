import { describe, expect, it } from 'vitest';
import type { LatencyHistogram } from '../../src/observe/latency-histogram.js';
import type { JudgeSettings, MetricVerdict, StepEvidence } from '../../src/rollout/judge.js';
import { judgeStep } from '../../src/rollout/judge.js';
import { mixtureRadius, rateBound, rateDifferenceBound, upperQuantileLevel } from '../../src/rollout/sequential.js';

// The rollback judge at its edges: a sample count exactly at minSamples, a
// limit exactly equal to a bound (fail needs the lower bound strictly above
// the limit, pass the upper bound at or below it), the tuning point the
// bounds are computed with, the latency threshold and control quantile, the
// sample-ratio interval, how the verdicts combine and the estimate of the
// calls still needed. judge.test.ts shows the judge on realistic steps.

const settings: JudgeSettings = {
  maxErrorRate: 0.01,
  maxErrorRateOverBaseline: 0.005,
  maxP95Ratio: 2,
  maxMismatchRate: 0.001,
  minSamples: 100,
  alpha: 0.001,
  ratioAlpha: 0.001,
};

/** The tuning point of one-sample bounds: ten times minSamples; differences and the sample ratio use ten times that. */
const tOpt = (s: JudgeSettings) => s.minSamples * 10;

/** A latency histogram stand-in that records what the judge asks of it. */
function fakeLatency(count: number, answers: { percentile?: number; above?: number } = {}) {
  const asked = { levels: [] as number[], thresholds: [] as number[] };
  const histogram = {
    count,
    percentile(q: number) {
      asked.levels.push(q);
      return answers.percentile ?? 10;
    },
    countAbove(ms: number) {
      asked.thresholds.push(ms);
      return answers.above ?? 0;
    },
  } as unknown as LatencyHistogram;
  return { histogram, asked };
}

function evidence(overrides: Partial<StepEvidence> = {}): StepEvidence {
  return {
    phase: 'full',
    percentage: 100,
    new: { calls: 0, errors: 0 },
    control: undefined,
    shadow: { compared: 0, valueMismatches: 0, newErrors: 0 },
    oldInShadow: { trials: 0, events: 0 },
    noise: undefined,
    keys: { old: 0, new: 0 },
    ...overrides,
  };
}

function metric(verdicts: readonly MetricVerdict[], name: MetricVerdict['metric']): MetricVerdict {
  const found = verdicts.find((m) => m.metric === name);
  if (found === undefined) throw new Error(`no ${name} metric among ${verdicts.map((m) => m.metric).join(', ')}`);
  return found;
}

describe('the minimum sample', () => {
  // 30 errors in n calls fails a 1 % limit at any n around 100.
  it('judges from exactly minSamples calls, never from one fewer', () => {
    const at = judgeStep(evidence({ new: { calls: 100, errors: 30 } }), settings);
    expect(metric(at.metrics, 'errorRate').verdict).toBe('fail');
    expect(at.verdict).toBe('fail');
    const below = judgeStep(evidence({ new: { calls: 99, errors: 30 } }), settings);
    expect(metric(below.metrics, 'errorRate').verdict).toBe('inconclusive');
    expect(below.verdict).toBe('inconclusive');
  });

  it('passes from exactly minSamples calls, never from one fewer', () => {
    const loose = { ...settings, maxErrorRate: 0.9, minSamples: 50 };
    expect(metric(judgeStep(evidence({ new: { calls: 50, errors: 0 } }), loose).metrics, 'errorRate').verdict).toBe('pass');
    expect(metric(judgeStep(evidence({ new: { calls: 49, errors: 0 } }), loose).metrics, 'errorRate').verdict).toBe('inconclusive');
  });
});

describe('a limit exactly on a bound', () => {
  const counts = { trials: 400, events: 20 };
  const bound = rateBound(counts, settings.alpha, tOpt(settings));

  it('computes the one-sample bound at the tuning point minSamples × 10', () => {
    const result = judgeStep(evidence({ new: { calls: 400, errors: 20 } }), settings);
    expect(metric(result.metrics, 'errorRate').bound).toEqual(bound);
    expect(metric(result.metrics, 'errorRate').samples).toBe(400);
    expect(metric(result.metrics, 'errorRate').limit).toBe(settings.maxErrorRate);
  });

  it('does not fail when the lower bound equals the limit, fails just below it', () => {
    const on = judgeStep(evidence({ new: { calls: 400, errors: 20 } }), { ...settings, maxErrorRate: bound.lower });
    expect(metric(on.metrics, 'errorRate').verdict).toBe('inconclusive');
    const under = judgeStep(evidence({ new: { calls: 400, errors: 20 } }), { ...settings, maxErrorRate: bound.lower * 0.999 });
    expect(metric(under.metrics, 'errorRate').verdict).toBe('fail');
  });

  it('passes when the upper bound equals the limit, not just above it', () => {
    const on = judgeStep(evidence({ new: { calls: 400, errors: 20 } }), { ...settings, maxErrorRate: bound.upper });
    expect(metric(on.metrics, 'errorRate').verdict).toBe('pass');
    expect(on.verdict).toBe('pass');
    const over = judgeStep(evidence({ new: { calls: 400, errors: 20 } }), { ...settings, maxErrorRate: bound.upper * 0.999 });
    expect(metric(over.metrics, 'errorRate').verdict).toBe('inconclusive');
  });

  it('computes the difference bound at ten times the tuning point, against the control', () => {
    const control = { source: 'live' as const, calls: 2_000, errors: 10 };
    const diff = rateDifferenceBound(counts, { trials: 2_000, events: 10 }, settings.alpha, tOpt(settings) * 10);
    const result = judgeStep(evidence({ new: { calls: 400, errors: 20 }, control }), settings);
    const over = metric(result.metrics, 'errorRateOverControl');
    expect(over.bound).toEqual(diff);
    expect(over.limit).toBe(settings.maxErrorRateOverBaseline);
    expect(over.samples).toBe(400);
    const onLower = judgeStep(evidence({ new: { calls: 400, errors: 20 }, control }), { ...settings, maxErrorRateOverBaseline: diff.lower });
    expect(metric(onLower.metrics, 'errorRateOverControl').verdict).toBe('inconclusive');
    const belowLower = judgeStep(evidence({ new: { calls: 400, errors: 20 }, control }), {
      ...settings,
      maxErrorRateOverBaseline: diff.lower - 1e-9,
    });
    expect(metric(belowLower.metrics, 'errorRateOverControl').verdict).toBe('fail');
    const onUpper = judgeStep(evidence({ new: { calls: 400, errors: 20 }, control }), { ...settings, maxErrorRateOverBaseline: diff.upper });
    expect(metric(onUpper.metrics, 'errorRateOverControl').verdict).toBe('pass');
  });

  it('describes the metric with estimate, interval, limit and samples', () => {
    const result = judgeStep(evidence({ new: { calls: 400, errors: 20 } }), { ...settings, maxErrorRate: 0.0125 });
    const pct = (rate: number) => `${Number((rate * 100).toFixed(3))} %`;
    expect(metric(result.metrics, 'errorRate').text).toBe(
      `new error rate 5 % (always-valid interval ${pct(bound.lower)} to ${pct(bound.upper)}, limit 1.25 %) over 400`,
    );
  });
});

describe('a control', () => {
  it('is left out when it has no calls', () => {
    const none = judgeStep(evidence({ new: { calls: 400, errors: 0 }, control: { source: 'live', calls: 0, errors: 0 } }), settings);
    expect(none.metrics.map((m) => m.metric)).toEqual(['errorRate']);
    const one = judgeStep(evidence({ new: { calls: 400, errors: 0 }, control: { source: 'baseline', calls: 1, errors: 0 } }), settings);
    expect(one.metrics.map((m) => m.metric)).toEqual(['errorRate', 'errorRateOverControl']);
    expect(metric(one.metrics, 'errorRateOverControl').text).toMatch(/^new error rate over old's \(baseline\) /);
  });
});

describe('latency', () => {
  it('reads the control histogram at the upper confidence level of its P95, and counts new calls above maxP95Ratio times it', () => {
    const control = fakeLatency(5_000, { percentile: 12 });
    const fresh = fakeLatency(1_000, { above: 10 });
    const result = judgeStep(
      evidence({
        new: { calls: 1_000, errors: 0, latency: fresh.histogram },
        control: { source: 'live', calls: 5_000, errors: 0, latency: control.histogram },
      }),
      settings,
    );
    expect(control.asked.levels).toEqual([upperQuantileLevel(0.95, 5_000, settings.alpha)]);
    expect(fresh.asked.thresholds).toEqual([24]);
    const latency = metric(result.metrics, 'latency');
    expect(latency.limit).toBe(0.05);
    expect(latency.samples).toBe(1_000);
    expect(latency.bound).toEqual(rateBound({ trials: 1_000, events: 10 }, settings.alpha, tOpt(settings)));
    expect(latency.text).toMatch(/^share of new's calls slower than 2x old's p95 \(24 ms, live\) 1 % /);
  });

  it('uses the figure p95 of a baseline when the control has no latencies', () => {
    const fresh = fakeLatency(1_000, { above: 0 });
    const result = judgeStep(
      evidence({
        new: { calls: 1_000, errors: 0, latency: fresh.histogram },
        control: { source: 'baseline', calls: 5_000, errors: 0, p95: 7.125, latency: fakeLatency(0).histogram },
      }),
      settings,
    );
    expect(fresh.asked.thresholds).toEqual([14.25]);
    expect(metric(result.metrics, 'latency').text).toContain('(14.25 ms, baseline)');
  });

  it('is not judged without new latencies, without any control p95, or with a p95 of 0', () => {
    const base = { new: { calls: 1_000, errors: 0 }, control: { source: 'baseline' as const, calls: 5_000, errors: 0, p95: 20 } };
    expect(judgeStep(evidence(base), settings).metrics.map((m) => m.metric)).not.toContain('latency');
    const fresh = fakeLatency(1_000).histogram;
    for (const control of [
      { source: 'baseline' as const, calls: 5_000, errors: 0 },
      { source: 'baseline' as const, calls: 5_000, errors: 0, p95: 0 },
      { source: 'live' as const, calls: 5_000, errors: 0, latency: fakeLatency(10, { percentile: 0 }).histogram },
      { source: 'live' as const, calls: 5_000, errors: 0, latency: fakeLatency(10, { percentile: Number.NaN }).histogram },
    ]) {
      const result = judgeStep(evidence({ new: { calls: 1_000, errors: 0, latency: fresh }, control }), settings);
      expect(result.metrics.map((m) => m.metric)).toEqual(['errorRate', 'errorRateOverControl']);
    }
  });
});

describe('the sample ratio', () => {
  const canary = (keysNew: number, keysOld: number, s = settings) =>
    judgeStep(evidence({ phase: 'canary', percentage: 10, new: { calls: 1_000, errors: 0 }, keys: { old: keysOld, new: keysNew } }), s);

  it('draws the always-valid interval around the observed share with the expected share\'s variance', () => {
    const ratio = metric(canary(150, 850).metrics, 'sampleRatio');
    const radius = Math.sqrt(0.1 * 0.9) * mixtureRadius(1_000, settings.ratioAlpha, tOpt(settings) * 10);
    expect(ratio.bound.estimate).toBe(0.15);
    expect(ratio.bound.lower).toBeCloseTo(0.15 - radius, 14);
    expect(ratio.bound.upper).toBeCloseTo(0.15 + radius, 14);
    expect(ratio.limit).toBe(0.1);
    expect(ratio.samples).toBe(1_000);
    expect(ratio.needed).toBeUndefined();
    expect(ratio.text).toBe(
      `share of keys on new 15 % (always-valid interval ${Number(((0.15 - radius) * 100).toFixed(3))} % to ${Number(((0.15 + radius) * 100).toFixed(3))} %, expected 10 %) over 1000 keys`,
    );
  });

  it('fails when the expected share leaves the interval on either side, from exactly minSamples keys', () => {
    expect(metric(canary(50, 50).metrics, 'sampleRatio').verdict).toBe('fail'); // 50 % of 100 keys, 10 % expected
    expect(metric(canary(50, 49).metrics, 'sampleRatio').verdict).toBe('pass'); // 99 keys: not judged yet
    expect(metric(canary(0, 10_000).metrics, 'sampleRatio').verdict).toBe('fail'); // 0 % of 10000
    expect(metric(canary(1_000, 9_000).metrics, 'sampleRatio').verdict).toBe('pass');
  });

  it('uses the expected share as the estimate before any key, and clamps the interval to 0..1', () => {
    const empty = metric(canary(0, 0).metrics, 'sampleRatio');
    expect(empty.bound).toEqual({ estimate: 0.1, lower: 0, upper: 1 });
    expect(empty.verdict).toBe('pass');
    const allNew = metric(canary(3, 0, { ...settings, minSamples: 1 }).metrics, 'sampleRatio');
    expect(allNew.bound.upper).toBe(1);
    expect(allNew.bound.lower).toBeGreaterThanOrEqual(0);
  });

  it('holds the ramp on a mismatch alone, but a failing metric still rolls back', () => {
    const mismatch = canary(5_000, 5_000);
    expect(mismatch.verdict).toBe('inconclusive');
    expect(mismatch.reasons).toEqual([`sample ratio mismatch, a routing bug: ${metric(mismatch.metrics, 'sampleRatio').text}`]);
    const both = judgeStep(
      evidence({ phase: 'canary', percentage: 10, new: { calls: 1_000, errors: 500 }, keys: { old: 5_000, new: 5_000 } }),
      settings,
    );
    expect(both.verdict).toBe('fail');
    expect(both.reasons).toEqual([metric(both.metrics, 'errorRate').text]);
  });

  it('is judged in canary only, not in full', () => {
    expect(judgeStep(evidence({ new: { calls: 10, errors: 0 }, keys: { old: 0, new: 10_000 } }), settings).metrics.map((m) => m.metric)).toEqual([
      'errorRate',
    ]);
  });
});

describe('shadow', () => {
  const shadow = (compared: number, valueMismatches: number, newErrors: number, oldErrors: number, noise?: { trials: number; events: number }) =>
    evidence({
      phase: 'shadow',
      shadow: { compared, valueMismatches, newErrors },
      oldInShadow: { trials: compared, events: oldErrors },
      noise,
    });

  it('tests value mismatches against maxMismatchRate plus the upper bound of the A/A noise', () => {
    const noise = { trials: 5_000, events: 10 };
    const result = judgeStep(shadow(5_000, 10, 0, 0, noise), settings);
    const mismatches = metric(result.metrics, 'valueMismatches');
    expect(mismatches.limit).toBeCloseTo(settings.maxMismatchRate + rateBound(noise, settings.alpha, tOpt(settings)).upper, 15);
    expect(mismatches.bound).toEqual(rateBound({ trials: 5_000, events: 10 }, settings.alpha, tOpt(settings)));
    expect(metric(judgeStep(shadow(5_000, 10, 0, 0), settings).metrics, 'valueMismatches').limit).toBe(settings.maxMismatchRate);
  });

  it("tests new's errors over old's as a difference, against maxErrorRateOverBaseline", () => {
    const result = judgeStep(shadow(5_000, 0, 40, 10), settings);
    const errors = metric(result.metrics, 'shadowErrors');
    expect(errors.bound).toEqual(
      rateDifferenceBound({ trials: 5_000, events: 40 }, { trials: 5_000, events: 10 }, settings.alpha, tOpt(settings) * 10),
    );
    expect(errors.limit).toBe(settings.maxErrorRateOverBaseline);
    expect(result.metrics.map((m) => m.metric)).toEqual(['valueMismatches', 'shadowErrors']);
    expect(errors.text).toMatch(/^new's errors in shadow over old's /);
    expect(metric(result.metrics, 'valueMismatches').text).toMatch(/^shadow value mismatches 0 % /);
  });
});

describe('combining the verdicts', () => {
  it('passes only when every metric passes, with no reasons', () => {
    const loose = { ...settings, maxErrorRate: 0.5, maxErrorRateOverBaseline: 0.5 };
    const result = judgeStep(evidence({ new: { calls: 5_000, errors: 0 }, control: { source: 'live', calls: 5_000, errors: 0 } }), loose);
    expect(result.metrics.map((m) => m.verdict)).toEqual(['pass', 'pass']);
    expect(result).toMatchObject({ verdict: 'pass', reasons: [] });
  });

  it('is inconclusive when one metric is, naming only the metrics that did not pass', () => {
    const s = { ...settings, maxErrorRate: 0.5, maxErrorRateOverBaseline: 0.0001 };
    const result = judgeStep(evidence({ new: { calls: 5_000, errors: 0 }, control: { source: 'live', calls: 5_000, errors: 0 } }), s);
    expect(result.metrics.map((m) => m.verdict)).toEqual(['pass', 'inconclusive']);
    expect(result.verdict).toBe('inconclusive');
    expect(result.reasons).toEqual([metric(result.metrics, 'errorRateOverControl').text]);
  });

  it('fails when any metric fails, giving the failing ones as reasons', () => {
    const result = judgeStep(
      evidence({ new: { calls: 5_000, errors: 1_000 }, control: { source: 'live', calls: 5_000, errors: 0 } }),
      settings,
    );
    expect(result.verdict).toBe('fail');
    expect(result.reasons).toEqual(result.metrics.map((m) => m.text));
  });

  it('has nothing to judge in preparation', () => {
    const result = judgeStep(evidence({ phase: 'preparation', percentage: 0, new: { calls: 5_000, errors: 5_000 } }), settings);
    expect(result).toEqual({ verdict: 'inconclusive', metrics: [], reasons: ['nothing to judge: new serves no traffic in this phase'] });
  });
});

describe('the calls still needed', () => {
  it('is the first count (within 1 %) at which the upper bound would reach the limit, the estimate held', () => {
    const result = judgeStep(evidence({ new: { calls: 200, errors: 1 } }), settings);
    const m = metric(result.metrics, 'errorRate');
    expect(m.verdict).toBe('inconclusive');
    const needed = m.needed ?? Number.NaN;
    expect(needed).toBeGreaterThan(0);
    const at = (n: number) => rateBound({ trials: n, events: (1 / 200) * n }, settings.alpha, tOpt(settings)).upper;
    expect(at(200 + needed)).toBeLessThanOrEqual(settings.maxErrorRate);
    const lowerEnd = Math.floor((200 + needed) / 1.01) - 1;
    expect(at(lowerEnd)).toBeGreaterThan(settings.maxErrorRate);
  });

  it('searches from the first call when none was seen yet', () => {
    // A limit the bound reaches only after minSamples, so the search, not the floor, decides.
    const result = judgeStep(evidence({ new: { calls: 0, errors: 0 } }), { ...settings, maxErrorRate: 0.05 });
    const m = metric(result.metrics, 'errorRate');
    expect(m.verdict).toBe('inconclusive');
    const needed = m.needed ?? Number.NaN;
    expect(needed).toBeGreaterThan(settings.minSamples);
    const at = (n: number) => rateBound({ trials: n, events: 0 }, settings.alpha, tOpt(settings)).upper;
    expect(at(needed)).toBeLessThanOrEqual(0.05);
    expect(at(Math.floor(needed / 1.01) - 1)).toBeGreaterThan(0.05);
  });

  // The estimate once ignored minSamples: a metric whose bound would pass
  // before minSamples calls reported fewer calls than the judge waits for.
  it('is never below the calls missing to minSamples', () => {
    const result = judgeStep(evidence({ new: { calls: 0, errors: 0 } }), { ...settings, maxErrorRate: 0.5 });
    expect(metric(result.metrics, 'errorRate').needed).toBeGreaterThanOrEqual(settings.minSamples);
  });

  it('is undefined when the estimate is at or above the limit, or once judged', () => {
    const at = judgeStep(evidence({ new: { calls: 50, errors: 5 } }), { ...settings, maxErrorRate: 0.1 });
    expect(metric(at.metrics, 'errorRate').verdict).toBe('inconclusive');
    expect(metric(at.metrics, 'errorRate').needed).toBeUndefined();
    const passed = judgeStep(evidence({ new: { calls: 5_000, errors: 0 } }), { ...settings, maxErrorRate: 0.5 });
    expect(metric(passed.metrics, 'errorRate').needed).toBeUndefined();
  });

  it('is estimated for a difference with the control growing in proportion', () => {
    const control = { source: 'live' as const, calls: 2_000, errors: 2 };
    const result = judgeStep(evidence({ new: { calls: 200, errors: 0 }, control }), settings);
    const m = metric(result.metrics, 'errorRateOverControl');
    expect(m.verdict).toBe('inconclusive');
    const needed = m.needed ?? Number.NaN;
    expect(needed).toBeGreaterThan(0);
    const upper = (n: number) =>
      rateDifferenceBound({ trials: n, events: 0 }, { trials: Math.round(n * 10), events: 0.001 * Math.round(n * 10) }, settings.alpha, tOpt(settings) * 10).upper;
    expect(upper(200 + needed)).toBeLessThanOrEqual(settings.maxErrorRateOverBaseline);
    expect(upper(Math.floor((200 + needed) / 1.01) - 1)).toBeGreaterThan(settings.maxErrorRateOverBaseline);
  });

  it('is estimated for a difference before new has served a call, the control growing one for one', () => {
    const control = { source: 'live' as const, calls: 2_000, errors: 2 };
    const result = judgeStep(evidence({ new: { calls: 0, errors: 0 }, control }), settings);
    const m = metric(result.metrics, 'errorRateOverControl');
    expect(m.verdict).toBe('inconclusive');
    const needed = m.needed ?? Number.NaN;
    expect(needed).toBeGreaterThan(0);
    const upper = (n: number) =>
      rateDifferenceBound({ trials: n, events: 0 }, { trials: n, events: 0.001 * n }, settings.alpha, tOpt(settings) * 10).upper;
    expect(upper(needed)).toBeLessThanOrEqual(settings.maxErrorRateOverBaseline);
    expect(upper(Math.floor(needed / 1.01) - 1)).toBeGreaterThan(settings.maxErrorRateOverBaseline);
  });

  it('is not estimated when explain is false', () => {
    const result = judgeStep(evidence({ new: { calls: 200, errors: 1 } }), settings, { explain: false });
    expect(metric(result.metrics, 'errorRate').verdict).toBe('inconclusive');
    expect(metric(result.metrics, 'errorRate').needed).toBeUndefined();
    expect(metric(judgeStep(evidence({ new: { calls: 200, errors: 1 } }), settings, { explain: true }).metrics, 'errorRate').needed).toBeGreaterThan(0);
  });

  it('gives up (undefined) when the bound would never reach the limit', () => {
    const result = judgeStep(evidence({ new: { calls: 200, errors: 1 } }), { ...settings, maxErrorRate: 0.005 + 1e-16 });
    expect(metric(result.metrics, 'errorRate').needed).toBeUndefined();
  });
});

describe('a limit of 0 (no errors tolerated)', () => {
  // rateBound's lower bound at 0 events once came out a few 1e-17 above 0
  // (rounding in centre − half), so a step with no error at all "failed" a
  // limit of 0 and would have been rolled back.
  it('never fails a step without a single error', () => {
    const strict = { ...settings, maxErrorRate: 0, maxMismatchRate: 0, minSamples: 10, alpha: 0.01 };
    for (let calls = 10; calls <= 200; calls++) {
      expect(judgeStep(evidence({ new: { calls, errors: 0 } }), strict).verdict).not.toBe('fail');
    }
  });
});
