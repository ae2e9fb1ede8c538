import { describe, expect, it } from 'vitest';
import type { BackfillOptions } from '../../src/data/backfill.js';
import { backfill } from '../../src/data/backfill.js';
import { silentLogger } from '../../src/observe/logger.js';
import { InMemoryRepository, ManualClock } from '../../src/testing/index.js';
import type { Item } from './repository-conformance.js';
import { item, itemKey } from './repository-conformance.js';

/**
 * A source and a target whose write latency the test sets: each bulkInsert
 * advances the manual clock by `msPerRow` per row (no real time passes),
 * and may fail instead, as a statement timeout would.
 */
function slowTarget(rows: number) {
  const clock = new ManualClock();
  const from = new InMemoryRepository<Item, string>({ keyOf: itemKey }).seed(Array.from({ length: rows }, (_, i) => item(i)));
  const to = new InMemoryRepository<Item, string>({ keyOf: itemKey });
  const insert = to.bulkInsert!;
  const target = { msPerRow: 1, failAbove: Infinity, written: [] as number[], attempts: [] as number[] };
  to.bulkInsert = async (entities) => {
    target.attempts.push(entities.length);
    if (entities.length > target.failAbove) {
      throw Object.assign(new Error('canceling statement due to statement timeout'), { code: '57014' });
    }
    clock.advance(target.msPerRow * entities.length);
    target.written.push(entities.length);
    return insert(entities);
  };
  const sleeps: { ms: number; afterRows: number }[] = [];
  const sleep = async (ms: number): Promise<void> => {
    sleeps.push({ ms, afterRows: to.size });
    clock.advance(ms);
  };
  const run = (options: Partial<BackfillOptions<Item, string>>) => backfill({ from, to, keyOf: itemKey, logger: silentLogger, clock, sleep, ...options });
  return { from, to, target, sleeps, run };
}

