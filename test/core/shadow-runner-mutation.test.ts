import { afterEach, describe, expect, it, vi } from 'vitest';
import type { Arm, GlueEvents, MismatchEvent, ShadowErrorEvent } from '../../src/core/events.js';
import { ShadowRunner } from '../../src/core/shadow-runner.js';
import type { Comparison, Outcome } from '../../src/compare/comparator.js';
import type { ComparatorLike } from '../../src/compare/to-comparator.js';
import type { ResolvedShadowOptions } from '../../src/core/shadow-options.js';
import { defaultShadowOptions } from '../../src/core/shadow-options.js';
import type { CallSink } from '../../src/core/timed.js';
import { murmur3Hasher } from '../../src/hashing/hasher.js';
import { phases } from '../../src/index.js';
import { Emitter } from '../../src/observe/emitter.js';
import { recordingLogger } from '../helpers.js';

// src/core/shadow-runner.ts: the order of old's and new's calls in shadow
// mode and each shadow call's flight, from take-off to landing (compared,
// timed out or failed). Services are deferred promises the test settles;
// the glue's clock is a manual one; timeouts run on fake timers.

type Input = { userId: string; n: number };
type Output = { total: number };

interface Deferred<T> {
  promise: Promise<T>;
  resolve: (value: T) => void;
  reject: (error: unknown) => void;
}

function deferred<T>(): Deferred<T> {
  let resolve: (value: T) => void = () => {};
  let reject: (error: unknown) => void = () => {};
  const promise = new Promise<T>((ok, fail) => {
    resolve = ok;
    reject = fail;
  });
  return { promise, resolve, reject };
}

/** A service whose calls wait until the test settles them, in order. */
function service(side: string, log: string[]) {
  const pending: { input: Input; answer: Deferred<Output> }[] = [];
  const call = (input: Input): Promise<Output> => {
    log.push(`${side} starts`);
    const answer = deferred<Output>();
    pending.push({ input, answer });
    return answer.promise.finally(() => log.push(`${side} ends`));
  };
  return { call, pending };
}

const flush = async () => {
  for (let i = 0; i < 10; i++) await Promise.resolve();
};

function runnerWith(
  options: Partial<ResolvedShadowOptions<Input, Output>> = {},
  extra: { recorder?: CallSink<Input, Arm>; comparator?: ComparatorLike<Output> } = {},
) {
  const log: string[] = [];
  const oldSide = service('old', log);
  const newSide = service('new', log);
  const logger = recordingLogger();
  const clock = { t: 1_000, now: () => clock.t };
  const emitter = new Emitter<GlueEvents<Input, Output>>(logger);
  const mismatches: MismatchEvent<Input, Output>[] = [];
  const shadowErrors: ShadowErrorEvent<Input>[] = [];
  emitter.on('mismatch', (e) => void mismatches.push(e));
  emitter.on('shadowError', (e) => void shadowErrors.push(e));
  const recorded: unknown[][] = [];
  const recorder: CallSink<Input, Arm> = extra.recorder ?? { settled: (...args) => void recorded.push(args) };
  const runner = new ShadowRunner<Input, Output>({
    name: 'pricing',
    salt: 'pricing',
    hasher: murmur3Hasher,
    newCall: newSide.call,
    oldCall: oldSide.call,
    comparator: extra.comparator ?? ((a: Output, b: Output) => a.total === b.total),
    options: { ...defaultShadowOptions, timeoutMs: 1_000, ...options } as unknown as ResolvedShadowOptions<Input, Output>,
    emitter,
    logger,
    clock,
    windowMs: 60_000,
    recorder,
  });
  return { runner, log, oldSide, newSide, logger, clock, mismatches, shadowErrors, recorded };
}

const input = (): Input => ({ userId: 'u1', n: 1 });

/** The lines our own guard writes when something of ours threw while settling a flight. */
const internalFailures = (logger: { lines: { message?: string }[] }) =>
  logger.lines.filter((line) => line.message === 'shadow comparison failed; the caller was not affected');

/** A logger whose warn throws: the mismatch log line then throws inside the settling of a flight. */
function throwOnWarn(logger: { warn: (...args: never[]) => void }): void {
  logger.warn = () => {
    throw new Error('logger broke');
  };
}

afterEach(() => {
  vi.useRealTimers();
  vi.restoreAllMocks();
});

