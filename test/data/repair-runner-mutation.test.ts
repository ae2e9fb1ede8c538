import { afterEach, describe, expect, it, vi } from 'vitest';
import type { DualWriteEvents, RepairLogFailureEvent } from '../../src/data/dual-write-events.js';
import { KeyedQueue } from '../../src/data/keys.js';
import type { LoggedRepair, RepairEntry, RepairLog } from '../../src/data/repair-log.js';
import { InMemoryRepairLog } from '../../src/data/repair-log.js';
import type { AckedWrite } from '../../src/data/repair-replay.js';
import { maxTrackedKeys, RepairTracker } from '../../src/data/repair-replay.js';
import { RepairRunner } from '../../src/data/repair-runner.js';
import { MigrationGlueError } from '../../src/errors.js';
import { Emitter } from '../../src/observe/emitter.js';
import { LogLimiter } from '../../src/observe/log-limiter.js';
import { InMemoryRepository } from '../../src/testing/index.js';
import { ManualClock } from '../../src/testing/manual-clock.js';
import { recordingLogger } from '../helpers.js';
import type { Item } from './repository-conformance.js';
import { item, itemKey } from './repository-conformance.js';

// src/data/repair-runner.ts: recording a missed secondary write in the
// repair log (or in memory when the log refuses it), learning the log's keys
// and replaying the log key by key.

const timeoutMs = 100;
const secondaryTimeoutMs = 50;

/** A repair log over an InMemoryRepairLog whose methods a test can replace, counting the calls. */
function spyLog() {
  const inner = new InMemoryRepairLog<string>();
  const calls = { append: 0, list: 0, remove: 0, size: 0 };
  const log = {
    inner,
    calls,
    append: (entry: RepairEntry<string>): Promise<void> => {
      calls.append += 1;
      return inner.append(entry);
    },
    list: (after: number | null, limit: number): Promise<readonly LoggedRepair<string>[]> => {
      calls.list += 1;
      return inner.list(after, limit);
    },
    remove: (ids: readonly number[]): Promise<void> => {
      calls.remove += 1;
      return inner.remove(ids);
    },
    size: (): Promise<number> => {
      calls.size += 1;
      return inner.size();
    },
  };
  return log;
}

function setup(repairLog: RepairLog<string> = spyLog()) {
  const old = new InMemoryRepository<Item, string>({ keyOf: itemKey, name: 'old' });
  const fresh = new InMemoryRepository<Item, string>({ keyOf: itemKey, name: 'new' });
  const logger = recordingLogger();
  const tracker = new RepairTracker<string>();
  const emitter = new Emitter<DualWriteEvents<Item, string>>(logger);
  const runner = new RepairRunner<Item, string>({
    name: 'items',
    old,
    new: fresh,
    repairLog,
    tracker,
    writes: new KeyedQueue(),
    timeoutMs,
    secondaryTimeoutMs,
    logger,
    limitedLog: new LogLimiter(logger, new ManualClock()),
    emitter,
  });
  const failures: RepairLogFailureEvent<string>[] = [];
  emitter.on('repairLogFailure', (event) => failures.push(event));
  return { old, fresh, logger, tracker, runner, failures, repairLog };
}

const saveOf = (i: number, name?: string): AckedWrite => ({ op: 'save', row: item(i, name) });
const never = <T>(): Promise<T> => new Promise<T>(() => {});
const id = (key: string) => `string:${key}`;

function useFakeTimeouts(): void {
  vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
}

afterEach(() => {
  vi.useRealTimers();
});

