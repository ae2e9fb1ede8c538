import { afterEach, describe, expect, it, vi } from 'vitest';
import { timed, timedInBackground, timedShadowOld, withTimeout } from '../../src/core/timed.js';
import type { CallSink } from '../../src/core/timed.js';
import { MigrationGlueError } from '../../src/index.js';
import type { Clock } from '../../src/observe/clock.js';

// src/core/timed.ts: every served call is timed and told to a sink before
// the caller sees its outcome.

/** A clock that advances by `step` ms on every reading. */
function steppingClock(start: number, step: number): Clock {
  let now = start - step;
  return { now: () => (now += step) } as Clock;
}

type Told = { context: string; input: number; ok: boolean; result: unknown; durationMs: number; end: number };

function recordingSink() {
  const told: Told[] = [];
  const sink: CallSink<number, string> = {
    settled: (context, input, ok, result, durationMs, end) => void told.push({ context, input, ok, result, durationMs, end }),
  };
  return { sink, told };
}

describe.each([
  ['timed', timed],
  ['timedShadowOld', timedShadowOld],
] as const)('%s', (_, run) => {
  it('resolves with the value and tells the sink first, with the duration and the end reading', async () => {
    const { sink, told } = recordingSink();
    const clock = steppingClock(1_000, 7);
    const answer = await run(clock, async (n: number) => {
      expect(told).toEqual([]);
      return n * 2;
    }, 21, sink, 'ctx');
    expect(answer).toBe(42);
    expect(told).toEqual([{ context: 'ctx', input: 21, ok: true, result: 42, durationMs: 7, end: 1_007 }]);
  });

  it('rejects with the very error, told as a failure', async () => {
    const { sink, told } = recordingSink();
    const boom = new Error('boom');
    await expect(
      run(steppingClock(200, 3), () => {
        throw boom;
      }, 1, sink, 'ctx', 100),
    ).rejects.toBe(boom);
    expect(told).toEqual([{ context: 'ctx', input: 1, ok: false, result: boom, durationMs: 100, end: 200 }]);
  });

  it('takes the start it is given instead of reading the clock', async () => {
    const { sink, told } = recordingSink();
    await run(steppingClock(50, 5), async () => 1, 0, sink, 'ctx', 40);
    expect(told[0]).toMatchObject({ durationMs: 10, end: 50 });
  });
});

describe('timed with recover', () => {
  it('answers a failed call with recover, after telling the sink the failure', async () => {
    const { sink, told } = recordingSink();
    const boom = new Error('new down');
    const recover = vi.fn(async (error: unknown) => {
      expect(told).toHaveLength(1);
      return `recovered from ${(error as Error).message}`;
    });
    await expect(timed(steppingClock(0, 1), async () => Promise.reject(boom), 1, sink, 'new', undefined, recover)).resolves.toBe('recovered from new down');
    expect(recover).toHaveBeenCalledTimes(1);
    expect(told[0]).toMatchObject({ ok: false, result: boom });
  });

  it('does not call recover when the call succeeds', async () => {
    const { sink } = recordingSink();
    const recover = vi.fn(async () => 'no');
    await expect(timed(steppingClock(0, 1), async () => 'yes', 1, sink, 'new', undefined, recover)).resolves.toBe('yes');
    expect(recover).not.toHaveBeenCalled();
  });
});

describe('timedInBackground', () => {
  it('tells the sink the value of a call that resolves', async () => {
    const { sink, told } = recordingSink();
    timedInBackground(steppingClock(10, 2), async (n: number) => n + 1, 1, sink, 'shadow');
    await vi.waitFor(() => expect(told).toHaveLength(1));
    expect(told[0]).toEqual({ context: 'shadow', input: 1, ok: true, result: 2, durationMs: 2, end: 12 });
  });

  it('tells the sink the error of a call that throws synchronously or rejects', async () => {
    const { sink, told } = recordingSink();
    const boom = new Error('sync');
    timedInBackground(steppingClock(0, 1), () => {
      throw boom;
    }, 1, sink, 'shadow');
    const late = new Error('async');
    timedInBackground(steppingClock(0, 1), () => Promise.reject(late), 2, sink, 'shadow');
    await vi.waitFor(() => expect(told).toHaveLength(2));
    expect(told.map((t) => [t.input, t.ok, t.result])).toEqual(
      expect.arrayContaining([
        [1, false, boom],
        [2, false, late],
      ]),
    );
  });

  it('tells the sink a plain value as a success', async () => {
    const { sink, told } = recordingSink();
    timedInBackground(steppingClock(0, 1), ((n: number) => n) as unknown as (n: number) => Promise<number>, 5, sink, 'shadow');
    await vi.waitFor(() => expect(told).toHaveLength(1));
    expect(told[0]).toMatchObject({ ok: true, result: 5 });
  });
});

describe('withTimeout', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('gives the answer of a call within the time, and clears its timer', async () => {
    vi.useFakeTimers();
    const bounded = withTimeout(async (n: number) => n * 3, 100, 'new service of "x"');
    await expect(bounded(2)).resolves.toBe(6);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('gives the error of a call that fails within the time', async () => {
    vi.useFakeTimers();
    const boom = new Error('boom');
    const bounded = withTimeout(() => {
      throw boom;
    }, 100, 'side');
    await expect(bounded(1)).rejects.toBe(boom);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('rejects with ERR_TIMEOUT naming the side and the bound, and handles the late rejection', async () => {
    vi.useFakeTimers();
    let rejectLate: ((err: Error) => void) | undefined;
    const bounded = withTimeout(() => new Promise<number>((_, reject) => (rejectLate = reject)), 100, 'new service of "x"');
    const answer = Promise.resolve(bounded(1));
    const outcome = expect(answer).rejects.toSatisfy(
      (err: unknown) => MigrationGlueError.is(err, 'ERR_TIMEOUT') && (err as Error).message.includes('new service of "x" took longer than 100 ms'),
    );
    await vi.advanceTimersByTimeAsync(99);
    let settled = false;
    void answer.catch(() => (settled = true));
    await Promise.resolve();
    expect(settled).toBe(false);
    await vi.advanceTimersByTimeAsync(1);
    await outcome;
    rejectLate?.(new Error('late'));
    await Promise.resolve();
  });
});
