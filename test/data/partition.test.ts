import { setImmediate as yieldOnce } from 'node:timers/promises';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { CheckpointStore } from '../../src/data/checkpoint-store.js';
import { InMemoryCheckpointStore } from '../../src/data/checkpoint-store.js';
import type { PartitionedBackfillOptions } from '../../src/data/partition-backfill.js';
import { backfillPartitioned } from '../../src/data/partition-backfill.js';
import { LeaseLostError } from '../../src/data/partition-errors.js';
import { InMemoryPartitionLeases } from '../../src/data/partition-memory-leases.js';
import type { PartitionLeases, PartitionProgress } from '../../src/data/partition.js';
import { leasedCheckpoint } from '../../src/data/partition-range.js';
import { MigrationGlueError } from '../../src/errors.js';
import { silentLogger } from '../../src/observe/logger.js';
import { InMemoryRepository, ManualClock } from '../../src/testing/index.js';

interface Row {
  readonly id: number;
  readonly name: string;
}
const keyOf = (row: Row): number => row.id;
const rows = (n: number): Row[] => Array.from({ length: n }, (_, i) => ({ id: i * 3 + 1, name: `row-${i}` }));

/** An InMemoryRepository that splits its keys into parts of equal size, as sqlRepository does in SQL. */
class SplittableRepository extends InMemoryRepository<Row, number> {
  splits = 0;
  async splitKeys(parts: number): Promise<readonly number[]> {
    this.splits += 1;
    const keys = this.snapshot().map(keyOf);
    const out: number[] = [];
    for (let i = 1; i < parts; i++) {
      const at = Math.floor((keys.length * i) / parts) - 1;
      if (at >= 0 && (out.length === 0 || (keys[at] as number) > (out[out.length - 1] as number))) out.push(keys[at] as number);
    }
    return out;
  }
}

function world(n: number) {
  const from = new SplittableRepository({ keyOf, name: 'old' }).seed(rows(n));
  const to = new InMemoryRepository<Row, number>({ keyOf, name: 'new' });
  const checkpoints = new Map<string, InMemoryCheckpointStore>();
  const checkpointFor = (name: string): CheckpointStore => {
    let store = checkpoints.get(name);
    if (store === undefined) checkpoints.set(name, (store = new InMemoryCheckpointStore()));
    return store;
  };
  const clock = new ManualClock({ start: 0 });
  // Waiting for a range another worker holds moves simulated time and lets the other worker run.
  const sleep = async (ms: number): Promise<void> => {
    clock.advance(ms);
    await yieldOnce();
  };
  return { from, to, checkpoints, checkpointFor, clock, sleep };
}

type World = ReturnType<typeof world>;

function options(w: World, extra: Partial<PartitionedBackfillOptions<Row, number>> & { leases: PartitionLeases }): PartitionedBackfillOptions<Row, number> {
  return { from: w.from, to: w.to, keyOf, checkpointFor: w.checkpointFor, logger: silentLogger, clock: w.clock, sleep: w.sleep, batchSize: 7, partitions: 4, ...extra };
}

/** Leases of a worker that dies: it never gets to give them back. */
function dying(leases: PartitionLeases): PartitionLeases {
  return {
    async acquire(name, owner) {
      const lease = await leases.acquire(name, owner);
      return lease === undefined ? undefined : { renew: () => lease.renew(), release: async () => {} };
    },
  };
}

