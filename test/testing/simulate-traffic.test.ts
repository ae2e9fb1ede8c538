import { describe, expect, expectTypeOf, it } from 'vitest';
import { MigrationGlue, bucketOf, phases, silentLogger } from '../../src/index.js';
import type { InMemoryConfigStore, MigrationConfig, MigrationGlueOptions } from '../../src/index.js';
import { ManualClock, fakeService, simulateTraffic } from '../../src/testing/index.js';
import type { SimulateTrafficOptions, TrafficResult } from '../../src/testing/index.js';

type Input = { userId: string | number; n?: number };

function makeGlue(config: MigrationConfig | InMemoryConfigStore, extra: Partial<MigrationGlueOptions<Input, string>> = {}) {
  return new MigrationGlue<Input, string>({
    name: 'checkout',
    oldService: fakeService<Input, string>({ output: ['old'] }),
    newService: fakeService<Input, string>({ output: ['new'] }),
    config,
    logger: silentLogger,
    ...extra,
  });
}

describe('simulateTraffic', () => {
  it('in canary sends exactly the keys whose bucket is below the share to new, each key to one side', async () => {
    const glue = makeGlue(phases.canary(10));
    const result = await simulateTraffic(glue, { keys: 5_000, calls: 10_000 });
    expect(result.calls).toBe(10_000);
    for (const [key, side] of result.byKey) expect(side).toBe(bucketOf(key, 'checkout') < 1_000 ? 'new' : 'old');
    expect(result.keysBy.both).toBe(0);
    expect(result.keysBy.new + result.keysBy.old).toBe(5_000);
    expect(result.keysBy.new / 5_000).toBeGreaterThan(0.09);
    expect(result.keysBy.new / 5_000).toBeLessThan(0.11);
    expect(result.servedBy).toEqual({ old: 2 * result.keysBy.old, new: 2 * result.keysBy.new });
    expect(result.stats.new.calls).toBe(result.servedBy.new);
    expect(result.errors).toEqual([]);
  });

  it('attributes fallbacks to old, per call, also with many calls in flight', async () => {
    const clock = new ManualClock();
    const newService = fakeService<Input, string>({ output: ['new'], latency: { kind: 'uniform', min: 1, max: 50 }, failRate: 0.2, seed: 5, clock });
    const oldService = fakeService<Input, string>({ output: ['old'], latency: { kind: 'uniform', min: 1, max: 50 }, seed: 6, clock });
    const glue = makeGlue(phases.canary(100), { newService, oldService, clock });
    const result = await simulateTraffic(glue, { keys: 50, calls: 2_000, concurrency: 32 });
    const newFailures = newService.calls.filter((c) => c.status === 'error').length;
    expect(newFailures).toBeGreaterThan(300);
    expect(result.fallbacks).toBe(newFailures);
    expect(result.servedBy).toEqual({ old: newFailures, new: 2_000 - newFailures });
    expect(result.stats.fallbacks).toBe(newFailures);
    expect(result.keysBy.both).toBe(50);
    expect(result.errors).toEqual([]);
  });

  it('reports caller-visible errors with the key, the call and the side', async () => {
    const failure = new Error('new down');
    const newService = fakeService<Input, string>({ output: ['new'], failOn: [0], error: failure });
    const glue = makeGlue({ ...phases.full(), fallbackEnabled: false }, { newService });
    const result = await simulateTraffic(glue, { keys: ['a', 'b'] });
    expect(result.errors).toEqual([{ key: 'a', call: 0, arm: 'new', error: failure }]);
    expect(result.servedBy).toEqual({ old: 0, new: 2 });
  });

  it('counts shadow mismatches once the shadow calls are drained', async () => {
    const clock = new ManualClock();
    const newService = fakeService<Input, string>({ output: (input) => (input.n === 3 ? 'other' : 'old'), latency: 500, clock });
    const glue = makeGlue(phases.shadow(), { newService, clock });
    const result = await simulateTraffic(glue, { keys: 10, calls: 20, input: (key, i) => ({ userId: key, n: i % 10 }) });
    expect(result.mismatches).toBe(2);
    expect(result.servedBy).toEqual({ old: 20, new: 0 });
    expect(result.stats.shadow).toMatchObject({ compared: 20, mismatched: 2, inFlight: 0 });
  });

  it('draws keys under a seed with order: random, the same way every time', async () => {
    const run = async (seed: number) => {
      const glue = makeGlue(phases.canary(50));
      const result = await simulateTraffic(glue, { keys: 100, calls: 300, order: 'random', seed });
      return [...result.byKey.keys()];
    };
    const first = await run(3);
    expect(await run(3)).toEqual(first);
    expect(await run(4)).not.toEqual(first);
    expect(first.length).toBeLessThan(100);
  });

  it('keeps at most `concurrency` calls in flight', async () => {
    let inFlight = 0;
    let peak = 0;
    const clock = new ManualClock();
    const slow = fakeService<Input, string>({ output: ['old'], latency: 10, clock });
    const glue = makeGlue(phases.preparation(), {
      oldService: async (input) => {
        inFlight += 1;
        peak = Math.max(peak, inFlight);
        try {
          return await slow.process(input);
        } finally {
          inFlight -= 1;
        }
      },
    });
    await simulateTraffic(glue, { keys: 100, concurrency: 7 });
    expect(peak).toBe(7);
    // seven at a time, ten ms each: fifteen rounds in simulated time
    expect(clock.now() - new ManualClock().now()).toBe(150);
  });

  it('counts only its own calls, and stops listening at the end', async () => {
    const glue = makeGlue(phases.full());
    await glue.process({ userId: 'outside' });
    const result = await simulateTraffic(glue, { keys: [1, 2, 3] });
    expect(result.servedBy.new).toBe(3);
    expect(result.stats.new.calls).toBe(4);
    expect([...result.byKey.keys()]).toEqual([1, 2, 3]);
  });

  it('attributes a call refused before routing to no side', async () => {
    const glue = makeGlue(phases.full());
    await glue.close();
    const result = await simulateTraffic(glue, { keys: 2 });
    expect(result.servedBy).toEqual({ old: 0, new: 0 });
    expect(result.errors.map((e) => e.arm)).toEqual([undefined, undefined]);
  });

  it('refuses bad options, naming them', async () => {
    const glue = makeGlue(phases.full());
    await expect(simulateTraffic(glue, { keys: 0 })).rejects.toThrow(/option `keys` must be a count >= 1/);
    await expect(simulateTraffic(glue, { keys: [] })).rejects.toThrow(/`keys`/);
    await expect(simulateTraffic(glue, { keys: 3, calls: -1 })).rejects.toThrow(/`calls` must be an integer >= 0, got -1/);
    await expect(simulateTraffic(glue, { keys: 3, concurrency: 0 })).rejects.toThrow(/`concurrency`/);
    await expect(simulateTraffic(glue, { keys: 3, order: 'zigzag' as never })).rejects.toThrow(/`order`/);
    await expect(simulateTraffic(glue, { keys: 3, input: 'x' as never })).rejects.toThrow(/`input`/);
  });

  it('needs an input function when the glue input is not { userId }', () => {
    const glue = new MigrationGlue<string, number>({ name: 'x', oldService: async () => 1, newService: async () => 2, config: phases.full(), logger: silentLogger });
    expectTypeOf<SimulateTrafficOptions<string>>().toHaveProperty('input');
    // @ts-expect-error without input the keys would not be valid inputs
    const _missing = () => simulateTraffic(glue, { keys: 3 });
    const ok = () => simulateTraffic(glue, { keys: 3, input: (key) => key });
    expectTypeOf(ok).returns.toEqualTypeOf<Promise<TrafficResult<string>>>();
    const numbers = () => simulateTraffic(makeGlue(phases.full()), { keys: [1, 2] });
    expectTypeOf(numbers).returns.toEqualTypeOf<Promise<TrafficResult<number>>>();
  });
});