describe('record()', () => {
  it('appends a frozen entry, counts it and makes it the key’s latest, recorded, with its write', async () => {
    const log = spyLog();
    const { runner, tracker } = setup(log);
    const write = saveOf(1);
    expect(await runner.record(item(1).id, write, 'new', 'boom', 1234)).toBe(true);
    const [logged] = await log.inner.list(null, 10);
    expect(logged).toEqual({ key: item(1).id, op: 'save', side: 'new', at: 1234, error: 'boom', id: 1 });
    const known = tracker.get(id(item(1).id));
    expect(known).toMatchObject({ entry: { key: item(1).id, op: 'save', side: 'new', at: 1234, error: 'boom' }, recorded: true, suspect: false });
    expect(known?.last).toBe(write);
    expect(Object.isFrozen(known?.entry)).toBe(true);
    expect(runner.totals).toEqual({ replayed: 0, failed: 0, recorded: 1, unrecorded: 0, lost: 0 });
  });

  it('keeps an entry the log refuses in memory, and logs, counts and emits the loss', async () => {
    const log = spyLog();
    const cause = new Error('disk full');
    log.append = () => Promise.reject(cause);
    const { runner, tracker, logger, failures } = setup(log);
    expect(await runner.record(item(1).id, { op: 'delete' }, 'old', 'boom', 1)).toBe(false);
    expect(tracker.get(id(item(1).id))).toMatchObject({ recorded: false, last: { op: 'delete' } });
    expect(tracker.pending).toBe(1);
    expect(runner.totals).toMatchObject({ recorded: 0, unrecorded: 1, lost: 0 });
    const errors = logger.lines.filter((line) => line.level === 'error');
    expect(errors).toHaveLength(1);
    expect(errors[0]?.context).toMatchObject({ err: { message: 'disk full' }, migration: 'items', key: item(1).id, op: 'delete', side: 'old' });
    expect(errors[0]?.message).toMatch(/could not record that old missed a delete; it is kept in memory until repair\(\)/);
    expect(failures).toHaveLength(1);
    expect(failures[0]).toMatchObject({ migration: 'items', key: item(1).id, op: 'delete', side: 'old', kept: true });
    expect(MigrationGlueError.is(failures[0]?.error, 'ERR_REPAIR_LOG')).toBe(true);
    expect(failures[0]?.error.cause).toBe(cause);
    expect(failures[0]?.error.message).toMatch(/the repair log of "items" could not record that old missed a delete; it is kept in memory/);
  });

  it('waits secondaryTimeoutMs for the append, then keeps the entry in memory with an ERR_TIMEOUT cause', async () => {
    useFakeTimeouts();
    const log = spyLog();
    log.append = () => never();
    const { runner, failures } = setup(log);
    let done = false;
    const recording = runner.record(item(1).id, saveOf(1), 'new', 'boom', 1).then((recorded) => {
      done = true;
      return recorded;
    });
    await vi.advanceTimersByTimeAsync(secondaryTimeoutMs - 1);
    expect(done).toBe(false);
    await vi.advanceTimersByTimeAsync(1);
    expect(await recording).toBe(false);
    const cause = failures[0]?.error.cause;
    expect(MigrationGlueError.is(cause, 'ERR_TIMEOUT')).toBe(true);
    expect((cause as Error).message).toContain('the repair log append() timed out');
  });

  it(`beyond ${maxTrackedKeys} tracked keys, an entry the log refuses is lost, loudly`, async () => {
    const log = spyLog();
    log.append = () => Promise.reject(new Error('disk full'));
    const { runner, tracker, logger, failures } = setup(log);
    for (let i = 0; i < maxTrackedKeys; i++) tracker.note(`filler:${i}`, { key: `f${i}`, op: 'save', side: 'new', at: 0, error: '' }, true);
    expect(await runner.record(item(1).id, saveOf(1), 'new', 'boom', 1)).toBe(false);
    expect(tracker.get(id(item(1).id))).toBeUndefined();
    expect(runner.totals).toMatchObject({ unrecorded: 1, lost: 1 });
    expect(failures[0]).toMatchObject({ kept: false });
    expect(failures[0]?.error.message).toMatch(/too many keys are pending, so it is LOST: run verify/);
    expect(logger.lines.find((line) => line.level === 'error')?.message).toMatch(/LOST: run verify/);
  });

  it(`beyond ${maxTrackedKeys} tracked keys, an entry the log takes is left to the log alone`, async () => {
    const log = spyLog();
    const { runner, tracker } = setup(log);
    for (let i = 0; i < maxTrackedKeys; i++) tracker.note(`filler:${i}`, { key: `f${i}`, op: 'save', side: 'new', at: 0, error: '' }, true);
    expect(await runner.record(item(1).id, saveOf(1), 'new', 'boom', 1)).toBe(true);
    expect(tracker.get(id(item(1).id))).toBeUndefined();
    expect(await log.inner.size()).toBe(1);
    expect(runner.totals).toMatchObject({ recorded: 1, unrecorded: 0, lost: 0 });
  });
});

