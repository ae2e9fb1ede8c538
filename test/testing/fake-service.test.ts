import fc from 'fast-check';
import { describe, expect, expectTypeOf, it } from 'vitest';
import { MigrationGlueError } from '../../src/index.js';
import type { Service } from '../../src/index.js';
import { ManualClock, fakeService } from '../../src/testing/index.js';
import type { FakeService } from '../../src/testing/index.js';

type Input = { userId: string };

/** Settles every call of `fake` for `n` calls and returns what each gave. */
async function outcomes<O>(fake: FakeService<Input, O>, n: number): Promise<string[]> {
  const results = await Promise.allSettled(Array.from({ length: n }, (_, i) => fake.process({ userId: `u${i}` })));
  return results.map((r) => (r.status === 'fulfilled' ? `ok:${String(r.value)}` : `error:${String(r.reason)}`));
}

describe('fakeService outputs', () => {
  it('computes an output from the input and the call index', async () => {
    const fake = fakeService<Input, string>({ output: (input, i) => `${input.userId}#${i}` });
    expect(await fake.process({ userId: 'a' })).toBe('a#0');
    expect(await fake.process({ userId: 'b' })).toBe('b#1');
  });

  it('gives a list in order, then repeats its last item', async () => {
    const fake = fakeService<Input, number>({ output: [1, 2, 3] });
    expect(await outcomes(fake, 5)).toEqual(['ok:1', 'ok:2', 'ok:3', 'ok:3', 'ok:3']);
  });

  it('cycles through a list with outputs: cycle', async () => {
    const fake = fakeService<Input, number>({ output: [1, 2], outputs: 'cycle' });
    expect(await outcomes(fake, 5)).toEqual(['ok:1', 'ok:2', 'ok:1', 'ok:2', 'ok:1']);
  });

  it('returns the very object scripted, and an output function that throws fails the call', async () => {
    const answer = { total: 3 };
    expect(await fakeService<Input, object>({ output: [answer] }).process({ userId: 'a' })).toBe(answer);
    const boom = new Error('boom');
    const fake = fakeService<Input, object>({
      output: () => {
        throw boom;
      },
    });
    await expect(fake.process({ userId: 'a' })).rejects.toBe(boom);
    expect(fake.calls[0]).toMatchObject({ status: 'error', outcome: { ok: false, error: boom } });
  });

  it('is a Service, and process works unbound', async () => {
    const fake = fakeService<Input, number>({ output: [1] });
    expectTypeOf(fake).toExtend<Service<Input, number>>();
    const { process } = fake;
    expect(await process({ userId: 'a' })).toBe(1);
  });
});

describe('fakeService failures', () => {
  it('fails on the given call indices with the given error, unchanged', async () => {
    const failure = { code: 'DOWN' };
    const fake = fakeService<Input, string>({ output: ['fine'], failOn: [1, 3], error: failure });
    const settled = await Promise.allSettled(Array.from({ length: 4 }, () => fake.process({ userId: 'a' })));
    expect(settled.map((s) => s.status)).toEqual(['fulfilled', 'rejected', 'fulfilled', 'rejected']);
    expect((settled[1] as PromiseRejectedResult).reason).toBe(failure);
  });

  it('fails where a predicate says, with a default Error naming the fake and the call', async () => {
    const fake = fakeService<Input, string>({ name: 'payments', output: ['fine'], failOn: (input) => input.userId === 'bad' });
    expect(await fake.process({ userId: 'good' })).toBe('fine');
    await expect(fake.process({ userId: 'bad' })).rejects.toThrow('payments failed on call 1');
  });

  it('makes each error with a factory', async () => {
    const fake = fakeService<Input, string>({ output: ['x'], failOn: () => true, error: (input: Input, i: number) => new RangeError(`${input.userId}/${i}`) });
    await expect(fake.process({ userId: 'a' })).rejects.toThrow(RangeError);
    await expect(fake.process({ userId: 'b' })).rejects.toThrow('b/1');
  });

  it('fails about failRate of calls', async () => {
    const fake = fakeService<Input, string>({ output: ['x'], failRate: 0.1, seed: 42 });
    const results = await outcomes(fake, 5_000);
    const failed = results.filter((r) => r.startsWith('error')).length;
    expect(failed / 5_000).toBeGreaterThan(0.085);
    expect(failed / 5_000).toBeLessThan(0.115);
    expect(fake.calls.filter((c) => c.status === 'error')).toHaveLength(failed);
  });
});

