import { afterEach, describe, expect, it, vi } from 'vitest';
import type { Comparator } from '../../src/compare/comparator.js';
import { InMemoryConfigStore } from '../../src/config/in-memory-config-store.js';
import { phases } from '../../src/config/phases.js';
import { DualWriteRepository } from '../../src/data/dual-write-repository.js';
import type { DualWriteRepositoryOptions } from '../../src/data/dual-write-options.js';
import type { DataMismatchEvent, ShadowReadErrorEvent } from '../../src/data/dual-write-events.js';
import { MigrationGlueError } from '../../src/errors.js';
import { InMemoryRepository } from '../../src/testing/index.js';
import { ManualClock } from '../../src/testing/manual-clock.js';
import { recordingLogger } from '../helpers.js';
import type { Item } from './repository-conformance.js';
import { item, itemKey } from './repository-conformance.js';

// src/data/shadow-reads.ts: the shadow half of a read in shadow mode: new's
// read, the comparison, the re-read before a mismatch counts, and how each
// failure is counted, logged and emitted.

const shadowTimeoutMs = 40;

function setup(extra: Partial<DualWriteRepositoryOptions<Item, string>> = {}) {
  const oldRepo = new InMemoryRepository<Item, string>({ keyOf: itemKey, name: 'old' });
  const newRepo = new InMemoryRepository<Item, string>({ keyOf: itemKey, name: 'new' });
  const logger = recordingLogger();
  const dual = new DualWriteRepository<Item, string>({
    name: 'items',
    old: oldRepo,
    new: newRepo,
    keyOf: itemKey,
    config: new InMemoryConfigStore(phases.shadow()),
    logger,
    clock: new ManualClock(),
    shadow: { timeoutMs: shadowTimeoutMs },
    ...extra,
  });
  const mismatches: DataMismatchEvent<Item, string>[] = [];
  const errors: ShadowReadErrorEvent<string>[] = [];
  dual.on('mismatch', (event) => mismatches.push(event));
  dual.on('shadowError', (event) => errors.push(event));
  return { oldRepo, newRepo, logger, dual, mismatches, errors };
}

/** Counts the gets of a store and runs `onGet(n)` before the n-th one (from 1). */
function onGet(repo: InMemoryRepository<Item, string>, act: (n: number) => void): void {
  let n = 0;
  repo.beforeOp = (op) => {
    if (op === 'get') act(++n);
  };
}

const never = <T>(): Promise<T> => new Promise<T>(() => {});

afterEach(() => {
  vi.useRealTimers();
});

describe('a difference that stays after the re-read', () => {
  it('is a mismatch: counted, emitted with the re-read rows, and logged with its fingerprint', async () => {
    const { dual, oldRepo, newRepo, logger, mismatches } = setup();
    oldRepo.seed([item(1)]);
    newRepo.seed([{ ...item(1), qty: 5 }]);
    // The re-read of new sees yet another row: the event carries what the re-read saw.
    onGet(newRepo, (n) => {
      if (n === 2) newRepo.seed([{ ...item(1), qty: 6 }]);
    });
    expect(await dual.get(item(1).id)).toEqual(item(1));
    await dual.drain();
    expect(dual.stats().shadow).toMatchObject({ compared: 1, mismatches: 1, errors: 0, timeouts: 0 });
    expect(mismatches).toHaveLength(1);
    expect(mismatches[0]).toMatchObject({ migration: 'items', key: item(1).id, old: item(1), new: { ...item(1), qty: 6 }, fingerprint: 'qty:changed' });
    expect(mismatches[0]?.comparison).toMatchObject({ equal: false, diff: [{ path: 'qty' }] });
    const warnings = logger.lines.filter((line) => line.level === 'warn');
    expect(warnings.map((line) => line.context)).toEqual([{ migration: 'items', key: item(1).id, fingerprint: 'qty:changed' }]);
    expect(warnings[0]?.message).toMatch(/shadow read: old and new disagree/);
  });

  it('keeps the warnings of each fingerprint apart: a flood of one does not silence another', async () => {
    const { dual, oldRepo, newRepo, logger } = setup();
    const rows = Array.from({ length: 12 }, (_, i) => item(i));
    oldRepo.seed(rows);
    newRepo.seed(rows.map((row) => ({ ...row, qty: -1 })));
    for (const row of rows) await dual.get(row.id);
    await dual.drain();
    expect(logger.lines.filter((line) => line.level === 'warn')).toHaveLength(10);
    oldRepo.seed([item(50)]);
    newRepo.seed([{ ...item(50), name: 'other' }]);
    await dual.get(item(50).id);
    await dual.drain();
    const warnings = logger.lines.filter((line) => line.level === 'warn');
    expect(warnings).toHaveLength(11);
    expect(warnings[10]?.context).toMatchObject({ fingerprint: 'name:changed' });
  });

  it('is fingerprinted as the root when the comparator gives no readable diff', async () => {
    const comparator = { compare: () => ({ equal: false }) } as unknown as Comparator<Item | undefined>;
    const { dual, oldRepo, mismatches } = setup({ comparator });
    oldRepo.seed([item(1)]);
    await dual.get(item(1).id);
    await dual.drain();
    expect(mismatches.map((event) => event.fingerprint)).toEqual([':changed']);
  });
});

