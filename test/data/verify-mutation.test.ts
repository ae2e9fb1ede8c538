import { describe, expect, it } from 'vitest';
import { silentLogger } from '../../src/observe/logger.js';
import { recordingLogger } from '../helpers.js';
import type { CheckpointStore } from '../../src/data/checkpoint-store.js';
import { InMemoryCheckpointStore } from '../../src/data/checkpoint-store.js';
import type { Repository } from '../../src/data/repository.js';
import type { VerifyOptions, VerifyReport } from '../../src/data/verify.js';
import { verify } from '../../src/data/verify.js';
import { InMemoryRepository } from '../../src/testing/index.js';
import type { Item } from './repository-conformance.js';
import { item, itemKey, withMethods } from './repository-conformance.js';

// src/data/verify.ts, verify-rows.ts and verify-state.ts: the row-by-row
// verify, its segments and checkpoints, the re-checks and the report.

const noWait = async (): Promise<void> => {};
const none = { count: 0, keys: [] };

function pair(rows = 10) {
  const all = Array.from({ length: rows }, (_, i) => item(i));
  const oldRepo = new InMemoryRepository<Item, string>({ keyOf: itemKey, name: 'old' }).seed(all);
  const newRepo = new InMemoryRepository<Item, string>({ keyOf: itemKey, name: 'new' }).seed(all);
  return { oldRepo, newRepo };
}

function check(options: Omit<VerifyOptions<Item, string>, 'keyOf'>) {
  return verify({ keyOf: itemKey, logger: silentLogger, sleep: noWait, ...options });
}

/** A checkpoint store that keeps every state saved, in order. */
function recording(initial?: unknown) {
  const saved: Record<string, unknown>[] = [];
  const store: CheckpointStore = {
    load: async () => initial,
    save: async (state) => void saved.push(JSON.parse(JSON.stringify(state)) as Record<string, unknown>),
    clear: async () => {},
  };
  return { store, saved };
}

describe('verify, segment by segment', () => {
  it('saves a checkpoint after every batchSize keys, the last one marked done', async () => {
    const { oldRepo, newRepo } = pair(7);
    const { store, saved } = recording();
    await check({ old: oldRepo, new: newRepo, batchSize: 3, checkpoint: store });
    expect(saved.map((s) => [s.lastKey, s.checked, s.done])).toEqual([
      ['k0002', 3, false],
      ['k0005', 6, false],
      ['k0006', 7, true],
    ]);
    expect(saved.every((s) => s.kind === 'verify')).toBe(true);
  });

  it('ends with an empty last segment when the keys fill the batches exactly', async () => {
    const { oldRepo, newRepo } = pair(6);
    const { store, saved } = recording();
    await check({ old: oldRepo, new: newRepo, batchSize: 3, checkpoint: store });
    expect(saved.map((s) => [s.lastKey, s.checked, s.done])).toEqual([
      ['k0002', 3, false],
      ['k0005', 6, false],
      ['k0005', 6, true],
    ]);
  });

  it('reports progress after each segment, with the totals so far', async () => {
    const { oldRepo, newRepo } = pair(5);
    await newRepo.delete('k0001');
    const seen: VerifyReport<string>[] = [];
    await check({ old: oldRepo, new: newRepo, batchSize: 2, onProgress: (report) => void seen.push(report) });
    expect(seen.map((r) => [r.checked, r.missing.count])).toEqual([
      [2, 1],
      [4, 1],
      [5, 1],
    ]);
    expect(seen[0]).not.toHaveProperty('kind');
    expect(seen[0]).not.toHaveProperty('lastKey');
  });

  it('returns the report of a finished checkpoint without reading either store', async () => {
    const { oldRepo, newRepo } = pair(5);
    const checkpoint = new InMemoryCheckpointStore();
    const first = await check({ old: oldRepo, new: newRepo, batchSize: 2, checkpoint });
    await newRepo.delete('k0003');
    const reads = oldRepo.counts.getBatch + newRepo.counts.getBatch;
    expect(await check({ old: oldRepo, new: newRepo, batchSize: 2, checkpoint })).toEqual(first);
    expect(oldRepo.counts.getBatch + newRepo.counts.getBatch).toBe(reads);
  });

  it('resumes after the checkpoint key, adding to its totals', async () => {
    const { oldRepo, newRepo } = pair(6);
    await newRepo.delete('k0004');
    const resumeFrom = {
      kind: 'verify',
      lastKey: 'k0002',
      done: false,
      checked: 3,
      missing: { count: 1, keys: ['x'] },
      extra: none,
      different: none,
      repaired: 0,
      transient: 2,
    };
    const report = await check({ old: oldRepo, new: newRepo, checkpoint: recording(resumeFrom).store });
    expect(report).toEqual({ checked: 6, missing: { count: 2, keys: ['x', 'k0004'] }, extra: none, different: none, repaired: 0, transient: 2 });
  });
});

