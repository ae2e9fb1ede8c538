import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { CheckpointStore } from '../../src/data/checkpoint-store.js';
import { compareKeys } from '../../src/data/keys.js';
import type { KeyRange, RangeChecksum } from '../../src/data/repository.js';
import type { VerifyOptions } from '../../src/data/verify.js';
import { verify } from '../../src/data/verify.js';
import { silentLogger } from '../../src/observe/logger.js';
import { InMemoryRepository } from '../../src/testing/index.js';
import type { Item } from './repository-conformance.js';
import { item, itemKey } from './repository-conformance.js';

// src/data/verify-checksum.ts: verify by chunk checksums, bisecting a chunk
// that differs down to the rows, and refusing a checksum outside its range.

/** An in-memory store that checksums key ranges itself, recording each range asked and each row read. */
class ChecksumRepository extends InMemoryRepository<Item, string> {
  readonly ranges: KeyRange<string>[] = [];
  rowsRead = 0;
  /** Runs before each checksum answers (to stage a live write). */
  beforeChecksum: ((range: KeyRange<string>) => void | Promise<void>) | undefined;

  constructor(name: string) {
    super({ keyOf: itemKey, name });
  }

  override async getBatch(afterKey: string | null, limit: number): Promise<readonly Item[]> {
    const page = await super.getBatch(afterKey, limit);
    this.rowsRead += page.length;
    return page;
  }

  async checksum(range: KeyRange<string>): Promise<RangeChecksum<string>> {
    this.ranges.push({ ...range });
    await this.beforeChecksum?.(range);
    let rows = this.snapshot().filter(
      (row) => (range.after === null || compareKeys(row.id, range.after) > 0) && (range.upTo === undefined || range.upTo === null || compareKeys(row.id, range.upTo) <= 0),
    );
    if (range.limit !== undefined) rows = rows.slice(0, range.limit);
    let hash = 0n;
    for (const row of rows) hash += BigInt(`0x${createHash('md5').update(JSON.stringify([row.id, row.name, row.qty])).digest('hex')}`);
    return { count: rows.length, hash, last: rows.length === 0 ? null : (rows[rows.length - 1] as Item).id };
  }
}

function pair(rows: number) {
  const all = Array.from({ length: rows }, (_, i) => item(i));
  return { oldRepo: new ChecksumRepository('old').seed(all), newRepo: new ChecksumRepository('new').seed(all) };
}

function check(options: Omit<VerifyOptions<Item, string>, 'keyOf'>) {
  return verify({ keyOf: itemKey, logger: silentLogger, sleep: async () => {}, recheck: false, ...options });
}

function recording() {
  const saved: { lastKey: unknown; checked: unknown; done: unknown }[] = [];
  const store: CheckpointStore = {
    load: async () => undefined,
    save: async (state) => {
      const { lastKey, checked, done } = state as { lastKey: unknown; checked: unknown; done: unknown };
      saved.push({ lastKey, checked, done });
    },
    clear: async () => {},
  };
  return { store, saved };
}

const id = (i: number) => item(i).id;

