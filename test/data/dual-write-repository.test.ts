import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { InMemoryConfigStore } from '../../src/config/in-memory-config-store.js';
import type { MigrationConfig } from '../../src/config/migration-config.js';
import { phases } from '../../src/config/phases.js';
import { MigrationGlueError } from '../../src/errors.js';
import { bucketOf } from '../../src/hashing/hasher.js';
import { silentLogger } from '../../src/observe/logger.js';
import { DualWriteRepository } from '../../src/data/dual-write-repository.js';
import type { DataMismatchEvent, SecondaryFailureEvent } from '../../src/data/dual-write-events.js';
import { FileRepairLog } from '../../src/data/file-repair-log.js';
import type { RepairLog } from '../../src/data/repair-log.js';
import { InMemoryTombstoneStore } from '../../src/data/tombstone-store.js';
import { InMemoryRepository, InjectedFailure } from '../../src/testing/index.js';
import type { RepositoryOp } from '../../src/testing/index.js';
import type { Item } from './repository-conformance.js';
import { item, itemKey } from './repository-conformance.js';

function setup(config: MigrationConfig = phases.shadow(), extra: { repairLog?: RepairLog<string> } = {}) {
  const store = new InMemoryConfigStore(config);
  const oldRepo = new InMemoryRepository<Item, string>({ keyOf: itemKey, name: 'old' });
  const newRepo = new InMemoryRepository<Item, string>({ keyOf: itemKey, name: 'new' });
  const trace: string[] = [];
  const tracer = (side: string) => (op: RepositoryOp, key?: string) => {
    trace.push(`${side}.${op}${key === undefined ? '' : `:${key}`}`);
  };
  oldRepo.beforeOp = tracer('old');
  newRepo.beforeOp = tracer('new');
  const dual = new DualWriteRepository({ name: 'items', old: oldRepo, new: newRepo, keyOf: itemKey, config: store, logger: silentLogger, ...extra });
  return { store, oldRepo, newRepo, dual, trace };
}

describe('DualWriteRepository options', () => {
  const repo = () => new InMemoryRepository<Item, string>({ keyOf: itemKey });
  it('names the bad option and the value', () => {
    expect(() => new DualWriteRepository({ name: '', old: repo(), new: repo(), keyOf: itemKey, config: phases.shadow() })).toThrow(/option `name`.*""/);
    expect(() => new DualWriteRepository({ name: 'x', old: {} as never, new: repo(), keyOf: itemKey, config: phases.shadow() })).toThrow(/option `old`/);
    expect(() => new DualWriteRepository({ name: 'x', old: repo(), new: repo(), keyOf: 'id' as never, config: phases.shadow() })).toThrow(/option `keyOf`.*"id"/);
    expect(() => new DualWriteRepository({ name: 'x', old: repo(), new: repo(), keyOf: itemKey, config: 5 as never })).toThrow(/option `config`/);
    expect(() => new DualWriteRepository({ name: 'x', old: repo(), new: repo(), keyOf: itemKey, config: phases.shadow(), repairLog: {} as never })).toThrow(/option `repairLog`/);
    const same = repo();
    expect(() => new DualWriteRepository({ name: 'x', old: same, new: same, keyOf: itemKey, config: phases.shadow() })).toThrow(/option `new`/);
  });
});

describe('when keyOf throws', () => {
  it('rejects, never throws synchronously, and writes nothing', async () => {
    const oldRepo = new InMemoryRepository<Item, string>({ keyOf: itemKey });
    const boom = new Error('no key');
    const dual = new DualWriteRepository<Item, string>({ name: 'x', old: oldRepo, new: new InMemoryRepository({ keyOf: itemKey }), keyOf: () => { throw boom; }, config: phases.shadow(), logger: silentLogger });
    const pending = dual.save(item(1));
    await expect(pending).rejects.toBe(boom);
    expect(oldRepo.counts.save).toBe(0);
  });
});

describe('when the phase is preparation', () => {
  it('reads and writes old only', async () => {
    const { dual, newRepo, oldRepo } = setup(phases.preparation());
    await dual.save(item(1));
    await dual.delete(item(2).id);
    expect(await dual.get(item(1).id)).toEqual(item(1));
    expect(newRepo.counts).toMatchObject({ get: 0, save: 0, delete: 0 });
    expect(oldRepo.counts).toMatchObject({ get: 1, save: 1, delete: 1 });
    expect(dual.stats()).toMatchObject({ phase: 'preparation', reads: { old: 1, new: 0 }, writes: { acknowledged: 2 } });
  });
});

