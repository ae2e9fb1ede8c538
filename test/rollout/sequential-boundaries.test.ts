import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  mixtureRadius,
  mixtureRho2,
  normalQuantile,
  rateBound,
  rateDifferenceBound,
  upperQuantileLevel,
} from '../../src/rollout/sequential.js';

// Known answers for the always-valid bounds the rollback judge decides with:
// the simulations in sequential.test.ts show the bounds hold, these pin the
// numbers (a wrong sign or constant that keeps a simulation passing moves
// the rollback point) and every edge: no trials yet, the clamps at 0 and 1,
// tOpt below 1, and the three regions of the normal quantile.

/** ρ² and r(t) exactly as the module header states them, for comparison. */
function documentedRho2(alpha: number, tOpt: number): number {
  return (-2 * Math.log(alpha) + Math.log(-2 * Math.log(alpha) + 1)) / Math.max(1, tOpt);
}

function documentedRadius(t: number, alpha: number, tOpt: number): number {
  const rho2 = documentedRho2(alpha, tOpt);
  return Math.sqrt(((2 * (t * rho2 + 1)) / (t ** 2 * rho2)) * Math.log(Math.sqrt(t * rho2 + 1) / alpha));
}

/** The rates p with (rate − p)² = p(1 − p)·r², the roots of p²(1 + r²) − p(2·rate + r²) + rate² = 0. */
function wilsonRoots(rate: number, r: number): [number, number] {
  const a = 1 + r * r;
  const b = 2 * rate + r * r;
  const root = Math.sqrt(b * b - 4 * a * rate * rate);
  return [(b - root) / (2 * a), (b + root) / (2 * a)];
}

function relativelyClose(actual: number, expected: number, digits = 10): void {
  if (expected === 0) expect(actual).toBeCloseTo(0, digits);
  else expect(actual / expected).toBeCloseTo(1, digits);
}

describe('mixtureRho2', () => {
  it('is (−2 ln α + ln(−2 ln α + 1)) / tOpt', () => {
    expect(mixtureRho2(0.05, 1_000)).toBeCloseTo(0.007936154601737565, 15);
    for (const [alpha, tOpt] of [
      [0.05, 1_000],
      [0.01, 100],
      [0.001, 10_000],
      [0.2, 7],
    ] as const) {
      relativelyClose(mixtureRho2(alpha, tOpt), documentedRho2(alpha, tOpt), 12);
    }
  });

  it('treats a tOpt below 1 as 1', () => {
    expect(mixtureRho2(0.05, 1)).toBeCloseTo(7.936154601737565, 12);
    expect(mixtureRho2(0.05, 0.5)).toBe(mixtureRho2(0.05, 1));
    expect(mixtureRho2(0.05, 0)).toBe(mixtureRho2(0.05, 1));
    expect(mixtureRho2(0.05, 2)).toBeCloseTo(mixtureRho2(0.05, 1) / 2, 12);
  });
});

describe('mixtureRadius', () => {
  it('is r(t) of the module header', () => {
    expect(mixtureRadius(100, 0.05, 1_000)).toBeCloseTo(0.3855054633530311, 12);
    expect(mixtureRadius(1, 0.01, 1)).toBeCloseTo(3.5716299708704495, 12);
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 1_000_000 }),
        fc.double({ min: 1e-6, max: 0.5, noNaN: true }),
        fc.integer({ min: 1, max: 100_000 }),
        (t, alpha, tOpt) => {
          relativelyClose(mixtureRadius(t, alpha, tOpt), documentedRadius(t, alpha, tOpt), 9);
        },
      ),
    );
  });

  it('is infinite at 0, below 0 and for NaN observations', () => {
    expect(mixtureRadius(0, 0.05, 100)).toBe(Number.POSITIVE_INFINITY);
    expect(mixtureRadius(-1, 0.05, 100)).toBe(Number.POSITIVE_INFINITY);
    expect(mixtureRadius(Number.NaN, 0.05, 100)).toBe(Number.POSITIVE_INFINITY);
    expect(Number.isFinite(mixtureRadius(0.5, 0.05, 100))).toBe(true);
  });

  it('is wider at a smaller alpha', () => {
    expect(mixtureRadius(1_000, 0.001, 1_000)).toBeGreaterThan(mixtureRadius(1_000, 0.05, 1_000));
  });
});

