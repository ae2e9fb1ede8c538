import type { Redis } from 'ioredis';
import { describe, expect, expectTypeOf, it } from 'vitest';
import type { MigrationStats } from '../../src/index.js';
import { MigrationGlue, phases, silentLogger } from '../../src/index.js';
import { FleetStats } from '../../src/redis/index.js';

// `missingKeys` (calls old served because they had no usable routing key)
// is part of MigrationStats, so everything that reports a glue's figures
// carries it, FleetStats summing it over the fleet.

type Input = { userId?: unknown; accountId: string };

function glueWithout(keys: readonly unknown[]) {
  const glue = new MigrationGlue<Input, string>({
    name: 'missing-keys',
    config: phases.canary(50),
    logger: silentLogger,
    oldService: async () => 'old',
    newService: async () => 'new',
  });
  return {
    glue,
    async drive() {
      for (const [i, userId] of keys.entries()) await glue.process({ userId, accountId: `a${i}` });
    },
  };
}

/** The few Redis commands FleetStats uses, over one in-memory map shared by every client made from it. */
function fakeRedis(): Redis {
  const hashes = new Map<string, Map<string, string>>();
  const sets = new Map<string, Set<string>>();
  const setOf = (key: string) => sets.get(key) ?? sets.set(key, new Set()).get(key)!;
  const client = {
    duplicate: () => client,
    eval: async () => null,
    get: async () => null,
    smembers: async (key: string) => [...setOf(key)],
    srem: async (key: string, ...ids: string[]) => ids.filter((id) => setOf(key).delete(id)).length,
    multi() {
      const ops: (() => void)[] = [];
      const chain = {
        hset: (key: string, field: string, value: string) => (ops.push(() => void (hashes.get(key) ?? hashes.set(key, new Map()).get(key)!).set(field, value)), chain),
        pexpire: () => chain,
        sadd: (key: string, id: string) => (ops.push(() => void setOf(key).add(id)), chain),
        srem: (key: string, id: string) => (ops.push(() => void setOf(key).delete(id)), chain),
        del: (key: string) => (ops.push(() => void hashes.delete(key)), chain),
        exec: async () => ops.map((op) => [null, op()]),
      };
      return chain;
    },
    pipeline() {
      const reads: [string, string][] = [];
      const chain = {
        hget: (key: string, field: string) => (reads.push([key, field]), chain),
        exec: async () => reads.map(([key, field]) => [null, hashes.get(key)?.get(field) ?? null]),
      };
      return chain;
    },
  };
  return client as unknown as Redis;
}

describe('MigrationStats.missingKeys', () => {
  it('is part of MigrationStats and counts calls without a usable key, whatever the reason', async () => {
    const { glue, drive } = glueWithout([undefined, null, '', Number.NaN, Infinity, {}, 'u1', 7]);
    await drive();
    const stats: MigrationStats = glue.stats();
    expectTypeOf(stats.missingKeys).toEqualTypeOf<number>();
    expect(stats.missingKeys).toBe(6);
    expect(stats.old.calls + stats.new.calls).toBe(8);
    await glue.close();
  });

  it('FleetStats reports the local count before its first read', async () => {
    const { glue, drive } = glueWithout([undefined, undefined, 'u1']);
    await drive();
    const fleet = new FleetStats({ redis: fakeRedis(), key: 'fleet', glue, autoStart: false, instanceId: 'a' });
    expect(fleet.stats().missingKeys).toBe(2);
    await fleet.close();
    await glue.close();
  });

  it('FleetStats sums it over every instance', async () => {
    const redis = fakeRedis();
    const a = glueWithout([undefined, undefined, 'u1']);
    const b = glueWithout([undefined, null, Number.NaN, 'u2']);
    await a.drive();
    await b.drive();
    const fleetA = new FleetStats({ redis, key: 'fleet', glue: a.glue, autoStart: false, instanceId: 'a' });
    const fleetB = new FleetStats({ redis, key: 'fleet', glue: b.glue, autoStart: false, instanceId: 'b' });
    await fleetA.refresh();
    await fleetB.refresh();
    expect(fleetB.instances).toBe(2);
    expect(fleetB.stats().missingKeys).toBe(5);
    await fleetA.close();
    await fleetB.close();
    await a.glue.close();
    await b.glue.close();
  });

  it('FleetStats counts figures published without it (an older instance) as 0', async () => {
    const redis = fakeRedis();
    const a = glueWithout([undefined, 'u1']);
    await a.drive();
    const older = { at: 0, windowMs: 300_000, window: {}, total: {}, shadow: {}, fallbacks: 0, rollbacks: 0 };
    await redis.multi().hset('fleet:instance:old', 'figures', JSON.stringify(older)).sadd('fleet:instances', 'old').exec();
    const fleet = new FleetStats({ redis, key: 'fleet', glue: a.glue, autoStart: false, instanceId: 'a' });
    await fleet.refresh();
    expect(fleet.instances).toBe(2);
    expect(fleet.stats().missingKeys).toBe(1);
    await fleet.close();
    await a.glue.close();
  });
});
