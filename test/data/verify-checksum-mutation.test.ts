import { createHash } from 'node:crypto';
import { afterEach, describe, expect, it, vi } from 'vitest';
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
  /** Runs as a checksum is asked, before anything else (synchronously, in the caller's turn). */
  onAsk: ((range: KeyRange<string>) => void) | undefined;
  /** Runs right after a checksum is computed, before it is returned. */
  onAnswer: ((range: KeyRange<string>) => void) | undefined;
  /** The hash of one row (a sum over rows makes the range's hash). */
  hashOf: (row: Item) => bigint = (row) => BigInt(`0x${createHash('md5').update(JSON.stringify([row.id, row.name, row.qty])).digest('hex')}`);

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
    this.onAsk?.(range);
    if (this.beforeChecksum !== undefined) await this.beforeChecksum(range);
    let rows = this.snapshot().filter(
      (row) => (range.after === null || compareKeys(row.id, range.after) > 0) && (range.upTo === undefined || range.upTo === null || compareKeys(row.id, range.upTo) <= 0),
    );
    if (range.limit !== undefined) rows = rows.slice(0, range.limit);
    let hash = 0n;
    for (const row of rows) hash += this.hashOf(row);
    this.onAnswer?.(range);
    return { count: rows.length, hash, last: rows.length === 0 ? null : (rows[rows.length - 1] as Item).id };
  }
}

function pair(rows: number) {
  const all = Array.from({ length: rows }, (_, i) => item(i));
  return { oldRepo: new ChecksumRepository('old').seed(all), newRepo: new ChecksumRepository('new').seed(all) };
}

/** Key order by code point that refuses anything but a key: verify must never hand it null or undefined. */
function strictKeys(a: string, b: string): number {
  if (typeof a !== 'string' || typeof b !== 'string') throw new TypeError(`compareKeys got ${String(a)} and ${String(b)}`);
  return compareKeys(a, b);
}

function check(options: Omit<VerifyOptions<Item, string>, 'keyOf'>) {
  return verify({ keyOf: itemKey, logger: silentLogger, sleep: async () => {}, recheck: false, compareKeys: strictKeys, ...options });
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
    ['a function carrying the fields', (_, real) => Object.assign(() => real, real)],
  ];
  it.each(cases)('refuses %s as a broken contract, naming the store', async (_, answer) => {
    const { oldRepo, newRepo } = pair(6);
    const real = newRepo.checksum.bind(newRepo);
    newRepo.checksum = async (range) => answer(range, await real(range)) as RangeChecksum<string>;
    const error = check({ old: oldRepo, new: newRepo, chunkRows: 4 });
    await expect(error).rejects.toMatchObject({ code: 'ERR_INVALID_OPTION', option: 'new' });
    await expect(error).rejects.toThrow(/breaks the Repository contract: checksum resolved with .*, not \{ count, hash, last \}/);
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

  it('names the range asked and the answer in the message', async () => {
    const { oldRepo, newRepo } = pair(10);
    const real = newRepo.checksum.bind(newRepo);
    newRepo.checksum = async (range) => ({ ...(await real(range)), count: 1, last: 'k0003z' });
    await expect(check({ old: oldRepo, new: newRepo, chunkRows: 4 })).rejects.toThrow(
      'new.checksum of keys after null up to "k0003" answered 1 rows ending at "k0003z": outside the range it was asked for',
    );
  });

  it('refuses a chunk of more rows than asked, even when they are rows the store holds', async () => {
    const { oldRepo, newRepo } = pair(10);
    const real = oldRepo.checksum.bind(oldRepo);
    oldRepo.checksum = async (range) => real(range.limit === undefined ? range : { ...range, limit: range.limit + 1 });
    await expect(check({ old: oldRepo, new: newRepo, chunkRows: 4 })).rejects.toThrow(
      'old.checksum of keys after null up to null answered 5 rows ending at "k0004": outside the range it was asked for',
    );
  });

  it('accepts a last key equal to upTo, and a chunk holding exactly limit rows', async () => {
    const { oldRepo, newRepo } = pair(8);
    expect((await check({ old: oldRepo, new: newRepo, chunkRows: 4 })).checked).toBe(8);
  });
});

/** Runs `change` once, before the first checksum `when` picks computes, on both stores (each such checksum waits for it). */
function stageBefore(stores: ChecksumRepository[], when: (range: KeyRange<string>) => boolean, change: () => Promise<void>) {
  let done: Promise<void> | undefined;
  for (const store of stores) {
    store.beforeChecksum = async (range) => {
      if (!when(range)) return;
      done ??= change();
      await done;
    };
  }
}

