import fc from 'fast-check';
import murmur from 'murmurhash3js-revisited';
import { describe, expect, it } from 'vitest';
import { bucketOf, murmur3Hasher } from '../../src/index.js';
import type { Hasher } from '../../src/index.js';
import { isRoutingKey } from '../../src/hashing/hasher.js';

// Known answers pin the hash itself: a change to murmur3's arithmetic would
// silently move users between old and new across a library upgrade.

const utf8 = (text: string): Uint8Array => new TextEncoder().encode(text);

/** The documented rule, computed with the reference implementation. */
const reference = (key: string | number, salt: string): number => murmur.x86.hash32(utf8(`${salt}:${String(key)}`)) % 10_000;

describe('murmur3Hasher', () => {
  describe('on the published MurmurHash3 x86_32 test vectors (seed 0)', () => {
    const vectors: readonly [number[], number][] = [
      [[], 0x00000000],
      [[0xff, 0xff, 0xff, 0xff], 0x76293b50],
      [[0x21, 0x43, 0x65, 0x87], 0xf55b516b],
      [[0x21, 0x43, 0x65], 0x7e4a8634],
      [[0x21, 0x43], 0xa0f7b07a],
      [[0x21], 0x72661cf4],
      [[0x00, 0x00, 0x00, 0x00], 0x2362f9de],
      [[0x00, 0x00, 0x00], 0x85f0b427],
      [[0x00, 0x00], 0x30f4c306],
      [[0x00], 0x514e28b7],
    ];
    it.each(vectors)('hashes %j to its published value', (bytes, expected) => {
      expect(murmur3Hasher.hash32(Uint8Array.from(bytes))).toBe(expected);
    });

    it.each([
      ['test', 0xba6bd213],
      ['abc', 0xb3dd93fa],
      ['Hello, world!', 0xc0363e43],
      ['The quick brown fox jumps over the lazy dog', 0x2e4ff723],
    ])('hashes the UTF-8 of %j to %i', (text, expected) => {
      expect(murmur3Hasher.hash32(utf8(text))).toBe(expected);
    });
  });

  it('gives the numbers of murmurhash3js-revisited for random bytes, short and long', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 700 }), (bytes) => {
        expect(murmur3Hasher.hash32(bytes)).toBe(murmur.x86.hash32(bytes));
      }),
      { numRuns: 300 },
    );
  });

  it('hashes only the view it is given, not the bytes around it', () => {
    const backing = Uint8Array.from([9, 9, 9, 1, 2, 3, 4, 5, 6, 9, 9, 9]);
    for (let length = 0; length <= 6; length++) {
      const view = backing.subarray(3, 3 + length);
      expect(murmur3Hasher.hash32(view)).toBe(murmur.x86.hash32(Uint8Array.from(view)));
    }
  });

  it('answers a plain array as murmurhash3js-revisited does, its input checks included', () => {
    const plain = [1, 2, 3, 200] as unknown as Uint8Array;
    expect(murmur3Hasher.hash32(plain)).toBe(murmur.x86.hash32(Uint8Array.from([1, 2, 3, 200])));
    // The library refuses a value that is not a byte by returning undefined.
    expect(murmur3Hasher.hash32([256] as unknown as Uint8Array)).toBeUndefined();
    expect(murmur3Hasher.hash32([1.5, 2] as unknown as Uint8Array)).toBeUndefined();
  });
});

