import { afterEach, describe, expect, it, vi } from 'vitest';
import { InMemoryConfigStore } from '../../src/config/in-memory-config-store.js';
import type { MigrationConfig } from '../../src/config/migration-config.js';
import { phases } from '../../src/config/phases.js';
import { DualWriteRepository } from '../../src/data/dual-write-repository.js';
import type { ReadFallbackEvent } from '../../src/data/dual-write-events.js';
import { MigrationGlueError } from '../../src/errors.js';
import { bucketOf } from '../../src/hashing/hasher.js';
import { InMemoryRepository } from '../../src/testing/index.js';
import { recordingLogger } from '../helpers.js';
import type { Item } from './repository-conformance.js';
import { item, itemKey } from './repository-conformance.js';

// src/data/dual-reads.ts: which store serves a read in each phase, which
// keys are compared in shadow, and how a failed read of new falls back.

const timeoutMs = 100;

function setup(config: MigrationConfig) {
  const store = new InMemoryConfigStore(config);
  const oldRepo = new InMemoryRepository<Item, string>({ keyOf: itemKey, name: 'old' });
  const newRepo = new InMemoryRepository<Item, string>({ keyOf: itemKey, name: 'new' });
  const logger = recordingLogger();
  const dual = new DualWriteRepository<Item, string>({ name: 'items', old: oldRepo, new: newRepo, keyOf: itemKey, config: store, logger, timeoutMs });
  return { store, oldRepo, newRepo, logger, dual };
}

/** The first key `k0000`, `k0001`, … whose bucket (salted with the migration's name) is `bucket`. */
function keyInBucket(bucket: number): string {
  for (let i = 0; ; i++) {
    const id = item(i).id;
    if (bucketOf(id, 'items') === bucket) return id;
  }
}

/** Shadow mode comparing `percentage` % of keys. */
function shadowOf(percentage: number): MigrationConfig {
  return Object.freeze({ shadowMode: true, newSystemEnabled: true, newSystemPercentage: percentage, fallbackEnabled: false });
}

const never = <T>(): Promise<T> => new Promise<T>(() => {});

afterEach(() => {
  vi.useRealTimers();
});

describe('in shadow, the compared share', () => {
  it('is the keys whose bucket is below the percentage: the last bucket in is read from new, the first out is not', async () => {
    const { dual, oldRepo, newRepo } = setup(shadowOf(30));
    const inside = keyInBucket(2999);
    const outside = keyInBucket(3000);
    oldRepo.seed([{ ...item(0), id: inside }, { ...item(0), id: outside }]);
    newRepo.seed([{ ...item(0), id: inside }, { ...item(0), id: outside }]);
    expect(await dual.get(inside)).toMatchObject({ id: inside });
    await dual.drain();
    expect(newRepo.counts.get).toBe(1);
    expect(dual.stats().shadow.compared).toBe(1);
    expect(await dual.get(outside)).toMatchObject({ id: outside });
    await dual.drain();
    expect(newRepo.counts.get).toBe(1);
    expect(dual.stats().shadow.compared).toBe(1);
    expect(dual.stats().reads).toEqual({ old: 2, new: 0, fallbacks: 0 });
  });

  it('is every key at 100 %', async () => {
    const { dual, newRepo } = setup(shadowOf(100));
    await dual.get(keyInBucket(9999));
    await dual.drain();
    expect(newRepo.counts.get).toBe(1);
  });
});

describe('with new disabled', () => {
  it('reads old alone, even with a percentage and shadow mode set', async () => {
    const config = Object.freeze({ shadowMode: true, newSystemEnabled: false, newSystemPercentage: 100, fallbackEnabled: false });
    const { dual, oldRepo, newRepo } = setup(config);
    oldRepo.seed([item(1)]);
    expect(await dual.get(item(1).id)).toEqual(item(1));
    await dual.drain();
    expect(newRepo.counts.get).toBe(0);
    expect(dual.stats().reads).toEqual({ old: 1, new: 0, fallbacks: 0 });
  });
});