describe('backfillPartitioned with two workers in one process', () => {
  it('copies every row once between them; both resolve with the same sums as one backfill', async () => {
    const w = world(200);
    const leases = new InMemoryPartitionLeases({ clock: w.clock, ttlMs: 1e9 });
    // Each batch write lets the event loop turn, as a real store does: the workers interleave.
    const to = Object.create(w.to) as InMemoryRepository<Row, number>;
    to.bulkInsert = async (entities) => {
      await yieldOnce();
      return (w.to.bulkInsert as NonNullable<typeof w.to.bulkInsert>)(entities);
    };
    const seen = new Map<string, Set<number>>();
    const onProgress = (p: PartitionProgress<number>) => {
      // The batches each worker wrote (not the totals of ranges found done).
      if (p.rangeDone) return;
      const set = seen.get(p.worker) ?? new Set<number>();
      set.add(p.range);
      seen.set(p.worker, set);
    };
    const [a, b] = await Promise.all([
      backfillPartitioned(options(w, { to, leases, workerId: 'a', onProgress })),
      backfillPartitioned(options(w, { to, leases, workerId: 'b', onProgress })),
    ]);
    expect(w.to.snapshot()).toEqual(w.from.snapshot());
    expect(a).toEqual(b);
    expect(a.copied).toBe(200);
    expect(a.skipped).toBe(0);
    expect(a.ranges.map((r) => [r.index, r.after, r.upTo])).toEqual([
      [0, null, 148],
      [1, 148, 298],
      [2, 298, 448],
      [3, 448, null],
    ]);
    // Both did some of the work, and no range was done twice.
    expect(seen.get('a')?.size).toBeGreaterThan(0);
    expect(seen.get('b')?.size).toBeGreaterThan(0);
    expect((seen.get('a')?.size ?? 0) + (seen.get('b')?.size ?? 0)).toBe(4);
    expect(w.to.counts.rowsWritten).toBe(200);
    // The plan was made once, by one worker.
    expect(w.from.splits).toBe(1);
  });

  it('never redoes a range saved as done: a second run writes nothing and gives the same result', async () => {
    const w = world(50);
    const leases = new InMemoryPartitionLeases({ clock: w.clock });
    const first = await backfillPartitioned(options(w, { leases }));
    const writes = w.to.counts.bulkInsert;
    const reads = w.from.counts.getBatch;
    const second = await backfillPartitioned(options(w, { leases, workerId: 'late' }));
    expect(second).toEqual(first);
    expect(w.to.counts.bulkInsert).toBe(writes);
    expect(w.from.counts.getBatch).toBe(reads);
  });

  it('splits at the keys given with splitAt, and the empty ranges cost nothing', async () => {
    const w = world(30);
    const leases = new InMemoryPartitionLeases({ clock: w.clock });
    const result = await backfillPartitioned(options(w, { leases, partitions: undefined, splitAt: [10, 40, 1000, 2000] }));
    expect(result.ranges.map((r) => r.copied)).toEqual([4, 10, 16, 0, 0]);
    expect(w.to.snapshot()).toEqual(w.from.snapshot());
    expect(w.from.splits).toBe(0);
  });
});

describe('backfillPartitioned when from can copy inside the store (copyRangeTo)', () => {
  /** Copies key ranges into another InMemoryRepository as a database would, recording the ranges asked for. */
  class CopyingRepository extends SplittableRepository {
    readonly asked: { after: number | null; upTo: number | null | undefined; limit: number }[] = [];
    async copyRangeTo(target: InMemoryRepository<Row, number>, range: { after: number | null; upTo?: number | null; limit: number }) {
      this.asked.push({ after: range.after, upTo: range.upTo, limit: range.limit });
      const rows = this.snapshot()
        .filter((row) => (range.after === null || row.id > range.after) && (range.upTo === undefined || range.upTo === null || row.id <= range.upTo))
        .slice(0, range.limit);
      const inserted = await (target.bulkInsert as NonNullable<typeof target.bulkInsert>)(rows);
      return { count: rows.length, last: rows.length === 0 ? null : (rows[rows.length - 1] as Row).id, inserted: inserted.length };
    }
  }

  it('copies each range there, bounded by the range, and reads no row through the process', async () => {
    const w = world(0);
    const from = new CopyingRepository({ keyOf }).seed(rows(100));
    const result = await backfillPartitioned(options(w, { from, leases: new InMemoryPartitionLeases(), partitions: 3, batchSize: 20 }));
    expect(result.copied).toBe(100);
    expect(w.to.snapshot()).toEqual(from.snapshot());
    expect(from.counts.getBatch).toBe(0);
    const bounds = result.ranges.map((r) => r.upTo);
    // Every copy was bounded by its range's upper bound, and started within the range.
    for (const asked of from.asked) expect(bounds).toContain(asked.upTo ?? null);
    expect(from.asked.filter((a) => a.after === null)).toHaveLength(1);
    expect(new Set(from.asked.map((a) => a.upTo ?? null))).toEqual(new Set(bounds));
  });
});

