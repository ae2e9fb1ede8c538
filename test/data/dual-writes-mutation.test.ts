import { afterEach, describe, expect, it, vi } from 'vitest';
import { InMemoryConfigStore } from '../../src/config/in-memory-config-store.js';
import type { MigrationConfig } from '../../src/config/migration-config.js';
import { phases } from '../../src/config/phases.js';
import { DualWriteRepository } from '../../src/data/dual-write-repository.js';
import type { DualWriteRepositoryOptions } from '../../src/data/dual-write-options.js';
import { InMemoryRepairLog } from '../../src/data/repair-log.js';
import type { RepairLog } from '../../src/data/repair-log.js';
import type { TombstoneStore } from '../../src/data/tombstone-store.js';
import { InMemoryTombstoneStore } from '../../src/data/tombstone-store.js';
import { DualWrites } from '../../src/data/dual-writes.js';
import type { DualWriteEvents, SecondaryFailureEvent } from '../../src/data/dual-write-events.js';
import { KeyedQueue } from '../../src/data/keys.js';
import { RepairTracker } from '../../src/data/repair-replay.js';
import { RepairRunner } from '../../src/data/repair-runner.js';
import { MigrationGlueError } from '../../src/errors.js';
import type { Clock } from '../../src/observe/clock.js';
import { systemClock } from '../../src/observe/clock.js';
import { Emitter } from '../../src/observe/emitter.js';
import { LogLimiter } from '../../src/observe/log-limiter.js';
import { silentLogger } from '../../src/observe/logger.js';
import { InMemoryRepository } from '../../src/testing/index.js';
import { ManualClock } from '../../src/testing/manual-clock.js';
import { recordingLogger } from '../helpers.js';
import type { Item } from './repository-conformance.js';
import { item, itemKey } from './repository-conformance.js';

// src/data/dual-writes.ts: the write path of a DualWriteRepository (primary,
// tombstone, secondary, repair entry), its counts, its log lines and the
// clock time it stamps on what it records.

const start = Date.UTC(2026, 5, 1);
const secondaryTimeoutMs = 50;
const timeoutMs = 100;

function setup(config: MigrationConfig = phases.shadow(), extra: Partial<DualWriteRepositoryOptions<Item, string>> = {}) {
  const store = new InMemoryConfigStore(config);
  const oldRepo = new InMemoryRepository<Item, string>({ keyOf: itemKey, name: 'old' });
  const newRepo = new InMemoryRepository<Item, string>({ keyOf: itemKey, name: 'new' });
  const logger = recordingLogger();
  const clock = new ManualClock({ start, autoAdvance: false });
  const repairLog = new InMemoryRepairLog<string>();
  const dual = new DualWriteRepository<Item, string>({
    name: 'items',
    old: oldRepo,
    new: newRepo,
    keyOf: itemKey,
    config: store,
    logger,
    clock,
    repairLog,
    timeoutMs,
    secondaryTimeoutMs,
    ...extra,
  });
  return { store, oldRepo, newRepo, logger, clock, repairLog, dual };
}

/** A store call that answers only when `release` (or `fail`) is called. */
function held() {
  const gate: { release: () => void; fail: (error: unknown) => void } = { release: () => {}, fail: () => {} };
  const call = () =>
    new Promise<void>((resolve, reject) => {
      gate.release = resolve;
      gate.fail = reject;
    });
  return { gate, call };
}

/** Lets every promise callback queued so far run (fake timers leave setImmediate alone). */
const settle = () => new Promise<void>((resolve) => setImmediate(resolve));

function useFakeTimeouts(): void {
  vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
}

afterEach(() => {
  vi.useRealTimers();
});

describe('a write in preparation', () => {
  it('records nothing in the repair log for a key that has no entry', async () => {
    const { dual, repairLog, newRepo } = setup(phases.preparation());
    await dual.save(item(1));
    await dual.delete(item(2).id);
    expect(await repairLog.size()).toBe(0);
    expect(newRepo.counts).toMatchObject({ save: 0, delete: 0 });
  });

  it('records a new entry, stamped with the clock, for a key that has one, so an older entry cannot win', async () => {
    const { dual, store, repairLog, newRepo, clock } = setup();
    newRepo.failNext('save');
    await dual.save({ ...item(1), qty: 1 });
    await store.save(phases.preparation());
    clock.advance(1000);
    await dual.save({ ...item(1), qty: 2 });
    const entries = await repairLog.list(null, 10);
    expect(entries).toHaveLength(2);
    expect(entries[1]).toMatchObject({ key: 'k0001', op: 'save', side: 'new', at: start + 1000, error: expect.stringMatching(/old only/) });
    expect(newRepo.counts.save).toBe(1);
  });
});

