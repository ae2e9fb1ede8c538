import { afterEach, describe, expect, it, vi } from 'vitest';
import type { CheckpointStore } from '../../src/data/checkpoint-store.js';
import { InMemoryCheckpointStore } from '../../src/data/checkpoint-store.js';
import type { PartitionedBackfillOptions } from '../../src/data/partition-backfill.js';
import { backfillPartitioned } from '../../src/data/partition-backfill.js';
import { InMemoryPartitionLeases } from '../../src/data/partition-memory-leases.js';
import type { PartitionLease, PartitionLeases, PartitionProgress } from '../../src/data/partition.js';
import { InMemoryRepository, ManualClock } from '../../src/testing/index.js';
import { recordingLogger } from '../helpers.js';

// src/data/partition-backfill.ts: how backfillPartitioned works the ranges
// of the plan, what it reports, logs and returns.

interface Row {
  readonly id: number;
}
const keyOf = (row: Row): number => row.id;

function world(n: number) {
  const from = new InMemoryRepository<Row, number>({ keyOf, name: 'old' }).seed(Array.from({ length: n }, (_, i) => ({ id: i + 1 })));
  const to = new InMemoryRepository<Row, number>({ keyOf, name: 'new' });
  const stores = new Map<string, InMemoryCheckpointStore>();
  const checkpointFor = (name: string): CheckpointStore => {
    let store = stores.get(name);
    if (store === undefined) stores.set(name, (store = new InMemoryCheckpointStore()));
    return store;
  };
  const clock = new ManualClock({ start: 0 });
  const sleeps: number[] = [];
  const sleep = async (ms: number): Promise<void> => {
    sleeps.push(ms);
    clock.advance(ms);
  };
  const logger = recordingLogger();
  return { from, to, stores, checkpointFor, clock, sleep, sleeps, logger };
}

type World = ReturnType<typeof world>;

function options(w: World, extra: Partial<PartitionedBackfillOptions<Row, number>> = {}): PartitionedBackfillOptions<Row, number> {
  return {
    from: w.from,
    to: w.to,
    keyOf,
    checkpointFor: w.checkpointFor,
    leases: new InMemoryPartitionLeases({ clock: w.clock }),
    logger: w.logger,
    clock: w.clock,
    sleep: w.sleep,
    batchSize: 4,
    splitAt: [5, 10],
    workerId: 'w1',
    retryMs: 30,
    ...extra,
  };
}

const warnings = (w: World) => w.logger.lines.filter((line) => line.level === 'warn');