async function remove(stores: ChecksumRepository[], ids: number[]) {
  for (const store of stores) for (const i of ids) await store.delete(id(i));
}

/** The numbers from..to, both included. */
const span = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i);

describe('verify by checksums, aborting', () => {
  it('stops before waiting for a chunk when the signal aborted during its checksum', async () => {
    const { oldRepo, newRepo } = pair(10);
    const controller = new AbortController();
    oldRepo.onAsk = () => controller.abort();
    await expect(check({ old: oldRepo, new: newRepo, chunkRows: 4, signal: controller.signal })).rejects.toThrow('verify was aborted');
    expect(newRepo.ranges).toEqual([]);
  });

  it('stops before splitting a differing chunk when the signal aborted meanwhile', async () => {
    const { oldRepo, newRepo } = pair(10);
    newRepo.seed([{ ...item(4), qty: -4 }]);
    const controller = new AbortController();
    newRepo.onAsk = () => controller.abort();
    await expect(check({ old: oldRepo, new: newRepo, chunkRows: 100, leafRows: 2, signal: controller.signal })).rejects.toThrow('verify was aborted');
    expect(oldRepo.ranges).toHaveLength(1);
    expect(newRepo.ranges).toHaveLength(1);
  });
});

describe('verify by checksums, keys handed to the key order', () => {
  // check() passes strictKeys, which throws on anything but a key: a store with no row in a range has no last key to compare.
  it('finds every row of a chunk one store lacks, never handing the key order the empty side’s missing last key', async () => {
    const oldRepo = new ChecksumRepository('old').seed(span(0, 7).map((i) => item(i)));
    const newRepo = new ChecksumRepository('new');
    const report = await check({ old: oldRepo, new: newRepo, chunkRows: 100, leafRows: 2 });
    expect(report).toMatchObject({ checked: 8, missing: { count: 8, keys: span(0, 7).map(id) }, extra: { count: 0 } });
    const back = await check({ old: new ChecksumRepository('old'), new: new ChecksumRepository('new').seed(span(0, 7).map((i) => item(i))), chunkRows: 100, leafRows: 2 });
    expect(back).toMatchObject({ checked: 8, extra: { count: 8 }, missing: { count: 0 } });
  });
});

describe('verify by checksums, equal only when count and hash agree', () => {
  it('bisects a chunk whose hashes agree while its row counts differ', async () => {
    const { oldRepo, newRepo } = pair(6);
    await newRepo.delete(id(0));
    // A hash that sums quantities: item 0 adds nothing, so both hashes agree.
    for (const store of [oldRepo, newRepo]) store.hashOf = (row) => BigInt(row.qty);
    const report = await check({ old: oldRepo, new: newRepo, chunkRows: 100, leafRows: 2 });
    expect(report).toMatchObject({ checked: 6, missing: { count: 1, keys: [id(0)] } });
  });
});

