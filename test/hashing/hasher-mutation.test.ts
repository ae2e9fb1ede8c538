import fc from 'fast-check';
import murmur from 'murmurhash3js-revisited';
import { describe, expect, it, vi } from 'vitest';
import type * as HasherExports from '../../src/hashing/hasher.js';
import type { Hasher } from '../../src/hashing/hasher.js';

// bucketOf keeps one 4 KiB scratch buffer between calls, and the `salt:`
// bytes of the last ASCII salt at its start; keys that could need more than
// the buffer are hashed in chunks or from a one-off buffer. Which path a call
// takes depends on what the calls before it left behind, so each test here
// starts from a fresh copy of the module: a first call is checked as a first
// call, not after whatever an earlier test left in the buffer.

type HasherModule = typeof HasherExports;

async function freshHasher(): Promise<HasherModule> {
  vi.resetModules();
  return import('../../src/hashing/hasher.js');
}

const utf8 = (text: string): Uint8Array => new TextEncoder().encode(text);
const reference = (key: string | number, salt: string): number => murmur.x86.hash32(utf8(`${salt}:${String(key)}`)) % 10_000;

/** The largest scratch buffer bucketOf may keep between calls, in bytes. */
const maxKept = 4_096;

/**
 * The size of the buffer bucketOf keeps: a custom hasher given a short key is
 * handed a view of it (a view of a one-off buffer would do as well, and pass).
 */
function keptBytes(mod: HasherModule): number {
  let seen = -1;
  const peek: Hasher = {
    hash32: (bytes) => {
      seen = bytes.buffer.byteLength;
      return 0;
    },
  };
  mod.bucketOf('k', 'peek', peek);
  return seen;
}

describe('bucketOf from a fresh start', () => {
  it.each([255, 256, 257, 300, 1_000, 1_365, 1_366, 2_000, 4_000, 4_094, 4_095, 4_096])(
    'hashes under an ASCII salt of %i characters (first call)',
    async (length) => {
      const { bucketOf } = await freshHasher();
      const salt = `${'s'.repeat(length - 1)}x`;
      expect(bucketOf('k', salt)).toBe(reference('k', salt));
      expect(bucketOf('user-42', salt)).toBe(reference('user-42', salt));
    },
  );

  it.each([250, 253, 254, 255, 256, 300, 1_362, 1_363, 2_000, 4_087, 4_088, 4_089, 5_000])(
    'hashes an ASCII key of %i characters under a short salt (first call)',
    async (length) => {
      const { bucketOf } = await freshHasher();
      const key = `${'k'.repeat(length - 1)}z`;
      expect(bucketOf(key, 'pricing')).toBe(reference(key, 'pricing'));
      expect(bucketOf('short', 'pricing')).toBe(reference('short', 'pricing'));
    },
  );

  it('equals the reference for any first call, ASCII or not, short or long', async () => {
    const asciiUnit = fc.integer({ min: 0x20, max: 0x7e }).map((code) => String.fromCharCode(code));
    const text = fc.oneof(
      fc.string({ unit: asciiUnit, maxLength: 20 }),
      fc.string({ unit: asciiUnit, minLength: 200, maxLength: 2_000 }),
      fc.string({ unit: 'binary', maxLength: 20 }),
      fc.string({ unit: fc.constantFrom('a', 'é', '€', '🔑', '\ud800', '\udc00'), minLength: 200, maxLength: 2_500 }),
    );
    await fc.assert(
      fc.asyncProperty(text, text, async (key, salt) => {
        const { bucketOf } = await freshHasher();
        expect(bucketOf(key, salt)).toBe(reference(key, salt));
        expect(bucketOf(key, salt)).toBe(reference(key, salt));
      }),
      { numRuns: 30 },
    );
  });
});

