import { describe, expect, it } from 'vitest';
import { toComparator } from '../../src/compare/to-comparator.js';
import type { CopyPlan } from '../../src/data/backfill-copy.js';
import { copyRangeBatch } from '../../src/data/backfill-range.js';
import { compareKeys, keyId } from '../../src/data/keys.js';
import type { CopyRange, RangeCopy, Repository } from '../../src/data/repository.js';
import { InMemoryTombstoneStore } from '../../src/data/tombstone-store.js';
import { InMemoryRepository } from '../../src/testing/index.js';
import type { Item } from './repository-conformance.js';
import { item, itemKey } from './repository-conformance.js';

// src/data/backfill-range.ts: one batch copied inside the store
// (copyRangeTo), with the tombstones excluded before and checked after.

const id = (i: number) => item(i).id;

/** A source whose copyRangeTo copies into the target itself, recording the ranges; `answer` may rewrite what it resolves with. */
function source(rows: number[], to: InMemoryRepository<Item, string>, answer?: (copy: RangeCopy<string>, range: CopyRange<string>) => unknown) {
  const store = new InMemoryRepository<Item, string>({ keyOf: itemKey, name: 'old' }).seed(rows.map((i) => item(i)));
  const ranges: CopyRange<string>[] = [];
  const from: Repository<Item, string> = {
    get: (key) => store.get(key),
    save: (row) => store.save(row),
    delete: (key) => store.delete(key),
    getBatch: (after, limit) => store.getBatch(after, limit),
    async copyRangeTo(target, range) {
      ranges.push(range);
      if (target !== to) return undefined;
      const page = await store.getBatch(range.after, range.limit);
      const keys = page.map(itemKey);
      const skip = new Set((range.exclude === undefined ? [] : await range.exclude(keys)).map(keyId));
      const insertedKeys = await to.bulkInsert!(page.filter((row) => !skip.has(keyId(itemKey(row)))));
      const copy: RangeCopy<string> = { count: page.length, last: keys.at(-1) ?? null, inserted: insertedKeys.length, ...(range.exclude === undefined ? {} : { insertedKeys }) };
      return (answer === undefined ? copy : answer(copy, range)) as RangeCopy<string>;
    },
  };
  return { from, ranges };
}

function plan(from: Repository<Item, string>, to: InMemoryRepository<Item, string>, tombstones?: InMemoryTombstoneStore<string>) {
  const names: string[] = [];
  const call: CopyPlan<Item, string>['call'] = (what, fn) => {
    names.push(what);
    return Promise.resolve(fn());
  };
  const copyPlan: CopyPlan<Item, string> = { from, to, decide: 'never', tombstones, same: toComparator<Item>(undefined), call };
  return { copyPlan, names };
}

const target = () => new InMemoryRepository<Item, string>({ keyOf: itemKey, name: 'new' });
const compare = compareKeys as (a: string, b: string) => number;

