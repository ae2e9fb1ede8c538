import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { phases } from '../../src/config/phases.js';
import { MigrationGlueError } from '../../src/errors.js';
import { silentLogger } from '../../src/observe/logger.js';
import type { BackfillOptions, BackfillProgress } from '../../src/data/backfill.js';
import { backfill } from '../../src/data/backfill.js';
import { InMemoryCheckpointStore } from '../../src/data/checkpoint-store.js';
import { DualWriteRepository } from '../../src/data/dual-write-repository.js';
import { FileCheckpointStore } from '../../src/data/file-checkpoint-store.js';
import { InMemoryRepository, InjectedFailure, ManualClock } from '../../src/testing/index.js';
import type { Item } from './repository-conformance.js';
import { item, itemKey } from './repository-conformance.js';

interface Versioned extends Item {
  version: number;
}

function stores(rows = 100, bulkInsert = true) {
  const from = new InMemoryRepository<Item, string>({ keyOf: itemKey, name: 'old' }).seed(Array.from({ length: rows }, (_, i) => item(i)));
  const to = new InMemoryRepository<Item, string>({ keyOf: itemKey, name: 'new', bulkInsert });
  return { from, to };
}

function run(options: Omit<BackfillOptions<Item, string>, 'keyOf'>) {
  return backfill({ keyOf: itemKey, logger: silentLogger, ...options });
}

/** A sleep that only moves the test clock: throttling without waiting. */
function fakeTime() {
  const clock = new ManualClock({ start: 0 });
  const sleeps: number[] = [];
  const sleep = async (ms: number) => {
    sleeps.push(ms);
    clock.advance(ms);
  };
  return { clock, sleep, sleeps };
}