describe('verify by checksums, chunk by chunk', () => {
  it('checksums old in chunks of chunkRows and new over the same key ranges, reading no row of equal stores', async () => {
    const { oldRepo, newRepo } = pair(10);
    const { store, saved } = recording();
    const report = await check({ old: oldRepo, new: newRepo, chunkRows: 4, checkpoint: store });
    expect(report).toMatchObject({ checked: 10, missing: { count: 0 }, extra: { count: 0 }, different: { count: 0 } });
    expect(oldRepo.ranges).toEqual([
      { after: null, limit: 4 },
      { after: id(3), limit: 4 },
      { after: id(7), limit: 4 },
    ]);
    expect(newRepo.ranges).toEqual([
      { after: null, upTo: id(3) },
      { after: id(3), upTo: id(7) },
      { after: id(7), upTo: null },
    ]);
    expect(oldRepo.rowsRead + newRepo.rowsRead).toBe(0);
    expect(saved).toEqual([
      { lastKey: id(3), checked: 4, done: false },
      { lastKey: id(7), checked: 8, done: false },
      { lastKey: id(9), checked: 10, done: true },
    ]);
  });

  it('ends on an empty chunk when the rows fill the chunks exactly, keeping the last key', async () => {
    const { oldRepo, newRepo } = pair(8);
    const { store, saved } = recording();
    await check({ old: oldRepo, new: newRepo, chunkRows: 4, checkpoint: store });
    expect(oldRepo.ranges).toHaveLength(3);
    expect(saved).toEqual([
      { lastKey: id(3), checked: 4, done: false },
      { lastKey: id(7), checked: 8, done: false },
      { lastKey: id(7), checked: 8, done: true },
    ]);
  });

  it('finds rows only new holds after old’s last key, and ends its checkpoint on the greatest key of either store', async () => {
    const { oldRepo, newRepo } = pair(5);
    newRepo.seed([item(7), item(8)]);
    const { store, saved } = recording();
    const report = await check({ old: oldRepo, new: newRepo, chunkRows: 10, leafRows: 2, checkpoint: store });
    expect(report.extra).toEqual({ count: 2, keys: [id(7), id(8)] });
    expect(report.checked).toBe(7);
    expect(saved).toEqual([{ lastKey: id(8), checked: 7, done: true }]);
  });

  it('ends its checkpoint on old’s last key when new holds fewer keys', async () => {
    const { oldRepo, newRepo } = pair(5);
    await newRepo.delete(id(4));
    const { store, saved } = recording();
    const report = await check({ old: oldRepo, new: newRepo, chunkRows: 10, checkpoint: store });
    expect(report.missing).toEqual({ count: 1, keys: [id(4)] });
    expect(saved).toEqual([{ lastKey: id(4), checked: 5, done: true }]);
  });

  it('keeps the checkpoint key when both stores are empty past it', async () => {
    const { oldRepo, newRepo } = pair(0);
    const { store, saved } = recording();
    expect((await check({ old: oldRepo, new: newRepo, chunkRows: 3, checkpoint: store })).checked).toBe(0);
    expect(saved).toEqual([{ lastKey: null, checked: 0, done: true }]);
  });
});

describe('verify by checksums only when both stores can', () => {
  it.each<['old' | 'new']>([['old'], ['new']])('compares row by row when only %s can checksum', async (side) => {
    const { oldRepo, newRepo } = pair(6);
    newRepo.seed([{ ...item(2), qty: -1 }]);
    const plain = new InMemoryRepository<Item, string>({ keyOf: itemKey }).seed((side === 'old' ? newRepo : oldRepo).snapshot());
    const report = side === 'old' ? await check({ old: oldRepo, new: plain }) : await check({ old: plain, new: newRepo });
    expect(report).toMatchObject({ checked: 6, different: { count: 1, keys: [id(2)] } });
    expect(oldRepo.ranges.length + newRepo.ranges.length).toBe(0);
  });
});