describe('copyRangeBatch', () => {
  it('copies the next limit keys after `after`, counting the rows the target already held as skipped', async () => {
    const to = target().seed([{ ...item(2), name: 'newer' }]);
    const { from, ranges } = source([1, 2, 3, 4, 5], to);
    const { copyPlan, names } = plan(from, to);
    expect(await copyRangeBatch(copyPlan, compare, id(0), 3)).toEqual({ rows: 3, lastKey: id(3), copied: 2, skipped: 1 });
    expect(ranges).toEqual([{ after: id(0), limit: 3 }]);
    expect(names).toEqual(['from.copyRangeTo']);
    expect(await to.get(id(2))).toMatchObject({ name: 'newer' });
  });

  it('answers the end of the copy as an empty range with no last key', async () => {
    const to = target();
    const { from } = source([1], to);
    expect(await copyRangeBatch(plan(from, to).copyPlan, compare, id(1), 5)).toEqual({ rows: 0, lastKey: null, copied: 0, skipped: 0 });
  });

  it('resolves undefined, having written nothing, when the source cannot copy into this target', async () => {
    const to = target();
    const { from } = source([1, 2], target());
    expect(await copyRangeBatch(plan(from, to).copyPlan, compare, null, 5)).toBeUndefined();
    expect(to.size).toBe(0);
  });

  it('excludes the tombstoned keys of the range before writing, and names only them', async () => {
    const to = target();
    const tombstones = new InMemoryTombstoneStore<string>();
    await tombstones.add(id(2), 1);
    await tombstones.add(id(9), 1);
    const excluded: string[][] = [];
    const { from, ranges } = source([1, 2, 3], to);
    const { copyPlan, names } = plan(from, to, tombstones);
    const wrapped: Repository<Item, string> = {
      ...from,
      copyRangeTo: (t, range) =>
        from.copyRangeTo!(t, {
          ...range,
          exclude: async (keys) => {
            const dead = await range.exclude!(keys);
            excluded.push([...dead]);
            return dead;
          },
        }),
    };
    expect(await copyRangeBatch({ ...copyPlan, from: wrapped }, compare, null, 10)).toEqual({ rows: 3, lastKey: id(3), copied: 2, skipped: 1 });
    expect(excluded).toEqual([[id(2)]]);
    expect(ranges[0]).toMatchObject({ after: null, limit: 10 });
    expect(to.snapshot().map(itemKey)).toEqual([id(1), id(3)]);
    expect(names).toEqual(['from.copyRangeTo', 'tombstones.has', 'tombstones.has']);
  });

  it('removes again a row inserted while its tombstone was being written, and counts it skipped', async () => {
    const to = target();
    const tombstones = new InMemoryTombstoneStore<string>();
    const { from } = source([1, 2, 3], to, (copy) => {
      // Deleted after the range was read and copied: only the check after the copy sees it.
      void tombstones.add(id(1), 1);
      return copy;
    });
    const { copyPlan, names } = plan(from, to, tombstones);
    expect(await copyRangeBatch(copyPlan, compare, null, 10)).toEqual({ rows: 3, lastKey: id(3), copied: 2, skipped: 1 });
    expect(to.snapshot().map(itemKey)).toEqual([id(2), id(3)]);
    expect(names).toEqual(['from.copyRangeTo', 'tombstones.has', 'tombstones.has', 'to.delete']);
  });

  it('asks the tombstones nothing after a copy that inserted no row', async () => {
    const to = target().seed([item(1)]);
    const tombstones = new InMemoryTombstoneStore<string>();
    const { from } = source([1], to);
    const { copyPlan, names } = plan(from, to, tombstones);
    expect(await copyRangeBatch(copyPlan, compare, null, 10)).toEqual({ rows: 1, lastKey: id(1), copied: 0, skipped: 1 });
    expect(names).toEqual(['from.copyRangeTo', 'tombstones.has']);
  });

  it('refuses a last key that is not past `after`, or is no key', async () => {
    const to = target();
    const same = source([1, 2], to, (copy) => ({ ...copy, last: id(1) }));
    await expect(copyRangeBatch(plan(same.from, to).copyPlan, compare, id(1), 5)).rejects.toMatchObject({ code: 'ERR_INVALID_KEY' });
    const other = target();
    const before = source([1, 2], other, (copy) => ({ ...copy, count: 1, inserted: 0, last: id(0) }));
    await expect(copyRangeBatch(plan(before.from, other).copyPlan, compare, id(1), 5)).rejects.toThrow(/ended at "k0000", not past it/);
    const third = target();
    const bad = source([1], third, (copy) => ({ ...copy, last: { id: 1 } }));
    await expect(copyRangeBatch(plan(bad.from, third).copyPlan, compare, null, 5)).rejects.toThrow(/the last key from\.copyRangeTo answered must be/);
  });

  it('accepts any last key for the first range', async () => {
    const to = target();
    const { from } = source([1], to);
    expect(await copyRangeBatch(plan(from, to).copyPlan, (() => -1) as typeof compare, null, 5)).toMatchObject({ lastKey: id(1) });
  });

  const broken: [string, (copy: RangeCopy<string>) => unknown, boolean][] = [
    ['null', () => null, false],
    ['a number', () => 3, false],
    ['a function carrying the fields', (copy) => Object.assign(() => copy, copy), false],
    ['a fractional count', (copy) => ({ ...copy, count: copy.count + 0.5 }), false],
    ['no count', (copy) => ({ last: copy.last, inserted: copy.inserted }), false],
    ['a fractional inserted', (copy) => ({ ...copy, inserted: 0.5 }), false],
    ['a negative inserted', (copy) => ({ ...copy, inserted: -1 }), false],
    ['more inserted than counted', (copy) => ({ ...copy, inserted: copy.count + 1 }), false],
    ['no last key', (copy) => ({ count: copy.count, inserted: copy.inserted }), false],
    ['a null last key for a range with rows', (copy) => ({ ...copy, last: null }), false],
    ['a last key for an empty range', (copy) => ({ ...copy, count: 0, inserted: 0 }), false],
    ['no insertedKeys when exclude was given', (copy) => ({ count: copy.count, last: copy.last, inserted: copy.inserted }), true],
    ['insertedKeys that are no array', (copy) => ({ ...copy, insertedKeys: 'k0001' }), true],
    ['fewer insertedKeys than inserted', (copy) => ({ ...copy, insertedKeys: [] }), true],
  ];
  it.each(broken)('refuses an answer with %s, naming from', async (_, answer, withTombstones) => {
    const to = target();
    const { from } = source([1, 2], to, answer);
    const tombstones = withTombstones ? new InMemoryTombstoneStore<string>() : undefined;
    const outcome = copyRangeBatch(plan(from, to, tombstones).copyPlan, compare, null, 5);
    await expect(outcome).rejects.toMatchObject({ code: 'ERR_INVALID_OPTION', option: 'from' });
    await expect(outcome).rejects.toThrow(withTombstones ? /not \{ count, last, inserted, insertedKeys \}/ : /not \{ count, last, inserted \}$/);
  });

  it('accepts every row inserted (inserted equal to count), and insertedKeys only when asked for', async () => {
    const to = target();
    const { from } = source([1, 2], to, (copy) => ({ ...copy, insertedKeys: 'ignored' }));
    expect(await copyRangeBatch(plan(from, to).copyPlan, compare, null, 5)).toEqual({ rows: 2, lastKey: id(2), copied: 2, skipped: 0 });
  });
});
