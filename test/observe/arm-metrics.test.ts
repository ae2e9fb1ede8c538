import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import { ArmMetrics, WindowCounts } from '../../src/observe/arm-metrics.js';
import { LatencyHistogram, bucketUpperBound } from '../../src/observe/latency-histogram.js';
import { MigrationGlueError } from '../../src/errors.js';

function manualClock(t = 0) {
  return {
    t,
    now() {
      return this.t;
    },
  };
}

function nearestRank(values: readonly number[], p: number): number {
  if (values.length === 0) return 0;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.max(1, Math.ceil((p * sorted.length) / 100)) - 1] as number;
}

function expectThrowsInvalidOption(make: () => unknown, option: string): void {
  let caught: unknown;
  try {
    make();
  } catch (err) {
    caught = err;
  }
  expect(MigrationGlueError.is(caught, 'ERR_INVALID_OPTION')).toBe(true);
  expect((caught as Error).message).toContain(`\`${option}\``);
}

describe('ArmMetrics', () => {
  describe('when nothing was recorded', () => {
    it('reports zeros', () => {
      const metrics = new ArmMetrics({ clock: manualClock() });
      const zero = { calls: 0, errors: 0, errorRate: 0, p50: 0, p95: 0, p99: 0 };
      expect(metrics.total()).toEqual(zero);
      expect(metrics.window()).toEqual(zero);
    });
  });

  describe('when calls are recorded', () => {
    it('counts calls and errors exactly and includes failed calls in the latency', () => {
      const metrics = new ArmMetrics({ clock: manualClock() });
      for (let i = 1; i <= 100; i++) metrics.record(i, i > 96);
      const total = metrics.total();
      expect(total.calls).toBe(100);
      expect(total.errors).toBe(4);
      expect(total.errorRate).toBe(0.04);
      expect(total.p50).toBeGreaterThanOrEqual(50);
      expect(total.p50).toBeLessThanOrEqual(bucketUpperBound(50));
      expect(total.p99).toBeGreaterThanOrEqual(99);
      expect(total.p99).toBeLessThanOrEqual(bucketUpperBound(99));
      expect(metrics.window()).toEqual(total);
    });
  });

  describe('when time passes', () => {
    it('forgets samples older than windowMs, keeps recent ones, and keeps all in total', () => {
      const clock = manualClock();
      const metrics = new ArmMetrics({ clock, windowMs: 60_000, slots: 6 });
      metrics.record(1000, true);
      clock.t = 30_000;
      metrics.record(5, false);
      metrics.record(5, false);
      clock.t = 59_999;
      expect(metrics.window().calls).toBe(3);
      clock.t = 60_000;
      const window = metrics.window();
      expect(window).toMatchObject({ calls: 2, errors: 0, errorRate: 0 });
      expect(window.p99).toBeLessThanOrEqual(bucketUpperBound(5));
      expect(metrics.total()).toMatchObject({ calls: 3, errors: 1 });
      expect(metrics.total().p99).toBe(1000);
      clock.t = 90_000;
      expect(metrics.window().calls).toBe(0);
      expect(metrics.window().p99).toBe(0);
      expect(metrics.total().calls).toBe(3);
    });

    it('clears the whole window when the clock jumps past it', () => {
      const clock = manualClock(1_000);
      const metrics = new ArmMetrics({ clock, windowMs: 1_000, slots: 10 });
      for (let i = 0; i < 10; i++) {
        clock.t += 100;
        metrics.record(i, i % 2 === 0);
      }
      expect(metrics.window().calls).toBe(10);
      clock.t += 1_000_000;
      expect(metrics.window()).toEqual({ calls: 0, errors: 0, errorRate: 0, p50: 0, p95: 0, p99: 0 });
      metrics.record(3, false);
      expect(metrics.window()).toMatchObject({ calls: 1, errors: 0, p99: 3 });
      expect(metrics.total().calls).toBe(11);
    });

    it('keeps the newest slot when the clock steps back', () => {
      const clock = manualClock(10_000);
      const metrics = new ArmMetrics({ clock, windowMs: 1_000, slots: 10 });
      metrics.record(1, false);
      clock.t = 0;
      metrics.record(1, false);
      expect(metrics.window().calls).toBe(2);
      clock.t = 10_999;
      expect(metrics.window().calls).toBe(2);
      clock.t = 11_000;
      expect(metrics.window().calls).toBe(0);
    });

    it('reports the window max exactly after the slot holding a larger one expires', () => {
      const clock = manualClock();
      const metrics = new ArmMetrics({ clock, windowMs: 10 * 3_600_000, slots: 10 });
      metrics.record(9 * 3_600_000, false);
      clock.t = 3_600_000;
      metrics.record(5 * 3_600_000, false);
      expect(metrics.window().p99).toBe(9 * 3_600_000);
      clock.t = 10 * 3_600_000;
      expect(metrics.window().p99).toBe(5 * 3_600_000);
    });
  });

  describe('for any sequence of clock advances and records', () => {
    it('window() equals a brute-force recount of the samples whose slot is within the window', () => {
      const op = fc.oneof(
        fc.record({ kind: fc.constant('advance' as const), ms: fc.oneof(fc.integer({ min: 0, max: 300 }), fc.integer({ min: 0, max: 3000 })) }),
        fc.record({ kind: fc.constant('record' as const), ms: fc.double({ min: 0, max: 10_000, noNaN: true }), failed: fc.boolean() }),
        fc.record({ kind: fc.constant('read' as const) }),
      );
      fc.assert(
        fc.property(
          fc.integer({ min: 1, max: 12 }),
          fc.integer({ min: 1, max: 10 }),
          fc.integer({ min: 0, max: 5000 }),
          fc.array(op, { maxLength: 120 }),
          (slots, slotMs, start, ops) => {
            const windowMs = slots * slotMs * 10;
            const width = windowMs / slots;
            const clock = manualClock(start);
            const metrics = new ArmMetrics({ clock, windowMs, slots });
            const samples: { slot: number; ms: number; failed: boolean }[] = [];
            const check = (): void => {
              const current = Math.floor(clock.t / width);
              const live = samples.filter((s) => s.slot > current - slots);
              const durations = live.map((s) => s.ms);
              const errors = live.filter((s) => s.failed).length;
              const got = metrics.window();
              expect(got.calls).toBe(live.length);
              expect(got.errors).toBe(errors);
              expect(got.errorRate).toBe(live.length === 0 ? 0 : errors / live.length);
              for (const [p, value] of [
                [50, got.p50],
                [95, got.p95],
                [99, got.p99],
              ] as const) {
                const truth = nearestRank(durations, p);
                expect(value).toBeGreaterThanOrEqual(truth);
                expect(value).toBeLessThanOrEqual(Math.min(bucketUpperBound(truth), Math.max(0, ...durations)));
              }
              expect(metrics.total().calls).toBe(samples.length);
            };
            for (const step of ops) {
              if (step.kind === 'advance') clock.t += step.ms;
              else if (step.kind === 'record') {
                metrics.record(step.ms, step.failed);
                samples.push({ slot: Math.floor(clock.t / width), ms: step.ms, failed: step.failed });
              } else check();
            }
            check();
          },
        ),
      );
    });
  });

  describe('reset', () => {
    it('forgets the window and the totals', () => {
      const clock = manualClock();
      const metrics = new ArmMetrics({ clock });
      metrics.record(10, true);
      metrics.reset();
      expect(metrics.total().calls).toBe(0);
      expect(metrics.window().calls).toBe(0);
      metrics.record(10, false);
      expect(metrics.window()).toMatchObject({ calls: 1, errors: 0 });
    });
  });

  describe('memory', () => {
    it('stays bounded over a million records spread across many windows', () => {
      const clock = manualClock();
      const metrics = new ArmMetrics({ clock, windowMs: 1_000, slots: 10 });
      for (let i = 0; i < 1_000_000; i++) {
        clock.t = i / 10;
        metrics.record(i % 997, i % 100 === 0);
      }
      const total = metrics.total();
      expect(total.calls).toBe(1_000_000);
      expect(total.errors).toBe(10_000);
      // The last 1000 ms hold the last 10,000 samples.
      expect(metrics.window().calls).toBe(10_000);
      expect(metrics.window().errors).toBe(100);
      expect(new LatencyHistogram().bucketCount).toBe(LatencyHistogram.bucketCount);
    });
  });

  describe('with invalid options', () => {
    it('throws ERR_INVALID_OPTION naming the option', () => {
      const clock = manualClock();
      expectThrowsInvalidOption(() => new ArmMetrics({ clock, windowMs: 0 }), 'windowMs');
      expectThrowsInvalidOption(() => new ArmMetrics({ clock, windowMs: -1 }), 'windowMs');
      expectThrowsInvalidOption(() => new ArmMetrics({ clock, windowMs: Infinity }), 'windowMs');
      expectThrowsInvalidOption(() => new ArmMetrics({ clock, windowMs: Number.NaN }), 'windowMs');
      expectThrowsInvalidOption(() => new ArmMetrics({ clock, slots: 0 }), 'slots');
      expectThrowsInvalidOption(() => new ArmMetrics({ clock, slots: 1.5 }), 'slots');
      expectThrowsInvalidOption(() => new ArmMetrics({ clock, slots: 3601 }), 'slots');
      expectThrowsInvalidOption(() => new ArmMetrics({ clock: {} as never }), 'clock');
      expectThrowsInvalidOption(() => new WindowCounts(['a'], { clock, slots: 0 }), 'slots');
      expectThrowsInvalidOption(() => new WindowCounts(['a', 'a'], { clock }), 'names');
    });

    it('names the value received', () => {
      expect(() => new ArmMetrics({ clock: manualClock(), windowMs: -5 })).toThrow(/-5/);
      expect(() => new ArmMetrics({ clock: manualClock(), slots: 4000 })).toThrow(/4000/);
    });

    it('accepts the bounds', () => {
      expect(() => new ArmMetrics({ clock: manualClock(), slots: 1 })).not.toThrow();
      expect(() => new ArmMetrics({ clock: manualClock(), slots: 3600, windowMs: 0.5 })).not.toThrow();
    });
  });
});