describe('ShadowRunner: parallel', () => {
  it('starts new, then old; the caller gets old\'s very answer; both are compared', async () => {
    const r = runnerWith();
    const served = r.runner.run(input(), 'u1');
    expect(r.log).toEqual(['new starts', 'old starts']);
    expect(r.runner.stats(r.clock.now()).inFlight).toBe(1);
    const answer = { total: 1 };
    r.clock.t = 1_040;
    r.oldSide.pending[0]?.answer.resolve(answer);
    await expect(served).resolves.toBe(answer);
    expect(r.recorded).toEqual([['old', input(), true, answer, 40, 1_040]]);
    r.clock.t = 1_100;
    r.newSide.pending[0]?.answer.resolve({ total: 2 });
    await flush();
    expect(r.mismatches).toHaveLength(1);
    expect(r.mismatches[0]).toMatchObject({ key: 'u1', oldDurationMs: 40, newDurationMs: 100, old: { ok: true, value: { total: 1 } }, new: { ok: true, value: { total: 2 } } });
    expect(r.runner.stats(r.clock.now())).toMatchObject({ inFlight: 0, compared: 1, mismatched: 1 });
  });

  it('new gets its own copy of the input; old gets the caller\'s', async () => {
    const r = runnerWith();
    const given = input();
    void r.runner.run(given, 'u1');
    expect(r.oldSide.pending[0]?.input).toBe(given);
    expect(r.newSide.pending[0]?.input).toEqual(given);
    expect(r.newSide.pending[0]?.input).not.toBe(given);
  });

  it('with isolateInput none, new gets the caller\'s object', async () => {
    const r = runnerWith({ isolateInput: 'none' });
    const given = input();
    void r.runner.run(given, 'u1');
    expect(r.newSide.pending[0]?.input).toBe(given);
  });

  it('old failing: the caller gets its error, recorded as a failure, and the outcomes are still compared', async () => {
    const r = runnerWith();
    const served = r.runner.run(input(), 'u1');
    const failure = new Error('old broke');
    r.oldSide.pending[0]?.answer.reject(failure);
    await expect(served).rejects.toBe(failure);
    expect(r.recorded[0]?.slice(0, 4)).toEqual(['old', input(), false, failure]);
    r.newSide.pending[0]?.answer.resolve({ total: 1 });
    await flush();
    expect(r.mismatches[0]?.old).toEqual({ ok: false, error: failure });
    expect(r.runner.stats(r.clock.now()).inFlight).toBe(0);
  });

  it('new failing: a shadowError and an error mismatch, the caller unaffected', async () => {
    const r = runnerWith();
    const served = r.runner.run(input(), 'u1');
    r.newSide.pending[0]?.answer.reject(new Error('new broke'));
    r.oldSide.pending[0]?.answer.resolve({ total: 1 });
    await expect(served).resolves.toEqual({ total: 1 });
    await flush();
    expect(r.shadowErrors.map((e) => e.reason)).toEqual(['error']);
    expect(r.mismatches[0]?.new).toMatchObject({ ok: false });
  });
});