describe('verify by checksums, ranges that changed while bisected', () => {
  it('compares row by row what appeared in a range both stores emptied meanwhile, counting it once', async () => {
    const { oldRepo, newRepo } = pair(8);
    newRepo.seed([{ ...item(5), qty: -5 }]);
    const heads = (range: KeyRange<string>) => range.after === id(3) && range.limit === 2;
    stageBefore([oldRepo, newRepo], heads, () => remove([oldRepo, newRepo], span(4, 7)));
    // Once both first halves came back empty, one row appears in the range, different in new.
    newRepo.onAnswer = (range) => {
      if (!heads(range)) return;
      oldRepo.seed([{ id: 'k0005a', name: 'late', qty: 1 }]);
      newRepo.seed([{ id: 'k0005a', name: 'late', qty: 2 }]);
    };
    const report = await check({ old: oldRepo, new: newRepo, chunkRows: 4, leafRows: 1 });
    expect(report).toMatchObject({ checked: 5, different: { count: 1, keys: ['k0005a'] }, missing: { count: 0 }, extra: { count: 0 } });
  });

  it.each<['old' | 'new']>([['old'], ['new']])(
    'checksums the rest afresh when %s came back with fewer rows than half the range, though both rests still agree',
    async (side) => {
      // Rows 0..5 are in both stores; one store also holds 6..11, the other only 10 and 11.
      const both = span(0, 5);
      const short = new ChecksumRepository(side).seed([...both, 10, 11].map((i) => item(i)));
      const long = new ChecksumRepository(side === 'old' ? 'new' : 'old').seed([...both, ...span(6, 11)].map((i) => item(i)));
      const [oldRepo, newRepo] = side === 'old' ? [short, long] : [long, short];
      // After both whole checksums, rows 0..5 are deleted from both: the first halves hold 2 and 6 rows.
      stageBefore([oldRepo, newRepo], (range) => range.after === null && range.limit === 6, () => remove([oldRepo, newRepo], both));
      const report = await check({ old: oldRepo, new: newRepo, chunkRows: 100, leafRows: 2 });
      const differing = { count: 4, keys: span(6, 9).map(id) };
      expect(report).toMatchObject(side === 'old' ? { checked: 6, extra: differing, missing: { count: 0 } } : { checked: 6, missing: differing, extra: { count: 0 } });
      expect(short.ranges.some((range) => range.after === id(11) && range.upTo === null)).toBe(true);
    },
  );

  it('checksums the rest afresh when both came back with fewer rows than half the range', async () => {
    const { oldRepo, newRepo } = pair(12);
    newRepo.seed([{ ...item(9), qty: -9 }]);
    stageBefore([oldRepo, newRepo], (range) => range.after === null && range.limit === 6, () => remove([oldRepo, newRepo], span(0, 7)));
    const report = await check({ old: oldRepo, new: newRepo, chunkRows: 100, leafRows: 2 });
    expect(report).toMatchObject({ checked: 4, different: { count: 1, keys: [id(9)] }, missing: { count: 0 }, extra: { count: 0 } });
    expect(oldRepo.ranges).toContainEqual({ after: id(11), upTo: null });
    expect(newRepo.ranges).toContainEqual({ after: id(11), upTo: null });
  });

  it.each<['old' | 'new']>([['old'], ['new']])(
    'checksums the rest afresh, reading no row, when rows written to %s meanwhile leave its rest below zero',
    async (side) => {
      const grown = new ChecksumRepository(side).seed([0, 1].map((i) => item(i)));
      const full = new ChecksumRepository(side === 'old' ? 'new' : 'old').seed(span(0, 9).map((i) => item(i)));
      const [oldRepo, newRepo] = side === 'old' ? [grown, full] : [full, grown];
      // After both whole checksums (2 and 10 rows), rows 2..9 are written to the smaller store: both now agree.
      stageBefore([oldRepo, newRepo], (range) => range.after === null && range.limit === 5, async () => {
        grown.seed(span(2, 9).map((i) => item(i)));
      });
      const report = await check({ old: oldRepo, new: newRepo, chunkRows: 100, leafRows: 2 });
      expect(report).toMatchObject({ checked: 10, missing: { count: 0 }, extra: { count: 0 }, different: { count: 0 } });
      expect(oldRepo.rowsRead + newRepo.rowsRead).toBe(0);
    },
  );

  it.each<['old' | 'new']>([['old'], ['new']])('does not checksum again a rest the sums already give, where %s ends inside the first half', async (side) => {
    const shorter = new ChecksumRepository(side).seed(span(0, 5).map((i) => item(i)));
    const longer = new ChecksumRepository(side === 'old' ? 'new' : 'old').seed(span(0, 11).map((i) => item(i)));
    const [oldRepo, newRepo] = side === 'old' ? [shorter, longer] : [longer, shorter];
    const report = await check({ old: oldRepo, new: newRepo, chunkRows: 100, leafRows: 2 });
    expect(report).toMatchObject({ checked: 12, [side === 'old' ? 'extra' : 'missing']: { count: 6, keys: span(6, 11).map(id) } });
    // Past its last key the shorter store is only asked for first halves (which come back empty), never for a whole rest.
    expect(shorter.ranges.slice(1).filter((range) => range.limit === undefined)).toEqual([]);
  });
});

describe('verify by checksums, bounded', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('fails with ERR_TIMEOUT naming the store whose checksum does not settle', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    const { oldRepo, newRepo } = pair(4);
    newRepo.beforeChecksum = () => new Promise<void>(() => {});
    const result = check({ old: oldRepo, new: newRepo, chunkRows: 10, timeoutMs: 1000 });
    result.catch(() => {});
    await vi.advanceTimersByTimeAsync(1000);
    await expect(result).rejects.toMatchObject({ code: 'ERR_TIMEOUT' });
    await expect(result).rejects.toThrow('verify: new.checksum did not settle within 1000 ms');
  });
});