describe('rateBound', () => {
  it('knows nothing before the first trial', () => {
    expect(rateBound({ trials: 0, events: 0 }, 0.05, 100)).toEqual({ estimate: 0, lower: 0, upper: 1 });
    expect(rateBound({ trials: -3, events: 0 }, 0.05, 100)).toEqual({ estimate: 0, lower: 0, upper: 1 });
    expect(rateBound({ trials: Number.NaN, events: 0 }, 0.05, 100)).toEqual({ estimate: 0, lower: 0, upper: 1 });
  });

  it('gives known bounds for 5 events in 100 trials', () => {
    const bound = rateBound({ trials: 100, events: 5 }, 0.05, 1_000);
    expect(bound.estimate).toBe(0.05);
    expect(bound.lower).toBeCloseTo(0.010572112820402574, 12);
    expect(bound.upper).toBeCloseTo(0.20587515511892848, 12);
  });

  it('bounds are the two rates the boundary touches (Wilson inversion), clamped to 0..1', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 100_000 }),
        fc.double({ min: 0, max: 1, noNaN: true }),
        fc.constantFrom(0.001, 0.01, 0.05, 0.2),
        fc.integer({ min: 1, max: 20_000 }),
        (trials, share, alpha, tOpt) => {
          const events = Math.round(share * trials);
          const bound = rateBound({ trials, events }, alpha, tOpt);
          const rate = events / trials;
          const [low, high] = wilsonRoots(rate, documentedRadius(trials, alpha, tOpt));
          expect(bound.estimate).toBe(rate);
          expect(bound.lower).toBeCloseTo(Math.max(0, low), 9);
          expect(bound.upper).toBeCloseTo(Math.min(1, high), 9);
          expect(bound.lower).toBeGreaterThanOrEqual(0);
          expect(bound.upper).toBeLessThanOrEqual(1);
          // up to rounding: at 0 events the lower bound can come out 5e-20 above 0
          expect(bound.lower).toBeLessThanOrEqual(rate + 1e-15);
          expect(bound.upper).toBeGreaterThanOrEqual(rate - 1e-15);
        },
      ),
    );
  });

  it('never claims certainty from no events, nor from events only', () => {
    const none = rateBound({ trials: 10, events: 0 }, 0.05, 100);
    expect(none).toEqual({ estimate: 0, lower: 0, upper: expect.closeTo(0.5977707849941054, 12) });
    const all = rateBound({ trials: 10, events: 10 }, 0.05, 100);
    expect(all).toEqual({ estimate: 1, lower: expect.closeTo(0.4022292150058946, 12), upper: 1 });
  });

  it('keeps the bounds within 0..1 at either end (centre ∓ half is 0 or 1 up to rounding there)', () => {
    for (const trials of [1, 3, 10, 1_000, 123_457]) {
      const none = rateBound({ trials, events: 0 }, 0.05, 100);
      expect(none.lower).toBeGreaterThanOrEqual(0);
      expect(none.lower).toBeCloseTo(0, 15);
      const all = rateBound({ trials, events: trials }, 0.05, 100);
      expect(all.upper).toBeLessThanOrEqual(1);
      expect(all.upper).toBeCloseTo(1, 15);
    }
  });
});