describe('ShadowRunner: old-first, new-first, random', () => {
  it('old-first starts new once old answered, or failed', async () => {
    const r = runnerWith({ order: 'old-first' });
    const served = r.runner.run(input(), 'u1');
    expect(r.log).toEqual(['old starts']);
    r.oldSide.pending[0]?.answer.resolve({ total: 1 });
    await served;
    await flush();
    expect(r.log).toEqual(['old starts', 'old ends', 'new starts']);
    const failing = runnerWith({ order: 'old-first' });
    const rejected = failing.runner.run(input(), 'u1');
    failing.oldSide.pending[0]?.answer.reject(new Error('old broke'));
    await expect(rejected).rejects.toThrow('old broke');
    await flush();
    expect(failing.log).toEqual(['old starts', 'old ends', 'new starts']);
  });

  it('new-first starts old only once new settled', async () => {
    const r = runnerWith({ order: 'new-first' });
    const served = r.runner.run(input(), 'u1');
    await flush();
    expect(r.log).toEqual(['new starts']);
    r.newSide.pending[0]?.answer.resolve({ total: 1 });
    await flush();
    expect(r.log).toEqual(['new starts', 'new ends', 'old starts']);
    r.oldSide.pending[0]?.answer.resolve({ total: 1 });
    await expect(served).resolves.toEqual({ total: 1 });
    await flush();
    expect(r.runner.stats(r.clock.now())).toMatchObject({ inFlight: 0, matched: 1 });
  });

  it('new-first with a new that hangs: old starts once the shadow call timed out', async () => {
    vi.useFakeTimers();
    const r = runnerWith({ order: 'new-first', timeoutMs: 1_000 });
    const served = r.runner.run(input(), 'u1');
    await vi.advanceTimersByTimeAsync(998);
    expect(r.log).toEqual(['new starts']);
    await vi.advanceTimersByTimeAsync(2);
    expect(r.log).toEqual(['new starts', 'old starts']);
    expect(r.shadowErrors.map((e) => e.reason)).toEqual(['timeout']);
    r.oldSide.pending[0]?.answer.resolve({ total: 1 });
    await expect(served).resolves.toEqual({ total: 1 });
  });

  it('random picks old-first below one half and new-first from it', async () => {
    vi.spyOn(Math, 'random').mockReturnValueOnce(0.49).mockReturnValueOnce(0.5);
    const first = runnerWith({ order: 'random' });
    void first.runner.run(input(), 'u1');
    expect(first.log).toEqual(['old starts']);
    const second = runnerWith({ order: 'random' });
    void second.runner.run(input(), 'u1');
    await flush();
    expect(second.log).toEqual(['new starts']);
  });
});

describe('ShadowRunner: A/A mode', () => {
  it('shadows old against itself, never calling new', async () => {
    const r = runnerWith({ aa: true });
    const served = r.runner.run(input(), 'u1');
    expect(r.log).toEqual(['old starts', 'old starts']);
    expect(r.newSide.pending).toHaveLength(0);
    for (const call of r.oldSide.pending) call.answer.resolve({ total: 1 });
    await served;
    await flush();
    expect(r.runner.stats(r.clock.now())).toMatchObject({ aa: true, matched: 1 });
  });
});

describe('ShadowRunner: timeouts and drain', () => {
  it('a shadow call that does not land within timeoutMs times out and frees its slot', async () => {
    vi.useFakeTimers();
    const r = runnerWith({ timeoutMs: 500 });
    void r.runner.run(input(), 'u1');
    r.oldSide.pending[0]?.answer.resolve({ total: 1 });
    await vi.advanceTimersByTimeAsync(499);
    expect(r.runner.stats(r.clock.now()).inFlight).toBe(1);
    await vi.advanceTimersByTimeAsync(1);
    expect(r.runner.stats(r.clock.now())).toMatchObject({ inFlight: 0, timeouts: 1 });
    expect(r.shadowErrors[0]?.reason).toBe('timeout');
    r.newSide.pending[0]?.answer.resolve({ total: 2 });
    await vi.advanceTimersByTimeAsync(0);
    expect(r.runner.stats(r.clock.now())).toMatchObject({ compared: 0, timeouts: 1 });
    expect(r.mismatches).toEqual([]);
  });

  it('drain resolves at once with nothing in flight, else once every flight landed', async () => {
    const r = runnerWith();
    let drained = false;
    await r.runner.drain();
    void r.runner.run(input(), 'u1');
    void r.runner.run(input(), 'u2');
    const draining = r.runner.drain().then(() => (drained = true));
    for (const call of r.oldSide.pending) call.answer.resolve({ total: 1 });
    r.newSide.pending[0]?.answer.resolve({ total: 1 });
    await flush();
    expect(drained).toBe(false);
    r.newSide.pending[1]?.answer.resolve({ total: 1 });
    await draining;
    expect(drained).toBe(true);
  });

  it('drain resolves when the last flight times out', async () => {
    vi.useFakeTimers();
    const r = runnerWith({ timeoutMs: 200 });
    void r.runner.run(input(), 'u1');
    r.oldSide.pending[0]?.answer.resolve({ total: 1 });
    let drained = false;
    void r.runner.drain().then(() => (drained = true));
    await vi.advanceTimersByTimeAsync(199);
    expect(drained).toBe(false);
    await vi.advanceTimersByTimeAsync(1);
    expect(drained).toBe(true);
  });
});

