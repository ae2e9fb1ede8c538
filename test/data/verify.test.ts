import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { MigrationGlueError } from '../../src/errors.js';
import { silentLogger } from '../../src/observe/logger.js';
import { InMemoryCheckpointStore } from '../../src/data/checkpoint-store.js';
import type { VerifyOptions } from '../../src/data/verify.js';
import { verify } from '../../src/data/verify.js';
import { InMemoryRepository } from '../../src/testing/index.js';
import type { Item } from './repository-conformance.js';
import { item, itemKey } from './repository-conformance.js';

const noWait = async (): Promise<void> => {};

function pair(rows = 50) {
  const all = Array.from({ length: rows }, (_, i) => item(i));
  const oldRepo = new InMemoryRepository<Item, string>({ keyOf: itemKey, name: 'old' }).seed(all);
  const newRepo = new InMemoryRepository<Item, string>({ keyOf: itemKey, name: 'new' }).seed(all);
  return { oldRepo, newRepo };
}

function check(options: Omit<VerifyOptions<Item, string>, 'keyOf'>) {
  return verify({ keyOf: itemKey, logger: silentLogger, sleep: noWait, ...options });
}

describe('verify', () => {
  it('reports nothing on identical stores', async () => {
    const { oldRepo, newRepo } = pair();
    expect(await check({ old: oldRepo, new: newRepo, batchSize: 7 })).toEqual({
      checked: 50,
      missing: { count: 0, keys: [] },
      extra: { count: 0, keys: [] },
      different: { count: 0, keys: [] },
      repaired: 0,
      transient: 0,
    });
  });

  it('finds every injected divergence, with exact counts and capped lists', async () => {
    const { oldRepo, newRepo } = pair();
    for (const i of [0, 10, 11, 49]) await newRepo.delete(item(i).id);
    for (const i of [3, 30]) newRepo.seed([{ ...item(i), qty: -1 }]);
    newRepo.seed([item(50), item(60), { id: 'a', name: 'before all', qty: 0 }]);
    const report = await check({ old: oldRepo, new: newRepo, batchSize: 8, maxListed: 3 });
    expect(report.checked).toBe(53);
    expect(report.missing).toEqual({ count: 4, keys: ['k0000', 'k0010', 'k0011'] });
    expect(report.different).toEqual({ count: 2, keys: ['k0003', 'k0030'] });
    expect(report.extra).toEqual({ count: 3, keys: ['a', 'k0050', 'k0060'] });
    expect(newRepo.counts.save).toBe(0);
  });

  it('repairs new from old, and deletes extra rows only with deleteExtra', async () => {
    const { oldRepo, newRepo } = pair(20);
    await newRepo.delete('k0005');
    newRepo.seed([{ ...item(6), name: 'stale' }, item(99)]);
    const first = await check({ old: oldRepo, new: newRepo, repair: true });
    expect(first).toMatchObject({ repaired: 2, missing: { count: 1 }, different: { count: 1 }, extra: { count: 1 } });
    expect(await newRepo.get('k0099')).toBeDefined();
    const second = await check({ old: oldRepo, new: newRepo, repair: true, deleteExtra: true });
    expect(second).toMatchObject({ repaired: 1, missing: { count: 0 }, different: { count: 0 }, extra: { count: 1, keys: ['k0099'] } });
    expect(newRepo.snapshot()).toEqual(oldRepo.snapshot());
    expect(oldRepo.counts).toMatchObject({ save: 0, delete: 0 });
  });

  it('re-checks a difference caused by a write in flight and does not report it', async () => {
    const { oldRepo, newRepo } = pair(10);
    // Old has the new value, new's copy lands a moment later (a dual write between its two stores).
    oldRepo.seed([{ ...item(4), qty: 400 }]);
    const sleeps: number[] = [];
    const sleep = async (ms: number) => {
      sleeps.push(ms);
      newRepo.seed([{ ...item(4), qty: 400 }]);
    };
    const report = await verify({ old: oldRepo, new: newRepo, keyOf: itemKey, logger: silentLogger, sleep, recheck: { attempts: 3, delayMs: 25 } });
    expect(report).toMatchObject({ different: { count: 0 }, transient: 1 });
    expect(sleeps).toEqual([25]);
  });

  it('reports the first read when recheck is off', async () => {
    const { oldRepo, newRepo } = pair(10);
    newRepo.seed([{ ...item(4), qty: 400 }]);
    expect(await check({ old: oldRepo, new: newRepo, recheck: false })).toMatchObject({ different: { count: 1, keys: ['k0004'] }, transient: 0 });
    expect(newRepo.counts.get).toBe(0);
  });

  it('resumes from its checkpoint after an abort, with the same totals', async () => {
    const { oldRepo, newRepo } = pair(100);
    for (const i of [5, 55, 95]) await newRepo.delete(item(i).id);
    const checkpoint = new InMemoryCheckpointStore();
    const controller = new AbortController();
    const error = await check({
      old: oldRepo,
      new: newRepo,
      batchSize: 10,
      checkpoint,
      signal: controller.signal,
      onProgress: (report) => {
        if (report.checked >= 40) controller.abort();
      },
    }).catch((err: unknown) => err);
    expect((error as { code: string }).code).toBe('ERR_ABORTED');
    const reads = oldRepo.counts.getBatch;
    const report = await check({ old: oldRepo, new: newRepo, batchSize: 10, checkpoint });
    expect(report).toMatchObject({ checked: 100, missing: { count: 3, keys: ['k0005', 'k0055', 'k0095'] } });
    // Resumed past the first 40 keys: about 6 more pages, not 10.
    expect(oldRepo.counts.getBatch - reads).toBeLessThanOrEqual(8);
  });

  it('fails with ERR_INVALID_KEY when a store pages in another order than compareKeys', async () => {
    const { oldRepo, newRepo } = pair(10);
    const error = await check({ old: oldRepo, new: newRepo, batchSize: 3, compareKeys: (a, b) => (a < b ? 1 : a > b ? -1 : 0) }).catch((err: unknown) => err);
    expect(MigrationGlueError.is(error, 'ERR_INVALID_KEY')).toBe(true);
  });

  it('rejects bad options naming them', async () => {
    const { oldRepo, newRepo } = pair(1);
    await expect(check({ old: oldRepo, new: newRepo, maxListed: -1 })).rejects.toThrow(/option `maxListed`/);
    await expect(check({ old: oldRepo, new: newRepo, recheck: { attempts: 1.5 } })).rejects.toThrow(/option `recheck.attempts`/);
    await expect(check({ old: oldRepo, new: newRepo, repair: 'yes' as never })).rejects.toThrow(/option `repair`/);
  });

  it('counts exactly whatever divergence it is given (property)', async () => {
    const change = fc.constantFrom('same', 'missing', 'different', 'extra');
    await fc.assert(
      fc.asyncProperty(fc.array(change, { maxLength: 60 }), fc.integer({ min: 1, max: 9 }), async (changes, batchSize) => {
        const oldRepo = new InMemoryRepository<Item, string>({ keyOf: itemKey });
        const newRepo = new InMemoryRepository<Item, string>({ keyOf: itemKey });
        const expected = { missing: [] as string[], different: [] as string[], extra: [] as string[] };
        changes.forEach((kind, i) => {
          const row = item(i);
          if (kind !== 'extra') oldRepo.seed([row]);
          if (kind === 'same' || kind === 'extra') newRepo.seed([row]);
          if (kind === 'different') newRepo.seed([{ ...row, qty: -i - 1 }]);
          if (kind !== 'same') expected[kind].push(row.id);
        });
        const report = await check({ old: oldRepo, new: newRepo, batchSize, maxListed: 1000 });
        expect(report.checked).toBe(changes.length);
        expect(report.missing.keys).toEqual(expected.missing);
        expect(report.different.keys).toEqual(expected.different);
        expect(report.extra.keys).toEqual(expected.extra);
      }),
      { numRuns: 100 },
    );
  });
});