describe('WindowCounts', () => {
  describe('when counters are added', () => {
    it('counts in total and over the window', () => {
      const clock = manualClock();
      const counts = new WindowCounts(['compared', 'mismatched'], { clock, windowMs: 10_000, slots: 10 });
      expect(counts.window()).toEqual({ compared: 0, mismatched: 0 });
      counts.add('compared');
      counts.add('compared', 4);
      counts.add('mismatched');
      expect(counts.window()).toEqual({ compared: 5, mismatched: 1 });
      clock.t = 5_000;
      counts.add('compared');
      clock.t = 10_000;
      expect(counts.window()).toEqual({ compared: 1, mismatched: 0 });
      expect(counts.total()).toEqual({ compared: 6, mismatched: 1 });
      clock.t = 1e9;
      expect(counts.window()).toEqual({ compared: 0, mismatched: 0 });
      counts.reset();
      expect(counts.total()).toEqual({ compared: 0, mismatched: 0 });
    });

    it('rejects an unknown name and a non-finite count', () => {
      const counts = new WindowCounts(['a'], { clock: manualClock() });
      expect(() => counts.add('b' as 'a')).toThrow(RangeError);
      expect(() => counts.add('a', Number.NaN)).toThrow(RangeError);
      expect(counts.total()).toEqual({ a: 0 });
    });
  });

  describe('for any sequence of clock advances and adds', () => {
    it('window() equals a brute-force recount', () => {
      const op = fc.oneof(
        fc.record({ kind: fc.constant('advance' as const), ms: fc.integer({ min: 0, max: 2000 }) }),
        fc.record({ kind: fc.constant('add' as const), name: fc.constantFrom('x' as const, 'y' as const), n: fc.integer({ min: 0, max: 5 }) }),
      );
      fc.assert(
        fc.property(fc.integer({ min: 1, max: 8 }), fc.array(op, { maxLength: 100 }), (slots, ops) => {
          const windowMs = slots * 100;
          const clock = manualClock();
          const counts = new WindowCounts(['x', 'y'] as const, { clock, windowMs, slots });
          const events: { slot: number; name: 'x' | 'y'; n: number }[] = [];
          for (const step of ops) {
            if (step.kind === 'advance') clock.t += step.ms;
            else {
              counts.add(step.name, step.n);
              events.push({ slot: Math.floor(clock.t / 100), name: step.name, n: step.n });
            }
            const current = Math.floor(clock.t / 100);
            const sum = (name: 'x' | 'y', live: boolean): number =>
              events.filter((e) => e.name === name && (!live || e.slot > current - slots)).reduce((acc, e) => acc + e.n, 0);
            expect(counts.window()).toEqual({ x: sum('x', true), y: sum('y', true) });
            expect(counts.total()).toEqual({ x: sum('x', false), y: sum('y', false) });
          }
        }),
      );
    });
  });
});
