import { afterEach, describe, expect, it, vi } from 'vitest';
import { InMemoryConfigStore } from '../../src/config/in-memory-config-store.js';
import type { MigrationConfig } from '../../src/config/migration-config.js';
import { phases } from '../../src/config/phases.js';
import { DualWriteRepository } from '../../src/data/dual-write-repository.js';
import type { DualWriteRepositoryOptions } from '../../src/data/dual-write-options.js';
import { InMemoryRepairLog } from '../../src/data/repair-log.js';
import { InMemoryTombstoneStore } from '../../src/data/tombstone-store.js';
import { MigrationGlueError } from '../../src/errors.js';
import { silentLogger } from '../../src/observe/logger.js';
import { InMemoryRepository } from '../../src/testing/index.js';
import type { Item } from './repository-conformance.js';
import { item, itemKey } from './repository-conformance.js';

// src/data/dual-write-repository.ts: how the repository hands its options to
// the read path, the write path, the shadow reads and the repair runner, and
// what getBatch, repair(), on() and stats() answer.

const timeoutMs = 100;
const secondaryTimeoutMs = 50;
const shadowTimeoutMs = 30;

function setup(config: MigrationConfig = phases.shadow(), extra: Partial<DualWriteRepositoryOptions<Item, string>> = {}) {
  const store = new InMemoryConfigStore(config);
  const oldRepo = new InMemoryRepository<Item, string>({ keyOf: itemKey, name: 'old' });
  const newRepo = new InMemoryRepository<Item, string>({ keyOf: itemKey, name: 'new' });
  const dual = new DualWriteRepository<Item, string>({
    name: 'items',
    old: oldRepo,
    new: newRepo,
    keyOf: itemKey,
    config: store,
    logger: silentLogger,
    timeoutMs,
    secondaryTimeoutMs,
    shadow: { timeoutMs: shadowTimeoutMs },
    ...extra,
  });
  return { store, oldRepo, newRepo, dual };
}

const never = <T>(): Promise<T> => new Promise<T>(() => {});

/** Settles `promise` into a box that can be checked while fake time stands still. */
function watch<T>(promise: Promise<T>): { done: boolean; value?: T; error?: unknown } {
  const box: { done: boolean; value?: T; error?: unknown } = { done: false };
  promise.then(
    (value) => Object.assign(box, { done: true, value }),
    (error: unknown) => Object.assign(box, { done: true, error }),
  );
  return box;
}

function useFakeTimeouts(): void {
  vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
}

afterEach(() => {
  vi.useRealTimers();
});

