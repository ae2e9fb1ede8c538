import { describe, expect, it } from 'vitest';
import { toComparator } from '../../src/compare/to-comparator.js';
import type { Decide } from '../../src/data/backfill-options.js';
import type { CopyPlan, Keyed } from '../../src/data/backfill-copy.js';
import { copyBatch } from '../../src/data/backfill-copy.js';
import { boundedCaller } from '../../src/data/bounded-call.js';
import { InMemoryTombstoneStore } from '../../src/data/tombstone-store.js';
import type { TombstoneStore } from '../../src/data/tombstone-store.js';
import { InMemoryRepository } from '../../src/testing/index.js';
import type { Item } from './repository-conformance.js';
import { item, itemKey } from './repository-conformance.js';

// src/data/backfill-copy.ts: how one batch is written into the target
// (insert-if-absent, replace, or decide per row), and how the races with
// live writes and deletes are closed afterwards.

function stores(rows: number[], bulkInsert = true) {
  const from = new InMemoryRepository<Item, string>({ keyOf: itemKey, name: 'old' }).seed(rows.map((i) => item(i)));
  const to = new InMemoryRepository<Item, string>({ keyOf: itemKey, name: 'new', bulkInsert });
  return { from, to };
}

/** A tombstone store that records the key lists it is asked about. */
function recordingTombstones(dead: number[] = []) {
  const store = new InMemoryTombstoneStore<string>();
  for (const i of dead) void store.add(item(i).id, 1);
  const asked: string[][] = [];
  const tombstones: TombstoneStore<string> & { asked: string[][]; store: InMemoryTombstoneStore<string> } = {
    asked,
    store,
    add: (key, at) => store.add(key, at),
    remove: (key) => store.remove(key),
    clear: () => store.clear(),
    has: async (keys) => {
      asked.push([...keys]);
      return store.has(keys);
    },
  };
  return tombstones;
}

function plan(from: InMemoryRepository<Item, string>, to: InMemoryRepository<Item, string>, decide: Decide<Item>, tombstones?: TombstoneStore<string>): CopyPlan<Item, string> {
  return { from, to, decide, tombstones, same: toComparator<Item>(undefined), call: boundedCaller('backfill', 10_000, undefined) };
}

function batch(rows: number[]): Keyed<Item, string>[] {
  return rows.map((i) => ({ row: item(i), key: item(i).id }));
}

describe('copyBatch, insert-if-absent', () => {
  it('writes with one bulkInsert and reads nothing from the target row by row', async () => {
    const { from, to } = stores([1, 2, 3]);
    to.seed([{ ...item(2), name: 'newer' }]);
    expect(await copyBatch(plan(from, to, 'never'), batch([1, 2, 3]))).toEqual({ copied: 2, skipped: 1 });
    expect(to.counts).toMatchObject({ bulkInsert: 1, get: 0, save: 0, delete: 0 });
    expect(await to.get('k0002')).toMatchObject({ name: 'newer' });
  });

  it('calls neither bulkInsert nor the tombstone store again when every row of the batch is tombstoned', async () => {
    const { from, to } = stores([1, 2]);
    const tombstones = recordingTombstones([1, 2]);
    expect(await copyBatch(plan(from, to, 'never', tombstones), batch([1, 2]))).toEqual({ copied: 0, skipped: 2 });
    expect(to.counts).toMatchObject({ bulkInsert: 0, get: 0, save: 0 });
    expect(to.size).toBe(0);
    // Asked once about the batch; nothing was written, so there is nothing to check again.
    expect(tombstones.asked).toEqual([['k0001', 'k0002']]);
  });

  it('checks the rows it inserted against the tombstones once more, and removes one deleted meanwhile', async () => {
    const { from, to } = stores([1, 2, 3]);
    const tombstones = recordingTombstones();
    const real = to.bulkInsert!.bind(to);
    to.bulkInsert = async (rows) => {
      const keys = await real(rows);
      await tombstones.add('k0002', 2);
      return keys;
    };
    to.seed([item(3)]);
    expect(await copyBatch(plan(from, to, 'never', tombstones), batch([1, 2, 3]))).toEqual({ copied: 1, skipped: 2 });
    expect(tombstones.asked).toEqual([
      ['k0001', 'k0002', 'k0003'],
      ['k0001', 'k0002'],
    ]);
    expect(to.snapshot().map(itemKey)).toEqual(['k0001', 'k0003']);
    expect(to.counts.delete).toBe(1);
  });

  it('without bulkInsert, gets each row and saves only the absent ones', async () => {
    const { from, to } = stores([1, 2, 3], false);
    to.seed([{ ...item(2), name: 'newer' }]);
    expect(await copyBatch(plan(from, to, 'never'), batch([1, 2, 3]))).toEqual({ copied: 2, skipped: 1 });
    expect(to.counts).toMatchObject({ get: 3, save: 2 });
    expect(await to.get('k0002')).toMatchObject({ name: 'newer' });
  });

  it('without bulkInsert, removes a saved row that was deleted (tombstoned) before the re-check', async () => {
    const { from, to } = stores([1, 2], false);
    const tombstones = recordingTombstones();
    to.beforeOp = async (op, key) => {
      if (op === 'save' && key === 'k0001') await tombstones.add('k0001', 1);
    };
    expect(await copyBatch(plan(from, to, 'never', tombstones), batch([1, 2]))).toEqual({ copied: 1, skipped: 1 });
    expect(to.snapshot().map(itemKey)).toEqual(['k0002']);
    // The tombstoned row is removed without reading the source again.
    expect(from.counts.get).toBe(1);
  });
});