describe('a secondary write that fails', () => {
  it('is recorded with the clock time, and emitted with the very error and the phase', async () => {
    const { dual, repairLog, newRepo, clock } = setup();
    const error = new Error('new is down');
    newRepo.failNext('save', 1, () => error);
    clock.advance(250);
    const events: SecondaryFailureEvent<string>[] = [];
    dual.on('secondaryFailure', (event) => events.push(event));
    await dual.save(item(1));
    expect(await repairLog.list(null, 10)).toMatchObject([{ key: 'k0001', op: 'save', side: 'new', at: start + 250, error: 'Error: new is down' }]);
    expect(events).toHaveLength(1);
    expect(events[0]?.error).toBe(error);
    expect(events[0]).toMatchObject({ migration: 'items', key: 'k0001', op: 'save', side: 'new', phase: 'shadow' });
  });

  it('logs one warning naming the key, op, side and error once the entry is recorded', async () => {
    const { dual, oldRepo, logger } = setup(phases.full());
    await dual.save(item(2));
    expect(logger.lines).toEqual([]);
    oldRepo.failNext('delete', 1, () => new TypeError('old refused'));
    await dual.delete(item(3).id);
    const warnings = logger.lines.filter((line) => line.level === 'warn');
    expect(warnings).toHaveLength(1);
    expect(warnings[0]?.context).toMatchObject({ migration: 'items', key: 'k0003', op: 'delete', side: 'old', err: { message: 'old refused' } });
    expect(warnings[0]?.message).toMatch(/old failed a delete; recorded in the repair log/);
  });

  it('logs no such warning when the repair log refused the entry (that loss is logged as an error instead)', async () => {
    const inner = new InMemoryRepairLog<string>();
    const refusing: RepairLog<string> = {
      append: () => Promise.reject(new Error('disk full')),
      list: (after, limit) => inner.list(after, limit),
      remove: (ids) => inner.remove(ids),
      size: () => inner.size(),
    };
    const { dual, newRepo, logger } = setup(phases.shadow(), { repairLog: refusing });
    newRepo.failNext('save');
    await dual.save(item(1));
    expect(logger.lines.filter((line) => line.level === 'warn')).toEqual([]);
    expect(logger.lines.filter((line) => line.level === 'error')).toHaveLength(1);
    expect(dual.stats().writes.secondaryFailures).toBe(1);
  });

  it('keeps the warnings of each side apart: a flood of failures of new does not silence those of old', async () => {
    const { dual, store, newRepo, oldRepo, logger } = setup();
    newRepo.failNext('save', 12);
    for (let i = 0; i < 12; i++) await dual.save(item(i));
    const ofNew = logger.lines.filter((line) => line.level === 'warn').length;
    expect(ofNew).toBe(10);
    await store.save(phases.full());
    oldRepo.failNext('save');
    await dual.save(item(20));
    const last = logger.lines.filter((line) => line.level === 'warn').slice(ofNew);
    expect(last).toHaveLength(1);
    expect(last[0]?.context).toMatchObject({ side: 'old', key: 'k0020' });
  });
});

describe('a secondary write that does not answer', () => {
  it('is recorded as a timeout naming the op, the side and the migration, and counted', async () => {
    useFakeTimeouts();
    const { dual, repairLog, newRepo } = setup();
    const { gate, call } = held();
    newRepo.delete = call;
    const pending = dual.delete(item(1).id);
    await vi.advanceTimersByTimeAsync(secondaryTimeoutMs);
    await pending;
    const [entry] = await repairLog.list(null, 10);
    expect(entry).toMatchObject({ key: 'k0001', op: 'delete', side: 'new' });
    expect(entry?.error).toContain('delete of new in "items" timed out');
    expect(dual.stats().writes).toMatchObject({ acknowledged: 1, secondaryFailures: 1, secondaryTimeouts: 1, primaryFailures: 0, primaryTimeouts: 0 });
    gate.release();
    await settle();
  });

  it('logs at debug whether it answered ok or with an error when it answers late', async () => {
    useFakeTimeouts();
    const { dual, newRepo, logger } = setup();
    const first = held();
    newRepo.save = first.call;
    const one = dual.save(item(1));
    await vi.advanceTimersByTimeAsync(secondaryTimeoutMs);
    await one;
    const second = held();
    newRepo.save = second.call;
    const two = dual.save(item(2));
    await vi.advanceTimersByTimeAsync(secondaryTimeoutMs);
    await two;
    first.gate.release();
    second.gate.fail(new Error('late failure'));
    await settle();
    const debug = logger.lines.filter((line) => line.level === 'debug');
    expect(debug.map((line) => line.context)).toEqual([
      { migration: 'items', key: 'k0001', op: 'save', side: 'new', ok: true },
      { migration: 'items', key: 'k0002', op: 'save', side: 'new', ok: false },
    ]);
  });
});