describe('backfillPartitioned when a worker crashes mid-range', () => {
  it('another worker takes the range over once its lease expired, resumes it from its checkpoint, and the target equals the source', async () => {
    const w = world(120);
    const leases = new InMemoryPartitionLeases({ clock: w.clock, ttlMs: 10_000 });
    // Worker a dies while writing its third batch: 3 of its 7 rows are written.
    let batches = 0;
    const crashingTo = Object.create(w.to) as InMemoryRepository<Row, number>;
    crashingTo.bulkInsert = async (entities) => {
      if (++batches === 3) w.to.failMidBatch(3);
      return (w.to.bulkInsert as NonNullable<typeof w.to.bulkInsert>)(entities);
    };
    await expect(backfillPartitioned(options(w, { to: crashingTo, leases: dying(leases), workerId: 'a' }))).rejects.toThrow(/injected/i);
    const before = w.clock.now();
    const b = await backfillPartitioned(options(w, { leases, workerId: 'b' }));
    // b could take range 0 only after a's lease ran out.
    expect(w.clock.now() - before).toBeGreaterThanOrEqual(10_000);
    expect(w.to.snapshot()).toEqual(w.from.snapshot());
    expect(b.copied + b.skipped).toBe(120);
    // The batch a wrote without saving its checkpoint was redone: its 3 rows are found in place.
    expect(b.skipped).toBe(3);
  });

  it('holds for any crash point, partition count and batch size (property)', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 0, max: 90 }),
        fc.integer({ min: 1, max: 6 }),
        fc.integer({ min: 1, max: 15 }),
        fc.integer({ min: 1, max: 20 }),
        fc.integer({ min: 0, max: 14 }),
        async (n, partitions, batchSize, crashAt, partial) => {
          const w = world(n);
          const leases = new InMemoryPartitionLeases({ clock: w.clock, ttlMs: 5_000 });
          let batches = 0;
          const crashingTo = Object.create(w.to) as InMemoryRepository<Row, number>;
          crashingTo.bulkInsert = async (entities) => {
            if (++batches === crashAt) w.to.failMidBatch(Math.min(partial, entities.length));
            return (w.to.bulkInsert as NonNullable<typeof w.to.bulkInsert>)(entities);
          };
          const a = await backfillPartitioned(options(w, { to: crashingTo, leases: dying(leases), workerId: 'a', partitions, batchSize })).then(
            () => 'finished',
            () => 'crashed',
          );
          w.to.heal();
          const b = await backfillPartitioned(options(w, { leases, workerId: 'b', partitions, batchSize }));
          expect(w.to.snapshot()).toEqual(w.from.snapshot());
          expect(b.copied + b.skipped).toBe(n);
          if (a === 'finished') expect(b.skipped).toBe(0);
        },
      ),
      { numRuns: 60 },
    );
  });
});