describe('verify by checksums, bisecting a chunk that differs', () => {
  it('reads only the leaf around a value that differs, with two parallel checksums per split', async () => {
    const { oldRepo, newRepo } = pair(16);
    newRepo.seed([{ ...item(5), qty: -5 }]);
    const report = await check({ old: oldRepo, new: newRepo, chunkRows: 100, leafRows: 2 });
    expect(report).toMatchObject({ checked: 16, different: { count: 1, keys: [id(5)] }, missing: { count: 0 }, extra: { count: 0 } });
    // 16 → 8 → 4 → 2 rows: three splits, each a checksum of the first half on both sides.
    expect(oldRepo.ranges.slice(1)).toEqual([
      { after: null, upTo: null, limit: 8 },
      { after: null, upTo: id(7), limit: 4 },
      { after: id(3), upTo: id(7), limit: 2 },
    ]);
    expect(newRepo.ranges.slice(1)).toEqual(oldRepo.ranges.slice(1));
    // Only the leaf (k0003, k0005] is read, in one page of leafRows + 1 rows a side (the one past it ends the leaf).
    expect(oldRepo.rowsRead).toBe(3);
    expect(newRepo.rowsRead).toBe(3);
    expect(oldRepo.counts.getBatch).toBe(1);
    expect(newRepo.counts.getBatch).toBe(1);
  });

  it('compares a range row by row once it holds at most leafRows rows on the larger side', async () => {
    const { oldRepo, newRepo } = pair(4);
    newRepo.seed([{ ...item(0), qty: -1 }]);
    await check({ old: oldRepo, new: newRepo, chunkRows: 100, leafRows: 4 });
    expect(oldRepo.ranges).toHaveLength(1);
    expect(oldRepo.rowsRead).toBe(4);
    const again = pair(5);
    again.newRepo.seed([{ ...item(0), qty: -1 }]);
    await check({ old: again.oldRepo, new: again.newRepo, chunkRows: 100, leafRows: 4 });
    expect(again.oldRepo.ranges.length).toBeGreaterThan(1);
  });

  it('splits at the smaller last key when one side has extra rows, and checksums the longer side again up to it', async () => {
    const oldRepo = new ChecksumRepository('old').seed([0, 2, 4, 6, 8, 10, 12, 14].map((i) => item(i)));
    const newRepo = new ChecksumRepository('new').seed([0, 1, 2, 3, 4, 6, 8, 10, 12, 14].map((i) => item(i)));
    const report = await check({ old: oldRepo, new: newRepo, chunkRows: 100, leafRows: 2 });
    expect(report).toMatchObject({ checked: 10, extra: { count: 2, keys: [id(1), id(3)] }, missing: { count: 0 }, different: { count: 0 } });
    // First split: half of 10 = 5 keys each side; old's 5th is k0008, new's k0004: old is checksummed again up to k0004.
    expect(oldRepo.ranges[1]).toEqual({ after: null, upTo: null, limit: 5 });
    expect(oldRepo.ranges[2]).toEqual({ after: null, upTo: id(4) });
    expect(newRepo.ranges[1]).toEqual({ after: null, upTo: null, limit: 5 });
    expect(newRepo.ranges.some((range) => range.upTo === id(4) && range.limit === undefined)).toBe(false);
  });

  it('finds missing, extra and different rows scattered through chunks, exactly', async () => {
    const { oldRepo, newRepo } = pair(60);
    await newRepo.delete(id(3));
    await newRepo.delete(id(33));
    newRepo.seed([{ ...item(17), qty: -1 }, { ...item(58), qty: -1 }, { id: 'k0010a', name: 'extra', qty: 1 }, { id: 'k0044a', name: 'extra', qty: 1 }]);
    const report = await check({ old: oldRepo, new: newRepo, chunkRows: 16, leafRows: 3 });
    expect(report).toMatchObject({
      checked: 62,
      missing: { count: 2, keys: [id(3), id(33)] },
      extra: { count: 2, keys: ['k0010a', 'k0044a'] },
      different: { count: 2, keys: [id(17), id(58)] },
    });
    expect(oldRepo.rowsRead).toBeLessThan(40);
  });

  it('checksums the rest afresh when rows were deleted from the range since its checksum', async () => {
    const { oldRepo, newRepo } = pair(12);
    newRepo.seed([{ ...item(9), qty: -1 }]);
    // After both whole-range checksums, a live delete removes rows of the first half from both stores.
    let armed = true;
    newRepo.beforeChecksum = async (range) => {
      if (armed && range.limit !== undefined) {
        armed = false;
        for (const i of [0, 1, 2, 3, 4]) {
          await oldRepo.delete(id(i));
          await newRepo.delete(id(i));
        }
      }
    };
    const report = await check({ old: oldRepo, new: newRepo, chunkRows: 100, leafRows: 2 });
    expect(report).toMatchObject({ different: { count: 1, keys: [id(9)] }, missing: { count: 0 }, extra: { count: 0 } });
    expect(report.checked).toBe(7);
  });

  it('compares what is left row by row when every row of a differing range was deleted meanwhile', async () => {
    const { oldRepo, newRepo } = pair(8);
    newRepo.seed([{ ...item(2), qty: -1 }]);
    let armed = true;
    oldRepo.beforeChecksum = async (range) => {
      if (armed && range.limit === 4) {
        armed = false;
        for (let i = 0; i < 8; i++) {
          await oldRepo.delete(id(i));
          await newRepo.delete(id(i));
        }
      }
    };
    const report = await check({ old: oldRepo, new: newRepo, chunkRows: 100, leafRows: 2 });
    expect(report).toMatchObject({ checked: 0, different: { count: 0 }, missing: { count: 0 }, extra: { count: 0 } });
  });
});