describe('backfill with targetBatchMs', () => {
  it('grows the batch while writes are fast, shrinks it and backs off when the target slows down', async () => {
    const { from, to, target, sleeps, run } = slowTarget(12_000);
    // 1 ms a row: 500 rows make the 500 ms target. After 5,000 rows the target becomes five times slower.
    const result = run({ batchSize: 50, targetBatchMs: 500, onProgress: (p) => void (p.copied >= 5_000 && (target.msPerRow = 5)) });
    expect(await result).toMatchObject({ copied: 12_000, skipped: 0 });
    expect(to.snapshot()).toEqual(from.snapshot());
    const fast = target.written.slice(0, target.written.findIndex((_, i) => target.written.slice(0, i + 1).reduce((a, b) => a + b, 0) >= 5_000) + 1);
    // Growing: never down, at most doubling, up to the 500 rows the target allows.
    for (let i = 1; i < fast.length; i++) {
      expect(fast[i]).toBeGreaterThanOrEqual(fast[i - 1] as number);
      expect(fast[i]).toBeLessThanOrEqual(2 * (fast[i - 1] as number));
    }
    expect(Math.max(...fast)).toBe(500);
    expect(sleeps.filter((s) => s.afterRows <= 5_000)).toEqual([]);
    // Slow: back to the 100 rows that take 500 ms at 5 ms a row, after at most one batch read ahead at the old size.
    const slow = target.written.slice(fast.length + 2, -1);
    expect(slow.length).toBeGreaterThan(10);
    expect(new Set(slow)).toEqual(new Set([100]));
    // And the run pauses in proportion to the slowdown: 5 times the baseline latency per row, 4 times the write time.
    expect(sleeps.length).toBeGreaterThan(10);
    expect(sleeps.every((s) => s.afterRows > 5_000)).toBe(true);
    expect(sleeps.at(-1)?.ms).toBe(100 * 5 * 4);
  });

  it('judges a slowdown against the median of the first batches, so one lucky fast batch does not make every later one look slow', async () => {
    const { from, to, target, sleeps, run } = slowTarget(6_000);
    // The first batch lands in 0.2 ms a row (an empty table, a quiet moment), every later one in 1 ms a row.
    let batches = 0;
    const insert = to.bulkInsert!;
    to.bulkInsert = async (entities) => {
      target.msPerRow = batches++ === 0 ? 0.2 : 1;
      return insert(entities);
    };
    expect(await run({ batchSize: 100, targetBatchMs: 500 })).toMatchObject({ copied: 6_000 });
    expect(to.snapshot()).toEqual(from.snapshot());
    // Against the best batch (0.2 ms a row) every later batch would be five times slower and pause.
    expect(sleeps).toEqual([]);
    // A real slowdown still pauses: twice past the baseline of 1 ms a row.
    const again = slowTarget(3_000);
    let n = 0;
    const put = again.to.bulkInsert!;
    again.to.bulkInsert = async (entities) => {
      again.target.msPerRow = n++ < 8 ? 1 : 3;
      return put(entities);
    };
    await again.run({ batchSize: 100, targetBatchMs: 500 });
    expect(again.sleeps.length).toBeGreaterThan(0);
    expect(again.sleeps.every((s) => s.afterRows > 0)).toBe(true);
  });

  it('stays within minBatchSize and maxBatchSize', async () => {
    const fast = slowTarget(5_000);
    fast.target.msPerRow = 0.01;
    await fast.run({ batchSize: 100, targetBatchMs: 500, maxBatchSize: 800 });
    expect(Math.max(...fast.target.written)).toBe(800);
    const slow = slowTarget(300);
    slow.target.msPerRow = 1_000;
    await slow.run({ batchSize: 100, targetBatchMs: 500, minBatchSize: 20 });
    expect(slow.target.written.slice(2)).toEqual(Array(slow.target.written.length - 2).fill(20));
  });

  it('halves the batch and retries it when a write times out, and completes the copy', async () => {
    const { from, to, target, run } = slowTarget(1_000);
    target.failAbove = 60;
    const result = await run({ batchSize: 400, targetBatchMs: 500 });
    expect(result).toMatchObject({ copied: 1_000, skipped: 0 });
    expect(to.snapshot()).toEqual(from.snapshot());
    expect(target.attempts.slice(0, 4)).toEqual([400, 200, 100, 50]);
    expect(Math.max(...target.written)).toBeLessThanOrEqual(60);
  });

  it('learns from a page read ahead at the size before the last change: it was full for the size it was asked with', async () => {
    const { from, to, target, run } = slowTarget(2_000);
    // 1 ms a row for the first batch, then ten times slower: 50 rows take the 500 ms target.
    const insert = to.bulkInsert!;
    let batches = 0;
    to.bulkInsert = async (entities) => {
      target.msPerRow = batches++ === 0 ? 1 : 10;
      return insert(entities);
    };
    expect(await run({ batchSize: 100, targetBatchMs: 500 })).toMatchObject({ copied: 2_000 });
    expect(to.snapshot()).toEqual(from.snapshot());
    // The second page was read (100 rows) while the first was written; the size had grown to 200 meanwhile.
    // Its slow write still shrinks the size at once, so only the page read ahead at 200 comes before 50-row batches.
    expect(target.written.slice(0, 5)).toEqual([100, 100, 200, 50, 50]);
  });

  it('fails with the timeout when even minBatchSize times out', async () => {
    const { target, run } = slowTarget(100);
    target.failAbove = 0;
    await expect(run({ batchSize: 40, targetBatchMs: 500, minBatchSize: 10 })).rejects.toMatchObject({ code: '57014' });
    expect(target.attempts).toEqual([40, 20, 10]);
  });

  it('treats its own ERR_TIMEOUT (a write that never answers) like a statement timeout', async () => {
    const { to, run } = slowTarget(200);
    const insert = to.bulkInsert!;
    to.bulkInsert = (entities) => (entities.length > 50 ? new Promise(() => {}) : insert(entities));
    expect(await run({ batchSize: 200, targetBatchMs: 500, timeoutMs: 20 })).toMatchObject({ copied: 200 });
  });

  it('without targetBatchMs keeps batchSize and never backs off, however slow the target', async () => {
    const { target, sleeps, run } = slowTarget(1_000);
    target.msPerRow = 50;
    await run({ batchSize: 100, onProgress: (p) => void (p.batches === 3 && (target.msPerRow = 500)) });
    expect(new Set(target.written)).toEqual(new Set([100]));
    expect(sleeps).toEqual([]);
  });

  it('refuses bad sizing options, naming them', async () => {
    const { run } = slowTarget(1);
    await expect(run({ targetBatchMs: 0 })).rejects.toMatchObject({ code: 'ERR_INVALID_OPTION', option: 'targetBatchMs' });
    await expect(run({ targetBatchMs: 500, minBatchSize: 100, maxBatchSize: 10 })).rejects.toMatchObject({ code: 'ERR_INVALID_OPTION', option: 'minBatchSize' });
    await expect(run({ targetBatchMS: 500 } as never)).rejects.toThrow(/did you mean `targetBatchMs`/);
  });
});