describe('rateDifferenceBound', () => {
  /** The documented bound: (rate a − rate b) ± sqrt((s²a/na + s²b/nb)·n)·r(n), s² with one pseudo-event and one pseudo-non-event. */
  function documented(a: { trials: number; events: number }, b: { trials: number; events: number }, alpha: number, tOpt: number) {
    const pa = (a.events + 1) / (a.trials + 2);
    const pb = (b.events + 1) / (b.trials + 2);
    const n = a.trials + b.trials;
    const radius = Math.sqrt(((pa * (1 - pa)) / a.trials + (pb * (1 - pb)) / b.trials) * n) * documentedRadius(n, alpha, tOpt);
    const estimate = a.events / a.trials - b.events / b.trials;
    return { estimate, lower: Math.max(-1, estimate - radius), upper: Math.min(1, estimate + radius) };
  }

  it('gives known bounds for 20 % against 0.3 %', () => {
    const bound = rateDifferenceBound({ trials: 100, events: 20 }, { trials: 1_000, events: 3 }, 0.05, 1_000);
    expect(bound.estimate).toBeCloseTo(0.197, 15);
    expect(bound.lower).toBeCloseTo(0.07411631718954963, 12);
    expect(bound.upper).toBeCloseTo(0.3198836828104504, 12);
  });

  it('follows the documented bound for any counts', () => {
    const counts = fc.integer({ min: 1, max: 50_000 }).chain((trials) => fc.record({ trials: fc.constant(trials), events: fc.integer({ min: 0, max: trials }) }));
    fc.assert(
      fc.property(counts, counts, fc.constantFrom(0.001, 0.05), fc.integer({ min: 1, max: 20_000 }), (a, b, alpha, tOpt) => {
        const bound = rateDifferenceBound(a, b, alpha, tOpt);
        const expected = documented(a, b, alpha, tOpt);
        expect(bound.estimate).toBeCloseTo(expected.estimate, 12);
        expect(bound.lower).toBeCloseTo(expected.lower, 9);
        expect(bound.upper).toBeCloseTo(expected.upper, 9);
      }),
    );
  });

  it('is symmetric: swapping the sides negates the bound', () => {
    const ab = rateDifferenceBound({ trials: 300, events: 12 }, { trials: 5_000, events: 40 }, 0.01, 1_000);
    const ba = rateDifferenceBound({ trials: 5_000, events: 40 }, { trials: 300, events: 12 }, 0.01, 1_000);
    expect(ba.estimate).toBeCloseTo(-ab.estimate, 15);
    expect(ba.lower).toBeCloseTo(-ab.upper, 12);
    expect(ba.upper).toBeCloseTo(-ab.lower, 12);
  });

  it('knows nothing until both sides have a trial', () => {
    expect(rateDifferenceBound({ trials: 0, events: 0 }, { trials: 0, events: 0 }, 0.05, 100)).toEqual({ estimate: 0, lower: -1, upper: 1 });
    expect(rateDifferenceBound({ trials: 10, events: 5 }, { trials: 0, events: 0 }, 0.05, 100)).toEqual({ estimate: 0.5, lower: -1, upper: 1 });
    expect(rateDifferenceBound({ trials: -1, events: 0 }, { trials: 10, events: 1 }, 0.05, 100)).toEqual({ estimate: -0.1, lower: -1, upper: 1 });
    expect(rateDifferenceBound({ trials: 100, events: 0 }, { trials: 100, events: 0 }, 0.05, 100).lower).toBeGreaterThan(-1);
  });

  it('clamps to -1..1', () => {
    expect(rateDifferenceBound({ trials: 5, events: 5 }, { trials: 5, events: 0 }, 0.05, 10)).toEqual({
      estimate: 1,
      lower: expect.closeTo(0.32826777874364255, 12),
      upper: 1,
    });
    expect(rateDifferenceBound({ trials: 5, events: 0 }, { trials: 5, events: 5 }, 0.05, 10)).toEqual({
      estimate: -1,
      lower: -1,
      upper: expect.closeTo(-0.32826777874364255, 12),
    });
  });

  it('gives a zero-error run a nonzero width (the pseudo-counts)', () => {
    const bound = rateDifferenceBound({ trials: 1_000, events: 0 }, { trials: 1_000, events: 0 }, 0.05, 1_000);
    expect(bound.estimate).toBe(0);
    expect(bound.lower).toBeLessThan(-0.001);
    expect(bound.upper).toBeGreaterThan(0.001);
    expect(bound.upper).toBeCloseTo(-bound.lower, 15);
  });
});