describe('copyBatch, replacing', () => {
  it('with overwrite always, saves every row and never uses bulkInsert', async () => {
    const { from, to } = stores([1, 2]);
    to.seed([{ ...item(1), name: 'older' }]);
    expect(await copyBatch(plan(from, to, 'always'), batch([1, 2]))).toEqual({ copied: 2, skipped: 0 });
    expect(to.counts).toMatchObject({ bulkInsert: 0, get: 0, save: 2 });
    expect(to.snapshot()).toEqual(from.snapshot());
  });

  it('with a decision per row, inserts the absent rows in bulk and asks only about the rows the target holds', async () => {
    const { from, to } = stores([1, 2, 3, 4]);
    to.seed([{ ...item(2), name: 'keep' }, { ...item(3), name: 'replace' }]);
    const asked: string[] = [];
    const decide = (existing: Item, incoming: Item) => (asked.push(`${existing.name}>${incoming.name}`), existing.name === 'replace');
    expect(await copyBatch(plan(from, to, decide), batch([1, 2, 3, 4]))).toEqual({ copied: 3, skipped: 1 });
    expect(asked).toEqual(['keep>item 2', 'replace>item 3']);
    expect(to.counts).toMatchObject({ bulkInsert: 1, get: 2, save: 1 });
    expect(to.snapshot()).toEqual([item(1), { ...item(2), name: 'keep' }, item(3), item(4)]);
  });

  it('leaves a key alone that bulkInsert refused but that was gone when read: a delete raced the copy', async () => {
    const { from, to } = stores([1, 2]);
    to.seed([{ ...item(2), name: 'present' }]);
    const real = to.bulkInsert!.bind(to);
    to.bulkInsert = async (rows) => {
      const keys = await real(rows);
      await to.delete('k0002');
      return keys;
    };
    const decide = () => true;
    expect(await copyBatch(plan(from, to, decide), batch([1, 2]))).toEqual({ copied: 1, skipped: 1 });
    expect(to.snapshot().map(itemKey)).toEqual(['k0001']);
  });

  it('without bulkInsert, saves an absent row without asking, and asks about a present one', async () => {
    const { from, to } = stores([1, 2], false);
    to.seed([{ ...item(2), name: 'present' }]);
    const asked: string[] = [];
    const decide = (existing: Item) => (asked.push(existing.id), false);
    expect(await copyBatch(plan(from, to, decide), batch([1, 2]))).toEqual({ copied: 1, skipped: 1 });
    expect(asked).toEqual(['k0002']);
    expect(await to.get('k0001')).toEqual(item(1));
  });

  it('re-copies a row the source changed while it was being replaced, and leaves one that did not change', async () => {
    const { from, to } = stores([1, 2, 3]);
    to.seed([item(1), item(2), item(3)].map((row) => ({ ...row, name: 'old copy' })));
    to.beforeOp = async (op, key) => {
      // A live write to the source lands between the read of the batch and its save.
      if (op === 'save' && key === 'k0002') from.seed([{ ...item(2), name: 'live write' }]);
    };
    expect(await copyBatch(plan(from, to, 'always'), batch([1, 2, 3]))).toEqual({ copied: 3, skipped: 0 });
    expect(await to.get('k0002')).toMatchObject({ name: 'live write' });
    // Three saves of the batch, one more for the row that changed.
    expect(to.counts.save).toBe(4);
    expect(from.counts.get).toBe(3);
  });

  it('removes a replaced row that the source deleted meanwhile, and does not count it copied', async () => {
    const { from, to } = stores([1, 2]);
    to.beforeOp = async (op, key) => {
      if (op === 'save' && key === 'k0001') await from.delete('k0001');
    };
    expect(await copyBatch(plan(from, to, 'always'), batch([1, 2]))).toEqual({ copied: 1, skipped: 1 });
    expect(to.snapshot().map(itemKey)).toEqual(['k0002']);
  });

  it('removes a replaced row tombstoned meanwhile without reading the source', async () => {
    const { from, to } = stores([1, 2]);
    const tombstones = recordingTombstones();
    to.beforeOp = async (op, key) => {
      if (op === 'save' && key === 'k0002') await tombstones.add('k0002', 1);
    };
    expect(await copyBatch(plan(from, to, 'always', tombstones), batch([1, 2]))).toEqual({ copied: 1, skipped: 1 });
    expect(to.snapshot().map(itemKey)).toEqual(['k0001']);
    expect(from.counts.get).toBe(1);
    expect(tombstones.asked).toEqual([
      ['k0001', 'k0002'],
      ['k0001', 'k0002'],
    ]);
  });

  it('never asks the tombstone store about an empty list when nothing was written', async () => {
    const { from, to } = stores([1], false);
    to.seed([item(1)]);
    const tombstones = recordingTombstones();
    expect(await copyBatch(plan(from, to, 'never', tombstones), batch([1]))).toEqual({ copied: 0, skipped: 1 });
    expect(tombstones.asked).toEqual([['k0001']]);
  });
});