describe('verify merging both stores', () => {
  it('pairs keys on either side, whichever store runs out first', async () => {
    const oldRepo = new InMemoryRepository<Item, string>({ keyOf: itemKey }).seed([item(1), item(3), item(5)]);
    const newRepo = new InMemoryRepository<Item, string>({ keyOf: itemKey }).seed([item(0), item(3), { ...item(5), qty: 9 }, item(7), item(8)]);
    expect(await check({ old: oldRepo, new: newRepo, batchSize: 2, recheck: false })).toEqual({
      checked: 6,
      missing: { count: 1, keys: ['k0001'] },
      extra: { count: 3, keys: ['k0000', 'k0007', 'k0008'] },
      different: { count: 1, keys: ['k0005'] },
      repaired: 0,
      transient: 0,
    });
    const reversed = await check({ old: newRepo, new: oldRepo, batchSize: 2, recheck: false });
    expect(reversed.missing.keys).toEqual(['k0000', 'k0007', 'k0008']);
    expect(reversed.extra.keys).toEqual(['k0001']);
  });

  it('stops reading a store once it answered its end, however many keys the other still has', async () => {
    const oldRepo = new InMemoryRepository<Item, string>({ keyOf: itemKey }).seed([item(0), item(1)]);
    const newRepo = new InMemoryRepository<Item, string>({ keyOf: itemKey }).seed([0, 1, 2, 3, 4, 5].map((i) => item(i)));
    const report = await check({ old: oldRepo, new: newRepo, batchSize: 10, recheck: false });
    expect(report.extra.count).toBe(4);
    expect(oldRepo.counts.getBatch).toBe(2);
    expect(newRepo.counts.getBatch).toBe(2);
  });

  it('names a key both stores hold by old’s spelling of it', async () => {
    const upper = (row: Item) => ({ ...row, id: row.id.toUpperCase() });
    const oldRepo = new InMemoryRepository<Item, string>({ keyOf: itemKey }).seed([upper(item(1))]);
    const newRepo = new InMemoryRepository<Item, string>({ keyOf: itemKey }).seed([{ ...item(1), qty: -1 }]);
    const caseless = (a: string, b: string) => a.toLowerCase().localeCompare(b.toLowerCase());
    const report = await check({ old: oldRepo, new: newRepo, compareKeys: caseless, recheck: false });
    expect(report.different.keys).toEqual(['K0001']);
    expect(report.checked).toBe(1);
  });

  it('says verify was aborted when the signal aborts between segments', async () => {
    const { oldRepo, newRepo } = pair(6);
    const controller = new AbortController();
    const outcome = check({ old: oldRepo, new: newRepo, batchSize: 2, signal: controller.signal, onProgress: () => controller.abort() });
    await expect(outcome).rejects.toThrow(/verify was aborted/);
  });

  it('compares an empty pair of stores as nothing checked', async () => {
    const oldRepo = new InMemoryRepository<Item, string>({ keyOf: itemKey });
    const newRepo = new InMemoryRepository<Item, string>({ keyOf: itemKey });
    const { store, saved } = recording();
    expect(await check({ old: oldRepo, new: newRepo, checkpoint: store })).toEqual({ checked: 0, missing: none, extra: none, different: none, repaired: 0, transient: 0 });
    expect(saved).toEqual([expect.objectContaining({ lastKey: null, done: true })]);
  });

  it('lists no key with maxListed 0, still counting them', async () => {
    const { oldRepo, newRepo } = pair(4);
    await newRepo.delete('k0000');
    await newRepo.delete('k0002');
    expect((await check({ old: oldRepo, new: newRepo, maxListed: 0 })).missing).toEqual({ count: 2, keys: [] });
    expect((await check({ old: oldRepo, new: newRepo, maxListed: 2 })).missing).toEqual({ count: 2, keys: ['k0000', 'k0002'] });
  });
});