describe('bucketOf against the reference implementation', () => {
  it('pins a few buckets: a change here moves users across an upgrade', () => {
    expect(bucketOf('user-42', 'pricing')).toBe(3133);
    expect(bucketOf(42, 'pricing')).toBe(1951);
    expect(bucketOf('user-42', 'checkout')).toBe(reference('user-42', 'checkout'));
  });

  const ascii = fc.string({ unit: fc.integer({ min: 0, max: 0x7f }).map((code) => String.fromCharCode(code)), maxLength: 40 });
  const anyText = fc.string({ unit: 'binary', maxLength: 40 });
  const long = (unit: fc.Arbitrary<string>) => fc.string({ unit, minLength: 250, maxLength: 900 });
  const asciiUnit = fc.integer({ min: 0x20, max: 0x7e }).map((code) => String.fromCharCode(code));
  const key = fc.oneof(ascii, anyText, long(asciiUnit), long(fc.constantFrom('é', '🔑', 'a', '\u0080', '\u007f')), fc.integer(), fc.double({ noNaN: true, noDefaultInfinity: true }));
  const salt = fc.oneof(ascii, anyText, fc.constantFrom('pricing', 'checkout', 'é', 'ключ'), long(asciiUnit));

  it('equals murmur3 of the UTF-8 of salt:key modulo 10,000, for any sequence of keys and salts', () => {
    // A sequence, not single calls: each call must be independent of what the one before left behind.
    fc.assert(
      fc.property(fc.array(fc.tuple(key, salt), { minLength: 1, maxLength: 8 }), (calls) => {
        for (const [k, s] of calls) expect(bucketOf(k, s)).toBe(reference(k, s));
      }),
      { numRuns: 200 },
    );
  });

  describe('when the salt is ASCII and the key is not', () => {
    it.each(['é', 'user-é', '\u0080', 'a\u0080', '\u00ff', 'ключ', '🔑', 'user-🔑-42', `${'a'.repeat(300)}é`])(
      'hashes the UTF-8 bytes of %j, not one byte per unit',
      (k) => {
        expect(bucketOf(k, 'pricing')).toBe(reference(k, 'pricing'));
        // and the next ASCII key under the same salt is unaffected
        expect(bucketOf('user-42', 'pricing')).toBe(3133);
      },
    );

    it('takes U+007F as one byte and U+0080 as two', () => {
      expect(bucketOf('\u007f', 'salt')).toBe(reference('\u007f', 'salt'));
      expect(bucketOf('\u0080', 'salt')).toBe(reference('\u0080', 'salt'));
      expect(bucketOf('\u0080', 'salt')).not.toBe(murmur.x86.hash32(Uint8Array.from([...utf8('salt:'), 0x80])) % 10_000);
    });
  });

  describe('when the salt is not ASCII', () => {
    it.each(['é', 'a\u0080', '\u0080', 'ключ', '🔑'])('hashes the UTF-8 bytes of salt %j', (s) => {
      expect(bucketOf('user-42', s)).toBe(reference('user-42', s));
      expect(bucketOf('user-42', 'pricing')).toBe(3133);
      expect(bucketOf('user-42', s)).toBe(reference('user-42', s));
    });
  });

  describe('when salt:key is longer than the 256-byte scratch buffer', () => {
    it.each([254, 255, 256, 257, 300, 1_000])('hashes an ASCII salt of %i characters whole', (length) => {
      const s = 's'.repeat(length - 1) + 'x';
      expect(bucketOf('k', s)).toBe(reference('k', s));
      expect(bucketOf('user-42', s)).toBe(reference('user-42', s));
    });

    it.each([200, 250, 251, 252, 253, 300, 800, 3_000])('hashes an ASCII key of %i characters whole, keeping the salt', (length) => {
      const k = 'k'.repeat(length - 1) + 'z';
      expect(bucketOf('short', 'pricing')).toBe(reference('short', 'pricing'));
      expect(bucketOf(k, 'pricing')).toBe(reference(k, 'pricing'));
      expect(bucketOf('short', 'pricing')).toBe(reference('short', 'pricing'));
    });

    it('hashes a long non-ASCII key under a non-ASCII salt', () => {
      const k = 'ключ-🔑-'.repeat(200);
      expect(bucketOf(k, 'é')).toBe(reference(k, 'é'));
    });
  });

  describe('after a long key leaves bytes behind', () => {
    it.each([1, 2, 3, 4, 5, 6, 7, 8])('hashes a key of %i characters from its own bytes only', (length) => {
      bucketOf('ZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZ', 'p');
      const k = 'a'.repeat(length);
      expect(bucketOf(k, 'p')).toBe(reference(k, 'p'));
      bucketOf('ZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZ', 'é');
      expect(bucketOf(k, 'é')).toBe(reference(k, 'é'));
    });
  });

  it('is not confused by a custom hasher called with another salt in between', () => {
    const constant: Hasher = { hash32: () => 7 };
    expect(bucketOf('user-42', 'pricing')).toBe(3133);
    expect(bucketOf('user-42', 'checkout', constant)).toBe(7);
    expect(bucketOf('user-42', 'pricing')).toBe(3133);
    expect(bucketOf('user-42', 'pricinh', constant)).toBe(7);
    expect(bucketOf('user-4', 'pricing')).toBe(reference('user-4', 'pricing'));
  });

  it('gives a custom hasher the UTF-8 bytes of salt:key, whatever the salt and key', () => {
    const seen: string[] = [];
    const recording: Hasher = {
      hash32: (bytes) => {
        seen.push(new TextDecoder().decode(bytes));
        return 10_123;
      },
    };
    expect(bucketOf('user-42', 'pricing', recording)).toBe(123);
    expect(bucketOf('é', 'pricing', recording)).toBe(123);
    expect(bucketOf(42, 'ключ', recording)).toBe(123);
    expect(seen).toEqual(['pricing:user-42', 'pricing:é', 'ключ:42']);
  });

  it('refuses every key that is not a string or a finite number, naming what it got', () => {
    for (const bad of [undefined, null, {}, [], [1], Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, true, 1n, Symbol('k'), () => 1]) {
      expect(() => bucketOf(bad as unknown as string, 'salt')).toThrow(
        /^\[migration-glue\] a routing key must be a string or a finite number, got /,
      );
    }
  });
});

describe('isRoutingKey', () => {
  it('accepts a non-empty string or a finite number, and nothing else', () => {
    for (const good of ['a', ' ', '0', 0, -1, 1.5, Number.MAX_VALUE]) expect(isRoutingKey(good)).toBe(true);
    for (const bad of ['', undefined, null, Number.NaN, Number.POSITIVE_INFINITY, {}, ['a'], true, 1n, new String('a')]) {
      expect(isRoutingKey(bad)).toBe(false);
    }
  });
});