describe('backfillPartitioned, one worker', () => {
  it('sums copied, skipped and batches over the ranges, and gives each range its bounds and results', async () => {
    const w = world(12);
    await w.to.save({ id: 2 });
    await w.to.save({ id: 11 });
    const result = await backfillPartitioned(options(w));
    // Range 0 holds keys 1..5 (4 + 1 rows: 2 batches), range 1 6..10 (2 batches), range 2 11..12 (1 batch).
    expect(result.ranges).toEqual([
      { index: 0, after: null, upTo: 5, copied: 4, skipped: 1, batches: 2, lastKey: 5 },
      { index: 1, after: 5, upTo: 10, copied: 5, skipped: 0, batches: 2, lastKey: 10 },
      { index: 2, after: 10, upTo: null, copied: 1, skipped: 1, batches: 1, lastKey: 12 },
    ]);
    expect(result.copied).toBe(10);
    expect(result.skipped).toBe(2);
    expect(result.batches).toBe(5);
    expect(w.to.snapshot()).toEqual(w.from.snapshot());
  });

  it('never waits when it finished a range in each pass, and warns about nothing', async () => {
    const w = world(12);
    await backfillPartitioned(options(w));
    expect(w.sleeps).toEqual([]);
    expect(warnings(w)).toEqual([]);
  });

  it('logs the end with the number of ranges, the rows copied and the worker', async () => {
    const w = world(12);
    await backfillPartitioned(options(w, { workerId: 'w9' }));
    const done = w.logger.lines.filter((line) => line.level === 'info' && line.message === 'backfillPartitioned done');
    expect(done.map((line) => line.context)).toEqual([{ ranges: 3, copied: 12, worker: 'w9' }]);
  });

  it('reports each batch with its range, the number of ranges and the worker, then each range\'s totals', async () => {
    const w = world(6);
    const reports: PartitionProgress<number>[] = [];
    await backfillPartitioned(options(w, { workerId: 'w3', splitAt: [4], onProgress: (p) => void reports.push(p) }));
    expect(reports.map((p) => [p.range, p.ranges, p.worker, p.rangeDone, p.copied, p.lastKey])).toEqual([
      [0, 2, 'w3', false, 4, 4],
      [0, 2, 'w3', true, 4, 4],
      [1, 2, 'w3', false, 2, 6],
      [1, 2, 'w3', true, 2, 6],
    ]);
    const totals = reports.filter((p) => p.rangeDone);
    expect(totals.map((p) => [p.batches, p.skipped, p.rowsPerSecond, p.elapsedMs])).toEqual([
      [1, 0, 0, 0],
      [1, 0, 0, 0],
    ]);
    expect(warnings(w)).toEqual([]);
  });

  it('logs a listener that throws on a range\'s totals, and goes on', async () => {
    const w = world(6);
    const failure = new Error('listener broke');
    const result = await backfillPartitioned(
      options(w, {
        splitAt: [4],
        onProgress: (p) => {
          if (p.rangeDone) throw failure;
        },
      }),
    );
    expect(result.copied).toBe(6);
    expect(warnings(w).map((line) => [line.context, line.message])).toEqual([
      [{ err: expect.objectContaining({ message: 'listener broke' }) }, 'backfillPartitioned onProgress threw'],
      [{ err: expect.objectContaining({ message: 'listener broke' }) }, 'backfillPartitioned onProgress threw'],
    ]);
  });
});