describe('verify re-checking a difference', () => {
  it('re-reads a lasting difference recheck.attempts times, waiting delayMs before each, then reports it', async () => {
    const { oldRepo, newRepo } = pair(5);
    newRepo.seed([{ ...item(2), qty: -1 }]);
    const sleeps: number[] = [];
    const report = await check({
      old: oldRepo,
      new: newRepo,
      sleep: async (ms) => void sleeps.push(ms),
      recheck: { attempts: 3, delayMs: 7 },
    });
    expect(sleeps).toEqual([7, 7, 7]);
    expect(oldRepo.counts.get).toBe(3);
    expect(newRepo.counts.get).toBe(3);
    expect(report).toMatchObject({ different: { count: 1, keys: ['k0002'] }, transient: 0 });
  });

  it('waits for nothing when no row differs', async () => {
    const { oldRepo, newRepo } = pair(5);
    const sleeps: number[] = [];
    await check({ old: oldRepo, new: newRepo, sleep: async (ms) => void sleeps.push(ms), recheck: { attempts: 3, delayMs: 7 } });
    expect(sleeps).toEqual([]);
    expect(oldRepo.counts.get + newRepo.counts.get).toBe(0);
  });

  it('stops re-reading once every suspect agrees, and reports what it read last', async () => {
    const { oldRepo, newRepo } = pair(6);
    newRepo.seed([{ ...item(1), qty: -1 }, { ...item(4), qty: -4 }]);
    let sleeps = 0;
    // The first re-check finds k0001 settled; k0004 (missing in new now) still differs on the second.
    const sleep = async () => {
      sleeps += 1;
      if (sleeps === 1) {
        newRepo.seed([item(1)]);
        await newRepo.delete('k0004');
      }
    };
    const report = await check({ old: oldRepo, new: newRepo, sleep, recheck: { attempts: 2, delayMs: 1 } });
    expect(sleeps).toBe(2);
    expect(report).toMatchObject({ missing: { count: 1, keys: ['k0004'] }, different: none, transient: 1 });
    // k0001 was read once (first re-check), k0004 twice.
    expect(oldRepo.counts.get).toBe(3);
  });

  it('classifies a difference by what the last re-read found: extra when only new holds the key', async () => {
    const { oldRepo, newRepo } = pair(3);
    newRepo.seed([{ ...item(1), qty: -1 }]);
    const report = await check({ old: oldRepo, new: newRepo, sleep: async () => void (await oldRepo.delete('k0001')), recheck: { attempts: 1, delayMs: 1 } });
    expect(report).toMatchObject({ extra: { count: 1, keys: ['k0001'] }, different: none, missing: none });
  });

  it('re-reads at most eight suspects at a time, and every one of them', async () => {
    const { oldRepo, newRepo } = pair(20);
    newRepo.seed(Array.from({ length: 20 }, (_, i) => ({ ...item(i), qty: -1 })));
    let inFlight = 0;
    let most = 0;
    const gets = new Set<string>();
    const slowOld: Repository<Item, string> = {
      get: async (key) => {
        inFlight += 1;
        most = Math.max(most, inFlight);
        gets.add(key);
        for (let i = 0; i < 5; i++) await Promise.resolve();
        inFlight -= 1;
        return oldRepo.get(key);
      },
      save: (row) => oldRepo.save(row),
      delete: (key) => oldRepo.delete(key),
      getBatch: (after, limit) => oldRepo.getBatch(after, limit),
    };
    const report = await check({ old: slowOld, new: newRepo, recheck: { attempts: 1, delayMs: 0 } });
    expect(most).toBe(8);
    expect(gets.size).toBe(20);
    expect(report.different.count).toBe(20);
  });
});