describe('ShadowRunner: re-running old on a mismatch', () => {
  it('a match needs no re-run', async () => {
    const r = runnerWith({ rerunOldOnMismatch: true });
    void r.runner.run(input(), 'u1');
    r.oldSide.pending[0]?.answer.resolve({ total: 1 });
    r.newSide.pending[0]?.answer.resolve({ total: 1 });
    await flush();
    expect(r.oldSide.pending).toHaveLength(1);
    expect(r.runner.stats(r.clock.now())).toMatchObject({ matched: 1, inFlight: 0 });
  });

  it('old agreeing with itself: a value mismatch, reported once old answered again with a fresh copy of the input', async () => {
    const r = runnerWith({ rerunOldOnMismatch: true });
    const given = input();
    void r.runner.run(given, 'u1');
    r.oldSide.pending[0]?.answer.resolve({ total: 1 });
    r.newSide.pending[0]?.answer.resolve({ total: 2 });
    await flush();
    expect(r.oldSide.pending).toHaveLength(2);
    expect(r.oldSide.pending[1]?.input).toEqual(given);
    expect(r.oldSide.pending[1]?.input).not.toBe(given);
    expect(r.mismatches).toEqual([]);
    expect(r.runner.stats(r.clock.now()).inFlight).toBe(1);
    r.oldSide.pending[1]?.answer.resolve({ total: 1 });
    await flush();
    expect(r.mismatches.map((m) => m.kind)).toEqual(['value']);
    expect(r.runner.stats(r.clock.now())).toMatchObject({ inFlight: 0, mismatched: 1 });
  });

  it('old disagreeing with itself, or failing the second time: a flaky mismatch', async () => {
    for (const again of [(d: Deferred<Output>) => d.resolve({ total: 3 }), (d: Deferred<Output>) => d.reject(new Error('old broke'))]) {
      const r = runnerWith({ rerunOldOnMismatch: true });
      void r.runner.run(input(), 'u1');
      r.oldSide.pending[0]?.answer.resolve({ total: 1 });
      r.newSide.pending[0]?.answer.resolve({ total: 2 });
      await flush();
      again(r.oldSide.pending[1]!.answer);
      await flush();
      expect(r.mismatches.map((m) => m.kind)).toEqual(['flaky']);
      expect(r.runner.stats(r.clock.now()).mismatchesByKind).toEqual({ value: 0, error: 0, flaky: 1 });
    }
  });

  it('an old that throws synchronously on the re-run: flaky', async () => {
    const log: string[] = [];
    const newSide = service('new', log);
    let calls = 0;
    const emitter = new Emitter<GlueEvents<Input, Output>>(recordingLogger());
    const kinds: string[] = [];
    emitter.on('mismatch', (e) => void kinds.push(e.kind));
    const runner = new ShadowRunner<Input, Output>({
      name: 'pricing',
      salt: 'pricing',
      hasher: murmur3Hasher,
      newCall: newSide.call,
      oldCall: () => {
        calls += 1;
        if (calls > 1) throw new Error('sync throw');
        return { total: 1 };
      },
      comparator: (a: Output, b: Output) => a.total === b.total,
      options: { ...defaultShadowOptions, rerunOldOnMismatch: true } as unknown as ResolvedShadowOptions<Input, Output>,
      emitter,
      logger: recordingLogger(),
      clock: { now: () => 0 },
      windowMs: 60_000,
      recorder: { settled: () => {} },
    });
    await runner.run(input(), 'u1');
    newSide.pending[0]?.answer.resolve({ total: 2 });
    await flush();
    expect(calls).toBe(2);
    expect(kinds).toEqual(['flaky']);
  });

  it('a comparator that throws: the flight lands uncompared, without a re-run', async () => {
    const log: string[] = [];
    const oldSide = service('old', log);
    const newSide = service('new', log);
    const shadowErrors: string[] = [];
    const emitter = new Emitter<GlueEvents<Input, Output>>(recordingLogger());
    emitter.on('shadowError', (e) => void shadowErrors.push(e.reason));
    const runner = new ShadowRunner<Input, Output>({
      name: 'pricing',
      salt: 'pricing',
      hasher: murmur3Hasher,
      newCall: newSide.call,
      oldCall: oldSide.call,
      comparator: () => {
        throw new Error('comparator broke');
      },
      options: { ...defaultShadowOptions, rerunOldOnMismatch: true } as unknown as ResolvedShadowOptions<Input, Output>,
      emitter,
      logger: recordingLogger(),
      clock: { now: () => 0 },
      windowMs: 60_000,
      recorder: { settled: () => {} },
    });
    void runner.run(input(), 'u1');
    oldSide.pending[0]?.answer.resolve({ total: 1 });
    newSide.pending[0]?.answer.resolve({ total: 2 });
    await flush();
    expect(oldSide.pending).toHaveLength(1);
    expect(shadowErrors).toEqual(['comparator']);
    expect(runner.stats(0)).toMatchObject({ inFlight: 0, compared: 0, errors: 1 });
  });

  it('a re-run answering after the flight timed out changes nothing', async () => {
    vi.useFakeTimers();
    const r = runnerWith({ rerunOldOnMismatch: true, timeoutMs: 300 });
    void r.runner.run(input(), 'u1');
    r.oldSide.pending[0]?.answer.resolve({ total: 1 });
    r.newSide.pending[0]?.answer.resolve({ total: 2 });
    await vi.advanceTimersByTimeAsync(300);
    expect(r.runner.stats(r.clock.now())).toMatchObject({ inFlight: 0, timeouts: 1 });
    r.oldSide.pending[1]?.answer.resolve({ total: 3 });
    await vi.advanceTimersByTimeAsync(0);
    expect(r.mismatches).toEqual([]);
    expect(r.runner.stats(r.clock.now())).toMatchObject({ compared: 0, mismatched: 0, inFlight: 0 });
    expect(internalFailures(r.logger)).toEqual([]);
  });
});