describe('loadTracked()', () => {
  it("notes every key of the log with its latest entry, across pages, and keeps what memory already knows", async () => {
    const log = spyLog();
    for (let i = 0; i < 600; i++) await log.inner.append({ key: `k${i % 550}`, op: 'save', side: i < 300 ? 'new' : 'old', at: i, error: '' });
    const { runner, tracker } = setup(log);
    const mine: RepairEntry<string> = { key: 'k1', op: 'delete', side: 'new', at: 9999, error: 'mine' };
    tracker.note(id('k1'), mine, false);
    await runner.loadTracked();
    expect(log.calls.list).toBe(3);
    expect(tracker.get(id('k0'))).toMatchObject({ entry: { key: 'k0', side: 'old', at: 550 }, recorded: true, last: undefined });
    expect(tracker.get(id('k549'))).toMatchObject({ entry: { at: 549 }, recorded: true });
    expect(tracker.get(id('k1'))?.entry).toBe(mine);
    expect(tracker.pending).toBe(1);
  });

  it('reads the log once', async () => {
    const log = spyLog();
    await log.inner.append({ key: 'a', op: 'save', side: 'new', at: 0, error: '' });
    const { runner } = setup(log);
    await Promise.all([runner.loadTracked(), runner.loadTracked()]);
    await runner.loadTracked();
    expect(log.calls.list).toBe(2);
  });

  it('logs a log that cannot be read and resolves', async () => {
    const log = spyLog();
    log.list = () => Promise.reject(new Error('log down'));
    const { runner, logger } = setup(log);
    await runner.loadTracked();
    const errors = logger.lines.filter((line) => line.level === 'error');
    expect(errors).toHaveLength(1);
    expect(errors[0]?.context).toMatchObject({ err: { message: 'log down' }, migration: 'items' });
  });

  it('waits secondaryTimeoutMs for each list', async () => {
    useFakeTimeouts();
    const log = spyLog();
    log.list = () => never();
    const { runner, logger } = setup(log);
    let done = false;
    const loading = runner.loadTracked().then(() => {
      done = true;
    });
    await vi.advanceTimersByTimeAsync(secondaryTimeoutMs - 1);
    expect(done).toBe(false);
    await vi.advanceTimersByTimeAsync(1);
    await loading;
    expect(logger.lines.find((line) => line.level === 'error')?.context).toMatchObject({ err: { message: expect.stringContaining('the repair log list() timed out') } });
  });
});