describe('backfillPartitioned, the leases of the ranges', () => {
  it('takes each range\'s lease in the worker\'s name and gives it back', async () => {
    const w = world(6);
    const inner = new InMemoryPartitionLeases({ clock: w.clock });
    const taken: [string, string][] = [];
    const released: string[] = [];
    const leases: PartitionLeases = {
      async acquire(name, owner) {
        taken.push([name, owner]);
        const lease = await inner.acquire(name, owner);
        return lease === undefined ? undefined : { renew: () => lease.renew(), release: async () => (released.push(name), lease.release()) };
      },
    };
    await backfillPartitioned(options(w, { leases, workerId: 'w5', splitAt: [3] }));
    expect(taken).toEqual([
      ['plan', 'w5'],
      ['range-0', 'w5'],
      ['range-1', 'w5'],
    ]);
    expect(released).toEqual(['plan', 'range-0', 'range-1']);
  });

  it('waits retryMs while another worker holds a range, and finishes it once that lease expired', async () => {
    const w = world(6);
    const leases = new InMemoryPartitionLeases({ clock: w.clock, ttlMs: 100 });
    await leases.acquire('range-1', 'other');
    const result = await backfillPartitioned(options(w, { leases, splitAt: [3], retryMs: 30 }));
    // 30, 60, 90: still held; at 120 ms the lease has expired.
    expect(w.sleeps).toEqual([30, 30, 30, 30]);
    expect(result.copied).toBe(6);
    expect(result.ranges.map((r) => r.copied)).toEqual([3, 3]);
  });

  it('logs a range lease that cannot be given back, with the error and the range, and goes on', async () => {
    const w = world(6);
    const failure = new Error('lease store down');
    const inner = new InMemoryPartitionLeases({ clock: w.clock });
    const leases: PartitionLeases = {
      async acquire(name, owner) {
        const lease = await inner.acquire(name, owner);
        if (lease === undefined || name !== 'range-1') return lease;
        return {
          renew: () => lease.renew(),
          release: async () => {
            throw failure;
          },
        };
      },
    };
    const result = await backfillPartitioned(options(w, { leases, splitAt: [3] }));
    expect(result.copied).toBe(6);
    expect(warnings(w).map((line) => line.context)).toEqual([{ err: expect.objectContaining({ message: 'lease store down' }), range: 1 }]);
  });

  it('leaves a range whose lease it lost to the worker that holds it now, logging which, and takes it again later', async () => {
    const w = world(6);
    const inner = new InMemoryPartitionLeases({ clock: w.clock });
    let lost = 0;
    const asked: string[] = [];
    const leases: PartitionLeases = {
      async acquire(name, owner) {
        asked.push(name);
        const lease = await inner.acquire(name, owner);
        if (lease === undefined || name !== 'range-0' || lost > 0) return lease;
        lost += 1;
        const losing: PartitionLease = { renew: async () => false, release: () => lease.release() };
        return losing;
      },
    };
    const result = await backfillPartitioned(options(w, { leases, splitAt: [3], workerId: 'w4' }));
    expect(lost).toBe(1);
    expect(result.copied + result.skipped).toBe(6);
    expect(w.to.snapshot()).toEqual(w.from.snapshot());
    expect(warnings(w).map((line) => [line.context, line.message])).toEqual([
      [{ range: 0, worker: 'w4' }, 'backfillPartitioned: the lease of a range was lost; another worker goes on with it'],
    ]);
    // Range 1 was done in the first pass, and is not asked for again: no wait before range 0 was taken again.
    expect(w.sleeps).toEqual([]);
    expect(asked).toEqual(['plan', 'range-0', 'range-1', 'range-0']);
  });

  it('passes on an error that is not a lost lease', async () => {
    const w = world(6);
    const failure = new Error('target down');
    w.to.bulkInsert = async () => {
      throw failure;
    };
    await expect(backfillPartitioned(options(w))).rejects.toBe(failure);
  });
});