describe('each bound applies where the options say', () => {
  it('a read that serves the caller waits timeoutMs', async () => {
    useFakeTimeouts();
    const { dual, newRepo } = setup(phases.full());
    newRepo.get = () => never();
    const read = watch(dual.get(item(1).id));
    await vi.advanceTimersByTimeAsync(timeoutMs - 1);
    expect(read.done).toBe(false);
    await vi.advanceTimersByTimeAsync(1);
    expect(MigrationGlueError.is(read.error, 'ERR_TIMEOUT')).toBe(true);
  });

  it('a primary write waits timeoutMs, a secondary write secondaryTimeoutMs', async () => {
    useFakeTimeouts();
    const { dual, oldRepo, newRepo } = setup();
    newRepo.save = () => never();
    const secondary = watch(dual.save(item(1)));
    await vi.advanceTimersByTimeAsync(secondaryTimeoutMs - 1);
    expect(secondary.done).toBe(false);
    await vi.advanceTimersByTimeAsync(1);
    expect(secondary).toEqual({ done: true, value: undefined });
    oldRepo.save = () => never();
    const primary = watch(dual.save(item(2)));
    await vi.advanceTimersByTimeAsync(timeoutMs - 1);
    expect(primary.done).toBe(false);
    await vi.advanceTimersByTimeAsync(1);
    expect(MigrationGlueError.is(primary.error, 'ERR_TIMEOUT')).toBe(true);
  });

  it('a shadow read of new waits shadow.timeoutMs', async () => {
    useFakeTimeouts();
    const { dual, oldRepo, newRepo } = setup();
    oldRepo.seed([item(1)]);
    newRepo.get = () => never();
    expect(await dual.get(item(1).id)).toEqual(item(1));
    await vi.advanceTimersByTimeAsync(shadowTimeoutMs - 1);
    expect(dual.stats().shadow).toMatchObject({ inFlight: 1, timeouts: 0 });
    await vi.advanceTimersByTimeAsync(1);
    expect(dual.stats().shadow).toMatchObject({ inFlight: 0, timeouts: 1, errors: 1 });
  });

  it('each store call of repair() waits timeoutMs', async () => {
    useFakeTimeouts();
    const { dual, oldRepo, newRepo } = setup();
    newRepo.failNext('save');
    await dual.save(item(1));
    oldRepo.get = () => never();
    const repair = watch(dual.repair());
    await vi.advanceTimersByTimeAsync(timeoutMs - 1);
    expect(repair.done).toBe(false);
    await vi.advanceTimersByTimeAsync(1);
    expect(repair.value).toEqual({ replayed: 0, keys: 0, failed: 1, remaining: 1 });
  });

  it('getBatch waits timeoutMs and names the store it read', async () => {
    useFakeTimeouts();
    for (const [config, side] of [[phases.shadow(), 'old'], [phases.full(), 'new']] as const) {
      const { dual, oldRepo, newRepo } = setup(config);
      (side === 'old' ? oldRepo : newRepo).getBatch = () => never();
      const page = watch(dual.getBatch(null, 10));
      await vi.advanceTimersByTimeAsync(timeoutMs - 1);
      expect(page.done).toBe(false);
      await vi.advanceTimersByTimeAsync(1);
      expect(MigrationGlueError.is(page.error, 'ERR_TIMEOUT')).toBe(true);
      expect((page.error as Error).message).toContain(`getBatch of ${side} in "items"`);
    }
  });
});

describe('getBatch', () => {
  it('pages the store that serves reads: new in full, old in every other phase', async () => {
    for (const [config, side] of [[phases.preparation(), 'old'], [phases.shadow(), 'old'], [phases.canary(99), 'old'], [phases.full(), 'new']] as const) {
      const { dual, oldRepo, newRepo } = setup(config);
      oldRepo.seed([item(1, 'old'), item(2, 'old')]);
      newRepo.seed([item(1, 'new'), item(2, 'new'), item(3, 'new')]);
      const page = await dual.getBatch(item(1).id, 10);
      expect(page.map((row) => row.name)).toEqual(side === 'old' ? ['old'] : ['new', 'new']);
    }
  });

  it("rejects with the store's own error", async () => {
    const { dual, oldRepo } = setup();
    const error = new Error('old is down');
    oldRepo.failNext('getBatch', 1, () => error);
    await expect(dual.getBatch(null, 10)).rejects.toBe(error);
  });
});

describe('the stores in use', () => {
  it('are the ones given', () => {
    const repairLog = new InMemoryRepairLog<string>();
    const tombstones = new InMemoryTombstoneStore<string>();
    const { dual } = setup(phases.shadow(), { repairLog, tombstones });
    expect(dual.repairLog).toBe(repairLog);
    expect(dual.tombstones).toBe(tombstones);
  });

  it('are in-memory ones by default, and they are the ones written', async () => {
    const { dual, newRepo } = setup(phases.shadow(), { repairLog: undefined, tombstones: undefined });
    expect(dual.repairLog).toBeInstanceOf(InMemoryRepairLog);
    expect(dual.tombstones).toBeInstanceOf(InMemoryTombstoneStore);
    newRepo.failNext('delete');
    await dual.delete(item(1).id);
    expect(await dual.repairLog.size()).toBe(1);
    expect(await dual.tombstones.has([item(1).id])).toEqual([item(1).id]);
  });
});

