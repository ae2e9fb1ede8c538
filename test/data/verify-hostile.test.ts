import { setImmediate as yieldToLoop } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { MigrationGlueError } from '../../src/errors.js';
import type { Logger } from '../../src/observe/logger.js';
import { silentLogger } from '../../src/observe/logger.js';
import type { CheckpointStore } from '../../src/data/checkpoint-store.js';
import type { VerifyOptions } from '../../src/data/verify.js';
import { verify } from '../../src/data/verify.js';
import { InMemoryRepository } from '../../src/testing/index.js';
import type { Item } from './repository-conformance.js';
import { item, itemKey, withMethods } from './repository-conformance.js';

const noWait = async (): Promise<void> => {};
const never = (): Promise<never> => new Promise(() => {});

function pair(rows = 10) {
  const all = Array.from({ length: rows }, (_, i) => item(i));
  const oldRepo = new InMemoryRepository<Item, string>({ keyOf: itemKey, name: 'old' }).seed(all);
  const newRepo = new InMemoryRepository<Item, string>({ keyOf: itemKey, name: 'new' }).seed(all);
  return { oldRepo, newRepo };
}

function check(options: Omit<VerifyOptions<Item, string>, 'keyOf'> & { keyOf?: (row: Item) => string }) {
  return verify({ keyOf: itemKey, logger: silentLogger, sleep: noWait, ...options });
}

function errorOf(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    () => undefined,
    (err: unknown) => err,
  );
}

describe('verify with stores that page wrong', () => {
  it('refuses a getBatch that ignores afterKey, naming the store', async () => {
    const { oldRepo, newRepo } = pair();
    let reads = 0;
    const broken = withMethods(newRepo, { getBatch: async (_: string | null, limit: number) => (++reads > 50 ? [] : newRepo.getBatch(null, limit)) });
    const error = await errorOf(check({ old: oldRepo, new: broken, batchSize: 4 }));
    expect(MigrationGlueError.is(error, 'ERR_INVALID_KEY')).toBe(true);
    expect((error as Error).message).toMatch(/^\[migration-glue\] new returned key "k0000" after afterKey "k0003"/);
  });

  it('refuses a page with a repeated key', async () => {
    const { oldRepo, newRepo } = pair(0);
    const page = [item(0), item(0)];
    const broken = withMethods(oldRepo, { getBatch: async (after: string | null) => (after === null ? page : []) });
    await expect(check({ old: broken, new: newRepo })).rejects.toMatchObject({ code: 'ERR_INVALID_KEY' });
  });

  it('fails with ERR_INVALID_OPTION naming the store when getBatch resolves with a non-array', async () => {
    const { oldRepo, newRepo } = pair();
    await expect(check({ old: oldRepo, new: withMethods(newRepo, { getBatch: async () => null }) })).rejects.toMatchObject({ code: 'ERR_INVALID_OPTION', option: 'new' });
  });

  it('wraps a throwing keyOf in ERR_INVALID_KEY with the cause', async () => {
    const { oldRepo, newRepo } = pair();
    const boom = new Error('no id');
    const error = await errorOf(check({ old: oldRepo, new: newRepo, keyOf: () => { throw boom; } }));
    expect(MigrationGlueError.is(error, 'ERR_INVALID_KEY')).toBe(true);
    expect((error as Error).cause).toBe(boom);
  });

  it('compares cyclic rows', async () => {
    const cyclic = (i: number, name: string) => {
      const row = { ...item(i, name), self: undefined as unknown };
      row.self = row;
      return row;
    };
    const oldRepo = new InMemoryRepository<Item, string>({ keyOf: itemKey }).seed([cyclic(0, 'a'), cyclic(1, 'b')]);
    const newRepo = new InMemoryRepository<Item, string>({ keyOf: itemKey }).seed([cyclic(0, 'a'), cyclic(1, 'changed')]);
    expect(await check({ old: oldRepo, new: newRepo })).toMatchObject({ checked: 2, different: { count: 1, keys: ['k0001'] } });
  });
});

describe('verify with calls that hang or throw', () => {
  it.each([
    ['old.getBatch', (s: ReturnType<typeof pair>) => ({ old: withMethods(s.oldRepo, { getBatch: never }), new: s.newRepo })],
    ['new.get', (s: ReturnType<typeof pair>) => ({ old: s.oldRepo, new: withMethods(s.newRepo, { get: never, getBatch: async () => [] }) })],
    ['new.save', (s: ReturnType<typeof pair>) => ({ old: s.oldRepo, new: withMethods(s.newRepo, { save: never, getBatch: async () => [] }), repair: true, recheck: false as const })],
  ])('fails with ERR_TIMEOUT when %s never answers', async (what, make) => {
    const error = await errorOf(check({ ...make(pair(3)), timeoutMs: 30 }));
    expect(MigrationGlueError.is(error, 'ERR_TIMEOUT')).toBe(true);
    expect((error as Error).message).toContain(`${what} did not settle within 30 ms`);
  });

  it('fails with ERR_TIMEOUT when the checkpoint store hangs', async () => {
    const { oldRepo, newRepo } = pair();
    const checkpoint: CheckpointStore = { load: async () => undefined, save: never, clear: async () => {} };
    await expect(check({ old: oldRepo, new: newRepo, checkpoint, timeoutMs: 30 })).rejects.toMatchObject({ code: 'ERR_TIMEOUT' });
  });

  it('refuses a checkpoint whose last key is not a key', async () => {
    const { oldRepo, newRepo } = pair();
    const checkpoint: CheckpointStore = { load: async () => ({ kind: 'verify', lastKey: [1], checked: 0, missing: { count: 0, keys: [] } }), save: async () => {}, clear: async () => {} };
    await expect(check({ old: oldRepo, new: newRepo, checkpoint })).rejects.toMatchObject({ code: 'ERR_INVALID_OPTION', option: 'checkpoint' });
  });

  it('rejects with ERR_ABORTED at once while a store call hangs', async () => {
    const { oldRepo, newRepo } = pair();
    const controller = new AbortController();
    const pending = errorOf(check({ old: oldRepo, new: withMethods(newRepo, { getBatch: never }), signal: controller.signal }));
    await yieldToLoop();
    controller.abort();
    expect(MigrationGlueError.is(await pending, 'ERR_ABORTED')).toBe(true);
  });

  it('logs an onProgress that rejects, and finishes', async () => {
    const { oldRepo, newRepo } = pair(6);
    const warnings: string[] = [];
    const logger: Logger = { ...silentLogger, warn: (_context, message) => warnings.push(message ?? '') };
    const onProgress = () => Promise.reject(new Error('async listener'));
    expect(await verify({ old: oldRepo, new: newRepo, keyOf: itemKey, logger, batchSize: 3, onProgress: onProgress as () => void })).toMatchObject({ checked: 6 });
    await yieldToLoop();
    expect(warnings).toEqual(['verify onProgress rejected', 'verify onProgress rejected', 'verify onProgress rejected']);
  });

  it.each<[string, Record<string, unknown>]>([
    ['batchSize', { batchSize: 0.5 }],
    ['timeoutMs', { timeoutMs: -1 }],
    ['maxListed', { maxListed: Number.NaN }],
    ['deleteExtras', { deleteExtras: true }],
  ])('rejects a garbage `%s` with ERR_INVALID_OPTION before reading', async (option, bad) => {
    const { oldRepo, newRepo } = pair();
    await expect(check({ old: oldRepo, new: newRepo, ...bad })).rejects.toMatchObject({ code: 'ERR_INVALID_OPTION', option });
    expect(oldRepo.counts.getBatch).toBe(0);
  });
});
