import { describe, expect, it } from 'vitest';
import {
  mixtureRadius,
  normalQuantile,
  rateBound,
  rateDifferenceBound,
  upperQuantileLevel,
} from '../../src/rollout/sequential.js';
import { seededRandom } from '../../src/testing/random.js';

describe('normalQuantile', () => {
  it('matches tabulated values of the standard normal', () => {
    expect(normalQuantile(0.5)).toBeCloseTo(0, 9);
    expect(normalQuantile(0.975)).toBeCloseTo(1.959964, 5);
    expect(normalQuantile(0.99)).toBeCloseTo(2.326348, 5);
    expect(normalQuantile(0.001)).toBeCloseTo(-3.090232, 5);
    expect(normalQuantile(0.9999)).toBeCloseTo(3.719016, 5);
  });

  it('is infinite outside (0, 1)', () => {
    expect(normalQuantile(0)).toBe(Number.NEGATIVE_INFINITY);
    expect(normalQuantile(1)).toBe(Number.POSITIVE_INFINITY);
  });
});

describe('mixtureRadius', () => {
  it('is infinite before the first observation and shrinks towards zero', () => {
    expect(mixtureRadius(0, 0.01, 1000)).toBe(Number.POSITIVE_INFINITY);
    const radii = [10, 100, 1_000, 10_000, 100_000].map((t) => mixtureRadius(t, 0.01, 1000));
    for (let i = 1; i < radii.length; i++) expect(radii[i]).toBeLessThan(radii[i - 1] as number);
    expect(radii[4]).toBeLessThan(0.02);
  });

  it('is wider than a fixed-sample interval at the same level (the price of looking at every call)', () => {
    const t = 1_000;
    expect(mixtureRadius(t, 0.05, t)).toBeGreaterThan(normalQuantile(0.95) / Math.sqrt(t));
  });
});

/** Runs `streams` Bernoulli streams of `length` trials and returns the share in which `crossed` held at any look. */
function shareEverCrossed(
  seed: number,
  streams: number,
  length: number,
  step: (random: () => number, t: number) => boolean,
): number {
  const random = seededRandom(seed);
  let crossed = 0;
  for (let s = 0; s < streams; s++) {
    for (let t = 1; t <= length; t++) {
      if (step(random, t)) {
        crossed++;
        break;
      }
    }
  }
  return crossed / streams;
}

describe('rateBound: always valid on simulated streams with a known rate', () => {
  for (const p of [0.003, 0.01, 0.2]) {
    it(`the true rate ${p} leaves the lower bound in at most alpha of the streams, looking after every trial`, () => {
      const alpha = 0.05;
      let events = 0;
      const share = shareEverCrossed(11, 400, 4_000, (random, t) => {
        if (t === 1) events = 0;
        if (random() < p) events++;
        return rateBound({ trials: t, events }, alpha, 1_000).lower > p;
      });
      expect(share).toBeLessThanOrEqual(alpha);
    });
  }

  it('a fixed-sample interval checked after every trial is crossed far more often (the problem solved)', () => {
    const p = 0.2;
    const z = normalQuantile(0.95);
    let events = 0;
    const share = shareEverCrossed(12, 400, 4_000, (random, t) => {
      if (t === 1) events = 0;
      if (random() < p) events++;
      const rate = events / t;
      return t >= 30 && rate - z * Math.sqrt((rate * (1 - rate)) / t) > p;
    });
    expect(share).toBeGreaterThan(0.15);
  });

  it('finds a 20 % error rate above 1 % within a few dozen calls', () => {
    const random = seededRandom(3);
    let events = 0;
    let detectedAt = 0;
    for (let t = 1; t <= 1_000; t++) {
      if (random() < 0.2) events++;
      if (rateBound({ trials: t, events }, 0.001, 1_000).lower > 0.01) {
        detectedAt = t;
        break;
      }
    }
    expect(detectedAt).toBeGreaterThan(0);
    expect(detectedAt).toBeLessThan(150);
  });
});

describe('rateDifferenceBound: always valid for new against a control', () => {
  it('with equal rates and a 5 % canary, the lower bound of new − old stays at or below 0 in at least 1 − alpha of the streams', () => {
    const alpha = 0.05;
    const p = 0.003;
    const share5 = 0.05;
    let a = { trials: 0, events: 0 };
    let b = { trials: 0, events: 0 };
    const share = shareEverCrossed(21, 200, 20_000, (random, t) => {
      if (t === 1) {
        a = { trials: 0, events: 0 };
        b = { trials: 0, events: 0 };
      }
      const failed = random() < p ? 1 : 0;
      if (random() < share5) a = { trials: a.trials + 1, events: a.events + failed };
      else b = { trials: b.trials + 1, events: b.events + failed };
      return a.trials >= 1 && rateDifferenceBound(a, b, alpha, 10_000).lower > 0;
    });
    expect(share).toBeLessThanOrEqual(alpha);
  });

  it('finds new failing 20 % against old failing 0.3 % at a 5 % canary', () => {
    const random = seededRandom(5);
    let a = { trials: 0, events: 0 };
    let b = { trials: 0, events: 0 };
    let detectedAfterNewCalls = 0;
    for (let t = 1; t <= 20_000; t++) {
      if (random() < 0.05) a = { trials: a.trials + 1, events: a.events + (random() < 0.2 ? 1 : 0) };
      else b = { trials: b.trials + 1, events: b.events + (random() < 0.003 ? 1 : 0) };
      if (a.trials > 0 && rateDifferenceBound(a, b, 0.001, 10_000).lower > 0.005) {
        detectedAfterNewCalls = a.trials;
        break;
      }
    }
    expect(detectedAfterNewCalls).toBeGreaterThan(0);
    expect(detectedAfterNewCalls).toBeLessThan(200);
  });

  it('knows nothing without calls on both sides', () => {
    expect(rateDifferenceBound({ trials: 0, events: 0 }, { trials: 100, events: 1 }, 0.01, 100)).toEqual({
      estimate: -0.01,
      lower: -1,
      upper: 1,
    });
  });
});

describe('upperQuantileLevel', () => {
  it('reads the control above q, less so as its sample grows, and never above 1', () => {
    expect(upperQuantileLevel(0.95, 0, 0.01)).toBe(1);
    expect(upperQuantileLevel(0.95, 100, 0.01)).toBe(1);
    const small = upperQuantileLevel(0.95, 1_000, 0.01);
    const large = upperQuantileLevel(0.95, 100_000, 0.01);
    expect(small).toBeGreaterThan(large);
    expect(large).toBeGreaterThan(0.95);
    expect(small).toBeLessThanOrEqual(1);
    expect(small).toBeCloseTo(0.95 + 2.326348 * Math.sqrt((0.95 * 0.05) / 1_000), 5);
  });
});