describe('fakeService hangs', () => {
  it('with hang: true, never settles and records the call as hung', async () => {
    const fake = fakeService<Input, string>({ output: ['x'], hang: true });
    const race = await Promise.race([fake.process({ userId: 'a' }), new Promise((resolve) => setTimeout(() => resolve('timeout'), 20))]);
    expect(race).toBe('timeout');
    expect(fake.calls[0]).toMatchObject({ status: 'hang', outcome: undefined, durationMs: undefined, latencyMs: undefined });
  });

  it('hangs on given calls only, and a hang wins over a failure', async () => {
    const clock = new ManualClock({ autoAdvance: false });
    const fake = fakeService<Input, string>({ output: ['x'], hang: [1], failOn: [1, 2], clock });
    await expect(fake.process({ userId: 'a' })).resolves.toBe('x');
    void fake.process({ userId: 'b' });
    await expect(fake.process({ userId: 'c' })).rejects.toThrow();
    expect(fake.calls.map((c) => c.status)).toEqual(['ok', 'hang', 'error']);
  });

  it('hangs about hangRate of calls', async () => {
    const fake = fakeService<Input, string>({ output: ['x'], hangRate: 0.2, seed: 3 });
    for (let i = 0; i < 2_000; i++) void fake.process({ userId: 'a' });
    await Promise.resolve();
    const hung = fake.calls.filter((c) => c.status === 'hang').length;
    expect(hung / 2_000).toBeGreaterThan(0.17);
    expect(hung / 2_000).toBeLessThan(0.23);
  });
});

describe('fakeService latency on a ManualClock', () => {
  it('waits a fixed latency in simulated time and records start, duration and outcome', async () => {
    const clock = new ManualClock({ start: 1_000 });
    const fake = fakeService<Input, string>({ output: ['x'], latency: 40, clock });
    expect(await fake.process({ userId: 'a' })).toBe('x');
    expect(clock.now()).toBe(1_040);
    expect(fake.calls).toEqual([
      { index: 0, input: { userId: 'a' }, startedAt: 1_000, status: 'ok', latencyMs: 40, outcome: { ok: true, value: 'x' }, durationMs: 40 },
    ]);
  });

  it('is pending until the clock gets there when it does not advance by itself', async () => {
    const clock = new ManualClock({ start: 0, autoAdvance: false });
    const fake = fakeService<Input, string>({ output: ['x'], latency: 100, clock });
    const answer = fake.process({ userId: 'a' });
    expect(fake.calls[0]?.status).toBe('pending');
    clock.advance(100);
    await expect(answer).resolves.toBe('x');
    expect(fake.calls[0]?.durationMs).toBe(100);
  });

  it('applies latency to failures too', async () => {
    const clock = new ManualClock({ start: 0 });
    const fake = fakeService<Input, string>({ output: ['x'], latency: 30, failOn: [0], clock });
    await expect(fake.process({ userId: 'a' })).rejects.toThrow();
    expect(fake.calls[0]).toMatchObject({ status: 'error', durationMs: 30 });
  });

  it('runs concurrent calls side by side: each takes its own latency', async () => {
    const clock = new ManualClock({ start: 0 });
    const fake = fakeService<Input, number>({ output: (_, i) => i, latency: (_, i) => (i + 1) * 10, clock });
    await Promise.all(Array.from({ length: 10 }, (_, i) => fake.process({ userId: `u${i}` })));
    expect(clock.now()).toBe(100);
    expect(fake.calls.map((c) => c.durationMs)).toEqual([10, 20, 30, 40, 50, 60, 70, 80, 90, 100]);
  });

  it('draws from a uniform, normal or exponential distribution', async () => {
    const clock = new ManualClock();
    const uniform = fakeService<Input, number>({ output: [1], latency: { kind: 'uniform', min: 10, max: 20 }, clock, seed: 1 });
    const normal = fakeService<Input, number>({ output: [1], latency: { kind: 'normal', mean: 100, sd: 10 }, clock, seed: 1 });
    const exponential = fakeService<Input, number>({ output: [1], latency: { kind: 'exponential', mean: 50 }, clock, seed: 1 });
    for (const fake of [uniform, normal, exponential]) await Promise.all(Array.from({ length: 4_000 }, () => fake.process({ userId: 'a' })));
    const stats = (fake: FakeService<Input, number>) => {
      const values = fake.calls.map((c) => c.latencyMs ?? Number.NaN);
      const mean = values.reduce((a, b) => a + b, 0) / values.length;
      const sd = Math.sqrt(values.reduce((a, b) => a + (b - mean) ** 2, 0) / values.length);
      return { mean, sd, min: Math.min(...values), max: Math.max(...values) };
    };
    expect(stats(uniform).min).toBeGreaterThanOrEqual(10);
    expect(stats(uniform).max).toBeLessThanOrEqual(20);
    expect(stats(uniform).mean).toBeCloseTo(15, 0);
    expect(stats(normal).mean).toBeCloseTo(100, 0);
    expect(Math.abs(stats(normal).sd - 10)).toBeLessThan(0.6);
    expect(Math.abs(stats(exponential).mean - 50)).toBeLessThan(3);
    expect(stats(exponential).min).toBeGreaterThanOrEqual(0);
    // the recorded duration is the scripted latency (up to float rounding at epoch scale): the clock jumped, nothing else
    expect(normal.calls.every((c) => Math.abs((c.durationMs ?? 0) - (c.latencyMs ?? 0)) < 1e-3)).toBe(true);
  });

  it('clips normal samples below zero to zero', async () => {
    const fake = fakeService<Input, number>({ output: [1], latency: { kind: 'normal', mean: 1, sd: 50 }, clock: new ManualClock() });
    await Promise.all(Array.from({ length: 500 }, () => fake.process({ userId: 'a' })));
    const latencies = fake.calls.map((c) => c.latencyMs ?? -1);
    expect(Math.min(...latencies)).toBe(0);
  });

  it('runs thousands of slow calls in milliseconds of real time', async () => {
    const clock = new ManualClock({ start: 0 });
    const fake = fakeService<Input, number>({ output: [1], latency: 1_000, clock });
    const started = performance.now();
    for (let i = 0; i < 3_000; i++) await fake.process({ userId: 'a' });
    expect(clock.now()).toBe(3_000_000);
    expect(performance.now() - started).toBeLessThan(3_000);
  });
});

