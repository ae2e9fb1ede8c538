import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import { LatencyHistogram, bucketUpperBound } from '../../src/observe/latency-histogram.js';

/** The nearest-rank percentile (p in whole percent) of `values`, computed from the sorted samples. */
function nearestRank(values: readonly number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.max(1, Math.ceil((p * sorted.length) / 100));
  return sorted[rank - 1] as number;
}

function histogramOf(values: readonly number[]): LatencyHistogram {
  const histogram = new LatencyHistogram();
  for (const value of values) histogram.record(value);
  return histogram;
}

const latency = fc.oneof(
  fc.double({ min: 0, max: 10, noNaN: true }),
  fc.double({ min: 0, max: 3_600_000, noNaN: true }),
  fc.integer({ min: 1, max: 5000 }),
);
const latencies = fc.array(latency, { minLength: 1, maxLength: 300 });

describe('bucketUpperBound', () => {
  it('is never below the value and at most 5 % above it, across the whole range', () => {
    fc.assert(
      fc.property(fc.double({ min: 0.001, max: 3_600_000, noNaN: true }), (ms) => {
        const upper = bucketUpperBound(ms);
        expect(upper).toBeGreaterThanOrEqual(ms);
        expect(upper).toBeLessThanOrEqual(ms * 1.05 * (1 + 1e-12));
      }),
    );
  });

  it('is its own bound: a boundary belongs to the bucket it closes', () => {
    for (const ms of [0.001, 0.5, 1, 2, 100, 1234.5, 3_600_000]) {
      const upper = bucketUpperBound(ms);
      expect(bucketUpperBound(upper)).toBe(upper);
    }
  });

  it('puts tiny, zero, negative and NaN values in the first bucket', () => {
    for (const ms of [0, 1e-9, 0.001, -5, Number.NaN]) expect(bucketUpperBound(ms)).toBe(0.001);
  });

  it('is infinite above one hour and some', () => {
    expect(bucketUpperBound(3_600_000)).toBeLessThan(Infinity);
    expect(bucketUpperBound(10 * 3_600_000)).toBe(Infinity);
    expect(bucketUpperBound(Infinity)).toBe(Infinity);
  });
});

