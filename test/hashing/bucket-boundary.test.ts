import { describe, expect, it } from 'vitest';
import { DualWriteRepository, MigrationGlue, bucketOf, phases } from '../../src/index.js';
import { InMemoryRepository } from '../../src/testing/index.js';

// The routing rule at its edges: a key goes to new when
// `bucketOf(key, name) < newSystemPercentage * 100`, so a key exactly on the
// threshold stays on old, and the next hundredth of a percent moves it.

const name = 'boundary';
const quiet = { debug() {}, info() {}, warn() {}, error() {} };

/** A key whose bucket under `name` is exactly `bucket`. */
function keyIn(bucket: number): string {
  for (let i = 0; i < 1_000_000; i++) {
    const key = `key-${i}`;
    if (bucketOf(key, name) === bucket) return key;
  }
  throw new Error(`no key found in bucket ${bucket}`);
}

// [bucket, the highest percentage that keeps it on old, the lowest that sends it to new]
const edges: readonly [number, number, number][] = [
  [0, 0, 0.01],
  [7, 0.07, 0.08],
  [3133, 31.33, 31.34],
  [5000, 50, 50.01],
  [9999, 99.99, 100],
];

describe('a key exactly on a bucket boundary', () => {
  // Keys are found inside each test, not while collecting: hashing outside a test would make every
  // bucketOf mutant "static" for Stryker, to be run against the whole suite.
  describe.each(edges)('in bucket %i', (bucket, stays, moves) => {
    it(`is served by old at canary ${stays} % and by new at ${moves} %`, async () => {
      const key = keyIn(bucket);
      const serve = (percentage: number) =>
        new MigrationGlue<{ userId: string }, string>({
          name,
          oldService: async () => 'old',
          newService: async () => 'new',
          config: phases.canary(percentage),
          logger: quiet,
        }).process({ userId: key });
      expect(await serve(stays)).toBe('old');
      expect(await serve(moves)).toBe('new');
    });

    it(`is read from old at canary ${stays} % and from new at ${moves} % by a DualWriteRepository`, async () => {
      const key = keyIn(bucket);
      const read = async (percentage: number) => {
        const old = new InMemoryRepository<{ id: string; side: string }, string>({ keyOf: (row) => row.id });
        const fresh = new InMemoryRepository<{ id: string; side: string }, string>({ keyOf: (row) => row.id });
        await old.save({ id: key, side: 'old' });
        await fresh.save({ id: key, side: 'new' });
        const dual = new DualWriteRepository({ name, old, new: fresh, keyOf: (row) => row.id, config: phases.canary(percentage), logger: quiet });
        return (await dual.get(key))?.side;
      };
      expect(await read(stays)).toBe('old');
      expect(await read(moves)).toBe('new');
    });
  });
});
