import { describe, expect, it } from 'vitest';
import { MigrationGlueError } from '../../src/errors.js';
import { BatchSizer, isTimeout, pause, waitForThrottle } from '../../src/data/backfill-pace.js';
import type { BoundedCall } from '../../src/data/bounded-call.js';
import { maxTimerMs } from '../../src/options.js';
import { ManualClock } from '../../src/testing/index.js';
import { recordingLogger } from '../helpers.js';

// src/data/backfill-pace.ts: the adaptive batch size, the backoff when the
// target slows down, the throttle hook and the pause between batches.

const sizer = (options: { batchSize?: number; targetBatchMs?: number; minBatchSize?: number; maxBatchSize?: number } = {}) =>
  new BatchSizer({ batchSize: 10, minBatchSize: 1, maxBatchSize: 1000, ...options });

describe('BatchSizer, sizing', () => {
  it('keeps batchSize as given without targetBatchMs, even outside min and max', () => {
    expect(sizer({ batchSize: 5, minBatchSize: 10, maxBatchSize: 100 }).size).toBe(5);
    expect(sizer({ batchSize: 500, minBatchSize: 10, maxBatchSize: 100 }).size).toBe(500);
  });

  it('starts within min and max with targetBatchMs', () => {
    expect(sizer({ batchSize: 5, minBatchSize: 10, maxBatchSize: 100, targetBatchMs: 100 }).size).toBe(10);
    expect(sizer({ batchSize: 500, minBatchSize: 10, maxBatchSize: 100, targetBatchMs: 100 }).size).toBe(100);
    expect(sizer({ batchSize: 50, minBatchSize: 10, maxBatchSize: 100, targetBatchMs: 100 }).size).toBe(50);
  });

  it('never changes the size nor pauses without targetBatchMs, however slow the writes', () => {
    const s = sizer();
    for (const ms of [1, 1, 1, 1, 1, 1000]) expect(s.written(10, ms)).toBe(0);
    expect(s.size).toBe(10);
    expect(s.timedOut()).toBe(false);
    expect(s.size).toBe(10);
  });

  it('sizes the next batch to what would take targetBatchMs at this batch’s rate, rounded, at most doubling', () => {
    const s = sizer({ targetBatchMs: 100 });
    s.written(10, 50); // 5 ms a row: 20 rows, exactly double
    expect(s.size).toBe(20);
    s.written(20, 20); // 1 ms a row: 100 rows, but at most double
    expect(s.size).toBe(40);
    s.written(40, 320); // 8 ms a row: 12.5 rows, rounded to 13
    expect(s.size).toBe(13);
    s.written(13, 39 * 13); // 39 ms a row: 2.56 rows, rounded to 3
    expect(s.size).toBe(3);
  });

  it('learns only from a batch at least as large as asked for', () => {
    const s = sizer({ targetBatchMs: 100 });
    s.written(9, 900); // a short last batch: says nothing about the rate
    expect(s.size).toBe(10);
    s.written(10, 1000); // full: 100 ms a row, one row per target
    expect(s.size).toBe(1);
  });

  it('doubles after a write measured at 0 ms (or less), within maxBatchSize', () => {
    const s = sizer({ targetBatchMs: 100, maxBatchSize: 30 });
    expect(s.written(10, 0)).toBe(0);
    expect(s.size).toBe(20);
    expect(s.written(20, -5)).toBe(0);
    expect(s.size).toBe(30);
  });

  it('stays within minBatchSize and maxBatchSize', () => {
    const s = sizer({ targetBatchMs: 100, minBatchSize: 4, maxBatchSize: 15 });
    s.written(10, 10_000);
    expect(s.size).toBe(4);
    s.written(4, 4);
    expect(s.size).toBe(8);
    s.written(8, 8);
    expect(s.size).toBe(15);
  });

  it('ignores a batch of no rows', () => {
    const s = sizer({ targetBatchMs: 100 });
    expect(s.written(0, 500)).toBe(0);
    expect(s.size).toBe(10);
  });
});