describe('a difference the re-read does not confirm', () => {
  it('is compared once and is no mismatch', async () => {
    const { dual, oldRepo, newRepo, mismatches, logger } = setup();
    oldRepo.seed([item(1)]);
    newRepo.seed([{ ...item(1), qty: 5 }]);
    onGet(oldRepo, (n) => {
      if (n === 2) oldRepo.seed([{ ...item(1), qty: 5 }]);
    });
    await dual.get(item(1).id);
    await dual.drain();
    expect(dual.stats().shadow).toMatchObject({ compared: 1, mismatches: 0, errors: 0 });
    expect(mismatches).toEqual([]);
    expect(logger.lines).toEqual([]);
  });
});

describe('rows that agree', () => {
  it('are compared, and neither re-read nor reported', async () => {
    const { dual, oldRepo, newRepo, logger } = setup();
    oldRepo.seed([item(1)]);
    newRepo.seed([item(1)]);
    await dual.get(item(1).id);
    await dual.drain();
    expect(dual.stats().shadow).toMatchObject({ compared: 1, mismatches: 0, errors: 0 });
    expect(oldRepo.counts.get).toBe(1);
    expect(newRepo.counts.get).toBe(1);
    expect(logger.lines).toEqual([]);
  });

  it('are handed to the comparator as two ok outcomes, old first', async () => {
    const seen: unknown[] = [];
    const comparator = {
      compare: (a: unknown, b: unknown) => {
        seen.push(a, b);
        return { equal: true, diff: [], truncated: false };
      },
    } as unknown as Comparator<Item | undefined>;
    const { dual, oldRepo, newRepo } = setup({ comparator });
    oldRepo.seed([item(1, 'old')]);
    newRepo.seed([item(1, 'new')]);
    await dual.get(item(1).id);
    await dual.drain();
    expect(seen).toEqual([
      { ok: true, value: item(1, 'old') },
      { ok: true, value: item(1, 'new') },
    ]);
  });
});

describe('a read of old that fails', () => {
  it('leaves nothing to compare: no comparison, no error counted (the caller saw it)', async () => {
    const { dual, oldRepo, newRepo, errors, mismatches } = setup();
    newRepo.seed([item(1)]);
    oldRepo.failNext('get');
    await expect(dual.get(item(1).id)).rejects.toThrow(/injected get failure/);
    await dual.drain();
    expect(newRepo.counts.get).toBe(1);
    expect(dual.stats().shadow).toMatchObject({ compared: 0, mismatches: 0, errors: 0 });
    expect(errors).toEqual([]);
    expect(mismatches).toEqual([]);
  });
});

