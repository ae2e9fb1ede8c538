import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { seededRandom } from '../../src/testing/index.js';

describe('seededRandom', () => {
  it('gives the same sequence for the same seed, in [0, 1)', () => {
    fc.assert(
      fc.property(fc.integer(), (seed) => {
        const a = seededRandom(seed);
        const b = seededRandom(seed);
        for (let i = 0; i < 20; i++) {
          const x = a();
          expect(x).toBe(b());
          expect(x >= 0 && x < 1).toBe(true);
        }
      }),
    );
  });

  it('gives different sequences for different seeds, spread evenly', () => {
    const one = seededRandom(1);
    const two = seededRandom(2);
    expect(one()).not.toBe(two());
    const random = seededRandom(2026);
    const draws = Array.from({ length: 10_000 }, random);
    const low = draws.filter((x) => x < 0.5).length;
    expect(low).toBeGreaterThan(4_800);
    expect(low).toBeLessThan(5_200);
  });

  it('refuses a seed that is not a finite number', () => {
    expect(() => seededRandom(Number.NaN)).toThrow(expect.objectContaining({ code: 'ERR_INVALID_OPTION', option: 'seed' }));
  });
});
