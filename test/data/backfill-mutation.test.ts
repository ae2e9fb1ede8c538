import { describe, expect, it } from 'vitest';
import type { BackfillOptions, BackfillProgress } from '../../src/data/backfill.js';
import { backfill } from '../../src/data/backfill.js';
import type { CheckpointStore } from '../../src/data/checkpoint-store.js';
import type { CopyRange, RangeCopy, Repository } from '../../src/data/repository.js';
import { silentLogger } from '../../src/observe/logger.js';
import { InMemoryRepository, ManualClock } from '../../src/testing/index.js';
import { recordingLogger } from '../helpers.js';
import type { Item } from './repository-conformance.js';
import { item, itemKey, withMethods } from './repository-conformance.js';

// src/data/backfill.ts: the backfill loop, its checkpoint, its progress
// reports and what it names when something hangs or breaks.

const never = (): Promise<never> => new Promise(() => {});

function stores(rows = 10, bulkInsert = true) {
  const from = new InMemoryRepository<Item, string>({ keyOf: itemKey, name: 'old' }).seed(Array.from({ length: rows }, (_, i) => item(i)));
  const to = new InMemoryRepository<Item, string>({ keyOf: itemKey, name: 'new', bulkInsert });
  return { from, to };
}

function run(options: Omit<BackfillOptions<Item, string>, 'keyOf'>) {
  return backfill({ keyOf: itemKey, logger: silentLogger, ...options });
}

const checkpointOf = (value: unknown): CheckpointStore => ({ load: async () => value, save: async () => {}, clear: async () => {} });

describe('backfill naming what hung or broke', () => {
  it.each<[string, (s: ReturnType<typeof stores>) => Partial<BackfillOptions<Item, string>>]>([
    ['from.getBatch', (s) => ({ from: withMethods(s.from, { getBatch: never }) })],
    ['from.keyOrder', (s) => ({ from: withMethods(s.from, { keyOrder: never }) })],
    ['checkpoint.load', () => ({ checkpoint: { load: never, save: async () => {}, clear: async () => {} } })],
  ])('fails with a backfill ERR_TIMEOUT naming %s when it never answers', async (what, make) => {
    const s = stores(3);
    const outcome = run({ from: s.from, to: s.to, ...make(s), timeoutMs: 20 });
    await expect(outcome).rejects.toMatchObject({ code: 'ERR_TIMEOUT' });
    await expect(outcome).rejects.toThrow(`backfill: ${what} did not settle within 20 ms`);
  });

  it('says backfill was aborted when the signal aborted before it started', async () => {
    const { from, to } = stores(3);
    const controller = new AbortController();
    controller.abort();
    await expect(run({ from, to, signal: controller.signal })).rejects.toThrow(/backfill was aborted/);
  });

  it('names from when its keyOrder answers something other than a function', async () => {
    const { from, to } = stores(3);
    await expect(run({ from: withMethods(from, { keyOrder: async () => 'C' }), to })).rejects.toMatchObject({ code: 'ERR_INVALID_OPTION', option: 'from' });
  });
});

describe('backfill following the source’s own order', () => {
  it('trusts the order of a source that cannot tell it, refusing only a repeated key', async () => {
    // Keys that sort numerically in the store ("9" before "10"), not as JavaScript compares text.
    const rows = Array.from({ length: 12 }, (_, i) => ({ id: String(i + 1), name: `n${i}`, qty: i }));
    const numeric: Repository<Item, string> = {
      get: async (key) => rows.find((row) => row.id === key),
      save: async () => {},
      delete: async () => {},
      getBatch: async (after, limit) => rows.filter((row) => after === null || Number(row.id) > Number(after)).slice(0, limit),
      keyOrder: async () => undefined,
    };
    const to = new InMemoryRepository<Item, string>({ keyOf: itemKey });
    expect(await run({ from: numeric, to, batchSize: 5 })).toEqual({ copied: 12, skipped: 0, batches: 3, lastKey: '12' });
    expect(to.size).toBe(12);
  });
});