describe('a shadow read that fails', () => {
  it("of new: counted as an error, logged and emitted with new's very error; nothing is compared", async () => {
    const { dual, oldRepo, newRepo, logger, errors } = setup();
    oldRepo.seed([item(1)]);
    const error = new Error('new is down');
    newRepo.failNext('get', 1, () => error);
    await dual.get(item(1).id);
    await dual.drain();
    expect(dual.stats().shadow).toMatchObject({ compared: 0, errors: 1, timeouts: 0, mismatches: 0 });
    expect(errors).toHaveLength(1);
    expect(errors[0]?.error).toBe(error);
    expect(errors[0]).toMatchObject({ migration: 'items', key: item(1).id });
    const warnings = logger.lines.filter((line) => line.level === 'warn');
    expect(warnings).toHaveLength(1);
    expect(warnings[0]?.context).toMatchObject({ migration: 'items', key: item(1).id, err: { message: 'new is down' } });
    expect(warnings[0]?.message).toMatch(/shadow read from new failed/);
  });

  it('of new, by not answering: counted as an error and a timeout, with an ERR_TIMEOUT that names it', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    const { dual, oldRepo, newRepo, errors } = setup();
    oldRepo.seed([item(1)]);
    newRepo.get = () => never();
    await dual.get(item(1).id);
    await vi.advanceTimersByTimeAsync(shadowTimeoutMs);
    await dual.drain();
    expect(dual.stats().shadow).toMatchObject({ compared: 0, errors: 1, timeouts: 1 });
    expect(MigrationGlueError.is(errors[0]?.error, 'ERR_TIMEOUT')).toBe(true);
    expect((errors[0]?.error as Error).message).toContain('shadow read of new in "items" timed out');
  });

  it.each(['old', 'new'] as const)('in the re-read of %s: an error, not a mismatch', async (side) => {
    const { dual, oldRepo, newRepo, errors, mismatches } = setup();
    oldRepo.seed([item(1)]);
    newRepo.seed([{ ...item(1), qty: 5 }]);
    const error = new Error(`${side} re-read failed`);
    const repo = side === 'old' ? oldRepo : newRepo;
    onGet(repo, (n) => {
      if (n === 2) repo.failNext('get', 1, () => error);
    });
    await dual.get(item(1).id);
    await dual.drain();
    expect(dual.stats().shadow).toMatchObject({ compared: 1, errors: 1, mismatches: 0 });
    expect(errors.map((event) => event.error)).toEqual([error]);
    expect(mismatches).toEqual([]);
  });

  it.each(['old', 'new'] as const)('in the re-read of %s: the warning names the store that failed', async (side) => {
    const { dual, oldRepo, newRepo, logger } = setup();
    oldRepo.seed([item(1)]);
    newRepo.seed([{ ...item(1), qty: 5 }]);
    const repo = side === 'old' ? oldRepo : newRepo;
    onGet(repo, (n) => {
      if (n === 2) repo.failNext('get', 1, () => new Error('down'));
    });
    await dual.get(item(1).id);
    await dual.drain();
    const warnings = logger.lines.filter((line) => line.level === 'warn');
    expect(warnings.map((line) => line.message)).toEqual([`shadow read from ${side} failed`]);
  });

  it.each(['old', 'new'] as const)('in the re-read of %s, by not answering: counted as a timeout', async (side) => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    const { dual, oldRepo, newRepo, mismatches, errors } = setup();
    oldRepo.seed([item(1)]);
    newRepo.seed([{ ...item(1), qty: 5 }]);
    const repo = side === 'old' ? oldRepo : newRepo;
    const get = repo.get.bind(repo);
    let calls = 0;
    repo.get = (key) => (++calls === 2 ? never() : get(key));
    await dual.get(item(1).id);
    await vi.advanceTimersByTimeAsync(shadowTimeoutMs);
    await dual.drain();
    expect(dual.stats().shadow).toMatchObject({ compared: 1, errors: 1, timeouts: 1, mismatches: 0 });
    expect(mismatches).toEqual([]);
    expect(MigrationGlueError.is(errors[0]?.error, 'ERR_TIMEOUT')).toBe(true);
    expect((errors[0]?.error as Error).message).toContain(`shadow read of ${side} in "items" timed out`);
  });
});

describe('a comparator that does not answer with a Comparison', () => {
  it.each([
    ['undefined', undefined],
    ['null', null],
    ['a number', 1],
    ['an object without equal', { diff: [] }],
    ['an equal that is not a boolean', { equal: 'true', diff: [] }],
    ['an equal of 1', { equal: 1, diff: [] }],
  ])('%s: a shadow error naming the contract, never a comparison', async (_name, answer) => {
    const comparator = { compare: () => answer } as unknown as Comparator<Item | undefined>;
    const { dual, oldRepo, errors } = setup({ comparator });
    oldRepo.seed([item(1)]);
    await dual.get(item(1).id);
    await dual.drain();
    expect(dual.stats().shadow).toMatchObject({ compared: 1, errors: 1, mismatches: 0 });
    expect(errors[0]?.error).toBeInstanceOf(TypeError);
    expect((errors[0]?.error as Error).message).toMatch(/the comparator must return a Comparison/);
  });
});

describe('shadow.maxInFlight', () => {
  it('shadows up to maxInFlight reads at once, skips the next, and takes reads again once one finished', async () => {
    const { dual, oldRepo, newRepo } = setup({ shadow: { timeoutMs: 60_000, maxInFlight: 2 } });
    oldRepo.seed([item(1)]);
    newRepo.seed([item(1)]);
    const releases: (() => void)[] = [];
    const get = newRepo.get.bind(newRepo);
    newRepo.get = (key) => new Promise((resolve) => releases.push(() => void get(key).then(resolve)));
    for (let i = 0; i < 3; i++) await dual.get(item(1).id);
    expect(dual.stats().shadow).toMatchObject({ inFlight: 2, skipped: 1 });
    releases[0]?.();
    await new Promise((resolve) => setImmediate(resolve));
    expect(dual.stats().shadow.inFlight).toBe(1);
    await dual.get(item(1).id);
    expect(dual.stats().shadow).toMatchObject({ inFlight: 2, skipped: 1 });
    const draining = dual.drain();
    for (const release of releases.slice(1)) release();
    await draining;
    expect(dual.stats().shadow.inFlight).toBe(0);
  });
});
