import { InvalidOptionError, describeValue } from '../errors.js';

/** A source of uniform random numbers in [0, 1), like `Math.random`. */
export type Random = () => number;

/**
 * A seeded pseudo-random generator (mulberry32): the same seed always gives
 * the same sequence. Fast and small; for tests, never for anything secret.
 * @throws InvalidOptionError when `seed` is not a finite number.
 */
export function seededRandom(seed: number): Random {
  if (typeof seed !== 'number' || !Number.isFinite(seed)) {
    throw new InvalidOptionError('seed', `must be a finite number, got ${describeValue(seed)}`);
  }
  let state = Math.trunc(seed) >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

/**
 * Mixes a seed with labels into a new 32-bit seed (FNV-1a), so that streams
 * drawn for different purposes (latency, failures, hangs) or different fakes
 * are independent of each other yet all follow from one seed.
 */
export function deriveSeed(seed: number, ...labels: readonly string[]): number {
  let hash = 0x811c9dc5 ^ (Math.trunc(seed) >>> 0);
  for (const label of labels) {
    for (let i = 0; i < label.length; i++) {
      hash ^= label.charCodeAt(i);
      hash = Math.imul(hash, 0x01000193);
    }
    hash ^= 0xff;
    hash = Math.imul(hash, 0x01000193);
  }
  return hash >>> 0;
}

/** A normally distributed sample (Box-Muller) from two uniform draws `u`, `v` in [0, 1). */
export function normalFrom(u: number, v: number, mean: number, sd: number): number {
  // 1 - u keeps the logarithm's argument in (0, 1].
  return mean + sd * Math.sqrt(-2 * Math.log(1 - u)) * Math.cos(2 * Math.PI * v);
}
