import { afterEach, describe, expect, it, vi } from 'vitest';
import { systemClock } from '../../src/index.js';

describe('systemClock', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('reads wall time: performance.timeOrigin + performance.now()', () => {
    const before = performance.timeOrigin + performance.now();
    const reading = systemClock.now();
    const after = performance.timeOrigin + performance.now();
    expect(reading).toBeGreaterThanOrEqual(before);
    expect(reading).toBeLessThanOrEqual(after);
  });

  it('is not moved by fake timers installed after the library loaded (a test that controls time passes a clock)', () => {
    vi.useFakeTimers({ toFake: ['performance', 'Date'] });
    const faked = performance.now();
    vi.advanceTimersByTime(60_000);
    // The fake moved by the minute; the system clock did not jump with it.
    expect(performance.now() - faked).toBe(60_000);
    const reading = systemClock.now();
    vi.useRealTimers();
    const real = performance.timeOrigin + performance.now();
    expect(Math.abs(real - reading)).toBeLessThan(10_000);
  });
});