describe('when the phase is shadow', () => {
  it('writes old first, then new; reads old', async () => {
    const { dual, trace } = setup();
    await dual.save(item(1));
    await dual.delete(item(1).id);
    expect(trace).toEqual(['old.save:k0001', 'new.save:k0001', 'old.delete:k0001', 'new.delete:k0001']);
    await dual.save(item(2));
    expect(await dual.get(item(2).id)).toEqual(item(2));
    await dual.drain();
    expect(dual.stats()).toMatchObject({ reads: { old: 1 }, shadow: { compared: 1, mismatches: 0 } });
  });

  it('reports a mismatch through the event, the stats and the log, and the caller gets old', async () => {
    const { dual, newRepo } = setup();
    await dual.save(item(1));
    newRepo.seed([{ ...item(1), qty: 99 }]);
    const events: DataMismatchEvent<Item, string>[] = [];
    dual.on('mismatch', (event) => events.push(event));
    expect(await dual.get(item(1).id)).toEqual(item(1));
    await dual.drain();
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({ migration: 'items', key: 'k0001', old: item(1), new: { qty: 99 }, fingerprint: 'qty:changed' });
    expect(dual.stats().shadow).toMatchObject({ compared: 1, mismatches: 1, errors: 0 });
  });

  it('does not report a difference that a re-read shows was a write in flight', async () => {
    const { dual, newRepo } = setup();
    await dual.save(item(1));
    newRepo.seed([{ ...item(1), qty: 99 }]);
    let reads = 0;
    newRepo.beforeOp = (op) => {
      // The second read of new sees the in-flight write landed.
      if (op === 'get' && ++reads === 2) newRepo.seed([item(1)]);
    };
    await dual.get(item(1).id);
    await dual.drain();
    expect(dual.stats().shadow).toMatchObject({ compared: 1, mismatches: 0, errors: 0 });
  });

  it("keeps new's read failure from the caller and reports it", async () => {
    const { dual, newRepo } = setup();
    await dual.save(item(1));
    newRepo.failNext('get');
    const errors: unknown[] = [];
    dual.on('shadowError', (event) => errors.push(event.error));
    expect(await dual.get(item(1).id)).toEqual(item(1));
    await dual.drain();
    expect(errors[0]).toBeInstanceOf(InjectedFailure);
    expect(dual.stats().shadow.errors).toBe(1);
  });
});

describe('when the phase is canary', () => {
  it('reads new for the keys whose bucket is under the percentage, sticky', async () => {
    const { dual, oldRepo, newRepo } = setup(phases.canary(30));
    const rows = Array.from({ length: 200 }, (_, i) => item(i));
    oldRepo.seed(rows.map((row) => ({ ...row, name: 'old' })));
    newRepo.seed(rows.map((row) => ({ ...row, name: 'new' })));
    for (let round = 0; round < 2; round++) {
      for (const row of rows) {
        const expected = bucketOf(row.id, 'items') < 3000 ? 'new' : 'old';
        expect((await dual.get(row.id))?.name).toBe(expected);
      }
    }
    const share = dual.stats().reads.new / 400;
    expect(share).toBeGreaterThan(0.2);
    expect(share).toBeLessThan(0.4);
  });

  it('writes old first and falls back to old when a read from new fails', async () => {
    const { dual, newRepo, trace } = setup(phases.canary(100 - 0.01));
    await dual.save(item(1));
    expect(trace.slice(0, 2)).toEqual(['old.save:k0001', 'new.save:k0001']);
    const key = Array.from({ length: 50 }, (_, i) => item(i).id).find((id) => bucketOf(id, 'items') < 9999) as string;
    await dual.save({ ...item(0), id: key });
    newRepo.failNext('get');
    expect(await dual.get(key)).toMatchObject({ id: key });
    expect(dual.stats().reads.fallbacks).toBe(1);
  });
});