describe('LatencyHistogram', () => {
  describe('when empty', () => {
    it('reports zeros', () => {
      const histogram = new LatencyHistogram();
      expect(histogram.count).toBe(0);
      expect(histogram.max).toBe(0);
      expect(histogram.percentile(0.5)).toBe(0);
      expect(histogram.percentiles()).toEqual({ p50: 0, p95: 0, p99: 0 });
    });
  });

  describe('percentiles', () => {
    it('are within one bucket above the true nearest-rank percentile, for any latencies', () => {
      fc.assert(
        fc.property(latencies, (values) => {
          const histogram = histogramOf(values);
          const reported = histogram.percentiles();
          for (const [p, got] of [
            [50, reported.p50],
            [95, reported.p95],
            [99, reported.p99],
          ] as const) {
            const truth = nearestRank(values, p);
            expect(got).toBeGreaterThanOrEqual(truth);
            expect(got).toBeLessThanOrEqual(truth * 1.05 + 0.001);
            expect(got).toBeLessThanOrEqual(bucketUpperBound(truth));
            expect(histogram.percentile(p / 100)).toBe(got);
          }
        }),
      );
    });

    it('follow the nearest-rank definition for any q', () => {
      fc.assert(
        fc.property(latencies, fc.integer({ min: 0, max: 100 }), (values, p) => {
          const truth = nearestRank(values, p);
          const got = histogramOf(values).percentile(p / 100);
          expect(got).toBeGreaterThanOrEqual(truth);
          expect(got).toBeLessThanOrEqual(bucketUpperBound(truth));
        }),
      );
    });

    it('take the rank exactly where floating point would overshoot (7 of 100 at q = 0.07)', () => {
      const values = Array.from({ length: 100 }, (_, i) => (i < 7 ? 1 : 1000));
      expect(histogramOf(values).percentile(0.07)).toBeLessThanOrEqual(1.05);
    });

    it('clamp q to 0..1', () => {
      const histogram = histogramOf([1, 10, 100]);
      expect(histogram.percentile(-1)).toBe(histogram.percentile(0));
      expect(histogram.percentile(2)).toBe(histogram.percentile(1));
      expect(histogram.percentile(1)).toBe(100);
    });

    it('report the max seen for samples above the last bucket', () => {
      const histogram = histogramOf([5, 7_200_000, 9_000_000]);
      expect(histogram.percentile(1)).toBe(9_000_000);
      expect(histogram.max).toBe(9_000_000);
    });

    it('never exceed the largest sample', () => {
      fc.assert(
        fc.property(latencies, (values) => {
          const histogram = histogramOf(values);
          const { p99 } = histogram.percentiles();
          expect(p99).toBeLessThanOrEqual(Math.max(...values));
          expect(histogram.max).toBe(Math.max(...values));
        }),
      );
    });
  });

  describe('record', () => {
    it('counts exactly and clamps negative and NaN values to 0', () => {
      const histogram = histogramOf([-3, Number.NaN, 0, 2]);
      expect(histogram.count).toBe(4);
      expect(histogram.max).toBe(2);
      expect(histogram.percentile(0.75)).toBe(0.001);
      expect(histogramOf([0, -1]).percentile(1)).toBe(0);
    });

    it('keeps its memory fixed, whatever it records', () => {
      const histogram = new LatencyHistogram();
      for (let i = 0; i < 1_000_000; i++) histogram.record((i % 1000) * 10 ** ((i % 13) - 3));
      expect(histogram.count).toBe(1_000_000);
      expect(histogram.bucketCount).toBe(LatencyHistogram.bucketCount);
      // 1 µs to 1 h at 5 %: about 450 buckets.
      expect(LatencyHistogram.bucketCount).toBeGreaterThan(400);
      expect(LatencyHistogram.bucketCount).toBeLessThan(500);
    });
  });

  describe('add and subtract', () => {
    it('add merges two histograms as if one had recorded both', () => {
      fc.assert(
        fc.property(latencies, latencies, (a, b) => {
          const merged = histogramOf(a);
          merged.add(histogramOf(b));
          const direct = histogramOf([...a, ...b]);
          expect(merged.count).toBe(a.length + b.length);
          expect(merged.max).toBe(direct.max);
          expect(merged.percentiles()).toEqual(direct.percentiles());
        }),
      );
    });

    it('subtract undoes add', () => {
      fc.assert(
        fc.property(latencies, latencies, (a, b) => {
          const histogram = histogramOf(a);
          const before = histogram.percentiles();
          const other = histogramOf(b);
          histogram.add(other);
          histogram.subtract(other, Math.max(...a));
          expect(histogram.count).toBe(a.length);
          expect(histogram.max).toBe(Math.max(...a));
          expect(histogram.percentiles()).toEqual(before);
        }),
      );
    });

    it('without maxOfRest, keeps max an upper bound within the highest bucket', () => {
      fc.assert(
        fc.property(latencies, latencies, (a, b) => {
          const histogram = histogramOf(a);
          const other = histogramOf(b);
          histogram.add(other);
          histogram.subtract(other);
          const trueMax = Math.max(...a);
          expect(histogram.max).toBeGreaterThanOrEqual(trueMax);
          if (trueMax <= 3_600_000) expect(histogram.max).toBeLessThanOrEqual(bucketUpperBound(trueMax));
        }),
      );
    });

    it('subtracting everything empties it', () => {
      const histogram = histogramOf([1, 2, 3]);
      histogram.subtract(histogramOf([1, 2, 3]));
      expect(histogram.count).toBe(0);
      expect(histogram.max).toBe(0);
      expect(histogram.percentiles()).toEqual({ p50: 0, p95: 0, p99: 0 });
    });
  });

  describe('clear', () => {
    it('forgets every sample', () => {
      const histogram = histogramOf([1, 2, 3]);
      histogram.clear();
      expect(histogram.count).toBe(0);
      expect(histogram.max).toBe(0);
      expect(histogram.percentile(0.5)).toBe(0);
      histogram.record(4);
      expect(histogram.percentile(0.5)).toBe(4);
    });
  });
});

describe('LatencyHistogram.countAbove', () => {
  it('counts the samples certainly slower than a threshold, never more than the true count', () => {
    fc.assert(
      fc.property(
        fc.array(fc.double({ min: 0, max: 10_000, noNaN: true }), { maxLength: 200 }),
        fc.double({ min: 0, max: 10_000, noNaN: true }),
        (samples, threshold) => {
          const histogram = new LatencyHistogram();
          for (const sample of samples) histogram.record(sample);
          const counted = histogram.countAbove(threshold);
          const trulyAbove = samples.filter((s) => s > threshold).length;
          const clearlyAbove = samples.filter((s) => s > threshold * 1.06 + 0.002).length;
          expect(counted).toBeLessThanOrEqual(trulyAbove);
          expect(counted).toBeGreaterThanOrEqual(clearlyAbove);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('is 0 on an empty histogram and counts everything above a tiny threshold', () => {
    const histogram = new LatencyHistogram();
    expect(histogram.countAbove(5)).toBe(0);
    for (const ms of [10, 20, 30]) histogram.record(ms);
    expect(histogram.countAbove(0.5)).toBe(3);
    expect(histogram.countAbove(15)).toBe(2);
    expect(histogram.countAbove(30)).toBe(0);
  });
});
