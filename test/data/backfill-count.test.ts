import { describe, expect, it, vi } from 'vitest';
import { backfill } from '../../src/data/backfill.js';
import type { Repository } from '../../src/data/repository.js';
import { InMemoryTombstoneStore } from '../../src/data/tombstone-store.js';
import { silentLogger } from '../../src/observe/logger.js';
import { InMemoryRepository } from '../../src/testing/index.js';
import type { Item } from './repository-conformance.js';
import { item, itemKey, withMethods } from './repository-conformance.js';

/** A target with bulkInsert and bulkInsertCount over an in-memory store, recording which one each batch used. */
function countingTarget(answer?: (inserted: number, given: number) => unknown) {
  const store = new InMemoryRepository<Item, string>({ keyOf: itemKey });
  const calls: string[] = [];
  const to = withMethods(store, {
    bulkInsert: async (rows: readonly Item[]) => {
      calls.push(`bulkInsert ${rows.length}`);
      return store.bulkInsert!(rows);
    },
    bulkInsertCount: async (rows: readonly Item[]) => {
      calls.push(`bulkInsertCount ${rows.length}`);
      const inserted = (await store.bulkInsert!(rows)).length;
      return answer === undefined ? inserted : answer(inserted, rows.length);
    },
  });
  return { store, to, calls };
}

function source(rows: number): InMemoryRepository<Item, string> {
  return new InMemoryRepository<Item, string>({ keyOf: itemKey }).seed(Array.from({ length: rows }, (_, i) => item(i)));
}

describe('backfill into a store with bulkInsertCount', () => {
  it('uses it for insert-if-absent without tombstones, and counts copied and skipped from its answers', async () => {
    const from = source(25);
    const { store, to, calls } = countingTarget();
    await store.save({ ...item(4), name: 'newer' });
    const result = await backfill({ from, to, keyOf: itemKey, batchSize: 10, logger: silentLogger });
    expect(result).toMatchObject({ copied: 24, skipped: 1, batches: 3, lastKey: item(24).id });
    expect(calls).toEqual(['bulkInsertCount 10', 'bulkInsertCount 10', 'bulkInsertCount 5']);
    expect(await store.get(item(4).id)).toEqual({ ...item(4), name: 'newer' });
    expect(store.snapshot()).toHaveLength(25);
  });

  it('uses bulkInsert when the keys are needed afterwards: with a tombstone store', async () => {
    const from = source(12);
    const { store, to, calls } = countingTarget();
    const tombstones = new InMemoryTombstoneStore<string>();
    await tombstones.add(item(5).id, 0);
    const result = await backfill({ from, to, keyOf: itemKey, batchSize: 10, tombstones, logger: silentLogger });
    expect(result).toMatchObject({ copied: 11, skipped: 1 });
    expect(calls).toEqual(['bulkInsert 9', 'bulkInsert 2']);
    expect(await store.get(item(5).id)).toBeUndefined();
  });

  it('uses neither when rows are replaced (overwrite): get and save per row', async () => {
    const from = source(3);
    const { store, to, calls } = countingTarget();
    await store.save({ ...item(1), name: 'older' });
    expect(await backfill({ from, to, keyOf: itemKey, overwrite: true, logger: silentLogger })).toMatchObject({ copied: 3, skipped: 0 });
    expect(calls).toEqual([]);
    expect(await store.get(item(1).id)).toEqual(item(1));
  });

  it('works without bulkInsert at all', async () => {
    const from = source(7);
    const store = new InMemoryRepository<Item, string>({ keyOf: itemKey, bulkInsert: false });
    let counted = 0;
    const to: Repository<Item, string> = withMethods(store, {
      bulkInsertCount: async (rows: readonly Item[]) => {
        let inserted = 0;
        for (const row of rows) {
          if ((await store.get(row.id)) !== undefined) continue;
          await store.save(row);
          inserted += 1;
        }
        counted += inserted;
        return inserted;
      },
    });
    expect(await backfill({ from, to, keyOf: itemKey, batchSize: 3, logger: silentLogger })).toMatchObject({ copied: 7, skipped: 0 });
    expect(counted).toBe(7);
    expect(store.snapshot()).toHaveLength(7);
  });

  it.each([
    ['a string', () => '3'],
    ['more than it was given', (_: number, given: number) => given + 1],
    ['a negative count', () => -1],
    ['a fraction', () => 1.5],
    ['NaN', () => Number.NaN],
    ['undefined', () => undefined],
  ])('refuses an answer that is %s, naming `to`, and saves no progress past it', async (_name, answer) => {
    const from = source(5);
    const { to } = countingTarget(answer);
    const saved: unknown[] = [];
    const checkpoint = { load: async () => undefined, save: async (state: unknown) => void saved.push(state), clear: async () => {} };
    await expect(backfill({ from, to, keyOf: itemKey, checkpoint, logger: silentLogger })).rejects.toMatchObject({
      code: 'ERR_INVALID_OPTION',
      message: expect.stringMatching(/`to`.*bulkInsertCount/),
    });
    expect(saved).toEqual([]);
  });

  it('passes its failure through unchanged, and a resumed run finishes the copy', async () => {
    const from = source(20);
    const { store, to } = countingTarget();
    const failure = new Error('connection reset');
    let fail = true;
    const flaky = withMethods(to, {
      bulkInsertCount: async (rows: readonly Item[]) => {
        if (fail && rows.some((row) => row.id === item(12).id)) throw failure;
        return to.bulkInsertCount!(rows);
      },
    });
    let state: unknown;
    const checkpoint = { load: async () => state, save: async (next: unknown) => void (state = next), clear: async () => {} };
    await expect(backfill({ from, to: flaky, keyOf: itemKey, batchSize: 5, checkpoint, logger: silentLogger })).rejects.toBe(failure);
    fail = false;
    expect(await backfill({ from, to: flaky, keyOf: itemKey, batchSize: 5, checkpoint, logger: silentLogger })).toMatchObject({ copied: 20, lastKey: item(19).id });
    expect(store.snapshot()).toEqual(from.snapshot());
  });

  it('counts a batch whose every row is already there as skipped (an answer of 0 is a count)', async () => {
    const from = source(6);
    const { store, to } = countingTarget();
    for (let i = 0; i < 6; i++) await store.save({ ...item(i), name: 'there' });
    expect(await backfill({ from, to, keyOf: itemKey, batchSize: 3, logger: silentLogger })).toMatchObject({ copied: 0, skipped: 6, batches: 2 });
    expect(store.snapshot().every((row) => row.name === 'there')).toBe(true);
  });

  it('bounds it by timeoutMs, naming to.bulkInsertCount', async () => {
    vi.useFakeTimers();
    try {
      const from = source(3);
      const { to } = countingTarget();
      const silent = withMethods(to, { bulkInsertCount: () => new Promise<never>(() => {}) });
      const run = backfill({ from, to: silent, keyOf: itemKey, timeoutMs: 100, logger: silentLogger }).catch((err: unknown) => err);
      await vi.advanceTimersByTimeAsync(100);
      expect(await run).toMatchObject({ code: 'ERR_TIMEOUT', message: expect.stringContaining('to.bulkInsertCount') as unknown });
    } finally {
      vi.useRealTimers();
    }
  });
});
