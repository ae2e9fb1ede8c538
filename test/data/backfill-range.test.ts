import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { backfill } from '../../src/data/backfill.js';
import { InMemoryCheckpointStore } from '../../src/data/checkpoint-store.js';
import { keyId } from '../../src/data/keys.js';
import type { CopyRange, RangeCopy, Repository } from '../../src/data/repository.js';
import { InMemoryTombstoneStore } from '../../src/data/tombstone-store.js';
import { silentLogger } from '../../src/observe/logger.js';
import { InMemoryRepository } from '../../src/testing/index.js';
import type { Item } from './repository-conformance.js';
import { item, itemKey } from './repository-conformance.js';

/** A source whose copyRangeTo copies into `target` itself (insert-if-absent), as a database would; `calls` counts them. */
function copying(rows: number, target: InMemoryRepository<Item, string>) {
  const store = new InMemoryRepository<Item, string>({ keyOf: itemKey, name: 'old' }).seed(Array.from({ length: rows }, (_, i) => item(i)));
  const calls = { copy: 0 };
  const from: Repository<Item, string> = {
    get: (key) => store.get(key),
    save: (entity) => store.save(entity),
    delete: (key) => store.delete(key),
    getBatch: (after, limit) => store.getBatch(after, limit),
    async copyRangeTo(to, range: CopyRange<string>): Promise<RangeCopy<string> | undefined> {
      if (to !== target) return undefined;
      calls.copy += 1;
      const page = await store.getBatch(range.after, range.limit);
      const keys = page.map(itemKey);
      const skip = new Set((range.exclude === undefined ? [] : await range.exclude(keys)).map(keyId));
      const insertedKeys = await target.bulkInsert!(page.filter((row) => !skip.has(keyId(itemKey(row)))));
      const copy = { count: page.length, last: keys.at(-1) ?? null, inserted: insertedKeys.length };
      return range.exclude === undefined ? copy : { ...copy, insertedKeys };
    },
  };
  return { from, store, calls };
}

describe('backfill with a source that copies ranges itself (copyRangeTo)', () => {
  it('gives the same rows and counts as the row-by-row copy, whatever the target holds and the tombstones say (property)', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 0, max: 60 }),
        fc.integer({ min: 1, max: 17 }),
        fc.uniqueArray(fc.integer({ min: 0, max: 70 }), { maxLength: 12 }),
        fc.uniqueArray(fc.integer({ min: 0, max: 70 }), { maxLength: 12 }),
        async (rows, batchSize, present, dead) => {
          const outcome = async (inStore: boolean) => {
            const to = new InMemoryRepository<Item, string>({ keyOf: itemKey, name: 'new' }).seed(present.map((i) => ({ ...item(i), name: 'written by the application' })));
            const { from, calls } = copying(rows, to);
            const tombstones = new InMemoryTombstoneStore<string>();
            for (const i of dead) await tombstones.add(item(i).id, 1);
            const source = inStore ? from : { ...from, copyRangeTo: undefined };
            const result = await backfill({ from: source, to, keyOf: itemKey, batchSize, tombstones, logger: silentLogger });
            return { result, rows: to.snapshot(), calls: calls.copy };
          };
          const [inStore, rowByRow] = [await outcome(true), await outcome(false)];
          expect(inStore.calls).toBeGreaterThan(0);
          expect(rowByRow.calls).toBe(0);
          expect(inStore.result).toEqual(rowByRow.result);
          expect(inStore.rows).toEqual(rowByRow.rows);
        },
      ),
      { numRuns: 60 },
    );
  });

  it('falls back to rows when copyRangeTo cannot reach the target, and resumes a checkpoint either way', async () => {
    const to = new InMemoryRepository<Item, string>({ keyOf: itemKey, name: 'new' });
    const other = new InMemoryRepository<Item, string>({ keyOf: itemKey, name: 'other' });
    const { from, calls } = copying(30, other);
    const checkpoint = new InMemoryCheckpointStore();
    expect(await backfill({ from, to, keyOf: itemKey, batchSize: 8, checkpoint, logger: silentLogger })).toEqual({ copied: 30, skipped: 0, batches: 4, lastKey: 'k0029' });
    expect(calls.copy).toBe(0);
    expect(to.snapshot()).toHaveLength(30);
  });

  it('is not used with overwrite or versionOf: those read and compare rows', async () => {
    const to = new InMemoryRepository<Item, string>({ keyOf: itemKey, name: 'new' });
    const { from, calls } = copying(10, to);
    await backfill({ from, to, keyOf: itemKey, batchSize: 4, overwrite: true, logger: silentLogger });
    expect(calls.copy).toBe(0);
    expect(to.snapshot()).toHaveLength(10);
  });

  it('fails the run, resumable, when copyRangeTo breaks its contract', async () => {
    const to = new InMemoryRepository<Item, string>({ keyOf: itemKey, name: 'new' });
    const answers: unknown[] = [
      { count: 2, inserted: 3, last: 'k1' },
      { count: 2, inserted: 1 },
      { count: 0, inserted: 0, last: 'k1' },
      'yes',
    ];
    for (const answer of answers) {
      const from = { ...copying(5, to).from, copyRangeTo: async () => answer as RangeCopy<string> };
      await expect(backfill({ from, to, keyOf: itemKey, logger: silentLogger })).rejects.toThrow(/option `from`.*copyRangeTo/);
    }
    const checkpoint = new InMemoryCheckpointStore();
    await checkpoint.save({ kind: 'backfill', lastKey: 'k3', copied: 4, skipped: 0, batches: 1, done: false });
    const backwards = { ...copying(5, to).from, copyRangeTo: async () => ({ count: 1, inserted: 1, last: 'k2' }) };
    await expect(backfill({ from: backwards, to, keyOf: itemKey, checkpoint, logger: silentLogger })).rejects.toMatchObject({ code: 'ERR_INVALID_KEY' });
    expect(await checkpoint.load()).toMatchObject({ lastKey: 'k3' });
  });
});