describe('backfill', () => {
  it.each([true, false])('copies every row in key order, in batches (bulkInsert: %s)', async (bulk) => {
    const { from, to } = stores(95, bulk);
    expect(await run({ from, to, batchSize: 10 })).toEqual({ copied: 95, skipped: 0, batches: 10, lastKey: 'k0094' });
    expect(to.snapshot()).toEqual(from.snapshot());
    expect(to.counts.rowsWritten).toBe(95);
  });

  it('rejects bad options naming them', async () => {
    const { from, to } = stores(1);
    await expect(run({ from, to, batchSize: 0 })).rejects.toThrow(/option `batchSize`.* 0/);
    await expect(run({ from: {} as never, to })).rejects.toThrow(/option `from`/);
    await expect(run({ from, to, maxRowsPerSecond: -1 })).rejects.toThrow(/option `maxRowsPerSecond`/);
    await expect(run({ from, to, overwrite: 'yes' as never })).rejects.toThrow(/option `overwrite`/);
    await expect(
      backfill<Versioned, string>({ from: from as never, to: to as never, keyOf: itemKey, overwrite: true, versionOf: (row) => row.version }),
    ).rejects.toThrow(/option `versionOf`.*overwrite/);
    await expect(run({ from, to, checkpoint: { load: async () => ({ nonsense: 1 }), save: async () => {}, clear: async () => {} } })).rejects.toThrow(
      /option `checkpoint`/,
    );
  });

  describe('when a dual write already put a row in the target', () => {
    it.each([true, false])('leaves it alone and counts it skipped (bulkInsert: %s)', async (bulk) => {
      const { from, to } = stores(10, bulk);
      to.seed([{ ...item(3), name: 'newer' }]);
      expect(await run({ from, to })).toMatchObject({ copied: 9, skipped: 1 });
      expect(await to.get('k0003')).toMatchObject({ name: 'newer' });
    });

    it.each([true, false])('the newer value wins when the dual write races the copy of that very key (bulkInsert: %s)', async (bulk) => {
      const { from, to } = stores(10, bulk);
      const dual = new DualWriteRepository({ name: 'items', old: from, new: to, keyOf: itemKey, config: phases.shadow(), logger: silentLogger });
      let raced = false;
      // After backfill read the batch, before it writes: a live write of k0004 lands on both stores.
      to.beforeOp = async (op) => {
        if (raced || (op !== 'bulkInsert' && op !== 'get')) return;
        raced = true;
        await dual.save({ ...item(4), name: 'live write' });
      };
      await run({ from, to });
      expect(await to.get('k0004')).toMatchObject({ name: 'live write' });
      expect(to.snapshot()).toEqual(from.snapshot());
    });

    it('without bulkInsert, a write landing between the check and the save is re-copied from the source', async () => {
      const { from, to } = stores(5, false);
      const dual = new DualWriteRepository({ name: 'items', old: from, new: to, keyOf: itemKey, config: phases.shadow(), logger: silentLogger });
      let raced = false;
      to.beforeOp = async (op, key) => {
        if (op !== 'save' || key !== 'k0002' || raced) return;
        raced = true;
        // The live write reaches both stores just before backfill's stale save of k0002.
        await dual.save({ ...item(2), name: 'live write' });
      };
      await run({ from, to });
      expect(await to.get('k0002')).toMatchObject({ name: 'live write' });
      expect(to.snapshot()).toEqual(from.snapshot());
    });

    it('overwrite: true replaces it; a function decides per row; versionOf keeps the newer version', async () => {
      const rows = (version: number) => Array.from({ length: 4 }, (_, i) => ({ ...item(i), version: version + i }));
      const from = new InMemoryRepository<Versioned, string>({ keyOf: itemKey }).seed(rows(10));
      const seeded = () => new InMemoryRepository<Versioned, string>({ keyOf: itemKey }).seed([{ ...item(0), version: 5 }, { ...item(1), version: 99 }]);

      const always = seeded();
      expect(await backfill({ from, to: always, keyOf: itemKey, overwrite: true, logger: silentLogger })).toMatchObject({ copied: 4, skipped: 0 });
      expect(always.snapshot()).toEqual(from.snapshot());

      const chosen = seeded();
      const seen: string[] = [];
      await backfill({ from, to: chosen, keyOf: itemKey, logger: silentLogger, overwrite: (existing) => (seen.push(existing.id), existing.id === 'k0001') });
      expect(seen).toEqual(['k0000', 'k0001']);
      expect((await chosen.get('k0000'))?.version).toBe(5);
      expect((await chosen.get('k0001'))?.version).toBe(11);

      const versioned = seeded();
      expect(await backfill({ from, to: versioned, keyOf: itemKey, versionOf: (row) => row.version, logger: silentLogger })).toMatchObject({ copied: 3, skipped: 1 });
      expect((await versioned.get('k0000'))?.version).toBe(10);
      expect((await versioned.get('k0001'))?.version).toBe(99);
    });
  });

  describe('when rows are deleted during the copy', () => {
    it.each([true, false])('never copies back a row deleted while dual writing (bulkInsert: %s)', async (bulk) => {
      const { from, to } = stores(30, bulk);
      const dual = new DualWriteRepository({ name: 'items', old: from, new: to, keyOf: itemKey, config: phases.shadow(), logger: silentLogger });
      let batch = 0;
      from.beforeOp = async (op) => {
        if (op === 'getBatch') batch += 1;
      };
      // Rows of the batch in flight are deleted after it was read, before and after it is written.
      to.beforeOp = async (op, key) => {
        if (batch === 2 && (op === 'bulkInsert' || (op === 'get' && key === 'k0012'))) {
          await dual.delete('k0012');
          await dual.delete('k0015');
        }
      };
      const result = await run({ from, to, batchSize: 10, tombstones: dual.tombstones });
      expect(await to.get('k0012')).toBeUndefined();
      expect(await to.get('k0015')).toBeUndefined();
      expect(to.snapshot()).toEqual(from.snapshot());
      expect(result.copied).toBe(28);
      expect(result.copied).toBe(to.size);
    });

    it('removes again a row whose delete landed between the copy and the tombstone check', async () => {
      const { from, to } = stores(10);
      const dual = new DualWriteRepository({ name: 'items', old: from, new: to, keyOf: itemKey, config: phases.shadow(), logger: silentLogger });
      const realInsert = to.bulkInsert?.bind(to);
      // The delete reaches both stores before our insert lands: only the second tombstone check can catch it.
      to.bulkInsert = async (rows) => {
        await dual.delete('k0003');
        return (await realInsert?.(rows)) ?? [];
      };
      const result = await run({ from, to, tombstones: dual.tombstones });
      expect(await to.get('k0003')).toBeUndefined();
      expect(result).toMatchObject({ copied: 9, skipped: 1 });
    });
  });

  describe('when a store fails', () => {
    it('rejects with the source error unchanged, and a resume finishes the copy', async () => {
      const { from, to } = stores(50);
      const checkpoint = new InMemoryCheckpointStore();
      const error = new Error('old is down');
      from.beforeOp = (op) => {
        if (op === 'getBatch' && from.counts.getBatch === 3) throw error;
      };
      await expect(run({ from, to, batchSize: 10, checkpoint })).rejects.toBe(error);
      expect(to.size).toBe(20);
      from.beforeOp = undefined;
      expect(await run({ from, to, batchSize: 10, checkpoint })).toEqual({ copied: 50, skipped: 0, batches: 5, lastKey: 'k0049' });
      expect(to.snapshot()).toEqual(from.snapshot());
    });

    it('survives the target failing in the middle of a batch: resume ends identical, copied counts only rows it wrote', async () => {
      const { from, to } = stores(50);
      const checkpoint = new InMemoryCheckpointStore();
      to.failMidBatch(25);
      await expect(run({ from, to, batchSize: 10, checkpoint })).rejects.toBeInstanceOf(InjectedFailure);
      expect(to.size).toBe(25);
      const result = await run({ from, to, batchSize: 10, checkpoint });
      expect(to.snapshot()).toEqual(from.snapshot());
      // The 5 rows of the broken batch were written by the failed run: the resume finds them there.
      expect(result).toEqual({ copied: 45, skipped: 5, batches: 5, lastKey: 'k0049' });
      expect(to.counts.rowsWritten).toBe(50);
    });
  });

  describe('when aborted', () => {
    it('rejects with ERR_ABORTED; the resume ends identical and copies no row twice', async () => {
      const { from, to } = stores(200, false);
      const checkpoint = new InMemoryCheckpointStore();
      const controller = new AbortController();
      const error = await run({
        from,
        to,
        batchSize: 16,
        checkpoint,
        signal: controller.signal,
        overwrite: true,
        onProgress: (progress) => {
          if (progress.batches === 4) controller.abort(new Error('operator said stop'));
        },
      }).catch((err: unknown) => err);
      expect(MigrationGlueError.is(error)).toBe(true);
      expect((error as { code: string }).code).toBe('ERR_ABORTED');
      expect((error as Error).cause).toMatchObject({ message: 'operator said stop' });
      expect(to.size).toBe(64);
      await run({ from, to, batchSize: 16, checkpoint, overwrite: true });
      expect(to.snapshot()).toEqual(from.snapshot());
      expect(to.counts.rowsWritten).toBe(200);
    });

    it('resumes from a file checkpoint in a new process-like run; a finished checkpoint does nothing more', async () => {
      const dir = mkdtempSync(path.join(tmpdir(), 'backfill-'));
      const { from, to } = stores(100);
      const file = path.join(dir, 'checkpoint.json');
      const controller = new AbortController();
      await expect(
        run({ from, to, batchSize: 25, checkpoint: new FileCheckpointStore({ path: file }), signal: controller.signal, onProgress: () => controller.abort() }),
      ).rejects.toThrow(/aborted/);
      expect(await new FileCheckpointStore({ path: file }).load()).toMatchObject({ lastKey: 'k0024', copied: 25, done: false });
      const result = await run({ from, to, batchSize: 25, checkpoint: new FileCheckpointStore({ path: file }) });
      expect(result).toEqual({ copied: 100, skipped: 0, batches: 4, lastKey: 'k0099' });
      const reads = from.counts.getBatch;
      expect(await run({ from, to, batchSize: 25, checkpoint: new FileCheckpointStore({ path: file }) })).toEqual(result);
      expect(from.counts.getBatch).toBe(reads);
    });
  });

  describe('throttling and progress', () => {
    it('keeps under maxRowsPerSecond and reports rate and time left', async () => {
      const { from, to } = stores(100);
      const { clock, sleep, sleeps } = fakeTime();
      const progress: BackfillProgress<string>[] = [];
      await run({ from, to, batchSize: 10, maxRowsPerSecond: 50, clock, sleep, totalRows: 100, onProgress: (p) => progress.push(p) });
      // 100 rows at 50 rows/s: 2 seconds, a pause after every batch.
      expect(clock.now()).toBe(2000);
      expect(sleeps).toHaveLength(10);
      expect(progress[4]).toMatchObject({ copied: 50, batches: 5, lastKey: 'k0049', rowsPerSecond: 50 / 0.8, elapsedMs: 800 });
      expect(progress[4]?.etaMs).toBeCloseTo(800);
      expect(progress[9]?.etaMs).toBe(0);
    });

    it('waits while the throttle hook says slow down', async () => {
      const { from, to } = stores(30);
      const { clock, sleep, sleeps } = fakeTime();
      const answers: (boolean | number)[] = [true, 250, false, 0, false];
      await run({ from, to, batchSize: 10, clock, sleep, throttleDelayMs: 40, throttle: () => Promise.resolve(answers.shift() ?? false) });
      expect(sleeps).toEqual([40, 250]);
      expect(to.size).toBe(30);
    });
  });
});