describe('verify by checksums, refusing an answer outside its range', () => {
  const cases: [string, (range: KeyRange<string>, real: RangeChecksum<string>) => unknown][] = [
    ['a negative count', (_, real) => ({ ...real, count: -1 })],
    ['a fractional count', (_, real) => ({ ...real, count: 1.5 })],
    ['a hash that is no bigint', (_, real) => ({ ...real, hash: 1 })],
    ['no last key', (_, real) => ({ count: real.count, hash: real.hash })],
    ['null', () => null],
    ['a number', () => 5],
  ];
  it.each(cases)('refuses %s as a broken contract, naming the store', async (_, answer) => {
    const { oldRepo, newRepo } = pair(6);
    const real = newRepo.checksum.bind(newRepo);
    newRepo.checksum = async (range) => answer(range, await real(range)) as RangeChecksum<string>;
    await expect(check({ old: oldRepo, new: newRepo, chunkRows: 4 })).rejects.toMatchObject({ code: 'ERR_INVALID_OPTION', option: 'new' });
  });

  type Answer = (range: KeyRange<string>, real: RangeChecksum<string>) => RangeChecksum<string>;
  const outside: [string, 'old' | 'new', (range: KeyRange<string>) => boolean, Answer][] = [
    ['an empty range ending on a key', 'new', () => true, (_, real) => ({ ...real, count: 0, last: id(1) })],
    ['rows ending on no key', 'new', () => true, (_, real) => ({ ...real, count: 2, last: null })],
    ['a last key not past after', 'old', (range) => range.after !== null, (range, real) => ({ ...real, count: 1, last: range.after as string })],
    ['a last key before after', 'old', (range) => range.after !== null, (_, real) => ({ ...real, count: 1, last: id(0) })],
    ['a last key past upTo', 'new', (range) => typeof range.upTo === 'string', (range, real) => ({ ...real, count: 1, last: `${range.upTo as string}z` })],
    ['more rows than the limit', 'old', () => true, (range, real) => ({ ...real, count: (range.limit as number) + 1 })],
  ];
  it.each(outside)('refuses %s with ERR_INVALID_KEY, naming the store', async (_, side, when, answer) => {
    const { oldRepo, newRepo } = pair(10);
    const store = side === 'old' ? oldRepo : newRepo;
    const real = store.checksum.bind(store);
    store.checksum = async (range) => {
      const sum = await real(range);
      return when(range) ? answer(range, sum) : sum;
    };
    const error = check({ old: oldRepo, new: newRepo, chunkRows: 4 });
    await expect(error).rejects.toMatchObject({ code: 'ERR_INVALID_KEY' });
    await expect(error).rejects.toThrow(new RegExp(`${side}\\.checksum of keys after .* answered .*outside the range`));
  });

  it('accepts a last key equal to upTo, and a chunk holding exactly limit rows', async () => {
    const { oldRepo, newRepo } = pair(8);
    expect((await check({ old: oldRepo, new: newRepo, chunkRows: 4 })).checked).toBe(8);
  });
});