describe('when the phase is full', () => {
  it('writes new first, then old, and reads new', async () => {
    const { dual, trace } = setup(phases.full());
    await dual.save(item(1));
    await dual.delete(item(1).id);
    await dual.get(item(1).id);
    expect(trace).toEqual(['new.save:k0001', 'old.save:k0001', 'new.delete:k0001', 'old.delete:k0001', 'new.get:k0001']);
  });

  it('follows a config change on the very next call', async () => {
    const { dual, store, trace } = setup(phases.shadow());
    await dual.save(item(1));
    await store.save(phases.full());
    await dual.save(item(2));
    expect(trace).toEqual(['old.save:k0001', 'new.save:k0001', 'new.save:k0002', 'old.save:k0002']);
  });
});

describe('when the primary fails', () => {
  it("rejects with the primary's very error and leaves the secondary alone", async () => {
    const { dual, oldRepo, newRepo } = setup();
    const error = new Error('old is down');
    oldRepo.failNext('write', 2, () => error);
    await expect(dual.save(item(1))).rejects.toBe(error);
    await expect(dual.delete(item(1).id)).rejects.toBe(error);
    expect(newRepo.counts).toMatchObject({ save: 0, delete: 0 });
    expect(await dual.repairLog.size()).toBe(0);
    expect(dual.stats().writes).toMatchObject({ acknowledged: 0, primaryFailures: 2, secondaryFailures: 0 });
  });
});

describe('when the secondary fails', () => {
  it('resolves, records the failure in the repair log and emits secondaryFailure', async () => {
    const { dual, newRepo } = setup();
    const events: SecondaryFailureEvent<string>[] = [];
    dual.on('secondaryFailure', (event) => events.push(event));
    newRepo.failNext('save');
    await dual.save(item(1));
    expect(await dual.repairLog.list(null, 10)).toMatchObject([{ key: 'k0001', op: 'save', side: 'new', error: 'InjectedFailure: new: injected save failure on k0001' }]);
    expect(events).toMatchObject([{ key: 'k0001', op: 'save', side: 'new', phase: 'shadow' }]);
    expect(dual.stats().repair.recorded).toBe(1);
  });

  it("resolves with the primary's outcome when the repair log cannot record the failure, and emits ERR_REPAIR_LOG", async () => {
    const broken: RepairLog<string> = {
      append: () => Promise.reject(new Error('disk full')),
      list: async () => [],
      remove: async () => {},
      size: async () => 0,
    };
    const { dual, newRepo, oldRepo } = setup(phases.shadow(), { repairLog: broken });
    const failures: Error[] = [];
    dual.on('repairLogFailure', (event) => failures.push(event.error));
    newRepo.failNext('save');
    await dual.save(item(1));
    expect(MigrationGlueError.is(failures[0], 'ERR_REPAIR_LOG')).toBe(true);
    expect(failures[0]?.cause).toMatchObject({ message: 'disk full' });
    expect(oldRepo.snapshot()).toEqual([item(1)]);
    expect(dual.stats().repair).toMatchObject({ unrecorded: 1, pending: 1, lost: 0 });
  });

  it('repair() copies the current primary row, so a replay never writes stale data', async () => {
    const { dual, oldRepo, newRepo } = setup();
    newRepo.failNext('save');
    await dual.save({ ...item(1), name: 'v1' });
    await dual.save({ ...item(1), name: 'v2' });
    newRepo.failNext('save');
    await dual.save({ ...item(1), name: 'v3' });
    // Changed behind our back: the replay must copy what old holds now.
    oldRepo.seed([{ ...item(1), name: 'v4' }]);
    expect(await dual.repair()).toEqual({ replayed: 2, keys: 1, failed: 0, remaining: 0 });
    expect(newRepo.snapshot()).toEqual([{ ...item(1), name: 'v4' }]);
  });

  it('repair() turns a key that the primary no longer holds into a delete', async () => {
    const { dual, oldRepo, newRepo } = setup();
    newRepo.failNext('save');
    await dual.save(item(1));
    newRepo.seed([item(1)]);
    await oldRepo.delete(item(1).id);
    await dual.repair();
    expect(newRepo.size).toBe(0);
  });

  it('repairs a burst of failures; entries that fail again stay in the log', async () => {
    const { dual, oldRepo, newRepo } = setup();
    newRepo.failNext('write', 40);
    for (let i = 0; i < 50; i++) await dual.save(item(i));
    for (let i = 0; i < 10; i++) await dual.delete(item(i).id);
    expect(await dual.repairLog.size()).toBe(40);
    newRepo.failKey(item(20).id, 'save');
    expect(await dual.repair()).toEqual({ replayed: 39, keys: 39, failed: 1, remaining: 1 });
    newRepo.heal();
    expect(await dual.repair()).toEqual({ replayed: 1, keys: 1, failed: 0, remaining: 0 });
    expect(newRepo.snapshot()).toEqual(oldRepo.snapshot());
  });

  it('in full, the failed store is old and the replay copies from new', async () => {
    const { dual, oldRepo, newRepo } = setup(phases.full());
    oldRepo.failNext('save');
    await dual.save(item(1));
    expect(await dual.repairLog.list(null, 1)).toMatchObject([{ side: 'old' }]);
    await dual.repair();
    expect(oldRepo.snapshot()).toEqual(newRepo.snapshot());
  });

  it('runs one replay at a time', async () => {
    const { dual, newRepo } = setup();
    newRepo.failNext('save', 3);
    for (let i = 0; i < 3; i++) await dual.save(item(i));
    const [a, b] = await Promise.all([dual.repair(), dual.repair()]);
    expect(a).toBe(b);
    expect(a.replayed).toBe(3);
  });
});