describe('paging through the log', () => {
  const odd = (page: unknown) => {
    const log = spyLog();
    log.list = async () => page as never;
    return log;
  };

  it('refuses a list that is not an array', async () => {
    const { runner } = setup(odd({ length: 0 }));
    await expect(runner.replay()).rejects.toThrow(/the repair log list\(\) must resolve with an array, got/);
  });

  it('refuses a list that does not move past afterId', async () => {
    const log = spyLog();
    await log.inner.append({ key: 'a', op: 'save', side: 'new', at: 0, error: '' });
    const page = await log.inner.list(null, 10);
    log.list = async () => page;
    const { runner } = setup(log);
    await expect(runner.replay()).rejects.toThrow(/returned no entries with ids above afterId; it must page by id/);
  });

  it('refuses a page that holds nothing it can read', async () => {
    const { runner } = setup(odd([{ id: 1, side: 'elsewhere' }, null, 'x']));
    await expect(runner.replay()).rejects.toThrow(/must page by id/);
  });

  it('skips what is not an entry and replays the rest', async () => {
    const log = spyLog();
    await log.inner.append({ key: item(1).id, op: 'save', side: 'new', at: 0, error: '' });
    const real = log.inner.list.bind(log.inner);
    log.list = async (after, limit) => {
      const page = await real(after, limit);
      return page.length === 0 ? page : ([null, 7, { id: '0', side: 'new' }, { id: 0, side: 'both' }, ...page] as never);
    };
    const { runner, old, fresh } = setup(log);
    old.seed([item(1)]);
    expect(await runner.replay()).toEqual({ replayed: 1, keys: 1, failed: 0, remaining: 0 });
    expect(fresh.snapshot()).toEqual([item(1)]);
  });

  it('takes a log whose ids start at 0', async () => {
    const zero: LoggedRepair<string> = { key: item(1).id, op: 'save', side: 'new', at: 0, error: '', id: 0 };
    const log = spyLog();
    let removed: readonly number[] = [];
    log.list = async (after) => (after === null && removed.length === 0 ? [zero] : []);
    log.remove = async (ids) => {
      removed = ids;
    };
    const { runner, old, fresh } = setup(log);
    old.seed([item(1)]);
    expect(await runner.replay()).toEqual({ replayed: 1, keys: 1, failed: 0, remaining: 0 });
    expect(removed).toEqual([0]);
    expect(fresh.snapshot()).toEqual([item(1)]);
  });

  it('asks for pages of 500 after the last id seen', async () => {
    const log = spyLog();
    for (let i = 0; i < 501; i++) await log.inner.append({ key: `k${i}`, op: 'save', side: 'new', at: 0, error: '' });
    const asked: [number | null, number][] = [];
    const real = log.inner.list.bind(log.inner);
    log.list = (after, limit) => {
      asked.push([after, limit]);
      return real(after, limit);
    };
    const { runner } = setup(log);
    await runner.loadTracked();
    expect(asked).toEqual([
      [null, 500],
      [500, 500],
      [501, 500],
    ]);
  });
});

