import { describe, expect, it, vi } from 'vitest';
import { MigrationGlueError } from '../../src/index.js';
import { ManualClock, defaultStartTime } from '../../src/testing/index.js';

describe('ManualClock', () => {
  it('starts at 2026-01-01T00:00:00Z, or at the given time or Date', () => {
    expect(new ManualClock().now()).toBe(Date.UTC(2026, 0, 1));
    expect(defaultStartTime).toBe(Date.parse('2026-01-01T00:00:00Z'));
    expect(new ManualClock({ start: 5 }).now()).toBe(5);
    expect(new ManualClock({ start: new Date('2025-06-01T12:00:00Z') }).now()).toBe(Date.parse('2025-06-01T12:00:00Z'));
  });

  it('moves only when told: advance adds, set jumps (also backwards)', () => {
    const clock = new ManualClock({ start: 1_000 });
    expect(clock.now()).toBe(1_000);
    clock.advance(250.5);
    expect(clock.now()).toBe(1_250.5);
    clock.set(new Date(10_000));
    expect(clock.now()).toBe(10_000);
    clock.set(9_000);
    expect(clock.now()).toBe(9_000);
  });

  it('refuses a bad start, step or time, naming it', () => {
    const invalid = (fn: () => unknown) => expect(fn).toThrow(expect.toSatisfy((err) => MigrationGlueError.is(err, 'ERR_INVALID_OPTION')));
    invalid(() => new ManualClock({ start: Number.NaN }));
    invalid(() => new ManualClock({ start: new Date('nope') }));
    invalid(() => new ManualClock({ autoAdvance: 'yes' as never }));
    const clock = new ManualClock();
    expect(() => clock.advance(-1)).toThrow(/option `ms` .*got -1/);
    expect(() => clock.advance(Number.POSITIVE_INFINITY)).toThrow(/`ms`/);
    expect(() => clock.set(Number.NaN)).toThrow(/option `time`/);
    expect(() => clock.sleep(-5)).toThrow(/`ms`/);
  });
});

describe('ManualClock sleep, advanced by hand', () => {
  it('resolves once advance or set reaches the deadline, in deadline order', async () => {
    const clock = new ManualClock({ start: 0, autoAdvance: false });
    const woke: string[] = [];
    const a = clock.sleep(100).then(() => woke.push(`a@${clock.now()}`));
    const b = clock.sleep(50).then(() => woke.push(`b@${clock.now()}`));
    expect(clock.pendingSleeps).toBe(2);
    clock.advance(49);
    await Promise.resolve();
    expect(woke).toEqual([]);
    clock.advance(1);
    await b;
    expect(woke).toEqual(['b@50']);
    clock.set(100);
    await a;
    expect(woke).toEqual(['b@50', 'a@100']);
    expect(clock.pendingSleeps).toBe(0);
  });

  it('never moves by itself', async () => {
    const clock = new ManualClock({ start: 0, autoAdvance: false });
    let done = false;
    void clock.sleep(10).then(() => (done = true));
    await new Promise((resolve) => setTimeout(resolve, 5));
    expect(done).toBe(false);
    expect(clock.now()).toBe(0);
  });
});

describe('ManualClock sleep, advancing by itself (the default)', () => {
  it('jumps to each deadline in turn: each sleeper sees its own deadline', async () => {
    const clock = new ManualClock({ start: 0 });
    const seen = await Promise.all([300, 100, 200, 100].map(async (ms) => {
      await clock.sleep(ms);
      return clock.now();
    }));
    expect(seen).toEqual([300, 100, 200, 100]);
    expect(clock.now()).toBe(300);
  });

  it('runs a chain of sleeps started one after another in simulated time, with no real waiting', async () => {
    const clock = new ManualClock({ start: 0 });
    const started = performance.now();
    for (let i = 0; i < 2_000; i++) await clock.sleep(1_000);
    expect(clock.now()).toBe(2_000_000);
    expect(performance.now() - started).toBeLessThan(2_000);
  });

  it('a sleep of 0 resolves without moving the clock', async () => {
    const clock = new ManualClock({ start: 7 });
    await clock.sleep(0);
    expect(clock.now()).toBe(7);
  });
});

describe('ManualClock under fake timers', () => {
  it('keeps advancing by itself while vi.useFakeTimers() is on', async () => {
    vi.useFakeTimers();
    try {
      const clock = new ManualClock({ start: 0 });
      await clock.sleep(5_000);
      expect(clock.now()).toBe(5_000);
    } finally {
      vi.useRealTimers();
    }
  });
});