describe('bucketOf on keys hashed in chunks', () => {
  // A chunk is 1,365 UTF-16 units: at most 3 bytes each, it fits the 4 KiB buffer.
  const chunk = 1_365;

  it.each([
    ['\ud800', '\udc00'],
    ['\udbff', '\udfff'],
    ['\ud83d', '\udd11'],
  ])('keeps the surrogate pair %j %j whole when a chunk ends between them', async (high, low) => {
    const { bucketOf } = await freshHasher();
    // chunk - 1: the pair straddles the end of the first chunk; chunk - 2: it ends the chunk exactly.
    for (const before of [chunk - 1, chunk - 2, 2 * chunk - 1]) {
      // 3-byte characters fill a chunk to the last byte: a chunk one unit too long would not fit.
      const key = `${'€'.repeat(before)}${high}${low}${'€'.repeat(500)}`;
      expect(bucketOf(key, 'pricing')).toBe(reference(key, 'pricing'));
      expect(bucketOf('short', key)).toBe(reference('short', key));
    }
  });

  it('hashes a lone high surrogate at the end of a long key or salt (as U+FFFD)', async () => {
    const { bucketOf } = await freshHasher();
    const long = `${'é'.repeat(2_000)}\ud800`;
    expect(bucketOf(long, 'pricing')).toBe(reference(long, 'pricing'));
    expect(bucketOf(long, '\udbff')).toBe(reference(long, '\udbff'));
    expect(bucketOf('\ud800', long)).toBe(reference('\ud800', long));
  });

  it.each([4_000, 5_000, 12_000, 40_000])('hashes a non-ASCII key of %i characters whole', async (length) => {
    const { bucketOf } = await freshHasher();
    const key = 'é€🔑a'.repeat(length / 5);
    expect(bucketOf(key, 'pricing')).toBe(reference(key, 'pricing'));
    expect(bucketOf(key, 'ключ')).toBe(reference(key, 'ключ'));
  });

  it('hashes any long key in chunks as murmur3 hashes it whole, whatever the tail lengths', async () => {
    const { bucketOf } = await freshHasher();
    const unit = fc.constantFrom('a', 'é', '€', '🔑');
    fc.assert(
      fc.property(fc.string({ unit, minLength: 1_300, maxLength: 3_000 }), fc.string({ unit, maxLength: 7 }), (key, salt) => {
        expect(bucketOf(key, salt)).toBe(reference(key, salt));
      }),
      { numRuns: 40 },
    );
  });
});

describe('bucketOf memory', () => {
  const huge = (unit: string) => unit.repeat(20_000);
  const calls: readonly [string, (mod: HasherModule) => void][] = [
    ['a long ASCII salt', (mod) => mod.bucketOf('k', huge('s').slice(0, 2_000))],
    ['a long ASCII key', (mod) => mod.bucketOf(huge('k').slice(0, 2_000), 'p')],
    ['a huge ASCII key', (mod) => mod.bucketOf(huge('k'), 'p')],
    ['a long non-ASCII key', (mod) => mod.bucketOf(huge('é').slice(0, 1_500), 'p')],
    ['a huge non-ASCII key', (mod) => mod.bucketOf(huge('é'), 'p')],
    ['a long key with a custom hasher', (mod) => mod.bucketOf(huge('é').slice(0, 1_500), 'p', { hash32: () => 1 })],
    ['a huge key with a custom hasher', (mod) => mod.bucketOf(huge('k'), 'p', { hash32: () => 1 })],
    ['a short non-ASCII key with a custom hasher', (mod) => mod.bucketOf('é'.repeat(1_300), 'p', { hash32: () => 1 })],
  ];

  it.each([1_300, 1_500, 3_000, 20_000])(
    'hands a custom hasher a key of %i non-ASCII characters in no buffer over 4 KiB or the key itself, and takes its hash modulo 10,000',
    async (length) => {
      const mod = await freshHasher();
      const key = 'é'.repeat(length);
      const seen: { buffer: number; text: string }[] = [];
      const recording: Hasher = {
        hash32: (bytes) => {
          seen.push({ buffer: bytes.buffer.byteLength, text: new TextDecoder().decode(bytes) });
          return 123_456_789;
        },
      };
      expect(mod.bucketOf(key, 'p', recording)).toBe(6_789);
      expect(seen).toHaveLength(1);
      expect(seen[0]?.text).toBe(`p:${key}`);
      expect(seen[0]?.buffer).toBeLessThanOrEqual(Math.max(maxKept, utf8(`p:${key}`).length));
    },
  );

  it.each(calls)('keeps no buffer over 4 KiB after %s', async (_, call) => {
    const mod = await freshHasher();
    call(mod);
    expect(keptBytes(mod)).toBeGreaterThan(0);
    expect(keptBytes(mod)).toBeLessThanOrEqual(maxKept);
  });
});

describe('the exported murmur3Hasher', () => {
  it('hashes bytes itself, on a fresh copy of the module too', async () => {
    const { murmur3Hasher, bucketOf } = await freshHasher();
    expect(Object.isFrozen(murmur3Hasher)).toBe(true);
    expect(murmur3Hasher.hash32(utf8('test'))).toBe(0xba6bd213);
    expect(murmur3Hasher.hash32(Uint8Array.from([0x21, 0x43, 0x65]))).toBe(0x7e4a8634);
    // a non-ASCII key goes through hash32 of the default hasher
    expect(bucketOf('é', 'pricing')).toBe(reference('é', 'pricing'));
    expect(bucketOf('é', 'pricing', murmur3Hasher)).toBe(reference('é', 'pricing'));
  });
});