describe('replay()', () => {
  it('copies each logged key once, from the latest entry, and removes all its entries', async () => {
    const log = spyLog();
    const { runner, old, fresh, logger } = setup(log);
    await runner.record(item(1).id, saveOf(1), 'new', 'x', 1);
    await runner.record(item(1).id, saveOf(1), 'old', 'x', 2);
    await runner.record(item(2).id, saveOf(2), 'new', 'x', 3);
    old.seed([item(1, 'old'), item(2, 'old')]);
    fresh.seed([item(1, 'new')]);
    expect(await runner.replay()).toEqual({ replayed: 3, keys: 2, failed: 0, remaining: 0 });
    // The latest entry of key 1 says old missed it: new's row is copied to old.
    expect(old.snapshot()).toEqual([item(1, 'new'), item(2, 'old')]);
    expect(fresh.snapshot()).toEqual([item(1, 'new'), item(2, 'old')]);
    expect(await log.inner.size()).toBe(0);
    expect(runner.totals).toMatchObject({ replayed: 3, failed: 0 });
    const info = logger.lines.filter((line) => line.level === 'info');
    expect(info.map((line) => line.context)).toEqual([{ migration: 'items', replayed: 3, keys: 2, failed: 0, remaining: 0 }]);
  });

  it('logs nothing when there was nothing to replay', async () => {
    const { runner, logger } = setup();
    expect(await runner.replay()).toEqual({ replayed: 0, keys: 0, failed: 0, remaining: 0 });
    expect(logger.lines).toEqual([]);
  });

  it('logs a replay that only failed', async () => {
    const { runner, old, logger } = setup();
    await runner.record(item(1).id, saveOf(1), 'new', 'x', 1);
    old.failNext('get');
    expect(await runner.replay()).toEqual({ replayed: 0, keys: 0, failed: 1, remaining: 1 });
    expect(logger.lines.filter((line) => line.level === 'info').map((line) => line.context)).toEqual([{ migration: 'items', replayed: 0, keys: 0, failed: 1, remaining: 1 }]);
    expect(runner.totals).toMatchObject({ replayed: 0, failed: 1 });
  });

  it('adds up its totals over replays', async () => {
    const { runner, old } = setup();
    await runner.record(item(1).id, saveOf(1), 'new', 'x', 1);
    await runner.record(item(2).id, saveOf(2), 'new', 'x', 1);
    old.failKey(item(2).id, 'get');
    await runner.replay();
    old.heal();
    await runner.replay();
    expect(runner.totals).toMatchObject({ replayed: 2, failed: 1 });
  });

  it('records the entries the log refused once it takes them, then replays them from the log', async () => {
    const log = spyLog();
    const append = log.append;
    log.append = () => Promise.reject(new Error('disk full'));
    const { runner, tracker, old, fresh } = setup(log);
    await runner.record(item(1).id, saveOf(1), 'new', 'x', 1);
    expect(tracker.pending).toBe(1);
    log.append = append;
    old.seed([item(1)]);
    expect(await runner.replay()).toEqual({ replayed: 1, keys: 1, failed: 0, remaining: 0 });
    expect(log.calls.append).toBe(1);
    expect(log.calls.remove).toBe(1);
    expect(tracker.pending).toBe(0);
    expect(fresh.snapshot()).toEqual([item(1)]);
  });

  it('does not take a newer entry for recorded when an older one of its key reaches the log meanwhile', async () => {
    const log = spyLog();
    const answers: (() => Promise<void>)[] = [];
    log.append = (entry) => {
      const next = answers.shift();
      return next === undefined ? log.inner.append(entry) : next().then(() => log.inner.append(entry));
    };
    const { runner, tracker, old, fresh } = setup(log);
    // Shadow: new missed v1 and the log refused the entry.
    answers.push(() => Promise.reject(new Error('disk full')));
    await runner.record(item(1).id, saveOf(1, 'v1'), 'new', 'x', 1);
    old.seed([item(1, 'v1')]);
    // The replay records that entry at last, but the log takes a while to answer.
    let answer: () => void = () => {};
    answers.push(() => new Promise<void>((resolve) => (answer = resolve)));
    const replay = runner.replay();
    await new Promise((resolve) => setImmediate(resolve));
    // Meanwhile, in full: new acknowledged v2, old missed it, and the log refused that entry.
    fresh.seed([item(1, 'v2')]);
    answers.push(() => Promise.reject(new Error('disk full')));
    await runner.record(item(1).id, saveOf(1, 'v2'), 'old', 'x', 2);
    expect(tracker.get(id(item(1).id))).toMatchObject({ entry: { side: 'old' }, recorded: false });
    answer();
    await replay;
    // The latest entry decided: v2 was copied to old, never v1 over new.
    expect(old.snapshot()).toEqual([item(1, 'v2')]);
    expect(fresh.snapshot()).toEqual([item(1, 'v2')]);
  });

  it('counts an entry the log took at last once, in the log, when its copy fails again', async () => {
    const log = spyLog();
    const append = log.append;
    log.append = () => Promise.reject(new Error('disk full'));
    const { runner, tracker, old } = setup(log);
    await runner.record(item(1).id, saveOf(1), 'new', 'x', 1);
    log.append = append;
    old.failKey(item(1).id, 'get');
    expect(await runner.replay()).toEqual({ replayed: 0, keys: 0, failed: 1, remaining: 1 });
    expect(tracker.pending).toBe(0);
    expect(await log.inner.size()).toBe(1);
  });

  it('replays from memory the entries the log still refuses, counting them as remaining until they are done', async () => {
    const log = spyLog();
    log.append = () => Promise.reject(new Error('disk full'));
    const { runner, tracker, old, fresh } = setup(log);
    await runner.record(item(1).id, saveOf(1), 'new', 'x', 1);
    await runner.record(item(2).id, saveOf(2), 'new', 'x', 1);
    old.seed([item(1), item(2)]);
    fresh.failKey(item(2).id, 'save');
    expect(await runner.replay()).toEqual({ replayed: 1, keys: 1, failed: 1, remaining: 1 });
    expect(log.calls.remove).toBe(0);
    expect(tracker.get(id(item(1).id))).toBeUndefined();
    expect(fresh.snapshot()).toEqual([item(1)]);
  });

  it('waits timeoutMs for the append of an entry the log refused before', async () => {
    useFakeTimeouts();
    const log = spyLog();
    log.append = () => Promise.reject(new Error('disk full'));
    const { runner, old } = setup(log);
    await runner.record(item(1).id, saveOf(1), 'new', 'x', 1);
    log.append = () => never();
    old.seed([item(1)]);
    let done = false;
    const replay = runner.replay().then((result) => {
      done = true;
      return result;
    });
    await vi.advanceTimersByTimeAsync(timeoutMs - 1);
    expect(done).toBe(false);
    await vi.advanceTimersByTimeAsync(1);
    expect(await replay).toEqual({ replayed: 1, keys: 1, failed: 0, remaining: 0 });
  });

  it('counts the log’s size and the entries only memory holds as remaining', async () => {
    const log = spyLog();
    const { runner, tracker } = setup(log);
    log.size = async () => '3' as never;
    log.append = () => Promise.reject(new Error('disk full'));
    tracker.note('string:m', { key: 'm', op: 'save', side: 'new', at: 0, error: '' }, false);
    tracker.hang('string:m');
    expect(await runner.replay()).toMatchObject({ failed: 1, remaining: 4 });
  });

  it('rejects when size fails, or does not answer within timeoutMs', async () => {
    const log = spyLog();
    log.size = () => Promise.reject(new Error('size down'));
    await expect(setup(log).runner.replay()).rejects.toThrow('size down');
    useFakeTimeouts();
    const hung = spyLog();
    hung.size = () => never();
    const replay = setup(hung).runner.replay().catch((err: unknown) => err);
    await vi.advanceTimersByTimeAsync(timeoutMs);
    const failure = await replay;
    expect(MigrationGlueError.is(failure, 'ERR_TIMEOUT')).toBe(true);
    expect((failure as Error).message).toContain('the repair log size() timed out');
  });

  it('waits timeoutMs for each list', async () => {
    useFakeTimeouts();
    const log = spyLog();
    log.list = () => never();
    let done = false;
    const replay = setup(log)
      .runner.replay()
      .catch((err: unknown) => err)
      .then((failure) => {
        done = true;
        return failure;
      });
    await vi.advanceTimersByTimeAsync(timeoutMs - 1);
    expect(done).toBe(false);
    await vi.advanceTimersByTimeAsync(1);
    expect((await replay) as Error).toMatchObject({ message: expect.stringContaining('the repair log list() timed out') });
  });
});