describe('deletes', () => {
  it('leave a tombstone while dual writing, not in preparation', async () => {
    const tombstones = new InMemoryTombstoneStore<string>();
    const store = new InMemoryConfigStore(phases.preparation());
    const repo = () => new InMemoryRepository<Item, string>({ keyOf: itemKey });
    const dual = new DualWriteRepository({ name: 'items', old: repo(), new: repo(), keyOf: itemKey, config: store, tombstones, logger: silentLogger });
    await dual.delete('a');
    await store.save(phases.shadow());
    await dual.delete('b');
    expect(await tombstones.has(['a', 'b'])).toEqual(['b']);
    expect(dual.tombstones).toBe(tombstones);
  });
});

describe('concurrent writes of one key', () => {
  it('reach both stores in the same order', async () => {
    const { dual, oldRepo, newRepo } = setup();
    let n = 0;
    // Old answers in a scrambled order; without per-key ordering new would end up different.
    oldRepo.beforeOp = async () => {
      n += 1;
      await new Promise((resolve) => setTimeout(resolve, (n * 7) % 5));
    };
    await Promise.all(Array.from({ length: 20 }, (_, i) => dual.save({ ...item(1), qty: i })));
    expect(oldRepo.snapshot()).toEqual([{ ...item(1), qty: 19 }]);
    expect(newRepo.snapshot()).toEqual(oldRepo.snapshot());
  });
});

describe('FileRepairLog', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'repair-log-'));

  it('keeps entries across a reopen and removes replayed ones', async () => {
    const file = path.join(dir, 'a.jsonl');
    const log = new FileRepairLog<string>({ path: file });
    await log.append({ key: 'a', op: 'save', side: 'new', at: 1, error: 'x' });
    await log.append({ key: 'b', op: 'delete', side: 'new', at: 2, error: 'y' });
    const reopened = new FileRepairLog<string>({ path: file });
    const entries = await reopened.list(null, 10);
    expect(entries.map((entry) => entry.key)).toEqual(['a', 'b']);
    await reopened.remove([entries[0]?.id ?? 0]);
    await reopened.append({ key: 'c', op: 'save', side: 'old', at: 3, error: 'z' });
    const again = new FileRepairLog<string>({ path: file });
    expect((await again.list(null, 10)).map((entry) => [entry.id, entry.key])).toEqual([
      [2, 'b'],
      [3, 'c'],
    ]);
  });

  it('works as the repair log of a DualWriteRepository', async () => {
    const repairLog = new FileRepairLog<string>({ path: path.join(dir, 'dual.jsonl') });
    const { dual, oldRepo, newRepo } = setup(phases.shadow(), { repairLog });
    newRepo.failNext('save', 2);
    await dual.save(item(1));
    await dual.save(item(2));
    expect(await new FileRepairLog<string>({ path: repairLog.path }).size()).toBe(2);
    await dual.repair();
    expect(await new FileRepairLog<string>({ path: repairLog.path }).size()).toBe(0);
    expect(newRepo.snapshot()).toEqual(oldRepo.snapshot());
  });
});