describe('backfill reading ahead', () => {
  function logged(overwrite: boolean) {
    const { from, to } = stores(4);
    const ops: string[] = [];
    from.beforeOp = (op) => void ops.push(`from.${op}`);
    to.beforeOp = (op) => void ops.push(`to.${op}`);
    return { from, to, ops, overwrite };
  }

  it('reads the next page while a batch is inserted (insert-if-absent with bulkInsert)', async () => {
    const { from, to, ops } = logged(false);
    await run({ from, to, batchSize: 2 });
    expect(ops.slice(0, 3)).toEqual(['from.getBatch', 'from.getBatch', 'to.bulkInsert']);
  });

  it('reads the next page only after the batch was written when rows are replaced', async () => {
    const { from, to, ops } = logged(true);
    await run({ from, to, batchSize: 2, overwrite: true });
    expect(ops.slice(0, 4)).toEqual(['from.getBatch', 'to.save', 'to.save', 'from.get']);
  });
});

describe('backfill copying inside the store', () => {
  function copying(rows: number, clock?: ManualClock, answer: 'copy' | 'cannot' = 'copy') {
    const store = new InMemoryRepository<Item, string>({ keyOf: itemKey, name: 'old' }).seed(Array.from({ length: rows }, (_, i) => item(i)));
    const to = new InMemoryRepository<Item, string>({ keyOf: itemKey, name: 'new' });
    const limits: number[] = [];
    const from = withMethods(store, {
      async copyRangeTo(target: Repository<Item, string>, range: CopyRange<string>): Promise<RangeCopy<string> | undefined> {
        limits.push(range.limit);
        if (answer === 'cannot') return undefined;
        clock?.advance(range.limit);
        const page = await store.getBatch(range.after, range.limit);
        const inserted = await to.bulkInsert!(page);
        return { count: page.length, last: page.length === 0 ? null : itemKey(page[page.length - 1] as Item), inserted: inserted.length };
      },
    });
    return { from, to, limits, store };
  }

  it('asks copyRangeTo once only when it cannot copy into this target, then copies row by row', async () => {
    const { from, to, limits, store } = copying(10, undefined, 'cannot');
    expect(await run({ from, to, batchSize: 3 })).toMatchObject({ copied: 10, batches: 4 });
    expect(limits).toEqual([3]);
    expect(to.snapshot()).toEqual(store.snapshot());
  });

  it('sizes its batches by how long each copy took', async () => {
    // Each copy takes 1 ms a row: with a target of 100 ms the batch doubles up to 100 rows.
    const clock = new ManualClock({ start: 1_000_000 });
    const { from, to, limits } = copying(300, clock);
    await run({ from, to, batchSize: 10, targetBatchMs: 100, minBatchSize: 1, clock });
    expect(limits.slice(0, 5)).toEqual([10, 20, 40, 80, 100]);
    expect(to.size).toBe(300);
  });
});