describe('backfillPartitioned, its checks', () => {
  it('names the part whose checkpointFor gave no checkpoint store, and needs load, save and clear', async () => {
    const w = world(3);
    const only = (bad: string, store: unknown) => (name: string): CheckpointStore => (name === bad ? (store as CheckpointStore) : w.checkpointFor(name));
    await expect(backfillPartitioned(options(w, { checkpointFor: only('plan', null) }))).rejects.toThrow(
      /option `checkpointFor` must return a CheckpointStore \(load, save, clear\) for "plan", got null/,
    );
    const noClear = { load: async () => undefined, save: async () => {} };
    await expect(backfillPartitioned(options(w, { checkpointFor: only('range-1', noClear) }))).rejects.toThrow(/must return a CheckpointStore \(load, save, clear\) for "range-1"/);
    const noSave = { load: async () => undefined, clear: async () => {} };
    await expect(backfillPartitioned(options(world(3), { checkpointFor: only('range-0', noSave) }))).rejects.toThrow(/for "range-0"/);
    const noLoad = { save: async () => {}, clear: async () => {} };
    await expect(backfillPartitioned(options(world(3), { checkpointFor: only('range-0', noLoad) }))).rejects.toThrow(/for "range-0"/);
  });

  it('compares the bounds in the order given, without asking from', async () => {
    const w = world(6);
    let asked = 0;
    const from = Object.assign(w.from, { keyOrder: async () => ((asked += 1), undefined) });
    // Descending: range 0 holds the keys from 6 down to 4.
    const descending = (a: number, b: number) => b - a;
    w.from.getBatch = async (afterKey, limit) =>
      w.from
        .snapshot()
        .sort((a, b) => b.id - a.id)
        .filter((row) => afterKey === null || row.id < afterKey)
        .slice(0, limit);
    const result = await backfillPartitioned(options(w, { from, compareKeys: descending, splitAt: [4] }));
    expect(asked).toBe(0);
    expect(result.ranges.map((r) => r.copied)).toEqual([3, 3]);
  });

  it('uses the key order from gives, asked of from itself', async () => {
    const w = world(6);
    const seen: unknown[] = [];
    const descending = (a: number, b: number) => b - a;
    const from = Object.assign(w.from, {
      keyOrder(this: unknown) {
        seen.push(this);
        return Promise.resolve(descending);
      },
    });
    w.from.getBatch = async (afterKey, limit) =>
      w.from
        .snapshot()
        .sort((a, b) => b.id - a.id)
        .filter((row) => afterKey === null || row.id < afterKey)
        .slice(0, limit);
    const result = await backfillPartitioned(options(w, { from, splitAt: [2] }));
    expect(seen[0]).toBe(from);
    expect(result.ranges.map((r) => r.copied)).toEqual([5, 1]);
  });

  it('refuses a from that cannot tell its key order, saying what it answered', async () => {
    const w = world(3);
    const from = Object.assign(w.from, { keyOrder: async () => 'C' });
    await expect(backfillPartitioned(options(w, { from: from as never }))).rejects.toThrow(
      /option `compareKeys` is needed: from's keyOrder\(\) resolved with "C", so range bounds cannot be compared in the store's order \(for text keys, a C collation makes it known\)/,
    );
  });

  it('stops before anything when the signal has already aborted, naming itself', async () => {
    const w = world(3);
    const controller = new AbortController();
    controller.abort(new Error('stop'));
    await expect(backfillPartitioned(options(w, { signal: controller.signal }))).rejects.toThrow(/^\[migration-glue\] backfillPartitioned was aborted$/);
    expect(w.stores.size).toBe(0);
  });

  it('stops between ranges when the signal aborts, naming itself', async () => {
    const w = world(6);
    const controller = new AbortController();
    const error = await backfillPartitioned(
      options(w, {
        splitAt: [3],
        signal: controller.signal,
        onProgress: (p) => {
          if (p.rangeDone) controller.abort(new Error('stop'));
        },
      }),
    ).catch((err: unknown) => err);
    expect(error).toMatchObject({ code: 'ERR_ABORTED', message: '[migration-glue] backfillPartitioned was aborted' });
    expect(w.to.snapshot().map(keyOf)).toEqual([1, 2, 3]);
  });
});

describe('backfillPartitioned, calls that do not settle', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('names from.keyOrder when it does not settle within timeoutMs', async () => {
    vi.useFakeTimers();
    const w = world(3);
    const from = Object.assign(w.from, { keyOrder: () => new Promise<never>(() => {}) });
    const outcome = backfillPartitioned(options(w, { from, timeoutMs: 50 })).catch((err: unknown) => err);
    await vi.advanceTimersByTimeAsync(50);
    expect(await outcome).toMatchObject({ code: 'ERR_TIMEOUT', message: expect.stringContaining('backfillPartitioned: from.keyOrder did not settle within 50 ms') as unknown });
  });

  it('names the range whose lease does not settle within timeoutMs', async () => {
    vi.useFakeTimers();
    const w = world(3);
    const inner = new InMemoryPartitionLeases({ clock: w.clock });
    const leases: PartitionLeases = {
      acquire: (name, owner) => (name === 'range-1' ? new Promise<never>(() => {}) : inner.acquire(name, owner)),
    };
    const outcome = backfillPartitioned(options(w, { leases, splitAt: [1], timeoutMs: 50 })).catch((err: unknown) => err);
    await vi.advanceTimersByTimeAsync(50);
    expect(await outcome).toMatchObject({ code: 'ERR_TIMEOUT', message: expect.stringContaining('backfillPartitioned: leases.acquire(range-1) did not settle') as unknown });
  });
});