describe('a primary write that does not answer', () => {
  it('rejects with ERR_TIMEOUT naming the op, counts a failure and a timeout, and writes no secondary', async () => {
    useFakeTimeouts();
    const { dual, oldRepo, newRepo } = setup();
    const { gate, call } = held();
    oldRepo.save = call;
    const pending = dual.save(item(1)).catch((err: unknown) => err);
    await vi.advanceTimersByTimeAsync(timeoutMs);
    const failure = await pending;
    expect(MigrationGlueError.is(failure, 'ERR_TIMEOUT')).toBe(true);
    expect((failure as Error).message).toContain('save of the primary in "items" timed out');
    expect(dual.stats().writes).toMatchObject({ acknowledged: 0, primaryFailures: 1, primaryTimeouts: 1, lateWrites: 0 });
    expect(newRepo.counts.save).toBe(0);
    gate.fail(new Error('gone'));
    await settle();
  });

  it('counts and logs an error when it lands later, since the caller was told it failed', async () => {
    useFakeTimeouts();
    const { dual, oldRepo, logger } = setup();
    const { gate, call } = held();
    oldRepo.delete = call;
    const pending = dual.delete(item(1).id).catch((err: unknown) => err);
    await vi.advanceTimersByTimeAsync(timeoutMs);
    expect(MigrationGlueError.is(await pending, 'ERR_TIMEOUT')).toBe(true);
    expect(logger.lines.filter((line) => line.level === 'error')).toEqual([]);
    gate.release();
    await settle();
    expect(dual.stats().writes.lateWrites).toBe(1);
    const errors = logger.lines.filter((line) => line.level === 'error');
    expect(errors).toHaveLength(1);
    expect(errors[0]?.context).toMatchObject({ migration: 'items', key: 'k0001', op: 'delete' });
    expect(errors[0]?.message).toMatch(/a delete that timed out landed in the primary later.*run verify/);
  });

  it('neither counts nor logs a late answer that is an error', async () => {
    useFakeTimeouts();
    const { dual, oldRepo, logger } = setup();
    const { gate, call } = held();
    oldRepo.save = call;
    const pending = dual.save(item(1)).catch((err: unknown) => err);
    await vi.advanceTimersByTimeAsync(timeoutMs);
    await pending;
    gate.fail(new Error('late failure'));
    await settle();
    expect(dual.stats().writes.lateWrites).toBe(0);
    expect(logger.lines.filter((line) => line.level === 'error')).toEqual([]);
  });
});

describe('a primary write that fails', () => {
  it('counts a failure but no timeout', async () => {
    const { dual, oldRepo } = setup();
    oldRepo.failNext('save');
    await expect(dual.save(item(1))).rejects.toThrow(/injected save failure/);
    expect(dual.stats().writes).toMatchObject({ acknowledged: 0, primaryFailures: 1, primaryTimeouts: 0 });
  });
});

/** A tombstone store that records its calls and can fail or hang them. */
function tombstoneSpy(behaviour: { add?: () => Promise<void>; remove?: () => Promise<void> } = {}) {
  const inner = new InMemoryTombstoneStore<string>();
  const calls: string[] = [];
  const store: TombstoneStore<string> = {
    add: (key, at) => {
      calls.push(`add:${key}@${at}`);
      return behaviour.add?.() ?? inner.add(key, at);
    },
    remove: (key) => {
      calls.push(`remove:${key}`);
      return behaviour.remove?.() ?? inner.remove(key);
    },
    has: (keys) => inner.has(keys),
    clear: () => inner.clear(),
  };
  return { store, calls, inner };
}

