import { describe, expect, it } from 'vitest';
import type { JudgeSettings, StepEvidence } from '../../src/rollout/judge.js';
import { judgeStep } from '../../src/rollout/judge.js';
import { LatencyHistogram } from '../../src/observe/latency-histogram.js';

const settings: JudgeSettings = {
  maxErrorRate: 0.01,
  maxErrorRateOverBaseline: 0.005,
  maxP95Ratio: 2,
  maxMismatchRate: 0.001,
  minSamples: 100,
  alpha: 0.01 / 24,
  ratioAlpha: 0.001,
};

function histogram(values: readonly number[]): LatencyHistogram {
  const h = new LatencyHistogram();
  for (const v of values) h.record(v);
  return h;
}

/** n latencies spread evenly over [lo, hi]. */
function spread(n: number, lo: number, hi: number): number[] {
  return Array.from({ length: n }, (_, i) => lo + ((hi - lo) * i) / Math.max(1, n - 1));
}

function canary(overrides: Partial<StepEvidence> = {}): StepEvidence {
  return {
    phase: 'canary',
    percentage: 5,
    new: { calls: 0, errors: 0, latency: histogram([]) },
    control: { source: 'live', calls: 0, errors: 0, latency: histogram([]) },
    shadow: { compared: 0, valueMismatches: 0, newErrors: 0 },
    oldInShadow: { trials: 0, events: 0 },
    noise: undefined,
    keys: { old: 0, new: 0 },
    ...overrides,
  };
}

describe('judgeStep in canary', () => {
  it('is inconclusive below the minimum sample, however bad the figures look', () => {
    const result = judgeStep(canary({ new: { calls: 20, errors: 20, latency: histogram(spread(20, 1, 2)) } }), settings);
    expect(result.verdict).toBe('inconclusive');
  });

  it('fails a new that errs 20 % against an old at 0.3 %, naming metric, estimate and interval', () => {
    const result = judgeStep(
      canary({
        new: { calls: 300, errors: 60, latency: histogram(spread(300, 10, 20)) },
        control: { source: 'live', calls: 6_000, errors: 18, latency: histogram(spread(6_000, 10, 20)) },
        keys: { old: 950, new: 50 },
      }),
      settings,
    );
    expect(result.verdict).toBe('fail');
    expect(result.reasons.join(' ')).toMatch(/new error rate 20 % \(always-valid interval [\d.]+ % to [\d.]+ %, limit 1 %\) over 300/);
    expect(result.metrics.find((m) => m.metric === 'errorRate')?.verdict).toBe('fail');
  });

  it('passes a healthy new once the evidence is strong enough, and tells how many calls it still needs before that', () => {
    const few = judgeStep(
      canary({
        new: { calls: 150, errors: 0, latency: histogram(spread(150, 10, 20)) },
        control: { source: 'live', calls: 3_000, errors: 9, latency: histogram(spread(3_000, 10, 20)) },
        keys: { old: 950, new: 50 },
      }),
      settings,
    );
    expect(few.verdict).toBe('inconclusive');
    const blocking = few.metrics.filter((m) => m.verdict === 'inconclusive');
    expect(blocking.length).toBeGreaterThan(0);
    for (const m of blocking) expect(m.needed).toBeGreaterThan(0);

    const many = judgeStep(
      canary({
        new: { calls: 20_000, errors: 60, latency: histogram(spread(20_000, 10, 20)) },
        control: { source: 'live', calls: 380_000, errors: 1_140, latency: histogram(spread(20_000, 10, 20)) },
        keys: { old: 9_500, new: 500 },
      }),
      settings,
    );
    expect(many.verdict).toBe('pass');
    expect(many.reasons).toEqual([]);
  });

  it('fails a new three times slower than the control', () => {
    const result = judgeStep(
      canary({
        new: { calls: 200, errors: 0, latency: histogram(spread(200, 30, 60)) },
        control: { source: 'live', calls: 4_000, errors: 0, latency: histogram(spread(4_000, 10, 20)) },
        keys: { old: 950, new: 50 },
      }),
      settings,
    );
    expect(result.verdict).toBe('fail');
    expect(result.metrics.find((m) => m.metric === 'latency')?.verdict).toBe('fail');
  });

  it('does not fail a new that is faster than the control', () => {
    const result = judgeStep(
      canary({
        new: { calls: 2_000, errors: 0, latency: histogram(spread(2_000, 1, 5)) },
        control: { source: 'live', calls: 40_000, errors: 0, latency: histogram(spread(4_000, 10, 20)) },
        keys: { old: 950, new: 50 },
      }),
      settings,
    );
    expect(result.metrics.find((m) => m.metric === 'latency')?.verdict).toBe('pass');
  });

  it('holds (never rolls back) on a sample ratio mismatch, and says it is a routing bug', () => {
    const result = judgeStep(
      canary({
        new: { calls: 20_000, errors: 0, latency: histogram(spread(200, 10, 20)) },
        control: { source: 'live', calls: 380_000, errors: 0, latency: histogram(spread(2_000, 10, 20)) },
        keys: { old: 7_000, new: 3_000 },
      }),
      settings,
    );
    expect(result.verdict).toBe('inconclusive');
    expect(result.reasons[0]).toMatch(/sample ratio mismatch/);
  });

  it('uses a baseline given as figures when old serves nothing live', () => {
    const result = judgeStep(
      {
        ...canary({ phase: 'full', percentage: 100 }),
        new: { calls: 500, errors: 100, latency: histogram(spread(500, 10, 20)) },
        control: { source: 'baseline', calls: 10_000, errors: 30, p95: 20 },
      },
      settings,
    );
    expect(result.verdict).toBe('fail');
    expect(result.metrics.map((m) => m.metric)).toEqual(['errorRate', 'errorRateOverControl', 'latency']);
  });
});

describe('judgeStep in shadow', () => {
  const shadow = (compared: number, valueMismatches: number, newErrors: number, oldErrors: number): StepEvidence => ({
    ...canary({ phase: 'shadow', percentage: 100 }),
    shadow: { compared, valueMismatches, newErrors },
    oldInShadow: { trials: compared, events: oldErrors },
  });

  it('does not roll back identical systems with the same transient error rate', () => {
    // 0.3 % transient errors on each side: the old rule counted them as mismatches (0.6 % > 0.1 %).
    const result = judgeStep(shadow(40_000, 0, 120, 120), settings);
    expect(result.verdict).not.toBe('fail');
    expect(result.metrics.find((m) => m.metric === 'valueMismatches')?.verdict).toBe('pass');
  });

  it('fails real value mismatches well above the limit', () => {
    const result = judgeStep(shadow(5_000, 100, 0, 0), settings);
    expect(result.verdict).toBe('fail');
    expect(result.reasons[0]).toMatch(/shadow value mismatches 2 %/);
  });

  it('judges value mismatches against the A/A noise when it was measured', () => {
    const noisy = { ...shadow(20_000, 60, 0, 0), noise: { trials: 20_000, events: 60 } };
    expect(judgeStep(noisy, settings).verdict).not.toBe('fail');
    expect(judgeStep(shadow(20_000, 60, 0, 0), settings).verdict).toBe('fail');
  });
});

describe('judgeStep in preparation', () => {
  it('is inconclusive: new serves nothing to judge', () => {
    const result = judgeStep({ ...canary({ phase: 'preparation', percentage: 0 }) }, settings);
    expect(result.verdict).toBe('inconclusive');
    expect(result.metrics).toEqual([]);
  });
});
