import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { BUCKETS, bucketOf, murmur3Hasher } from '../../src/index.js';
import type { Hasher } from '../../src/index.js';

const key = fc.oneof(fc.string(), fc.integer(), fc.double({ noNaN: true, noDefaultInfinity: true }));

describe('bucketOf', () => {
  it('is deterministic and in 0..9999 for every key and salt', () => {
    fc.assert(
      fc.property(key, fc.string(), (k, salt) => {
        const bucket = bucketOf(k, salt);
        expect(Number.isInteger(bucket)).toBe(true);
        expect(bucket).toBeGreaterThanOrEqual(0);
        expect(bucket).toBeLessThan(10_000);
        expect(bucketOf(k, salt)).toBe(bucket);
      }),
    );
  });

  it('hashes the UTF-8 bytes of salt:key with murmur3 x86 32-bit', () => {
    const bytes = new TextEncoder().encode('checkout:user-42');
    expect(bucketOf('user-42', 'checkout')).toBe(murmur3Hasher.hash32(bytes) % 10_000);
    // a long, non-ASCII key exercises the buffer growth and multi-byte encoding
    const long = 'ключ-🔑-'.repeat(200);
    expect(bucketOf(long, 'é')).toBe(murmur3Hasher.hash32(new TextEncoder().encode(`é:${long}`)) % 10_000);
  });

  it('treats a number like its decimal string', () => {
    expect(bucketOf(12345, 'salt')).toBe(bucketOf('12345', 'salt'));
  });

  it('spreads 100k keys uniformly over 100 groups (chi-square)', () => {
    const groups = new Array<number>(100).fill(0);
    const n = 100_000;
    for (let i = 0; i < n; i++) groups[Math.floor(bucketOf(`user-${i}`, 'pricing') / 100)]! += 1;
    const expected = n / 100;
    const chi = groups.reduce((sum, observed) => sum + (observed - expected) ** 2 / expected, 0);
    // 99 degrees of freedom: the 99.9th percentile of chi-square is about 148.
    expect(chi).toBeLessThan(148);
  });

  it('buckets independently under two salts', () => {
    // For keys in the lowest 10 % under salt A, their share under salt B should still be about 10 %.
    let inA = 0;
    let inBoth = 0;
    for (let i = 0; i < 100_000; i++) {
      if (bucketOf(i, 'migration-a') < 1_000) {
        inA += 1;
        if (bucketOf(i, 'migration-b') < 1_000) inBoth += 1;
      }
    }
    expect(inA).toBeGreaterThan(9_000);
    expect(inBoth / inA).toBeGreaterThan(0.08);
    expect(inBoth / inA).toBeLessThan(0.12);
  });

  it('refuses a key that is neither a string nor a finite number with a TypeError', () => {
    for (const bad of [undefined, null, {}, [], Number.NaN, Number.POSITIVE_INFINITY, true, Symbol('k')]) {
      expect(() => bucketOf(bad as unknown as string, 'salt')).toThrow(TypeError);
    }
    expect(() => bucketOf({} as unknown as string, 'salt')).toThrow(/routing key must be a string or a finite number, got an object/);
  });

  it('uses the hasher it is given', () => {
    const constant: Hasher = { hash32: () => 1_234_567 };
    expect(bucketOf('anything', 'salt', constant)).toBe(4_567);
  });
});

describe('BUCKETS', () => {
  it('is the bucket count: every bucket is below it, and 100 % covers them all', () => {
    expect(BUCKETS).toBe(10_000);
    fc.assert(fc.property(fc.string(), (k) => bucketOf(k, 'salt') < BUCKETS));
    expect(Math.round(100 * 100)).toBe(BUCKETS);
  });
});
