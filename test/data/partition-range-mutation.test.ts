import { describe, expect, it } from 'vitest';
import type { CheckpointStore } from '../../src/data/checkpoint-store.js';
import { InMemoryCheckpointStore } from '../../src/data/checkpoint-store.js';
import { compareKeys } from '../../src/data/keys.js';
import { leasedCheckpoint, rangeView } from '../../src/data/partition-range.js';
import type { PartitionLease } from '../../src/data/partition.js';
import type { CopyRange, Repository } from '../../src/data/repository.js';
import { InMemoryRepository } from '../../src/testing/index.js';
import type { Item } from './repository-conformance.js';
import { item, itemKey } from './repository-conformance.js';

// src/data/partition-range.ts: a source seen through one key range, and a
// checkpoint store that saves only while the range's lease is held.

const id = (i: number) => item(i).id;
const compare = compareKeys as (a: string, b: string) => number;
const keys = (rows: readonly Item[]) => rows.map(itemKey);

function source(rows = 10) {
  return new InMemoryRepository<Item, string>({ keyOf: itemKey, name: 'old' }).seed(Array.from({ length: rows }, (_, i) => item(i)));
}

describe('rangeView, reading', () => {
  it('starts after the range’s lower bound and stops at its upper bound, inclusive', async () => {
    const from = source();
    const view = rangeView(from, { index: 1, after: id(2), upTo: id(6) }, itemKey, compare);
    expect(keys(await view.getBatch(null, 3))).toEqual([id(3), id(4), id(5)]);
    expect(keys(await view.getBatch(id(5), 3))).toEqual([id(6)]);
    // The page ran past the range: the next one ends it without asking the source.
    const asked = from.counts.getBatch;
    expect(await view.getBatch(id(6), 3)).toEqual([]);
    expect(from.counts.getBatch).toBe(asked);
  });

  it('reads to the last key for the last range, and from the first for the first', async () => {
    const from = source(5);
    expect(keys(await rangeView(from, { index: 2, after: id(2), upTo: null }, itemKey, compare).getBatch(null, 10))).toEqual([id(3), id(4)]);
    expect(keys(await rangeView(from, { index: 0, after: null, upTo: id(1) }, itemKey, compare).getBatch(null, 10))).toEqual([id(0), id(1)]);
  });

  it('ends a range whose first page already lies beyond it, asking the source no more', async () => {
    const from = new InMemoryRepository<Item, string>({ keyOf: itemKey }).seed([item(1), item(8), item(9)]);
    const view = rangeView(from, { index: 1, after: id(1), upTo: id(5) }, itemKey, compare);
    expect(await view.getBatch(null, 2)).toEqual([]);
    const asked = from.counts.getBatch;
    expect(await view.getBatch(id(5), 2)).toEqual([]);
    expect(await view.getBatch(id(7), 2)).toEqual([]);
    expect(from.counts.getBatch).toBe(asked);
  });

  it('still reads a page after a key before where the range ended (a retried batch)', async () => {
    const from = source();
    const view = rangeView(from, { index: 0, after: null, upTo: id(4) }, itemKey, compare);
    expect(keys(await view.getBatch(id(2), 5))).toEqual([id(3), id(4)]);
    expect(keys(await view.getBatch(id(1), 1))).toEqual([id(2)]);
    expect(keys(await view.getBatch(null, 2))).toEqual([id(0), id(1)]);
  });

  it('keeps a full page that ends exactly on the upper bound, and reads once more after it', async () => {
    const from = source();
    const view = rangeView(from, { index: 0, after: null, upTo: id(2) }, itemKey, compare);
    expect(keys(await view.getBatch(null, 3))).toEqual([id(0), id(1), id(2)]);
    const asked = from.counts.getBatch;
    expect(await view.getBatch(id(2), 3)).toEqual([]);
    expect(from.counts.getBatch).toBe(asked + 1);
  });

  it('passes reads and writes of single keys to the source', async () => {
    const from = source(3);
    const view = rangeView(from, { index: 0, after: id(5), upTo: id(6) }, itemKey, compare);
    expect(await view.get(id(1))).toEqual(item(1));
    await view.save({ ...item(1), name: 'saved' });
    expect(await from.get(id(1))).toMatchObject({ name: 'saved' });
    await view.delete(id(2));
    expect(from.size).toBe(2);
  });
});