describe('verify repairing', () => {
  it('writes old’s row into new for a missing or different key, counting each', async () => {
    const { oldRepo, newRepo } = pair(5);
    await newRepo.delete('k0001');
    newRepo.seed([{ ...item(3), qty: -3 }]);
    const report = await check({ old: oldRepo, new: newRepo, repair: true, recheck: false });
    expect(report).toMatchObject({ repaired: 2, missing: { count: 1 }, different: { count: 1 } });
    expect(newRepo.snapshot()).toEqual(oldRepo.snapshot());
    expect(newRepo.counts.save).toBe(2);
    expect(newRepo.counts.delete).toBe(1);
  });

  it('deletes an extra row only with deleteExtra, and counts it repaired then', async () => {
    const { oldRepo, newRepo } = pair(3);
    newRepo.seed([item(8), item(9)]);
    newRepo.seed([{ ...item(0), qty: -1 }]);
    const kept = await check({ old: oldRepo, new: newRepo, repair: true, recheck: false });
    // The extra rows come after the different one: a skipped extra must not stop the repairs after it.
    expect(kept).toMatchObject({ repaired: 1, extra: { count: 2 } });
    expect(newRepo.size).toBe(5);
    newRepo.seed([{ ...item(0), qty: -1 }]);
    newRepo.resetCounts();
    const deleted = await check({ old: oldRepo, new: newRepo, repair: true, deleteExtra: true, recheck: false });
    expect(deleted).toMatchObject({ repaired: 3, extra: { count: 2 } });
    expect(newRepo.snapshot()).toEqual(oldRepo.snapshot());
  });

  it('repairs an extra row before a missing one in the same segment', async () => {
    const oldRepo = new InMemoryRepository<Item, string>({ keyOf: itemKey }).seed([item(2)]);
    const newRepo = new InMemoryRepository<Item, string>({ keyOf: itemKey }).seed([item(1)]);
    const report = await check({ old: oldRepo, new: newRepo, repair: true, recheck: false });
    expect(report).toMatchObject({ repaired: 1, extra: { count: 1 }, missing: { count: 1 } });
    expect(await newRepo.get('k0002')).toEqual(item(2));
    expect(await newRepo.get('k0001')).toEqual(item(1));
  });

  it('writes nothing without repair', async () => {
    const { oldRepo, newRepo } = pair(3);
    await newRepo.delete('k0001');
    newRepo.seed([item(7)]);
    newRepo.resetCounts();
    expect(await check({ old: oldRepo, new: newRepo, deleteExtra: true, recheck: false })).toMatchObject({ repaired: 0 });
    expect(newRepo.counts).toMatchObject({ save: 0, delete: 0 });
  });
});

describe('verify checkpoints it cannot read', () => {
  const valid = { kind: 'verify', lastKey: 'k0001', done: false, checked: 2, missing: none, extra: none, different: none, repaired: 0, transient: 0 };

  it.each<[string, Record<string, unknown>]>([
    ['another kind', { ...valid, kind: 'backfill' }],
    ['a key that is an object', { ...valid, lastKey: { id: 1 } }],
    ['a key that is not finite', { ...valid, lastKey: Number.NaN }],
    ['no lastKey', { ...valid, lastKey: undefined }],
    ['no checked count', { ...valid, checked: '2' }],
    ['no missing count', { ...valid, missing: { keys: [] } }],
    ['no missing list', { ...valid, missing: undefined }],
  ])('refuses a checkpoint with %s', async (_, state) => {
    const { oldRepo, newRepo } = pair(3);
    await expect(check({ old: oldRepo, new: newRepo, checkpoint: recording(state).store })).rejects.toThrow(/option `checkpoint`.*verify checkpoint/);
  });

  it.each<[string, unknown]>([
    ['a text key', 'k0001'],
    ['a number key', 1],
    ['no key yet', null],
  ])('accepts a checkpoint with %s', async (_, lastKey) => {
    const { oldRepo, newRepo } = pair(3);
    const report = await check({ old: oldRepo, new: newRepo, checkpoint: recording({ ...valid, lastKey }).store });
    expect(report.checked).toBeGreaterThanOrEqual(2);
  });

  it('starts afresh from a checkpoint store that holds null', async () => {
    const { oldRepo, newRepo } = pair(3);
    expect((await check({ old: oldRepo, new: newRepo, checkpoint: recording(null).store })).checked).toBe(3);
  });
});