describe('repair()', () => {
  it('starts a new replay once the last one finished', async () => {
    const { dual, newRepo } = setup();
    newRepo.failNext('save');
    await dual.save(item(1));
    const first = dual.repair();
    expect(await first).toMatchObject({ replayed: 1 });
    newRepo.failNext('save');
    await dual.save(item(2));
    const second = dual.repair();
    expect(second).not.toBe(first);
    expect(await second).toMatchObject({ replayed: 1, remaining: 0 });
    expect(newRepo.snapshot()).toEqual([item(1), item(2)]);
  });

  it('starts a new replay after one that rejected', async () => {
    const { dual, newRepo } = setup();
    newRepo.failNext('save');
    await dual.save(item(1));
    const list = dual.repairLog.list.bind(dual.repairLog);
    dual.repairLog.list = () => Promise.reject(new Error('log down'));
    await expect(dual.repair()).rejects.toThrow('log down');
    dual.repairLog.list = list;
    expect(await dual.repair()).toMatchObject({ replayed: 1, remaining: 0 });
  });
});

describe('on()', () => {
  it('returns a function that unsubscribes the listener', async () => {
    const { dual, newRepo } = setup();
    const keys: string[] = [];
    const off = dual.on('secondaryFailure', (event) => keys.push(event.key));
    newRepo.failNext('save', 2);
    await dual.save(item(1));
    off();
    await dual.save(item(2));
    expect(keys).toEqual([item(1).id]);
  });
});

describe('stats()', () => {
  it('has every figure, each at 0 for a fresh repository', () => {
    const { dual } = setup(phases.canary(10));
    expect(dual.stats()).toEqual({
      migration: 'items',
      phase: 'canary',
      reads: { old: 0, new: 0, fallbacks: 0 },
      writes: { acknowledged: 0, primaryFailures: 0, primaryTimeouts: 0, lateWrites: 0, secondaryFailures: 0, secondaryTimeouts: 0 },
      shadow: { compared: 0, mismatches: 0, errors: 0, timeouts: 0, skipped: 0, inFlight: 0 },
      repair: { recorded: 0, replayed: 0, failed: 0, unrecorded: 0, pending: 0, lost: 0 },
    });
  });

  it('gives a copy of the read counts, not the live object', async () => {
    const { dual } = setup(phases.preparation());
    const before = dual.stats();
    await dual.get(item(1).id);
    expect(before.reads.old).toBe(0);
    expect(dual.stats().reads.old).toBe(1);
  });
});

describe('the comparator', () => {
  it('is the one given: a function that calls two rows equal hides their difference', async () => {
    const { dual, oldRepo, newRepo } = setup(phases.shadow(), { comparator: () => true });
    oldRepo.seed([item(1, 'old')]);
    newRepo.seed([item(1, 'new')]);
    await dual.get(item(1).id);
    await dual.drain();
    expect(dual.stats().shadow).toMatchObject({ compared: 1, mismatches: 0, errors: 0 });
  });
});

describe('a key that is not usable', () => {
  it('is refused with ERR_INVALID_KEY naming where it came from', async () => {
    const { dual } = setup(phases.shadow(), { keyOf: (() => undefined) as never });
    const failures = await Promise.all([
      dual.save(item(1)).catch((err: unknown) => err),
      dual.get(undefined as never).catch((err: unknown) => err),
      dual.delete(Number.NaN as never).catch((err: unknown) => err),
    ]);
    for (const failure of failures) expect(MigrationGlueError.is(failure, 'ERR_INVALID_KEY')).toBe(true);
    expect(failures.map((failure) => (failure as Error).message)).toEqual([
      expect.stringMatching(/] the key keyOf returned must be a string, a finite number or a bigint/),
      expect.stringMatching(/] the key must be a string, a finite number or a bigint/),
      expect.stringMatching(/] the key must be a string, a finite number or a bigint/),
    ]);
  });
});