describe('rangeView, the optional capabilities', () => {
  function capable() {
    const from = source(5);
    const calls: { self: unknown; range: CopyRange<string> }[] = [];
    const order = (a: string, b: string) => compare(a, b);
    const store: Repository<Item, string> & { calls: typeof calls } = {
      calls,
      get: (key) => from.get(key),
      save: (row) => from.save(row),
      delete: (key) => from.delete(key),
      getBatch: (after, limit) => from.getBatch(after, limit),
      async keyOrder() {
        expect(this).toBe(store);
        return order;
      },
      async copyRangeTo(_target, range) {
        calls.push({ self: this, range });
        return { count: 0, last: null, inserted: 0 };
      },
    };
    return { store, order, calls };
  }

  it('has neither keyOrder nor copyRangeTo when the source has none', () => {
    const view = rangeView(source(1), { index: 0, after: null, upTo: null }, itemKey, compare);
    expect(view.keyOrder).toBeUndefined();
    expect(view.copyRangeTo).toBeUndefined();
  });

  it('asks the source for its key order', async () => {
    const { store, order } = capable();
    const view = rangeView(store, { index: 0, after: null, upTo: null }, itemKey, compare);
    expect(await view.keyOrder?.()).toBe(order);
  });

  it('bounds a copy inside the store by the range: its lower bound first, and the nearer upper bound', async () => {
    const { store, calls } = capable();
    const target = source(0);
    const view = rangeView(store, { index: 1, after: id(1), upTo: id(5) }, itemKey, compare);
    await view.copyRangeTo?.(target, { after: null, limit: 3 });
    await view.copyRangeTo?.(target, { after: id(3), limit: 3, upTo: null });
    await view.copyRangeTo?.(target, { after: id(3), limit: 3, upTo: id(4) });
    await view.copyRangeTo?.(target, { after: id(3), limit: 3, upTo: id(5) });
    await view.copyRangeTo?.(target, { after: id(3), limit: 3, upTo: id(9) });
    expect(calls.map((c) => c.self)).toEqual([store, store, store, store, store]);
    expect(calls.map((c) => [c.range.after, c.range.upTo, c.range.limit])).toEqual([
      [id(1), id(5), 3],
      [id(3), id(5), 3],
      [id(3), id(4), 3],
      [id(3), id(5), 3],
      [id(3), id(5), 3],
    ]);
  });

  it('keeps the copy’s own upper bound in the last range, and passes exclude on', async () => {
    const { store, calls } = capable();
    const exclude = async () => [];
    const view = rangeView(store, { index: 2, after: id(1), upTo: null }, itemKey, compare);
    await view.copyRangeTo?.(source(0), { after: id(2), limit: 4, upTo: id(3), exclude });
    await view.copyRangeTo?.(source(0), { after: id(2), limit: 4 });
    expect(calls[0]?.range).toEqual({ after: id(2), limit: 4, upTo: id(3), exclude });
    expect(calls[1]?.range).toEqual({ after: id(2), limit: 4, upTo: null });
  });
});

describe('leasedCheckpoint', () => {
  function lease(answers: boolean[]) {
    const log: string[] = [];
    const held: PartitionLease = {
      renew: async () => {
        log.push('renew');
        return answers.shift() ?? false;
      },
      release: async () => void log.push('release'),
    };
    return { held, log };
  }

  it('renews the lease before each save, and saves while it is held', async () => {
    const store = new InMemoryCheckpointStore();
    const { held, log } = lease([true, true]);
    const checkpoint = leasedCheckpoint(store, held, 'range-3');
    await checkpoint.save({ n: 1 });
    await checkpoint.save({ n: 2 });
    expect(log).toEqual(['renew', 'renew']);
    expect(await checkpoint.load()).toEqual({ n: 2 });
  });

  it('throws LeaseLostError naming the range instead of saving once the lease is lost', async () => {
    const store = new InMemoryCheckpointStore();
    await store.save({ n: 'the new holder' });
    const { held } = lease([false]);
    const checkpoint = leasedCheckpoint(store, held, 'range-3');
    await expect(checkpoint.save({ n: 'stale' })).rejects.toMatchObject({ code: 'ERR_LEASE_LOST', message: expect.stringContaining('range-3') as unknown });
    expect(await store.load()).toEqual({ n: 'the new holder' });
  });

  it('loads and clears the store itself, without touching the lease', async () => {
    const saved: unknown[] = [];
    const store: CheckpointStore = { load: async () => 'state', save: async (s) => void saved.push(s), clear: async () => void saved.push('cleared') };
    const { held, log } = lease([]);
    const checkpoint = leasedCheckpoint(store, held, 'range-0');
    expect(await checkpoint.load()).toBe('state');
    await checkpoint.clear();
    expect(saved).toEqual(['cleared']);
    expect(log).toEqual([]);
  });
});