describe('upperQuantileLevel', () => {
  it('is q + z(1 − α)·sqrt(q(1 − q)/n), at most 1', () => {
    expect(upperQuantileLevel(0.5, 100, 0.05)).toBeCloseTo(0.5 + 1.6448536269514722 * Math.sqrt(0.25 / 100), 9);
    expect(upperQuantileLevel(0.5, 100, 0.05)).toBeCloseTo(0.582242681256685, 12);
    expect(upperQuantileLevel(0.99, 1_000_000, 0.01)).toBeCloseTo(0.99 + 2.3263478740408408 * Math.sqrt(0.0099 / 1_000_000), 9);
    expect(upperQuantileLevel(0.99, 10, 0.01)).toBe(1);
  });

  it('is 1 without a sample', () => {
    expect(upperQuantileLevel(0.5, 0, 0.05)).toBe(1);
    expect(upperQuantileLevel(0.5, -5, 0.05)).toBe(1);
    expect(upperQuantileLevel(0.5, Number.NaN, 0.05)).toBe(1);
    // whatever the quantile: even q = 0, where the formula would give 0 / 0
    expect(upperQuantileLevel(0, 0, 0.05)).toBe(1);
    expect(upperQuantileLevel(0.1, 0.5, 0.05)).toBeCloseTo(0.1 + 1.6448536269514722 * Math.sqrt(0.09 / 0.5), 8);
  });
});

describe('normalQuantile', () => {
  // Φ⁻¹(p), tabulated to 10 digits: the lower tail, the central region and
  // the upper tail of Acklam's approximation (split at 0.02425 and 0.97575).
  const table: readonly [number, number][] = [
    [1e-9, -5.997807015],
    [0.0001, -3.7190164855],
    [0.001, -3.0902323062],
    [0.01, -2.326347874],
    [0.02, -2.0537489106],
    [0.025, -1.9599639845],
    [0.1, -1.2815515655],
    [0.3, -0.5244005127],
    [0.5, 0],
    [0.7, 0.5244005127],
    [0.9, 1.2815515655],
    [0.975, 1.9599639845],
    [0.98, 2.0537489106],
    [0.99, 2.326347874],
    [0.999, 3.0902323062],
    [0.9999, 3.7190164855],
  ];

  it.each(table)('Φ⁻¹(%d) = %d', (p, z) => {
    expect(normalQuantile(p)).toBeCloseTo(z, 7);
  });

  it('is continuous where the regions meet', () => {
    for (const edge of [0.02425, 1 - 0.02425]) {
      expect(normalQuantile(edge + 1e-12)).toBeCloseTo(normalQuantile(edge - 1e-12), 7);
    }
    // Exactly at the split the central formula applies, as Acklam writes it
    // (the lower tail is p < 0.02425): the tail formula is 4.4e-9 away there.
    expect(normalQuantile(0.02425)).toBeCloseTo(-1.9729610490848712, 12);
    expect(normalQuantile(1 - 0.02425)).toBeCloseTo(1.9729610490848712, 12);
  });

  it('is antisymmetric about 0.5 and increasing', () => {
    fc.assert(
      fc.property(fc.double({ min: 1e-6, max: 1 - 1e-6, noNaN: true }), fc.double({ min: 1e-6, max: 1 - 1e-6, noNaN: true }), (p, q) => {
        expect(normalQuantile(p)).toBeCloseTo(-normalQuantile(1 - p), 5);
        if (p < q) expect(normalQuantile(p)).toBeLessThanOrEqual(normalQuantile(q));
      }),
    );
  });

  it('is -∞ at or below 0 and +∞ at or above 1 (and for NaN)', () => {
    expect(normalQuantile(0)).toBe(Number.NEGATIVE_INFINITY);
    expect(normalQuantile(-0.5)).toBe(Number.NEGATIVE_INFINITY);
    expect(normalQuantile(1)).toBe(Number.POSITIVE_INFINITY);
    expect(normalQuantile(1.5)).toBe(Number.POSITIVE_INFINITY);
    expect(normalQuantile(Number.NaN)).toBe(Number.POSITIVE_INFINITY);
    expect(Number.isFinite(normalQuantile(Number.MIN_VALUE))).toBe(true);
  });
});