describe('replaying one key', () => {
  it('leaves a key whose timed-out write may still land, and warns', async () => {
    const log = spyLog();
    const { runner, tracker, old, fresh, logger } = setup(log);
    await runner.record(item(1).id, saveOf(1), 'new', 'x', 1);
    old.seed([item(1)]);
    tracker.hang(id(item(1).id));
    expect(await runner.replay()).toEqual({ replayed: 0, keys: 0, failed: 1, remaining: 1 });
    expect(fresh.counts.save).toBe(0);
    expect(old.counts.get).toBe(0);
    const warnings = logger.lines.filter((line) => line.level === 'warn');
    expect(warnings.map((line) => line.context)).toEqual([{ migration: 'items', key: item(1).id }]);
    expect(warnings[0]?.message).toMatch(/has not answered yet; it stays in the repair log/);
  });

  it("follows this process's latest entry of the key over the log's", async () => {
    const log = spyLog();
    await log.inner.append({ key: item(1).id, op: 'save', side: 'new', at: 0, error: 'from another process' });
    const { runner, tracker, old, fresh } = setup(log);
    tracker.note(id(item(1).id), { key: item(1).id, op: 'save', side: 'old', at: 1, error: 'mine' }, false);
    old.seed([item(1, 'old')]);
    fresh.seed([item(1, 'new')]);
    await runner.replay();
    expect(old.snapshot()).toEqual([item(1, 'new')]);
    expect(fresh.snapshot()).toEqual([item(1, 'new')]);
  });

  it('puts the acknowledged write itself in both stores once a late write may have overwritten it', async () => {
    const log = spyLog();
    const { runner, tracker, old, fresh } = setup(log);
    const older = saveOf(1, 'older');
    const newer = saveOf(1, 'newer');
    await runner.record(item(1).id, newer, 'new', 'x', 1);
    tracker.hang(id(item(1).id));
    tracker.land(id(item(1).id), older);
    old.seed([item(1, 'older')]);
    fresh.seed([item(1, 'older')]);
    expect(await runner.replay()).toMatchObject({ replayed: 1, failed: 0 });
    expect(old.snapshot()).toEqual([item(1, 'newer')]);
    expect(fresh.snapshot()).toEqual([item(1, 'newer')]);
  });

  it('keeps the entries when they cannot be removed, learning the key, and warns', async () => {
    const log = spyLog();
    await log.inner.append({ key: item(1).id, op: 'save', side: 'new', at: 0, error: '' });
    log.remove = () => Promise.reject(new Error('remove down'));
    const { runner, tracker, old, fresh, logger } = setup(log);
    old.seed([item(1)]);
    expect(await runner.replay()).toEqual({ replayed: 0, keys: 0, failed: 1, remaining: 1 });
    expect(fresh.snapshot()).toEqual([item(1)]);
    expect(tracker.get(id(item(1).id))).toMatchObject({ entry: { key: item(1).id, side: 'new' }, recorded: true });
    const warnings = logger.lines.filter((line) => line.level === 'warn');
    expect(warnings).toHaveLength(1);
    expect(warnings[0]?.context).toMatchObject({ err: { message: 'remove down' }, migration: 'items', key: item(1).id });
  });

  it('says the remove timed out when it does not answer within timeoutMs', async () => {
    useFakeTimeouts();
    const log = spyLog();
    await log.inner.append({ key: item(1).id, op: 'save', side: 'new', at: 0, error: '' });
    log.remove = () => never();
    const { runner, logger } = setup(log);
    const replay = runner.replay();
    await vi.advanceTimersByTimeAsync(timeoutMs);
    expect(await replay).toMatchObject({ failed: 1 });
    expect(logger.lines.find((line) => line.level === 'warn')?.context).toMatchObject({ err: { message: 'timed out' } });
  });

  it('keeps the entries of a key whose copy fails, learning the key, and warns', async () => {
    const log = spyLog();
    await log.inner.append({ key: item(1).id, op: 'delete', side: 'old', at: 0, error: '' });
    const { runner, tracker, fresh, logger } = setup(log);
    fresh.failNext('get', 1, () => new Error('new is down'));
    expect(await runner.replay()).toEqual({ replayed: 0, keys: 0, failed: 1, remaining: 1 });
    expect(log.calls.remove).toBe(0);
    expect(tracker.get(id(item(1).id))).toMatchObject({ entry: { side: 'old' }, recorded: true });
    const warnings = logger.lines.filter((line) => line.level === 'warn');
    expect(warnings.map((line) => line.context)).toEqual([{ migration: 'items', key: item(1).id, err: expect.objectContaining({ message: 'new is down' }) }]);
    expect(warnings[0]?.message).toMatch(/repair of a key failed; it stays in the repair log/);
  });

  it('says the copy timed out when a store does not answer within timeoutMs', async () => {
    useFakeTimeouts();
    const log = spyLog();
    await log.inner.append({ key: item(1).id, op: 'save', side: 'new', at: 0, error: '' });
    const { runner, old, logger } = setup(log);
    old.get = () => never();
    const replay = runner.replay();
    await vi.advanceTimersByTimeAsync(timeoutMs);
    expect(await replay).toMatchObject({ failed: 1 });
    expect(logger.lines.find((line) => line.level === 'warn')?.context).toMatchObject({ err: { message: 'timed out' } });
  });

  it('keeps what memory knew of a key whose copy fails', async () => {
    const log = spyLog();
    const { runner, tracker, old } = setup(log);
    const write = saveOf(1);
    await runner.record(item(1).id, write, 'new', 'x', 1);
    const known = tracker.get(id(item(1).id));
    const mine = known?.entry;
    old.failNext('get');
    await runner.replay();
    expect(tracker.get(id(item(1).id))).toBe(known);
    expect(known?.entry).toBe(mine);
    expect(known?.last).toBe(write);
  });

  it('keeps what memory knew of a key whose entries cannot be removed', async () => {
    const log = spyLog();
    const { runner, tracker, old } = setup(log);
    const write = saveOf(1);
    await runner.record(item(1).id, write, 'new', 'x', 1);
    const known = tracker.get(id(item(1).id));
    const mine = known?.entry;
    old.seed([item(1)]);
    log.remove = () => Promise.reject(new Error('remove down'));
    expect(await runner.replay()).toMatchObject({ failed: 1 });
    expect(tracker.get(id(item(1).id))).toBe(known);
    expect(known?.entry).toBe(mine);
    expect(known?.last).toBe(write);
  });

  it.each(['the copy', 'the removal'] as const)(
    'keeps a newer entry the log refused over an older logged one of its key when %s fails, so the newer write wins the next replay',
    async (failing) => {
      const log = spyLog();
      const append = log.append;
      const { runner, old, fresh } = setup(log);
      // Shadow: new missed v1; the log recorded it.
      await runner.record(item(1).id, saveOf(1, 'v1'), 'new', 'x', 1);
      old.seed([item(1, 'v1')]);
      // Full: new acknowledged v2, old missed it, and the log refused that entry.
      fresh.seed([item(1, 'v2')]);
      log.append = () => Promise.reject(new Error('disk full'));
      await runner.record(item(1).id, saveOf(1, 'v2'), 'old', 'x', 2);
      if (failing === 'the copy') fresh.failNext('get');
      else log.remove = () => Promise.reject(new Error('remove down'));
      expect((await runner.replay()).failed).toBe(1);
      log.append = append;
      log.remove = (ids) => log.inner.remove(ids);
      await runner.replay();
      await runner.replay();
      expect(old.snapshot()).toEqual([item(1, 'v2')]);
      expect(fresh.snapshot()).toEqual([item(1, 'v2')]);
    },
  );

  it('forgets a key once it is replayed, so a later write in preparation records nothing', async () => {
    const { runner, tracker, old } = setup();
    await runner.record(item(1).id, saveOf(1), 'new', 'x', 1);
    old.seed([item(1)]);
    await runner.replay();
    expect(tracker.get(id(item(1).id))).toBeUndefined();
  });

  it('holds the key’s write lock while it replays it', async () => {
    const log = spyLog();
    const writes = new KeyedQueue();
    const old = new InMemoryRepository<Item, string>({ keyOf: itemKey, name: 'old' });
    const fresh = new InMemoryRepository<Item, string>({ keyOf: itemKey, name: 'new' });
    const logger = recordingLogger();
    const runner = new RepairRunner<Item, string>({
      name: 'items',
      old,
      new: fresh,
      repairLog: log,
      tracker: new RepairTracker<string>(),
      writes,
      timeoutMs,
      secondaryTimeoutMs,
      logger,
      limitedLog: new LogLimiter(logger, new ManualClock()),
      emitter: new Emitter(logger),
    });
    await runner.record(item(1).id, saveOf(1), 'new', 'x', 1);
    old.seed([item(1, 'before')]);
    let release: () => void = () => {};
    const holding = writes.run(id(item(1).id), () => new Promise<void>((resolve) => (release = resolve)));
    const replay = runner.replay();
    await new Promise((resolve) => setImmediate(resolve));
    expect(fresh.counts.save).toBe(0);
    old.seed([item(1, 'after')]);
    release();
    await holding;
    await replay;
    expect(fresh.snapshot()).toEqual([item(1, 'after')]);
  });
});
