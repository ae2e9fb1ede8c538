import { setImmediate as yieldToLoop } from 'node:timers/promises';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { BoundedCall } from '../../src/data/bounded-call.js';
import { AbortedError, RepairLogError } from '../../src/data/data-errors.js';
import { compareKeys } from '../../src/data/keys.js';
import { abortedError, dataOption, notifyProgress, realSleep, resolveKeyOrder, throwIfAborted } from '../../src/data/options.js';
import { LeaseLostError } from '../../src/data/partition-errors.js';
import type { Repository } from '../../src/data/repository.js';
import { MigrationGlueError } from '../../src/errors.js';

// src/data/options.ts (the options and helpers backfill, verify and the dual
// writes share), data-errors.ts and partition-errors.ts.

function store(keyOrder?: () => Promise<unknown>): Repository<unknown, unknown> & { calls: string[] } {
  const calls: string[] = [];
  const repo = {
    calls,
    get: async () => undefined,
    save: async () => {},
    delete: async () => {},
    getBatch: async () => [],
    ...(keyOrder === undefined
      ? {}
      : {
          keyOrder(this: unknown) {
            calls.push(this === repo ? 'keyOrder on the store' : 'keyOrder elsewhere');
            return keyOrder();
          },
        }),
  };
  return repo as Repository<unknown, unknown> & { calls: string[] };
}

function recordingCall() {
  const names: string[] = [];
  const call: BoundedCall = (what, fn) => {
    names.push(what);
    return Promise.resolve(fn());
  };
  return { call, names };
}

describe('resolveKeyOrder', () => {
  it('uses the order given, without asking the store', async () => {
    const given = (a: unknown, b: unknown) => compareKeys(b, a);
    const repo = store(async () => compareKeys);
    const { call, names } = recordingCall();
    expect(await resolveKeyOrder(given, repo, 'from', call, true)).toBe(given);
    expect(names).toEqual([]);
  });

  it('falls back to JavaScript’s order for a store without keyOrder', async () => {
    const { call } = recordingCall();
    expect(await resolveKeyOrder(undefined, store(), 'from', call, true)).toBe(compareKeys);
  });

  it('asks the store itself for its order, naming the call after the option', async () => {
    const order = (a: unknown, b: unknown) => compareKeys(a, b);
    const repo = store(async () => order);
    const { call, names } = recordingCall();
    expect(await resolveKeyOrder(undefined, repo, 'old', call, false)).toBe(order);
    expect(names).toEqual(['old.keyOrder']);
    expect(repo.calls).toEqual(['keyOrder on the store']);
  });

  it('refuses an answer other than a function or undefined, naming the option', async () => {
    const { call } = recordingCall();
    await expect(resolveKeyOrder(undefined, store(async () => 'C'), 'from', call, true)).rejects.toMatchObject({
      code: 'ERR_INVALID_OPTION',
      option: 'from',
      message: expect.stringContaining('keyOrder() must resolve with a function or undefined, got "C"') as unknown,
    });
    await expect(resolveKeyOrder(undefined, store(async () => null), 'new', call, false)).rejects.toMatchObject({ option: 'new' });
  });

  it('for a store that cannot tell, trusts its order (only a repeated key compares equal) or falls back to JavaScript’s', async () => {
    const { call } = recordingCall();
    const trusted = await resolveKeyOrder(undefined, store(async () => undefined), 'from', call, true);
    expect(trusted('b', 'a')).toBe(1);
    expect(trusted('a', 'b')).toBe(1);
    expect(trusted('a', 'a')).toBe(0);
    expect(trusted(1, '1')).toBe(1);
    expect(await resolveKeyOrder(undefined, store(async () => undefined), 'old', call, false)).toBe(compareKeys);
  });
});