describe('BatchSizer, backing off', () => {
  /** A sizer that learned a baseline of 1 ms a row from five full batches of 10 rows (size kept at 10 by maxBatchSize). */
  function learned(targetBatchMs = 1000) {
    const s = sizer({ targetBatchMs, maxBatchSize: 10 });
    for (let i = 0; i < 5; i++) expect(s.written(10, 10)).toBe(0);
    return s;
  }

  it('pauses after a batch more than twice slower per row than the baseline, for writeMs × (slowdown − 1)', () => {
    const s = learned();
    expect(s.written(10, 30)).toBe(60); // 3 ms a row: slowdown 3
    expect(s.written(10, 50)).toBe(200); // slowdown 5
  });

  it('does not pause at exactly twice the baseline, nor below', () => {
    const s = learned();
    expect(s.written(10, 20)).toBe(0);
    expect(s.written(10, 15)).toBe(0);
    expect(s.written(10, 21)).toBeCloseTo(21 * 1.1);
  });

  it('pauses at most ten target batches', () => {
    const s = learned(5);
    // 100 ms a row: a pause of 10 × 99 × 100 ms, capped at 10 × 5 ms.
    expect(s.written(10, 1000)).toBe(50);
  });

  it('compares a short batch per row too, once the baseline is known', () => {
    const s = learned();
    expect(s.written(5, 50)).toBe(50 * 9);
  });

  it('learns from the first five full batches only, never pausing before', () => {
    const s = sizer({ targetBatchMs: 1000, maxBatchSize: 10 });
    // Slow batches while learning do not pause; a short one is not learned from.
    expect(s.written(10, 100)).toBe(0);
    expect(s.written(3, 300)).toBe(0);
    for (let i = 0; i < 4; i++) expect(s.written(10, 10)).toBe(0);
    // Baseline: the median of [10, 1, 1, 1, 1] ms a row is 1.
    expect(s.written(10, 30)).toBe(60);
  });

  it('takes the median of the first batches as the baseline, not the fastest', () => {
    const s = sizer({ targetBatchMs: 100_000, maxBatchSize: 10 });
    for (const ms of [10, 40, 40, 40, 50]) s.written(10, ms);
    // Median 4 ms a row: 9 ms a row is a slowdown of 2.25.
    expect(s.written(10, 90)).toBeCloseTo(90 * 1.25);
    const t = sizer({ targetBatchMs: 100_000, maxBatchSize: 10 });
    for (const ms of [40, 40, 10, 50, 50]) t.written(10, ms);
    // Sorted [1, 4, 4, 5, 5]: the middle one is 4 (not the first learned, nor the last).
    expect(t.written(10, 90)).toBeCloseTo(90 * 1.25);
  });

  it('does not learn a batch written in no time, and never pauses after one', () => {
    const s = sizer({ targetBatchMs: 1000, maxBatchSize: 10 });
    expect(s.written(10, 0)).toBe(0);
    for (let i = 0; i < 5; i++) s.written(10, 10);
    expect(s.written(10, 0)).toBe(0);
    expect(s.written(10, 30)).toBe(60);
  });
});

describe('BatchSizer, timeouts', () => {
  it('halves the size (rounding down) on a timeout, not below minBatchSize', () => {
    const s = sizer({ batchSize: 25, minBatchSize: 10, targetBatchMs: 100 });
    expect(s.timedOut()).toBe(true);
    expect(s.size).toBe(12);
    expect(s.timedOut()).toBe(true);
    expect(s.size).toBe(10);
  });

  it('answers false at minBatchSize: the run must fail', () => {
    const s = sizer({ batchSize: 10, minBatchSize: 10, targetBatchMs: 100 });
    expect(s.timedOut()).toBe(false);
    expect(s.size).toBe(10);
    const t = sizer({ batchSize: 11, minBatchSize: 10, targetBatchMs: 100 });
    expect(t.timedOut()).toBe(true);
    expect(t.size).toBe(10);
  });
});

describe('isTimeout', () => {
  it('is true for ERR_TIMEOUT and PostgreSQL statement and lock timeouts only', () => {
    expect(isTimeout(new MigrationGlueError('ERR_TIMEOUT', 'slow'))).toBe(true);
    expect(isTimeout(new MigrationGlueError('ERR_ABORTED', 'stop'))).toBe(false);
    expect(isTimeout(Object.assign(new Error('canceling statement'), { code: '57014' }))).toBe(true);
    expect(isTimeout({ code: '55P03' })).toBe(true);
    expect(isTimeout({ code: '23505' })).toBe(false);
    expect(isTimeout(new Error('plain'))).toBe(false);
    expect(isTimeout(null)).toBe(false);
    expect(isTimeout('57014')).toBe(false);
    expect(isTimeout(undefined)).toBe(false);
  });
});