describe('fakeService latency on real timers', () => {
  it('waits for real when no clock is given', async () => {
    const fake = fakeService<Input, string>({ output: ['x'], latency: 30 });
    const started = Date.now();
    await fake.process({ userId: 'a' });
    expect(Date.now() - started).toBeGreaterThanOrEqual(25);
    expect(fake.calls[0]?.durationMs).toBeGreaterThanOrEqual(25);
  });
});

describe('fakeService determinism', () => {
  const script = { output: (_: Input, i: number) => i, latency: { kind: 'normal', mean: 50, sd: 20 }, failRate: 0.3, hangRate: 0.1 } as const;

  async function run(seed: number, name?: string) {
    const fake = fakeService<Input, number>({ ...script, seed, name, clock: new ManualClock() });
    const answers = Array.from({ length: 200 }, () => fake.process({ userId: 'a' }));
    // a hang is known as soon as the call starts; every other call settles in simulated time
    await Promise.allSettled(answers.filter((_, i) => fake.calls[i]?.status !== 'hang'));
    return fake.calls.map((c) => `${c.status}:${c.latencyMs}`);
  }

  it('the same seed gives the same failures, hangs and latencies', async () => {
    await fc.assert(
      fc.asyncProperty(fc.integer(), async (seed) => {
        expect(await run(seed)).toEqual(await run(seed));
      }),
      { numRuns: 20 },
    );
  });

  it('another seed or another name draws differently', async () => {
    const base = await run(1);
    expect(await run(2)).not.toEqual(base);
    expect(await run(1, 'other')).not.toEqual(base);
  });

  it('changing one rate does not shift the draws of another', async () => {
    const clock = new ManualClock();
    const latencies = async (failRate: number) => {
      const fake = fakeService<Input, number>({ output: [1], latency: { kind: 'uniform', min: 0, max: 100 }, failRate, seed: 9, clock });
      await Promise.allSettled(Array.from({ length: 100 }, () => fake.process({ userId: 'a' })));
      return fake.calls.map((c) => c.latencyMs);
    };
    expect(await latencies(0.5)).toEqual(await latencies(0));
  });

  it('exposes the seed in force, 1 by default', () => {
    expect(fakeService({ output: [1] }).seed).toBe(1);
    expect(fakeService({ output: [1], seed: 77 }).seed).toBe(77);
  });
});