describe('backfillPartitioned when a worker loses its lease mid-range', () => {
  it('stops that range after the batch in flight without saving its checkpoint; the new holder finishes it', async () => {
    const w = world(40);
    const leases = new InMemoryPartitionLeases({ clock: w.clock, ttlMs: 1_000 });
    // a's second batch stalls until b has taken the range over (a's lease expired meanwhile).
    let release!: () => void;
    const stalled = new Promise<void>((resolve) => (release = resolve));
    let reached!: () => void;
    const atStall = new Promise<void>((resolve) => (reached = resolve));
    let batches = 0;
    const slowTo = Object.create(w.to) as InMemoryRepository<Row, number>;
    slowTo.bulkInsert = async (entities) => {
      if (++batches === 2) {
        reached();
        await stalled;
      }
      return (w.to.bulkInsert as NonNullable<typeof w.to.bulkInsert>)(entities);
    };
    const saves: [string, string][] = [];
    const recording = (worker: string) => (name: string): CheckpointStore => {
      const store = w.checkpointFor(name);
      return { load: () => store.load(), clear: () => store.clear(), save: (state) => (saves.push([worker, name]), store.save(state)) };
    };
    const common = { leases, partitions: undefined, splitAt: [], batchSize: 10, retryMs: 10 };
    const a = backfillPartitioned(options(w, { ...common, to: slowTo, workerId: 'a', checkpointFor: recording('a') }));
    await atStall;
    w.clock.advance(1_000);
    let bProgress = 0;
    const b = backfillPartitioned(options(w, { ...common, workerId: 'b', checkpointFor: recording('b'), onProgress: () => void (bProgress += 1) }));
    // b is working the range (a's lease expired); then a's stalled batch is written.
    await expect.poll(() => bProgress, { timeout: 10_000 }).toBeGreaterThan(0);
    release();
    const [resultA, resultB] = await Promise.all([a, b]);
    expect(resultA).toEqual(resultB);
    expect(resultA.copied).toBe(40);
    expect(w.to.snapshot()).toEqual(w.from.snapshot());
    // a saved the plan and its first batch; after its stalled batch it found the lease lost and saved nothing.
    expect(saves.filter(([worker]) => worker === 'a')).toEqual([
      ['a', 'plan'],
      ['a', 'range-0'],
    ]);
    expect(saves.filter(([worker, name]) => worker === 'b' && name === 'range-0').length).toBe(4);
  });

  it('a save after the lease was taken over throws LeaseLostError and leaves the checkpoint alone', async () => {
    const clock = new ManualClock({ start: 0 });
    const leases = new InMemoryPartitionLeases({ clock, ttlMs: 100 });
    const store = new InMemoryCheckpointStore();
    const lease = await leases.acquire('range-0', 'a');
    if (lease === undefined) throw new Error('not taken');
    const guarded = leasedCheckpoint(store, lease, 'range-0');
    await guarded.save({ n: 1 });
    clock.advance(99);
    await guarded.save({ n: 2 }); // renewed: 100 ms more from here
    clock.advance(99);
    expect(await leases.acquire('range-0', 'b')).toBeUndefined();
    clock.advance(1);
    const taken = await leases.acquire('range-0', 'b');
    expect(taken).toBeDefined();
    const err = await guarded.save({ n: 3 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(LeaseLostError);
    expect(MigrationGlueError.is(err, 'ERR_LEASE_LOST')).toBe(true);
    expect(await store.load()).toEqual({ n: 2 });
    // a's release does not free b's lease.
    await lease.release();
    expect(await leases.acquire('range-0', 'c')).toBeUndefined();
    await taken?.release();
    expect(await leases.acquire('range-0', 'c')).toBeDefined();
  });
});

describe('backfillPartitioned options', () => {
  const w = world(5);
  const leases = new InMemoryPartitionLeases();
  const base = options(w, { leases });

  it('refuses an unknown option, naming the nearest one (its own or backfill\'s)', async () => {
    const { partitions: _, ...rest } = base;
    await expect(backfillPartitioned({ ...rest, partition: 4 } as never)).rejects.toThrow(/`partition` is not an option of backfillPartitioned; did you mean `partitions`/);
    await expect(backfillPartitioned({ ...base, batchSise: 4 } as never)).rejects.toThrow(/did you mean `batchSize`/);
    await expect(backfillPartitioned({ ...base, checkpoint: new InMemoryCheckpointStore() } as never)).rejects.toThrow(/`checkpoint` is not an option/);
  });

  it('needs exactly one of partitions and splitAt, and checks both', async () => {
    await expect(backfillPartitioned({ ...base, partitions: undefined })).rejects.toThrow(/exactly one of `partitions`/);
    await expect(backfillPartitioned({ ...base, splitAt: [3] })).rejects.toThrow(/exactly one of `partitions`/);
    await expect(backfillPartitioned({ ...base, partitions: 0 })).rejects.toThrow(/`partitions` must be an integer from 1 to 10000, got 0/);
    await expect(backfillPartitioned({ ...base, partitions: undefined, splitAt: [{}] as never })).rejects.toThrow(/`splitAt` must be an array/);
    await expect(backfillPartitioned({ ...base, partitions: undefined, splitAt: [5, 5] })).rejects.toThrow(/`splitAt` must be strictly ascending/);
    await expect(backfillPartitioned({ ...base, batchSize: -1 })).rejects.toThrow(/`batchSize` must be an integer of at least 1/);
    await expect(backfillPartitioned({ ...base, leases: {} as never })).rejects.toThrow(/`leases` must be an object with acquire\(\)/);
  });

  it('refuses partitions when from cannot split its keys, and a splitter that breaks its contract', async () => {
    const plain = new InMemoryRepository<Row, number>({ keyOf }).seed(rows(5));
    await expect(backfillPartitioned(options(world(0), { leases, from: plain }))).rejects.toThrow(/`partitions` needs a `from` that can split its keys/);
    const liar = Object.assign(new InMemoryRepository<Row, number>({ keyOf }), { splitKeys: async () => [1, 2, 3, 4] });
    await expect(backfillPartitioned(options(world(0), { leases, from: liar }))).rejects.toThrow(/breaks the KeySplitter contract/);
  });

  it('reports the totals of each range it finds done, so a rerun after a finished run still counts every row', async () => {
    const v = world(60);
    const latest = (reports: PartitionProgress<number>[]) => {
      const byRange = new Map<number, number>();
      for (const p of reports) byRange.set(p.range, p.copied + p.skipped);
      return [...byRange.values()].reduce((a, b) => a + b, 0);
    };
    const first: PartitionProgress<number>[] = [];
    await backfillPartitioned(options(v, { leases: new InMemoryPartitionLeases(), onProgress: (p) => void first.push(p) }));
    expect(latest(first)).toBe(60);
    const again: PartitionProgress<number>[] = [];
    const result = await backfillPartitioned(options(v, { leases: new InMemoryPartitionLeases(), onProgress: (p) => void again.push(p) }));
    // Nothing left to copy: one report per range, its totals from the earlier run.
    expect(again.map((p) => [p.range, p.ranges, p.rowsPerSecond, p.elapsedMs, p.rangeDone])).toEqual([0, 1, 2, 3].map((range) => [range, 4, 0, 0, true]));
    expect(first.filter((p) => !p.rangeDone).length).toBeGreaterThan(4);
    expect(again.map((p) => p.copied)).toEqual(result.ranges.map((range) => range.copied));
    expect(latest(again)).toBe(60);
  });

  it('refuses to go on with other ranges than the saved plan', async () => {
    const v = world(20);
    await backfillPartitioned(options(v, { leases: new InMemoryPartitionLeases(), partitions: 3 }));
    await expect(backfillPartitioned(options(v, { leases: new InMemoryPartitionLeases(), partitions: 4 }))).rejects.toThrow(/`partitions` differs from the plan .*partitions 3/);
    await expect(backfillPartitioned(options(v, { leases: new InMemoryPartitionLeases(), partitions: undefined, splitAt: [5] }))).rejects.toThrow(/`splitAt` differs/);
  });

  it('refuses a checkpointFor that gives no checkpoint store, and a store that cannot tell its key order', async () => {
    await expect(backfillPartitioned(options(world(3), { leases, checkpointFor: () => ({}) as never }))).rejects.toThrow(/`checkpointFor` must return a CheckpointStore/);
    const unordered = Object.assign(new SplittableRepository({ keyOf }), { keyOrder: async () => undefined });
    await expect(backfillPartitioned(options(world(3), { leases, from: unordered }))).rejects.toThrow(/`compareKeys` is needed/);
  });

  it('stops when the signal aborts while waiting for a range another worker holds, and releases nothing it does not hold', async () => {
    const v = world(10);
    const shared = new InMemoryPartitionLeases({ clock: v.clock });
    const blocker = await shared.acquire('range-0', 'other');
    const controller = new AbortController();
    let waits = 0;
    const sleep = async () => {
      if (++waits === 3) controller.abort(new Error('stop'));
      if (controller.signal.aborted) throw new MigrationGlueError('ERR_ABORTED', 'aborted');
    };
    await expect(backfillPartitioned(options(v, { leases: shared, partitions: undefined, splitAt: [], sleep, signal: controller.signal }))).rejects.toMatchObject({ code: 'ERR_ABORTED' });
    expect(await blocker?.renew()).toBe(true);
  });
});