describe('in canary', () => {
  it('reads new for a key in its share and old for the rest, counting each', async () => {
    const { dual, oldRepo, newRepo } = setup(phases.canary(30));
    const inside = keyInBucket(2999);
    const outside = keyInBucket(3000);
    oldRepo.seed([{ ...item(0, 'old'), id: inside }, { ...item(0, 'old'), id: outside }]);
    newRepo.seed([{ ...item(0, 'new'), id: inside }, { ...item(0, 'new'), id: outside }]);
    expect((await dual.get(inside))?.name).toBe('new');
    expect((await dual.get(outside))?.name).toBe('old');
    expect(dual.stats().reads).toEqual({ old: 1, new: 1, fallbacks: 0 });
  });

  it('falls back to old when new fails: counted, logged and emitted with the very error', async () => {
    const { dual, oldRepo, newRepo, logger } = setup(phases.canary(99.99));
    const key = keyInBucket(0);
    oldRepo.seed([{ ...item(0, 'old'), id: key }]);
    const error = new Error('new is down');
    newRepo.failNext('get', 1, () => error);
    const events: ReadFallbackEvent<string>[] = [];
    dual.on('fallback', (event) => events.push(event));
    expect((await dual.get(key))?.name).toBe('old');
    expect(events).toHaveLength(1);
    expect(events[0]?.error).toBe(error);
    expect(events[0]).toMatchObject({ migration: 'items', key });
    expect(dual.stats().reads).toEqual({ old: 1, new: 1, fallbacks: 1 });
    const warnings = logger.lines.filter((line) => line.level === 'warn');
    expect(warnings).toHaveLength(1);
    expect(warnings[0]?.context).toMatchObject({ migration: 'items', key, err: { message: 'new is down' } });
    expect(warnings[0]?.message).toMatch(/read from new failed, old served it/);
  });

  it('falls back to old when new does not answer, emitting an ERR_TIMEOUT that names the read', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    const { dual, oldRepo, newRepo } = setup(phases.canary(99.99));
    const key = keyInBucket(0);
    oldRepo.seed([{ ...item(0, 'old'), id: key }]);
    newRepo.get = () => never();
    const events: ReadFallbackEvent<string>[] = [];
    dual.on('fallback', (event) => events.push(event));
    const read = dual.get(key);
    await vi.advanceTimersByTimeAsync(timeoutMs);
    expect((await read)?.name).toBe('old');
    expect(MigrationGlueError.is(events[0]?.error, 'ERR_TIMEOUT')).toBe(true);
    expect((events[0]?.error as Error).message).toContain('get of new in "items" timed out');
  });
});

describe('without fallback', () => {
  it("in full, new's error reaches the caller and old is not read", async () => {
    const { dual, oldRepo, newRepo } = setup(phases.full());
    oldRepo.seed([item(1)]);
    const error = new Error('new is down');
    newRepo.failNext('get', 1, () => error);
    await expect(dual.get(item(1).id)).rejects.toBe(error);
    expect(oldRepo.counts.get).toBe(0);
    expect(dual.stats().reads).toEqual({ old: 0, new: 1, fallbacks: 0 });
  });

  it('in canary with fallback turned off, the same', async () => {
    const config = Object.freeze({ shadowMode: false, newSystemEnabled: true, newSystemPercentage: 50, fallbackEnabled: false });
    const { dual, oldRepo, newRepo } = setup(config);
    const key = keyInBucket(0);
    newRepo.failNext('get');
    await expect(dual.get(key)).rejects.toThrow(/injected get failure/);
    expect(oldRepo.counts.get).toBe(0);
    expect(dual.stats().reads.fallbacks).toBe(0);
  });
});

describe('a served read that does not answer', () => {
  it.each([
    ['old', phases.preparation()],
    ['new', phases.full()],
    ['old', phases.shadow()],
  ] as const)('rejects with ERR_TIMEOUT naming the read of %s (%o)', async (side, config) => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    const { dual, oldRepo, newRepo } = setup(config);
    (side === 'old' ? oldRepo : newRepo).get = () => never();
    const read = dual.get(item(1).id).catch((err: unknown) => err);
    await vi.advanceTimersByTimeAsync(timeoutMs);
    const failure = await read;
    expect(MigrationGlueError.is(failure, 'ERR_TIMEOUT')).toBe(true);
    expect((failure as Error).message).toContain(`get of ${side} in "items" timed out`);
  });

  it("in shadow, old's error reaches the caller and nothing is compared", async () => {
    const { dual, oldRepo } = setup(phases.shadow());
    const error = new Error('old is down');
    oldRepo.failNext('get', 1, () => error);
    await expect(dual.get(item(1).id)).rejects.toBe(error);
    await dual.drain();
    expect(dual.stats().shadow).toMatchObject({ compared: 0, errors: 0 });
  });
});
