import { describe, expect, it } from 'vitest';
import { MigrationGlueError } from '../../src/index.js';
import type { SleepingClock } from '../../src/testing/index.js';
import { ManualClock, fakeService } from '../../src/testing/index.js';

// One turn of the event loop: lets every promise callback run. Not a timer, nothing here depends on real time.
const turn = () => new Promise<void>((resolve) => setImmediate(resolve));
const isInvalidOption = (err: unknown) => MigrationGlueError.is(err, 'ERR_INVALID_OPTION');

describe('ManualClock.sleep at the deadline already reached', () => {
  it('sleep(0) with autoAdvance off resolves without advance(): the clock is already at now() + 0', async () => {
    const clock = new ManualClock({ autoAdvance: false });
    let done = false;
    void clock.sleep(0).then(() => {
      done = true;
    });
    for (let i = 0; i < 5; i++) await turn();
    expect(done).toBe(true);
    expect(clock.pendingSleeps).toBe(0);
  });

  it('without autoAdvance is never queued, and leaves the clock where it is', async () => {
    const clock = new ManualClock({ start: 7, autoAdvance: false });
    const slept = clock.sleep(0);
    expect(clock.pendingSleeps).toBe(0);
    await slept;
    expect(clock.now()).toBe(7);
  });

  it('with autoAdvance ends on the next turn, after I/O callbacks already due, so a sleep(0) loop cannot starve them', async () => {
    const clock = new ManualClock({ start: 7 });
    let immediate = false;
    setImmediate(() => {
      immediate = true;
    });
    let polls = 0;
    while (!immediate && polls < 1_000) {
      polls += 1;
      await clock.sleep(0);
    }
    expect(immediate).toBe(true);
    expect(polls).toBeLessThan(1_000);
    expect(clock.now()).toBe(7);
  });

  it('ends in the order advance() keeps: after sleeps woken before it, before sleeps woken after it', async () => {
    const clock = new ManualClock({ start: 0, autoAdvance: false });
    const woke: string[] = [];
    const a = clock.sleep(10).then(() => woke.push('a'));
    clock.advance(10);
    const b = clock.sleep(0).then(() => woke.push('b'));
    const c = clock.sleep(5).then(() => woke.push('c'));
    clock.advance(5);
    await Promise.all([a, b, c]);
    expect(woke).toEqual(['a', 'b', 'c']);
    expect(clock.now()).toBe(15);
  });

  it('a fractional ms is kept; one lost to rounding at epoch scale is already due', async () => {
    const clock = new ManualClock({ start: 0, autoAdvance: false });
    let done = false;
    void clock.sleep(0.5).then(() => (done = true));
    clock.advance(0.25);
    await turn();
    expect(done).toBe(false);
    expect(clock.pendingSleeps).toBe(1);
    clock.advance(0.25);
    await turn();
    expect(done).toBe(true);

    const epoch = new ManualClock({ autoAdvance: false });
    expect(epoch.now() + 1e-6).toBe(epoch.now());
    const tiny = epoch.sleep(1e-6);
    expect(epoch.pendingSleeps).toBe(0);
    await tiny;
  });

  it('refuses a negative or non-finite ms synchronously, queueing nothing', () => {
    const clock = new ManualClock({ autoAdvance: false });
    for (const ms of [-1, -0.5, Number.NaN, Number.POSITIVE_INFINITY, '5' as never]) {
      expect(() => clock.sleep(ms)).toThrow(expect.toSatisfy(isInvalidOption));
    }
    expect(clock.pendingSleeps).toBe(0);
  });
});

describe('fakeService latency distributions whose draws would overflow', () => {
  it('refuses them when the script is checked, naming `latency`', () => {
    const clock = new ManualClock();
    const refused = [
      { kind: 'exponential', mean: Number.MAX_VALUE },
      { kind: 'exponential', mean: Number.MAX_VALUE / 36 },
      { kind: 'normal', mean: 0, sd: Number.MAX_VALUE },
      { kind: 'normal', mean: Number.MAX_VALUE, sd: 1e300 },
    ] as const;
    for (const latency of refused) {
      expect(() => fakeService<number, number>({ output: [1], latency, clock })).toThrow(expect.toSatisfy(isInvalidOption));
      expect(() => fakeService<number, number>({ output: [1], latency, clock })).toThrow(/`latency` (exponential|normal) needs/);
    }
    const fake = fakeService<number, number>({ output: [1], clock });
    expect(() => fake.setScript({ output: [1], latency: { kind: 'exponential', mean: Number.MAX_VALUE } })).toThrow(/`latency` exponential needs/);
  });

  it('accepts the largest ones that stay finite: every draw is a finite ms >= 0 and every call settles', async () => {
    const scripts = [
      { kind: 'exponential', mean: Number.MAX_VALUE / 37 },
      { kind: 'normal', mean: 0, sd: Number.MAX_VALUE / 10 },
      { kind: 'uniform', min: 0, max: Number.MAX_VALUE },
    ] as const;
    for (const latency of scripts) {
      const clock = new ManualClock();
      const fake = fakeService<number, number>({ output: [1], latency, clock, seed: 3 });
      const results = await Promise.allSettled(Array.from({ length: 20 }, (_, i) => fake.process(i)));
      expect(results.every((r) => r.status === 'fulfilled')).toBe(true);
      expect(fake.calls.map((c) => c.status)).toEqual(Array.from({ length: 20 }, () => 'ok'));
      expect(fake.calls.every((c) => Number.isFinite(c.latencyMs) && (c.latencyMs ?? -1) >= 0 && !Object.is(c.latencyMs, -0))).toBe(true);
    }
  });
});

describe('fakeService settles every recorded call', () => {
  it('a clock whose sleep throws or rejects fails the call and records it as an error, not pending', async () => {
    const boom = new Error('clock broke');
    const clocks: SleepingClock[] = [
      {
        now: () => 0,
        sleep: () => {
          throw boom;
        },
      },
      { now: () => 0, sleep: () => Promise.reject(boom) },
    ];
    for (const clock of clocks) {
      const fake = fakeService<number, number>({ output: [1], latency: 10, clock });
      await expect(fake.process(1)).rejects.toBe(boom);
      expect(fake.calls).toEqual([
        { index: 0, input: 1, startedAt: 0, status: 'error', latencyMs: 10, outcome: { ok: false, error: boom }, durationMs: 0 },
      ]);
    }
  });
});