describe('tombstones', () => {
  it('a delete leaves one stamped with the clock before the secondary delete; a later save removes it', async () => {
    const spy = tombstoneSpy();
    const { dual, clock, newRepo } = setup(phases.shadow(), { tombstones: spy.store });
    await dual.save(item(1));
    clock.advance(42);
    let newHeldRowAtAdd: boolean | undefined;
    const add = spy.store.add;
    spy.store.add = async (key, at) => {
      newHeldRowAtAdd = newRepo.snapshot().length === 1;
      return add(key, at);
    };
    await dual.delete(item(1).id);
    expect(newHeldRowAtAdd).toBe(true);
    expect(await spy.inner.has(['k0001'])).toEqual(['k0001']);
    await dual.save(item(1));
    expect(await spy.inner.has(['k0001'])).toEqual([]);
    expect(spy.calls).toEqual(['remove:k0001', `add:k0001@${start + 42}`, 'remove:k0001']);
  });

  it('a save whose tombstone cannot be removed still resolves and reaches the secondary; the error is logged', async () => {
    const spy = tombstoneSpy({ remove: () => Promise.reject(new RangeError('tombstones down')) });
    const { dual, newRepo, logger } = setup(phases.shadow(), { tombstones: spy.store });
    await dual.save(item(1));
    expect(newRepo.snapshot()).toEqual([item(1)]);
    const errors = logger.lines.filter((line) => line.level === 'error');
    expect(errors).toHaveLength(1);
    expect(errors[0]?.context).toMatchObject({ migration: 'items', key: 'k0001', err: { message: 'tombstones down' } });
    expect(errors[0]?.message).toMatch(/could not be removed/);
  });

  it('a delete whose tombstone does not answer goes on after secondaryTimeoutMs; the timeout is logged', async () => {
    useFakeTimeouts();
    const spy = tombstoneSpy({ add: () => new Promise<void>(() => {}) });
    const { dual, newRepo, logger } = setup(phases.shadow(), { tombstones: spy.store });
    newRepo.seed([item(1)]);
    const pending = dual.delete(item(1).id);
    await vi.advanceTimersByTimeAsync(secondaryTimeoutMs);
    await pending;
    expect(newRepo.size).toBe(0);
    const errors = logger.lines.filter((line) => line.level === 'error');
    expect(errors).toHaveLength(1);
    expect(errors[0]?.context).toMatchObject({ err: { message: 'timed out' }, migration: 'items', key: 'k0001' });
    expect(errors[0]?.message).toMatch(/could not be recorded/);
  });

  it('keeps the errors of removing and of recording apart: a flood of one does not silence the other', async () => {
    const spy = tombstoneSpy({ remove: () => Promise.reject(new Error('no')), add: () => Promise.reject(new Error('no')) });
    const { dual, logger } = setup(phases.shadow(), { tombstones: spy.store });
    for (let i = 0; i < 12; i++) await dual.save(item(i));
    expect(logger.lines.filter((line) => line.level === 'error')).toHaveLength(10);
    await dual.delete(item(1).id);
    const errors = logger.lines.filter((line) => line.level === 'error');
    expect(errors).toHaveLength(11);
    expect(errors[10]?.message).toMatch(/could not be recorded/);
  });
});

/** DualWrites on its own, with a clock used as it is (a DualWriteRepository always hands it a guarded one). */
function bare(clock: Clock) {
  const old = new InMemoryRepository<Item, string>({ keyOf: itemKey, name: 'old' });
  const fresh = new InMemoryRepository<Item, string>({ keyOf: itemKey, name: 'new' });
  const repairLog = new InMemoryRepairLog<string>();
  const tracker = new RepairTracker<string>();
  const emitter = new Emitter<DualWriteEvents<Item, string>>(silentLogger);
  const log = new LogLimiter(silentLogger, systemClock);
  const common = { name: 'items', old, new: fresh, timeoutMs, secondaryTimeoutMs, emitter };
  const runner = new RepairRunner<Item, string>({ ...common, repairLog, tracker, writes: new KeyedQueue(), logger: silentLogger, limitedLog: log });
  const writes = new DualWrites<Item, string>({ ...common, tombstones: new InMemoryTombstoneStore(), runner, tracker, logger: silentLogger, log, clock });
  return { writes, fresh, repairLog };
}

describe('the clock time stamped on repair entries', () => {
  it('is what the clock reads', async () => {
    const { writes, fresh, repairLog } = bare({ now: () => 1234.5 });
    fresh.failNext('save');
    await writes.write('k0001', { op: 'save', row: item(1) }, phases.shadow(), (store) => store.save(item(1)));
    expect(await repairLog.list(null, 10)).toMatchObject([{ key: 'k0001', at: 1234.5 }]);
  });

  it.each([
    ['returns NaN', () => Number.NaN],
    ['returns Infinity', () => Number.POSITIVE_INFINITY],
    ['returns a string', () => '5' as unknown as number],
    ['throws', () => { throw new Error('clock broke'); }],
  ])('is the system time when the clock %s, so the entry is still recorded with a usable time', async (_name, now) => {
    const { writes, fresh, repairLog } = bare({ now });
    fresh.failNext('save');
    const before = Date.now();
    await writes.write('k0001', { op: 'save', row: item(1) }, phases.shadow(), (store) => store.save(item(1)));
    const after = Date.now();
    const [entry] = await repairLog.list(null, 10);
    expect(entry?.at).toBeGreaterThanOrEqual(before);
    expect(entry?.at).toBeLessThanOrEqual(after);
  });
});