describe('ShadowRunner: isolation, failures inside, admission, cleaning', () => {
  it('a new that mutates its copy: a shadowError, counted, and old never sees it', async () => {
    const r = runnerWith();
    const given = input();
    void r.runner.run(given, 'u1');
    const copy = r.newSide.pending[0]!.input;
    copy.n = 99;
    r.newSide.pending[0]?.answer.resolve({ total: 1 });
    r.oldSide.pending[0]?.answer.resolve({ total: 1 });
    await flush();
    expect(given.n).toBe(1);
    expect(r.shadowErrors.map((e) => e.reason)).toEqual(['input-mutated']);
    expect((r.shadowErrors[0]?.error as Error).message).toBe('the new service mutated its input');
    expect(r.runner.stats(r.clock.now())).toMatchObject({ inputMutations: 1, matched: 1 });
  });

  it('a recorder that throws: logged, the flight lands, the caller still gets old\'s answer', async () => {
    const r = runnerWith(
      {},
      {
        recorder: {
          settled: () => {
            throw new Error('recorder broke');
          },
        },
      },
    );
    const served = r.runner.run(input(), 'u1');
    r.oldSide.pending[0]?.answer.resolve({ total: 1 });
    await expect(served).resolves.toEqual({ total: 1 });
    expect(r.runner.stats(r.clock.now()).inFlight).toBe(0);
    const line = r.logger.lines.find((l) => l.level === 'error');
    expect(line).toMatchObject({ message: 'shadow comparison failed; the caller was not affected', context: { migration: 'pricing' } });
    r.newSide.pending[0]?.answer.resolve({ total: 2 });
    await flush();
    expect(r.mismatches).toEqual([]);
    expect(r.runner.stats(r.clock.now()).inFlight).toBe(0);
  });

  it('a hostile answer from new that the clean hook replaces: the flight lands', async () => {
    const r = runnerWith({ clean: { output: () => ({ total: 0 }) } });
    const throwingValue = new Proxy(
      {},
      {
        get() {
          throw new Error('hostile');
        },
      },
    ) as Output;
    void r.runner.run(input(), 'u1');
    r.oldSide.pending[0]?.answer.resolve({ total: 1 });
    r.newSide.pending[0]?.answer.resolve(throwingValue);
    await flush();
    expect(r.runner.stats(r.clock.now()).inFlight).toBe(0);
  });

  it('admits by the shadow options and counts what it skipped', () => {
    const r = runnerWith({ maxInFlight: 1 });
    expect(r.runner.admit('u1', phases.shadow())).toBe(true);
    void r.runner.run(input(), 'u1');
    expect(r.runner.admit('u2', phases.shadow())).toBe(false);
    expect(r.runner.stats(r.clock.now()).skippedBy).toMatchObject({ overCapacity: 1 });
    expect(r.runner.stats(r.clock.now()).skipped).toBe(1);
  });

  it('cleans inputs and errors by the clean hooks', () => {
    const r = runnerWith({ clean: { input: (i) => ({ ...i, userId: '***' }) } });
    expect(r.runner.clean({ userId: 'secret-user', n: 1 })).toEqual({ userId: '***', n: 1 });
    expect(r.runner.cleanError(new Error('no secret-user'), { userId: 'secret-user', n: 1 })).toEqual({ name: 'Error', message: 'no [redacted]' });
  });
});

