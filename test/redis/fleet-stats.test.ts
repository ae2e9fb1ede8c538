import type { Redis } from 'ioredis';
import { describe, expect, it } from 'vitest';
import { InvalidOptionError, MigrationGlue, RollbackGuard, phases, silentLogger } from '../../src/index.js';
import { FleetStats, RedisConfigStore } from '../../src/redis/index.js';
import { FleetHistogram } from '../../src/redis/fleet-histogram.js';
import { LatencyHistogram } from '../../src/observe/latency-histogram.js';
import { describeWithRedis, redisPool, uniqueKey, until } from './redis-env.js';

describe('FleetHistogram', () => {
  it('reports the percentiles LatencyHistogram reports, after a round trip through JSON', () => {
    const reference = new LatencyHistogram();
    const parts = [new FleetHistogram(), new FleetHistogram(), new FleetHistogram()];
    let seed = 7;
    for (let i = 0; i < 3000; i++) {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      const ms = (seed / 2 ** 31) * (i % 10 === 0 ? 5000 : 80);
      reference.record(ms);
      parts[i % 3]?.record(ms);
    }
    const merged = new FleetHistogram();
    for (const part of parts) merged.addSerialized(JSON.parse(JSON.stringify(part.serialize())));
    expect(merged.count).toBe(3000);
    expect(merged.percentiles()).toEqual(reference.percentiles());
  });

  it('is empty at zero', () => {
    expect(new FleetHistogram().percentiles()).toEqual({ p50: 0, p95: 0, p99: 0 });
  });
});

describe('FleetStats options', () => {
  const glue = new MigrationGlue({ name: 'opts', oldService: async () => 1, newService: async () => 2, config: phases.preparation(), logger: silentLogger });
  const fakeRedis = { duplicate: () => fakeRedis, eval: () => {}, get: () => {} } as unknown as Redis;

  it('names a bad option and the value received', () => {
    expect(() => new FleetStats({ redis: fakeRedis, key: 'k', glue: {} as never, autoStart: false })).toThrow(/option `glue`/);
    expect(() => new FleetStats({ redis: fakeRedis, key: '', glue, autoStart: false })).toThrow(/option `key`/);
    expect(() => new FleetStats({ redis: fakeRedis, key: 'k', glue, intervalMs: 0, autoStart: false })).toThrow(/option `intervalMs` .*got 0/);
    expect(() => new FleetStats({ redis: fakeRedis, key: 'k', glue, intervalMs: 100, ttlMs: 50, autoStart: false })).toThrow(InvalidOptionError);
  });
});

describeWithRedis('FleetStats', (url) => {
  const { redis, closers } = redisPool(url);

  /** One instance of a small fleet: its own connection, store, glue and fleet view. */
  async function instance(configKey: string, fleetKey: string, failEvery: number) {
    const store = await RedisConfigStore.connect({ redis: redis(), key: configKey, initial: phases.canary(100 - 0.01) });
    let n = 0;
    const glue = new MigrationGlue<{ userId: string }, string>({
      name: 'fleet-test',
      oldService: async () => 'old',
      newService: async () => {
        n++;
        if (failEvery > 0 && n % failEvery === 0) throw new Error('new failed');
        return 'new';
      },
      config: store,
      logger: silentLogger,
      windowMs: 60_000,
    });
    // Figures live a minute: on a loaded machine the default (3 × intervalMs) could expire them
    // between one instance's refresh and another's read. Expiry on close is tested apart.
    const fleet = new FleetStats({ redis: redis(), key: fleetKey, glue, intervalMs: 50, ttlMs: 60_000, autoStart: false });
    closers.push(async () => {
      await fleet.close();
      await glue.close();
      await store.close();
    });
    return { store, glue, fleet };
  }

  it('sums every instance, so a guard on the fleet judges enough samples where one instance has too few', async () => {
    const configKey = uniqueKey('fleet-config');
    const fleetKey = uniqueKey('fleet');
    const members = await Promise.all([0, 1, 2, 3].map(() => instance(configKey, fleetKey, 20)));
    // The guards judge the step from the moment they are made.
    const localGuard = new RollbackGuard(members[0]!.glue, { windowMs: 60_000 }, { logger: silentLogger });
    const guard = new RollbackGuard(members[0]!.fleet, { windowMs: 60_000 }, { logger: silentLogger });
    // 40 calls each: no instance reaches minSamples (100) alone; 5 % of new's calls fail.
    for (const { glue } of members) {
      for (let i = 0; i < 40; i++) await glue.process({ userId: `u${i}` }).catch(() => undefined);
    }
    for (const { fleet } of members) await fleet.refresh();
    await members[0]?.fleet.refresh();
    const local = localGuard.check();
    expect(local).toMatchObject({ verdict: 'inconclusive', enough: false, samples: { new: 40 } });
    const view = members[0]!.fleet;
    expect(view.instances).toBe(4);
    const stats = view.stats();
    // Every call tried new first; its failures fell back to old.
    expect(stats.new.window.calls).toBe(160);
    expect(stats.new.window.errors).toBe(8);
    expect(stats.fallbacks).toBe(8);
    const result = guard.check();
    expect(result.samples.new).toBe(160);
    expect(result.verdict).toBe('fail');
    expect(result.reasons.join()).toMatch(/new error rate/);
  });

  it('a guard watching the fleet view rolls back, and every instance follows through the store', async () => {
    const configKey = uniqueKey('fleet-config');
    const fleetKey = uniqueKey('fleet');
    const members = await Promise.all([0, 1, 2, 3].map(() => instance(configKey, fleetKey, 10)));
    const watcher = members[0]!;
    const guard = new RollbackGuard(watcher.fleet, { windowMs: 60_000, minSamples: 50 }, { logger: silentLogger });
    const stop = guard.watch();
    for (const { glue } of members.slice(1)) {
      for (let i = 0; i < 30; i++) await glue.process({ userId: `u${i}` }).catch(() => undefined);
    }
    for (const { fleet } of members.slice(1)) await fleet.refresh();
    await watcher.fleet.refresh();
    for (const { store } of members) await until(() => store.current().newSystemEnabled === false, 3000, 'rollback everywhere');
    expect(watcher.store.info().rolledBack).toBe(true);
    stop();
  });

  it('drops an instance whose figures expired', async () => {
    const configKey = uniqueKey('fleet-config');
    const fleetKey = uniqueKey('fleet');
    const [a, b] = await Promise.all([instance(configKey, fleetKey, 0), instance(configKey, fleetKey, 0)]);
    await a!.fleet.refresh();
    await b!.fleet.refresh();
    expect(b!.fleet.instances).toBe(2);
    await a!.fleet.close();
    await b!.fleet.refresh();
    expect(b!.fleet.instances).toBe(1);
  });
});