describe('verify naming what hung, failed or ran', () => {
  const never = (): Promise<never> => new Promise(() => {});

  it.each<[string, (s: ReturnType<typeof pair>) => Partial<VerifyOptions<Item, string>>]>([
    ['checkpoint.load', (s) => ({ old: s.oldRepo, new: s.newRepo, checkpoint: { load: never, save: async () => {}, clear: async () => {} } })],
    ['checkpoint.save', (s) => ({ old: s.oldRepo, new: s.newRepo, checkpoint: { load: async () => undefined, save: never, clear: async () => {} } })],
    ['new.delete', (s) => ({ old: withMethods(s.oldRepo, { getBatch: async () => [] }), new: withMethods(s.newRepo, { delete: never }), repair: true, deleteExtra: true, recheck: false })],
    ['old.keyOrder', (s) => ({ old: withMethods(s.oldRepo, { keyOrder: never }), new: s.newRepo })],
    ['old.get', (s) => ({ old: withMethods(s.oldRepo, { get: never }), new: withMethods(s.newRepo, { getBatch: async () => [] }) })],
  ])('fails with a verify ERR_TIMEOUT naming %s when it never answers', async (what, make) => {
    const outcome = check({ ...(make(pair(3)) as VerifyOptions<Item, string>), timeoutMs: 20 });
    await expect(outcome).rejects.toMatchObject({ code: 'ERR_TIMEOUT' });
    await expect(outcome).rejects.toThrow(`verify: ${what} did not settle within 20 ms`);
  });

  it('says verify was aborted when the signal aborted before it started', async () => {
    const { oldRepo, newRepo } = pair(3);
    const controller = new AbortController();
    controller.abort();
    await expect(check({ old: oldRepo, new: newRepo, signal: controller.signal })).rejects.toThrow(/verify was aborted/);
    expect(oldRepo.counts.getBatch).toBe(0);
  });

  it('says verify was aborted when the signal aborted while it waited to re-check', async () => {
    const { oldRepo, newRepo } = pair(3);
    newRepo.seed([{ ...item(1), qty: -1 }]);
    const controller = new AbortController();
    const outcome = check({ old: oldRepo, new: newRepo, signal: controller.signal, sleep: async () => controller.abort() });
    await expect(outcome).rejects.toMatchObject({ code: 'ERR_ABORTED' });
    await expect(outcome).rejects.toThrow(/verify was aborted/);
    expect(oldRepo.counts.get).toBe(0);
  });

  it('names old when its keyOrder answers something other than a function', async () => {
    const { oldRepo, newRepo } = pair(3);
    const old = Object.assign(oldRepo, { keyOrder: async () => 'bytewise' }) as unknown as Repository<Item, string>;
    await expect(check({ old, new: newRepo })).rejects.toMatchObject({ code: 'ERR_INVALID_OPTION', option: 'old' });
  });

  it('merges in JavaScript’s key order when old cannot tell its own', async () => {
    const { oldRepo, newRepo } = pair(6);
    await newRepo.delete('k0002');
    newRepo.seed([item(9)]);
    const old = Object.assign(oldRepo, { keyOrder: async () => undefined });
    const report = await check({ old, new: newRepo, recheck: false, batchSize: 2 });
    expect(report).toMatchObject({ checked: 7, missing: { count: 1, keys: ['k0002'] }, extra: { count: 1, keys: ['k0009'] }, different: none });
  });

  it('logs what it found when done, and warns about nothing without an onProgress', async () => {
    const { oldRepo, newRepo } = pair(4);
    await newRepo.delete('k0001');
    const logger = recordingLogger();
    await verify({ old: oldRepo, new: newRepo, keyOf: itemKey, logger, sleep: noWait, repair: true, recheck: false, batchSize: 2 });
    expect(logger.lines.filter((line) => line.level === 'warn')).toEqual([]);
    expect(logger.lines.filter((line) => line.level === 'info').map((line) => line.context)).toEqual([{ checked: 4, missing: 1, extra: 0, different: 0, repaired: 1 }]);
  });

  it('logs the error of an onProgress that throws', async () => {
    const { oldRepo, newRepo } = pair(2);
    const logger = recordingLogger();
    const failure = new Error('listener broke');
    await verify({ old: oldRepo, new: newRepo, keyOf: itemKey, logger, sleep: noWait, onProgress: () => { throw failure; } });
    const warns = logger.lines.filter((line) => line.level === 'warn');
    expect(warns).toHaveLength(1);
    expect(warns[0]?.context).toMatchObject({ err: { message: 'listener broke' } });
  });
});