describe('ShadowRunner: re-running old, the edges', () => {
  it('a comparator that throws: the flight lands cleanly, without our own guard having to catch anything', async () => {
    const r = runnerWith(
      { rerunOldOnMismatch: true },
      {
        comparator: () => {
          throw new Error('comparator broke');
        },
      },
    );
    void r.runner.run(input(), 'u1');
    r.oldSide.pending[0]?.answer.resolve({ total: 1 });
    r.newSide.pending[0]?.answer.resolve({ total: 2 });
    await flush();
    expect(r.shadowErrors.map((e) => e.reason)).toEqual(['comparator']);
    expect(internalFailures(r.logger)).toEqual([]);
    expect(r.runner.stats(r.clock.now())).toMatchObject({ inFlight: 0, compared: 0, errors: 1 });
  });

  it('old rejecting on the re-run: the comparator is asked about that very failure', async () => {
    const asked: [Outcome<Output>, Outcome<Output>][] = [];
    const comparator = {
      compare(a: Outcome<Output>, b: Outcome<Output>): Comparison {
        asked.push([a, b]);
        const equal = a.ok && b.ok && a.value.total === b.value.total;
        return equal ? { equal: true, diff: [], truncated: false } : { equal: false, kind: 'value', diff: [{ path: '', kind: 'changed', old: a, new: b }], truncated: false };
      },
    };
    const r = runnerWith({ rerunOldOnMismatch: true }, { comparator });
    void r.runner.run(input(), 'u1');
    r.oldSide.pending[0]?.answer.resolve({ total: 1 });
    r.newSide.pending[0]?.answer.resolve({ total: 2 });
    await flush();
    const failure = new Error('old broke the second time');
    r.oldSide.pending[1]?.answer.reject(failure);
    await flush();
    expect(asked).toHaveLength(2);
    expect(asked[1]?.[0]).toEqual({ ok: true, value: { total: 1 } });
    expect(asked[1]?.[1]).toEqual({ ok: false, error: failure });
    expect(asked[1]?.[1]).toHaveProperty('error', failure);
    expect(r.mismatches.map((m) => m.kind)).toEqual(['flaky']);
  });

  it('a comparator that throws on the re-run only: the first mismatch is reported as it was, old taken as agreeing', async () => {
    let calls = 0;
    const r = runnerWith(
      { rerunOldOnMismatch: true },
      {
        comparator: (a: Output, b: Output) => {
          calls += 1;
          if (calls > 1) throw new Error('comparator broke');
          return a.total === b.total;
        },
      },
    );
    void r.runner.run(input(), 'u1');
    r.oldSide.pending[0]?.answer.resolve({ total: 1 });
    r.newSide.pending[0]?.answer.resolve({ total: 2 });
    await flush();
    r.oldSide.pending[1]?.answer.resolve({ total: 1 });
    await flush();
    expect(calls).toBe(2);
    expect(r.shadowErrors.map((e) => e.reason)).toEqual(['comparator']);
    expect(r.mismatches.map((m) => m.kind)).toEqual(['value']);
    expect(internalFailures(r.logger)).toEqual([]);
    expect(r.runner.stats(r.clock.now())).toMatchObject({ inFlight: 0, compared: 1, mismatched: 1 });
  });

  it('something of ours throwing while the re-run is judged: logged, and the flight lands', async () => {
    const r = runnerWith({ rerunOldOnMismatch: true });
    throwOnWarn(r.logger);
    void r.runner.run(input(), 'u1');
    r.oldSide.pending[0]?.answer.resolve({ total: 1 });
    r.newSide.pending[0]?.answer.resolve({ total: 2 });
    await flush();
    expect(r.runner.stats(r.clock.now()).inFlight).toBe(1);
    r.oldSide.pending[1]?.answer.resolve({ total: 1 });
    await flush();
    expect(internalFailures(r.logger)).toHaveLength(1);
    expect(r.runner.stats(r.clock.now()).inFlight).toBe(0);
  });
});