describe('fakeService re-scripting', () => {
  it('setScript replaces the script; call indices and records carry on', async () => {
    const fake = fakeService<Input, string>({ output: ['v1'] });
    expect(await fake.process({ userId: 'a' })).toBe('v1');
    fake.setScript({ ...fake.script, failOn: [1] });
    await expect(fake.process({ userId: 'a' })).rejects.toThrow('fake failed on call 1');
    fake.setScript({ output: (_, i) => `v2#${i}` });
    expect(await fake.process({ userId: 'a' })).toBe('v2#2');
    expect(fake.calls.map((c) => c.index)).toEqual([0, 1, 2]);
    fake.setScript({ output: ['x'], hang: true });
    void fake.process({ userId: 'a' });
    expect(fake.calls.at(-1)?.status).toBe('hang');
    fake.clearCalls();
    expect(fake.calls).toEqual([]);
    fake.setScript({ output: ['back'] });
    expect(await fake.process({ userId: 'a' })).toBe('back');
    expect(fake.calls.map((c) => c.index)).toEqual([4]);
  });

  it('a call in flight keeps the script it started with', async () => {
    const clock = new ManualClock({ autoAdvance: false });
    const fake = fakeService<Input, string>({ output: ['before'], latency: 10, clock });
    const first = fake.process({ userId: 'a' });
    fake.setScript({ output: ['after'], failOn: [0] });
    clock.advance(10);
    await expect(first).resolves.toBe('before');
  });
});

describe('fakeService options', () => {
  it('refuses bad scripts, naming the option and the value', () => {
    const invalid = (options: object, pattern: RegExp) => {
      let thrown: unknown;
      try {
        fakeService(options as never);
      } catch (err) {
        thrown = err;
      }
      expect(MigrationGlueError.is(thrown, 'ERR_INVALID_OPTION')).toBe(true);
      expect(String((thrown as Error).message)).toMatch(pattern);
    };
    invalid({}, /`output` must be a function or a non-empty array, got undefined/);
    invalid({ output: [] }, /`output`.*got an array/);
    invalid({ output: [1], outputs: 'loop' }, /`outputs`.*got "loop"/);
    invalid({ output: [1], latency: -1 }, /`latency`.*got -1/);
    invalid({ output: [1], latency: { kind: 'uniform', min: 5, max: 1 } }, /`latency` uniform needs/);
    invalid({ output: [1], latency: { kind: 'normal', mean: 5, sd: -1 } }, /`latency` normal needs/);
    invalid({ output: [1], latency: { kind: 'pareto' } }, /`latency` kind must be.*got "pareto"/);
    invalid({ output: [1], failRate: 1.5 }, /`failRate` must be a number from 0 to 1, got 1.5/);
    invalid({ output: [1], hangRate: Number.NaN }, /`hangRate`/);
    invalid({ output: [1], failOn: [-1] }, /`failOn` must be a list of call indices/);
    invalid({ output: [1], hang: 'sometimes' }, /`hang`/);
    invalid({ output: [1], seed: 1.5 }, /`seed` must be an integer, got 1.5/);
    invalid({ output: [1], clock: { now: () => 0 } }, /`clock` must have now\(\) and sleep\(ms\)/);
    const fake = fakeService({ output: [1] });
    expect(() => fake.setScript({ output: [1], failRate: -0.1 })).toThrow(/`failRate`/);
  });

  it('a latency function that returns a bad value fails the call, never throwing synchronously', async () => {
    const fake = fakeService<Input, number>({ output: [1], latency: () => Number.NaN });
    const answer = fake.process({ userId: 'a' });
    await expect(answer).rejects.toThrow(/`latency` function must return/);
  });
});

describe('fakeService script', () => {
  it('holds the script only, not the name, seed or clock', () => {
    const fake = fakeService<Input, number>({ output: [1], failRate: 0.5, name: 'x', seed: 3, clock: new ManualClock() });
    expect(Object.keys(fake.script).sort()).toEqual(['failRate', 'output']);
    expect(Object.isFrozen(fake.script)).toBe(true);
  });
});