describe('copyBatch, naming each call it makes', () => {
  /** A plan whose bounded call records the name of each call: the name a timeout error gives. */
  function namedPlan(from: InMemoryRepository<Item, string>, to: InMemoryRepository<Item, string>, decide: Decide<Item>, tombstones?: TombstoneStore<string>) {
    const names: string[] = [];
    const call: CopyPlan<Item, string>['call'] = (what, fn) => {
      names.push(what);
      return Promise.resolve(fn());
    };
    return { plan: { ...plan(from, to, decide, tombstones), call }, names };
  }

  it('names the target and tombstone calls of an insert-if-absent batch', async () => {
    const { from, to } = stores([1, 2]);
    const tombstones = recordingTombstones();
    const real = to.bulkInsert!.bind(to);
    to.bulkInsert = async (rows) => {
      const keys = await real(rows);
      await tombstones.add('k0001', 1);
      return keys;
    };
    const { plan: named, names } = namedPlan(from, to, 'never', tombstones);
    await copyBatch(named, batch([1, 2]));
    expect(names).toEqual(['tombstones.has', 'to.bulkInsert', 'tombstones.has', 'to.delete']);
  });

  it('names the get, save, source re-read and delete of a batch written row by row', async () => {
    const { from, to } = stores([1, 2, 3], false);
    to.beforeOp = async (op, key) => {
      if (op === 'save' && key === 'k0001') await from.delete('k0001');
      if (op === 'save' && key === 'k0002') from.seed([{ ...item(2), name: 'live write' }]);
    };
    to.seed([item(3)]);
    const { plan: named, names } = namedPlan(from, to, () => false);
    await copyBatch(named, batch([1, 2, 3]));
    expect(names).toEqual(['to.get', 'to.save', 'to.get', 'to.save', 'to.get', 'from.get', 'to.delete', 'from.get', 'to.save']);
  });

  it('names the saves of a batch that always replaces', async () => {
    const { from, to } = stores([1]);
    const { plan: named, names } = namedPlan(from, to, 'always');
    await copyBatch(named, batch([1]));
    expect(names).toEqual(['to.save', 'from.get']);
  });

  it('names the store that breaks its contract', async () => {
    const { from, to } = stores([1]);
    to.bulkInsert = async () => 'nope' as never;
    await expect(copyBatch(plan(from, to, 'never'), batch([1]))).rejects.toMatchObject({ code: 'ERR_INVALID_OPTION', option: 'to' });
    const tombstones = { ...recordingTombstones(), has: async () => 'nope' as never };
    await expect(copyBatch(plan(from, to, 'never', tombstones), batch([1]))).rejects.toMatchObject({
      code: 'ERR_INVALID_OPTION',
      option: 'tombstones',
      message: expect.stringMatching(/has resolved with "nope", not an array of keys/) as unknown,
    });
  });
});