describe('ShadowRunner: answers after the flight landed', () => {
  it('old and new answering after the timeout: ignored, nothing of ours fails', async () => {
    vi.useFakeTimers();
    const r = runnerWith({ timeoutMs: 500 });
    const served = r.runner.run(input(), 'u1');
    await vi.advanceTimersByTimeAsync(500);
    expect(r.runner.stats(r.clock.now())).toMatchObject({ inFlight: 0, timeouts: 1 });
    r.oldSide.pending[0]?.answer.resolve({ total: 1 });
    await expect(served).resolves.toEqual({ total: 1 });
    r.newSide.pending[0]?.answer.resolve({ total: 2 });
    await vi.advanceTimersByTimeAsync(0);
    expect(r.recorded).toHaveLength(1);
    expect(internalFailures(r.logger)).toEqual([]);
    expect(r.runner.stats(r.clock.now())).toMatchObject({ inFlight: 0, compared: 0, timeouts: 1 });
  });

  it('a recorder throwing for an old that answered after the timeout: the flight is not landed twice', async () => {
    vi.useFakeTimers();
    const r = runnerWith(
      { timeoutMs: 500 },
      {
        recorder: {
          settled: () => {
            throw new Error('recorder broke');
          },
        },
      },
    );
    const served = r.runner.run(input(), 'u1');
    await vi.advanceTimersByTimeAsync(500);
    expect(r.runner.stats(r.clock.now()).inFlight).toBe(0);
    r.oldSide.pending[0]?.answer.resolve({ total: 1 });
    await expect(served).resolves.toEqual({ total: 1 });
    expect(internalFailures(r.logger)).toHaveLength(1);
    expect(r.runner.stats(r.clock.now()).inFlight).toBe(0);
    // A second call still finds its slot: the count went back to zero, not below.
    void r.runner.run(input(), 'u2');
    expect(r.runner.stats(r.clock.now()).inFlight).toBe(1);
  });

  it('old-first with a flight that landed as old answered: new is never called, and nothing is left unhandled', async () => {
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown) => void unhandled.push(reason);
    process.on('unhandledRejection', onUnhandled);
    try {
      const r = runnerWith(
        { order: 'old-first' },
        {
          recorder: {
            settled: () => {
              throw new Error('recorder broke');
            },
          },
        },
      );
      const served = r.runner.run(input(), 'u1');
      r.oldSide.pending[0]?.answer.resolve({ total: 1 });
      await expect(served).resolves.toEqual({ total: 1 });
      await flush();
      await new Promise((resolve) => setImmediate(resolve));
      expect(r.newSide.pending).toHaveLength(0);
      expect(r.runner.stats(r.clock.now()).inFlight).toBe(0);
      expect(unhandled).toEqual([]);
    } finally {
      process.off('unhandledRejection', onUnhandled);
    }
  });

  it('something of ours throwing as new answers last: logged, and the flight lands', async () => {
    const r = runnerWith();
    throwOnWarn(r.logger);
    void r.runner.run(input(), 'u1');
    r.oldSide.pending[0]?.answer.resolve({ total: 1 });
    await flush();
    r.newSide.pending[0]?.answer.resolve({ total: 2 });
    await flush();
    expect(internalFailures(r.logger)).toHaveLength(1);
    expect(r.runner.stats(r.clock.now()).inFlight).toBe(0);
  });
});

describe('ShadowRunner: timeout cohorts', () => {
  it('calls of one turn share one timer whatever readings the glue\'s own clock gives: cohorts are dated in real time', async () => {
    vi.useFakeTimers();
    const r = runnerWith({ timeoutMs: 500 });
    r.clock.t = 1_000;
    void r.runner.run(input(), 'u1');
    const timers = vi.getTimerCount();
    r.clock.t = 9_000;
    void r.runner.run(input(), 'u2');
    r.clock.t = 2_000;
    void r.runner.run(input(), 'u3');
    expect(vi.getTimerCount()).toBe(timers);
    await vi.advanceTimersByTimeAsync(500);
    expect(r.runner.stats(r.clock.now())).toMatchObject({ inFlight: 0, timeouts: 3 });
  });
});