describe('waitForThrottle', () => {
  const direct: BoundedCall = (_, fn) => Promise.resolve(fn());

  function run(answers: unknown[], delayMs = 40, signal?: AbortSignal) {
    const sleeps: number[] = [];
    const names: string[] = [];
    const call: BoundedCall = (what, fn) => {
      names.push(what);
      return direct(what, fn);
    };
    const throttle = () => answers.shift() as boolean | number;
    const done = waitForThrottle(throttle, delayMs, async (ms) => void sleeps.push(ms), signal, call);
    return { done, sleeps, names };
  }

  it('goes on at once on false, 0 or a negative number', async () => {
    for (const answer of [false, 0, -5]) {
      const { done, sleeps, names } = run([answer]);
      await done;
      expect(sleeps).toEqual([]);
      expect(names).toEqual(['throttle']);
    }
  });

  it('waits throttleDelayMs on true and the number given otherwise, asking again after each wait', async () => {
    const { done, sleeps, names } = run([true, 250, true, 1, false]);
    await done;
    expect(sleeps).toEqual([40, 250, 40, 1]);
    expect(names).toHaveLength(5);
  });

  it('accepts a wait of the longest timer', async () => {
    const { done, sleeps } = run([maxTimerMs, false]);
    await done;
    expect(sleeps).toEqual([maxTimerMs]);
  });

  it.each([['a string', 'slow'], ['NaN', Number.NaN], ['Infinity', Number.POSITIVE_INFINITY], ['more than the longest timer', maxTimerMs + 1], ['null', null], ['undefined', undefined]])(
    'refuses %s, naming the throttle option',
    async (_, answer) => {
      const { done, sleeps } = run([answer]);
      await expect(done).rejects.toMatchObject({ code: 'ERR_INVALID_OPTION', option: 'throttle' });
      expect(sleeps).toEqual([]);
    },
  );

  it('stops with ERR_ABORTED after a wait during which the signal aborted', async () => {
    const controller = new AbortController();
    const asked: number[] = [];
    const done = waitForThrottle(
      () => (asked.push(1), true),
      10,
      async () => controller.abort(),
      controller.signal,
      direct,
    );
    await expect(done).rejects.toMatchObject({ code: 'ERR_ABORTED' });
    expect(asked).toHaveLength(1);
  });
});

describe('pause', () => {
  function setup(overrun: number) {
    const clock = new ManualClock({ start: 0 });
    const logger = recordingLogger();
    const sleeps: number[] = [];
    const sleep = async (ms: number) => {
      sleeps.push(ms);
      clock.advance(ms + overrun);
    };
    return { clock, logger, sleeps, sleep };
  }

  it('sleeps the time asked, without a warning when the sleep kept to it', async () => {
    const { clock, logger, sleeps, sleep } = setup(1000);
    await pause(sleep, 500, undefined, clock, logger);
    expect(sleeps).toEqual([500]);
    expect(logger.lines).toEqual([]);
  });

  it('warns when a pause overran by more than the larger of 1 s and the pause itself', async () => {
    const late = setup(1001);
    await pause(late.sleep, 500, undefined, late.clock, late.logger);
    expect(late.logger.lines).toEqual([expect.objectContaining({ level: 'warn', context: { expectedMs: 500, sleptMs: 1501 } })]);
    const long = setup(3000);
    await pause(long.sleep, 3000, undefined, long.clock, long.logger);
    expect(long.logger.lines).toEqual([]);
    const longer = setup(3001);
    await pause(longer.sleep, 3000, undefined, longer.clock, longer.logger);
    expect(longer.logger.lines).toHaveLength(1);
  });

  it('rounds the times it reports', async () => {
    const { clock, logger, sleep } = setup(1500.6);
    await pause(sleep, 10.4, undefined, clock, logger);
    expect(logger.lines[0]?.context).toEqual({ expectedMs: 10, sleptMs: 1511 });
  });

  it('never asks for a timer longer than the longest one', async () => {
    const { clock, logger, sleeps, sleep } = setup(0);
    await pause(sleep, maxTimerMs * 2, undefined, clock, logger);
    expect(sleeps).toEqual([maxTimerMs]);
  });

  it('passes the signal to the sleep', async () => {
    const clock = new ManualClock({ start: 0 });
    const controller = new AbortController();
    const signals: (AbortSignal | undefined)[] = [];
    await pause(async (_, signal) => void signals.push(signal), 5, controller.signal, clock, recordingLogger());
    expect(signals).toEqual([controller.signal]);
  });
});
