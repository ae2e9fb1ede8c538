import murmur from 'murmurhash3js-revisited';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Hasher } from '../../src/index.js';
import { bucketOf } from '../../src/index.js';

// A routing key may be huge (a whole request body used as a key by
// mistake): bucketOf must give the numbers of murmurhash3js-revisited on the
// UTF-8 bytes of `salt:key` whatever the size, and keep no buffer sized to
// the largest key it ever saw.

const encoder = new TextEncoder();

/** The reference: murmurhash3js-revisited on the whole encoded input. */
function reference(key: string, salt: string): number {
  return murmur.x86.hash32(encoder.encode(`${salt}:${key}`)) % 10_000;
}

/** A custom hasher that records the size of the buffer behind each view it is given. */
function spyHasher(): Hasher & { readonly backing: number[] } {
  const backing: number[] = [];
  return {
    backing,
    hash32(bytes: Uint8Array) {
      backing.push(bytes.buffer.byteLength);
      return murmur.x86.hash32(bytes);
    },
  };
}

/** Long keys from pieces of every UTF-8 width, lone surrogates included (cheaper to make than long random strings). */
const pieces = fc.array(fc.constantFrom('a', 'key-', 'é', '€', 'ключ', '🔑', '\ud800', '\udc00', 'x\ud83d'), { minLength: 700, maxLength: 2_000 });

describe('bucketOf on long keys', () => {
  // Lengths around the chunk and block boundaries, in ASCII and in multi-byte text.
  const units = ['a', 'é', 'ключ', '🔑', 'x🔑', '€', '\ud800', '\udc00x'];
  const lengths = [1_360, 1_364, 1_365, 1_366, 1_367, 4_095, 4_096, 4_097, 5_000, 70_001];

  it.each(units)('gives the reference numbers for keys made of %j, at every length around a chunk edge', (unit) => {
    for (const length of lengths) {
      const key = unit.repeat(Math.ceil(length / unit.length)).slice(0, length);
      for (const salt of ['checkout', 'é', '']) {
        expect(bucketOf(key, salt), `${length} units of ${JSON.stringify(unit)}, salt ${JSON.stringify(salt)}`).toBe(reference(key, salt));
      }
    }
  });

  it('gives the reference numbers for random long keys and salts (lone surrogates included)', () => {
    // Sampled keys built from pieces, salts from a list: long random binary strings take seconds to generate.
    const cases = fc.sample(fc.tuple(pieces.map((parts) => parts.join('')), fc.constantFrom('', 'checkout', 'é', '🔑', '\ud800')), { numRuns: 60, seed: 13 });
    for (const [key, salt] of cases) {
      expect(bucketOf(key, salt), `a key of ${key.length} units, salt ${JSON.stringify(salt)}`).toBe(reference(key, salt));
    }
  });

  it('gives the reference numbers for a salt longer than the scratch buffer', () => {
    const salt = 's'.repeat(10_000);
    expect(bucketOf('user-1', salt)).toBe(reference('user-1', salt));
    expect(bucketOf('ключ', salt)).toBe(reference('ключ', salt));
  });

  it('gives a custom hasher the same bytes for a long key', () => {
    const key = 'ключ-🔑-'.repeat(2_000);
    const hasher = spyHasher();
    expect(bucketOf(key, 'é', hasher)).toBe(reference(key, 'é'));
  });

  it('keeps no buffer sized to a huge key once the call returns (murmur3)', () => {
    bucketOf('k'.repeat(2_000_000), 'big');
    bucketOf('ключ'.repeat(500_000), 'big');
    // The next call with a custom hasher is handed a view of the scratch buffer: its size shows what was kept.
    const hasher = spyHasher();
    bucketOf('user-1', 'after', hasher);
    expect(hasher.backing[0]).toBeLessThanOrEqual(4_096);
  });

  it('keeps no buffer sized to a huge key once the call returns (custom hasher)', () => {
    const hasher = spyHasher();
    expect(bucketOf('k'.repeat(1_000_000), 'big', hasher)).toBe(reference('k'.repeat(1_000_000), 'big'));
    bucketOf('user-1', 'after', hasher);
    expect(hasher.backing[1]).toBeLessThanOrEqual(4_096);
  });
});