describe('the abort helpers', () => {
  it('name the job that was aborted and keep the reason as the cause', () => {
    const controller = new AbortController();
    const reason = new Error('operator said stop');
    controller.abort(reason);
    const error = abortedError(controller.signal, 'backfill');
    expect(error).toBeInstanceOf(AbortedError);
    expect(error.code).toBe('ERR_ABORTED');
    expect(error.message).toContain('backfill was aborted');
    expect(error.cause).toBe(reason);
    expect(() => throwIfAborted(controller.signal, 'verify')).toThrow(/verify was aborted/);
  });

  it('throw nothing for a signal not aborted, or none', () => {
    expect(() => throwIfAborted(new AbortController().signal, 'verify')).not.toThrow();
    expect(() => throwIfAborted(undefined, 'verify')).not.toThrow();
  });
});

describe('realSleep', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('resolves once the time has passed, not before', async () => {
    vi.useFakeTimers();
    let done = false;
    const sleeping = realSleep(100).then(() => (done = true));
    await vi.advanceTimersByTimeAsync(99);
    expect(done).toBe(false);
    await vi.advanceTimersByTimeAsync(1);
    await sleeping;
    expect(done).toBe(true);
  });

  it('rejects at once with ERR_ABORTED on a signal already aborted', async () => {
    const controller = new AbortController();
    controller.abort('stop');
    await expect(realSleep(10_000, controller.signal)).rejects.toMatchObject({ code: 'ERR_ABORTED', cause: 'stop' });
  });

  it('rejects with ERR_ABORTED when the signal aborts during the sleep, and clears its timer', async () => {
    vi.useFakeTimers();
    const controller = new AbortController();
    const sleeping = realSleep(10_000, controller.signal);
    const outcome = sleeping.catch((err: unknown) => err);
    expect(vi.getTimerCount()).toBe(1);
    controller.abort('stop');
    expect(await outcome).toMatchObject({ code: 'ERR_ABORTED', message: expect.stringContaining('aborted') as unknown, cause: 'stop' });
    expect(vi.getTimerCount()).toBe(0);
  });

  it('names the sleep in its abort error, whether the signal aborted before or during it', async () => {
    const before = new AbortController();
    before.abort('stop');
    await expect(realSleep(10_000, before.signal)).rejects.toThrow(/^\[migration-glue\] aborted was aborted$/);
    vi.useFakeTimers();
    const during = new AbortController();
    const outcome = realSleep(10_000, during.signal).catch((err: unknown) => err);
    during.abort('stop');
    expect(await outcome).toMatchObject({ message: '[migration-glue] aborted was aborted' });
  });

  it('listens to the signal once only', async () => {
    vi.useFakeTimers();
    const controller = new AbortController();
    const signal = controller.signal;
    const added: unknown[] = [];
    const add = signal.addEventListener.bind(signal);
    signal.addEventListener = ((type: string, listener: () => void, listenerOptions?: { once?: boolean }) => {
      added.push([type, listenerOptions]);
      add(type, listener, listenerOptions);
    }) as typeof signal.addEventListener;
    const sleeping = realSleep(5, signal);
    await vi.advanceTimersByTimeAsync(5);
    await sleeping;
    expect(added).toEqual([['abort', { once: true }]]);
  });

  it('stops listening to the signal once it resolved', async () => {
    vi.useFakeTimers();
    const controller = new AbortController();
    const removed: string[] = [];
    const signal = controller.signal;
    const remove = signal.removeEventListener.bind(signal);
    signal.removeEventListener = ((type: string, listener: () => void) => {
      removed.push(type);
      remove(type, listener);
    }) as typeof signal.removeEventListener;
    const sleeping = realSleep(5, signal);
    await vi.advanceTimersByTimeAsync(5);
    await sleeping;
    expect(removed).toEqual(['abort']);
  });
});