describe('backfill reporting', () => {
  it('estimates the time left from the rows copied and skipped', async () => {
    const { from, to } = stores(10, false);
    to.seed([item(0), item(1)]);
    const clock = new ManualClock({ start: 0 });
    const progress: BackfillProgress<string>[] = [];
    const slow = withMethods(from, {
      getBatch: async (after: string | null, limit: number) => {
        clock.advance(100);
        return from.getBatch(after, limit);
      },
    });
    await run({ from: slow, to, batchSize: 5, clock, totalRows: 20, onProgress: (p) => progress.push(p) });
    // First batch: 5 rows read in 100 ms (50 rows/s); 3 copied + 2 skipped = 5 done of 20: 15 left, 300 ms.
    expect(progress[0]).toMatchObject({ copied: 3, skipped: 2, rowsPerSecond: 50, elapsedMs: 100 });
    expect(progress[0]?.etaMs).toBeCloseTo(300);
  });

  it('gives no estimate while no time has passed, nor without totalRows', async () => {
    const { from, to } = stores(4);
    const clock = new ManualClock({ start: 0 });
    const withTotal: BackfillProgress<string>[] = [];
    await run({ from, to, batchSize: 2, clock, totalRows: 4, onProgress: (p) => withTotal.push(p) });
    expect(withTotal[0]).toMatchObject({ rowsPerSecond: 0, elapsedMs: 0 });
    expect(withTotal[0]).not.toHaveProperty('etaMs');
    const again = stores(4);
    const timed = withMethods(again.from, {
      getBatch: async (after: string | null, limit: number) => {
        clock.advance(10);
        return again.from.getBatch(after, limit);
      },
    });
    const without: BackfillProgress<string>[] = [];
    await run({ from: timed, to: again.to, batchSize: 2, clock, onProgress: (p) => without.push(p) });
    expect(without[0]?.rowsPerSecond).toBeGreaterThan(0);
    expect(without[0]).not.toHaveProperty('etaMs');
  });

  it('logs the error of an onProgress that throws', async () => {
    const { from, to } = stores(2);
    const logger = recordingLogger();
    await backfill({ from, to, keyOf: itemKey, logger, onProgress: () => {
      throw new Error('listener broke');
    } });
    const warns = logger.lines.filter((line) => line.level === 'warn');
    expect(warns).toHaveLength(1);
    expect(warns[0]?.context).toMatchObject({ err: { message: 'listener broke' } });
  });

  it('logs the error and the new size when a write timed out and is retried smaller', async () => {
    const { from, to } = stores(20);
    const logger = recordingLogger();
    const real = to.bulkInsert!.bind(to);
    let first = true;
    to.bulkInsert = async (rows) => {
      if (first) {
        first = false;
        throw Object.assign(new Error('canceling statement due to statement timeout'), { code: '57014' });
      }
      return real(rows);
    };
    expect(await backfill({ from, to, keyOf: itemKey, logger, batchSize: 20, targetBatchMs: 100, minBatchSize: 1 })).toMatchObject({ copied: 20 });
    const warns = logger.lines.filter((line) => line.level === 'warn');
    expect(warns).toHaveLength(1);
    expect(warns[0]?.context).toMatchObject({ err: { code: '57014' }, batchSize: 10 });
  });
});

describe('backfill checkpoints it cannot read', () => {
  const valid = { kind: 'backfill', lastKey: 'k0002', copied: 3, skipped: 0, batches: 1, done: false };

  it.each<[string, Record<string, unknown>]>([
    ['another kind', { ...valid, kind: 'verify' }],
    ['no lastKey', { kind: 'backfill', copied: 3, skipped: 0, batches: 1, done: false }],
    ['a copied count that is text', { ...valid, copied: '3' }],
    ['a skipped count that is text', { ...valid, skipped: '0' }],
    ['a batch count that is text', { ...valid, batches: '1' }],
    ['a done flag that is text', { ...valid, done: 'no' }],
    ['a key that is not finite', { ...valid, lastKey: Number.NaN }],
    ['a key that is an object', { ...valid, lastKey: { id: 1 } }],
    ['a key that is a boolean', { ...valid, lastKey: true }],
  ])('refuses a checkpoint with %s, showing what it holds', async (_, state) => {
    const { from, to } = stores(5);
    await expect(run({ from, to, checkpoint: checkpointOf(state) })).rejects.toThrow(/option `checkpoint` holds something other than a backfill checkpoint: an object/);
    expect(from.counts.getBatch).toBe(0);
  });

  it.each<[string, unknown]>([
    ['a text key', 'k0002'],
    ['a number key', 2],
    ['no key yet', null],
  ])('resumes from a checkpoint with %s', async (_, lastKey) => {
    const { from, to } = stores(5);
    const result = await run({ from, to, checkpoint: checkpointOf({ ...valid, lastKey }) });
    expect(result.copied).toBeGreaterThanOrEqual(3);
  });
});
