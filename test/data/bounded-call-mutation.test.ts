import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { boundedCaller, defaultCallTimeoutMs } from '../../src/data/bounded-call.js';
import { AbortedError } from '../../src/data/data-errors.js';
import { MigrationGlueError } from '../../src/errors.js';

// src/data/bounded-call.ts: a call to user code that settles with its result,
// or fails with ERR_TIMEOUT after timeoutMs, or with AbortedError on abort,
// and leaves no timer or abort listener behind once it settled.

beforeEach(() => {
  vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
});

afterEach(() => {
  vi.useRealTimers();
});

/** A promise settled from outside. */
function deferred<T>() {
  let resolve!: (value: T) => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

/** A real AbortSignal whose abort listeners are tracked. */
function countedSignal() {
  const controller = new AbortController();
  const registered = new Set<unknown>();
  const add = controller.signal.addEventListener.bind(controller.signal);
  const remove = controller.signal.removeEventListener.bind(controller.signal);
  controller.signal.addEventListener = ((type: string, listener: unknown, options?: unknown) => {
    if (type === 'abort') registered.add(listener);
    add(type, listener as never, options as never);
  }) as typeof controller.signal.addEventListener;
  controller.signal.removeEventListener = ((type: string, listener: unknown) => {
    if (type === 'abort') registered.delete(listener);
    remove(type, listener as never);
  }) as typeof controller.signal.removeEventListener;
  return { controller, signal: controller.signal, listeners: () => registered.size };
}

describe('boundedCaller', () => {
  it('bounds calls by one minute unless told otherwise', () => {
    expect(defaultCallTimeoutMs).toBe(60_000);
  });

  it('resolves with the value of a promise, and of a plain return, without a signal', async () => {
    const call = boundedCaller('verify', 1000, undefined);
    await expect(call('old.get', async () => 'answer')).resolves.toBe('answer');
    await expect(call('old.get', () => 5)).resolves.toBe(5);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('rejects with the very error of a call that rejects, or throws synchronously', async () => {
    const call = boundedCaller('verify', 1000, undefined);
    const failure = new Error('store down');
    await expect(call('old.get', () => Promise.reject(failure))).rejects.toBe(failure);
    const thrown = new Error('sync');
    await expect(
      call('old.get', () => {
        throw thrown;
      }),
    ).rejects.toBe(thrown);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('fails with ERR_TIMEOUT naming the job, the call and the bound once timeoutMs passed, and ignores a late answer', async () => {
    const call = boundedCaller('backfill', 250, undefined);
    const late = deferred<string>();
    const result = call('new.save', () => late.promise);
    const outcome = result.then(
      (value) => ({ value }),
      (error: unknown) => ({ error }),
    );
    await vi.advanceTimersByTimeAsync(249);
    const early = await Promise.race([outcome, Promise.resolve('pending')]);
    expect(early).toBe('pending');
    await vi.advanceTimersByTimeAsync(1);
    const { error } = (await outcome) as { error: MigrationGlueError };
    expect(error).toBeInstanceOf(MigrationGlueError);
    expect(error.code).toBe('ERR_TIMEOUT');
    expect(error.message).toBe('[migration-glue] backfill: new.save did not settle within 250 ms (option `timeoutMs`)');
    late.resolve('too late');
    await expect(result).rejects.toBe(error);
  });

  it('rejects at once with AbortedError naming the job, without calling, when the signal has aborted', async () => {
    const controller = new AbortController();
    controller.abort(new Error('stop'));
    let calls = 0;
    const call = boundedCaller('verify', 1000, controller.signal);
    const result = call('old.get', () => {
      calls++;
      return 1;
    });
    await expect(result).rejects.toBeInstanceOf(AbortedError);
    await expect(result).rejects.toThrow('verify was aborted');
    await expect(result).rejects.toMatchObject({ code: 'ERR_ABORTED', cause: controller.signal.reason });
    expect(calls).toBe(0);
  });

  it('rejects with AbortedError as soon as the signal aborts during a pending call, clearing its timer', async () => {
    const { controller, signal, listeners } = countedSignal();
    const call = boundedCaller('backfill', 1000, signal);
    const never = deferred<number>();
    const result = call('old.getBatch', () => never.promise);
    expect(listeners()).toBe(1);
    expect(vi.getTimerCount()).toBe(1);
    controller.abort(new Error('stop'));
    await expect(result).rejects.toBeInstanceOf(AbortedError);
    await expect(result).rejects.toThrow('backfill was aborted');
    await expect(result).rejects.toMatchObject({ cause: signal.reason });
    expect(vi.getTimerCount()).toBe(0);
    expect(listeners()).toBe(0);
  });

  it('removes its abort listener and timer once the call settles, either way', async () => {
    const { controller, signal, listeners } = countedSignal();
    const call = boundedCaller('verify', 1000, signal);
    await expect(call('old.get', async () => 1)).resolves.toBe(1);
    expect(listeners()).toBe(0);
    expect(vi.getTimerCount()).toBe(0);
    const failure = new Error('down');
    await expect(call('old.get', async () => Promise.reject(failure))).rejects.toBe(failure);
    expect(listeners()).toBe(0);
    expect(vi.getTimerCount()).toBe(0);
    const slow = call('old.get', () => deferred<number>().promise);
    slow.catch(() => {});
    await vi.advanceTimersByTimeAsync(1000);
    await expect(slow).rejects.toMatchObject({ code: 'ERR_TIMEOUT' });
    expect(listeners()).toBe(0);
    controller.abort();
    await expect(slow).rejects.toMatchObject({ code: 'ERR_TIMEOUT' });
  });
});