describe('notifyProgress', () => {
  it('calls the listener with the value, warning about nothing', () => {
    const seen: number[] = [];
    const warnings: string[] = [];
    notifyProgress((value: number) => void seen.push(value), 7, (_, message) => warnings.push(message), 'backfill');
    expect(seen).toEqual([7]);
    expect(warnings).toEqual([]);
  });

  it('warns with the error of a listener that throws, naming the job', () => {
    const failure = new Error('listener broke');
    const warnings: [unknown, string][] = [];
    notifyProgress(
      () => {
        throw failure;
      },
      1,
      (err, message) => warnings.push([err, message]),
      'verify',
    );
    expect(warnings).toEqual([[failure, 'verify onProgress threw']]);
  });

  it('warns with the error of a listener whose promise rejects, without an unhandled rejection', async () => {
    const failure = new Error('async listener broke');
    const warnings: [unknown, string][] = [];
    notifyProgress(() => Promise.reject(failure), 1, (err, message) => warnings.push([err, message]), 'backfill');
    await yieldToLoop();
    expect(warnings).toEqual([[failure, 'backfill onProgress rejected']]);
  });

  it('warns at once that a listener threw when reading what it returned throws', async () => {
    const failure = new Error('then getter broke');
    const warnings: [unknown, string][] = [];
    const hostile = {
      get then(): unknown {
        throw failure;
      },
    };
    notifyProgress(() => hostile as never, 1, (err, message) => warnings.push([err, message]), 'backfill');
    expect(warnings).toEqual([[failure, 'backfill onProgress threw']]);
    await yieldToLoop();
    expect(warnings).toHaveLength(1);
  });

  it('leaves a listener that returns something other than a promise alone', async () => {
    const warnings: string[] = [];
    notifyProgress(() => ({ then: 'not a function' }) as never, 1, (_, message) => warnings.push(message), 'backfill');
    notifyProgress(() => null as never, 1, (_, message) => warnings.push(message), 'backfill');
    await yieldToLoop();
    expect(warnings).toEqual([]);
  });
});

describe('dataOption', () => {
  it('takes an AbortSignal, and refuses what only looks like one in part', () => {
    const schema = dataOption.signal();
    const signal = new AbortController().signal;
    expect(schema.parse(signal)).toBe(signal);
    expect(schema.parse(undefined)).toBeUndefined();
    for (const bad of [{ aborted: false }, { addEventListener: () => {} }, { aborted: 'no', addEventListener: () => {} }, null, 'signal']) {
      expect(schema.safeParse(bad).success).toBe(false);
    }
    expect(schema.safeParse({ aborted: false, addEventListener: () => {} }).success).toBe(true);
  });

  it('refuses a function that looks like an AbortSignal, saying what it wants', () => {
    const schema = dataOption.signal();
    const lookalike = Object.assign(() => {}, { aborted: false, addEventListener: () => {} });
    const parsed = schema.safeParse(lookalike);
    expect(parsed.success).toBe(false);
    expect(parsed.error?.issues[0]?.message).toMatch(/^must be an AbortSignal, got /);
  });

  it('defaults the sleep to the real timer', () => {
    const schema = dataOption.sleep();
    expect(schema.parse(undefined)).toBe(realSleep);
    const mine = async () => {};
    expect(schema.parse(mine)).toBe(mine);
  });

  it('needs a repository’s four methods and a checkpoint store’s load and save', () => {
    const repository = dataOption.repository();
    expect(repository.safeParse({ get() {}, save() {}, delete() {}, getBatch() {} }).success).toBe(true);
    expect(repository.safeParse({ get() {}, save() {}, delete() {} }).success).toBe(false);
    const checkpoint = dataOption.checkpoint();
    expect(checkpoint.safeParse({ load() {}, save() {} }).success).toBe(true);
    expect(checkpoint.safeParse({ load() {} }).success).toBe(false);
    expect(checkpoint.safeParse(undefined).success).toBe(true);
  });
});

describe('the data errors', () => {
  it('carry their stable codes, message and cause', () => {
    const cause = new Error('root');
    const cases: [MigrationGlueError, string][] = [
      [new AbortedError('stopped', { cause }), 'ERR_ABORTED'],
      [new RepairLogError('stopped', { cause }), 'ERR_REPAIR_LOG'],
      [new LeaseLostError('stopped', { cause }), 'ERR_LEASE_LOST'],
    ];
    for (const [error, code] of cases) {
      expect(error).toBeInstanceOf(MigrationGlueError);
      expect(error.code).toBe(code);
      expect(error.message).toContain('stopped');
      expect(error.cause).toBe(cause);
      expect(MigrationGlueError.is(error, code as never)).toBe(true);
    }
  });
});
