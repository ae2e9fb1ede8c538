import { randomBytes } from 'node:crypto';
import { afterEach, expect, it } from 'vitest';
import { MigrationGlue, phases, silentLogger } from '../../src/index.js';
import { FleetStats, RedisLease } from '../../src/redis/index.js';
import { redisPartitionLeases } from '../../src/redis/redis-partition-leases.js';
import { describeWithRedis, redisPool } from './redis-env.js';

const prefix = (label: string) => `mg-hostile:${label}:${randomBytes(6).toString('hex')}`;

const arm = (calls: unknown, errors: unknown, latency: unknown = { buckets: [], max: 0 }) => ({ calls, errors, latency });
const shadow = () => ({
  compared: 0, matched: 0, mismatched: 0, mismatchesByKind: { value: 0, error: 0, flaky: 0 }, errors: 0, timeouts: 0, skipped: 0,
  skippedBy: { sampledOut: 0, overCapacity: 0, missingKey: 0, outsidePercentage: 0 }, inFlight: 0, inputMutations: 0, mismatchRate: 0, aa: false,
  window: { compared: 0, mismatched: 0, errors: 0, timeouts: 0, mismatchRate: 0 }, fingerprints: [],
});

describeWithRedis('hostile figures and races: FleetStats, RedisLease, partition leases', (url) => {
  const { redis, closers } = redisPool(url);
  const cleanup: string[] = [];
  afterEach(async () => {
    const c = redis();
    for (const pattern of cleanup.splice(0)) {
      const keys = await c.keys(`${pattern}*`);
      if (keys.length > 0) await c.del(...keys);
    }
  });

  async function fleetWith(hostile: Record<string, string>) {
    const key = prefix('fleet');
    cleanup.push(key);
    const c = redis();
    for (const [id, figures] of Object.entries(hostile)) {
      await c.hset(`${key}:instance:${id}`, 'figures', figures);
      await c.sadd(`${key}:instances`, id);
    }
    const glue = new MigrationGlue({ name: 'hostile', oldService: async () => 1, newService: async () => 2, config: phases.canary(50), logger: silentLogger });
    const fleet = new FleetStats({ redis: c, key, glue, autoStart: false, instanceId: 'me' });
    closers.push(() => fleet.close());
    return { fleet, glue, key, c };
  }

  it('the fleet error rate stays within [0, 1] when an instance publishes more errors than calls', async () => {
    const figures = { at: 0, windowMs: 60_000, window: { old: arm(0, 0), new: arm(10, 1_000) }, total: { old: arm(0, 0), new: arm(10, 1_000) }, shadow: shadow(), fallbacks: 0, rollbacks: 0 };
    const { fleet } = await fleetWith({ evil: JSON.stringify(figures) });
    await fleet.refresh();
    const stats = fleet.stats();
    expect(fleet.instances).toBe(2);
    expect(stats.new.errorRate).toBeGreaterThanOrEqual(0);
    expect(stats.new.errorRate).toBeLessThanOrEqual(1);
    expect(stats.new.window.errorRate).toBeLessThanOrEqual(1);
    // The instance's errors count up to its calls: 10 of 10 failed.
    expect(stats.new.errors).toBe(10);
  });

  it('the fleet mismatch rate stays within [0, 1] when an instance publishes more mismatches than comparisons', async () => {
    const lying = { ...shadow(), compared: 4, mismatched: 400, window: { ...shadow().window, compared: 2, mismatched: 50 } };
    const figures = { at: 0, windowMs: 60_000, window: { old: arm(0, 0), new: arm(0, 0) }, total: { old: arm(0, 0), new: arm(0, 0) }, shadow: lying, fallbacks: 0, rollbacks: 0 };
    const { fleet } = await fleetWith({ evil: JSON.stringify(figures) });
    await fleet.refresh();
    const stats = fleet.stats();
    expect(stats.shadow.mismatched).toBe(4);
    expect(stats.shadow.mismatchRate).toBe(1);
    expect(stats.shadow.window.mismatched).toBe(2);
    expect(stats.shadow.window.mismatchRate).toBe(1);
  });

  it('garbage figures (NaN strings, negative and non-numeric counts, null arms, odd histograms, deep nesting) are skipped and the sums stay finite', async () => {
    const good = { at: 0, windowMs: 60_000, window: { old: arm(4, 1), new: arm(4, 2, { buckets: [[10, 4]], max: 9 }) }, total: { old: arm(4, 1), new: arm(4, 2, { buckets: [[10, 4]], max: 9 }) }, shadow: shadow(), fallbacks: 1, rollbacks: 0 };
    const { fleet } = await fleetWith({
      good: JSON.stringify(good),
      notjson: '{nope',
      nulls: JSON.stringify({ window: null, total: null, shadow: null }),
      negative: JSON.stringify({ ...good, window: { old: arm(-5, -1), new: arm('NaN', 'x', { buckets: [[null, -3], ['a', 2], [5], 7, [-1, 2]], max: 'big' }) }, total: { old: arm(-1e308, 0), new: arm(null, null, { buckets: { a: 1 }, max: null }) }, fallbacks: -3, rollbacks: 'many', shadow: { fingerprints: [null, 3, { fingerprint: 1 }, { fingerprint: 'f', count: -1 }] } }),
      deep: `{"window":{},"total":{},"shadow":${'['.repeat(3000)}${']'.repeat(3000)}}`,
      array: '[1,2,3]',
    });
    await fleet.refresh();
    const stats = fleet.stats();
    for (const value of [stats.new.calls, stats.new.errors, stats.new.errorRate, stats.new.p50, stats.new.p99, stats.old.calls, stats.fallbacks, stats.rollbacks]) {
      expect(Number.isFinite(value)).toBe(true);
      expect(value).toBeGreaterThanOrEqual(0);
    }
    expect(stats.new.calls).toBe(4);
    expect(stats.new.errors).toBe(2);
    expect(stats.fallbacks).toBe(1);
  });

  it('an instance hash of the wrong Redis type, and an instances key of the wrong type, never make refresh() reject', async () => {
    const { fleet, key, c } = await fleetWith({});
    await c.sadd(`${key}:instances`, 'wrong');
    await c.rpush(`${key}:instance:wrong`, 'x');
    await expect(fleet.refresh()).resolves.toBeUndefined();
    expect(fleet.instances).toBe(1);
    await c.del(`${key}:instances`);
    await c.set(`${key}:instances`, 'a string');
    await expect(fleet.refresh()).resolves.toBeUndefined();
    expect(fleet.stats().new.calls).toBe(0);
  });

  it('two leases racing for one key: exactly one holds it, and the loser cannot renew or release it', async () => {
    const key = prefix('lease');
    cleanup.push(key);
    const a = new RedisLease({ redis: redis(), key, ttlMs: 5_000 });
    const b = new RedisLease({ redis: redis(), key, ttlMs: 5_000 });
    const [ga, gb] = await Promise.all([a.acquire(), b.acquire()]);
    expect([ga, gb].filter(Boolean)).toHaveLength(1);
    const [winner, loser] = ga ? [a, b] : [b, a];
    expect(await loser.renew()).toBe(false);
    await loser.release();
    expect(await redis().get(key)).toBe(winner.token);
    await winner.release();
    expect(await redis().get(key)).toBeNull();
  });

  it('a lease key holding a value of the wrong Redis type makes acquire() reject, not resolve true', async () => {
    const key = prefix('lease-wrongtype');
    cleanup.push(key);
    await redis().hset(key, 'a', '1');
    const lease = new RedisLease({ redis: redis(), key, ttlMs: 5_000 });
    await expect(lease.acquire()).rejects.toThrow(/WRONGTYPE/);
    expect(lease.held).toBe(false);
  });

  it('partition leases: a range is granted to one worker at a time, and freed by release', async () => {
    const p = prefix('parts');
    cleanup.push(p);
    const leases = redisPartitionLeases({ redis: redis(), prefix: `${p}:`, ttlMs: 5_000 });
    const [x, y] = await Promise.all([leases.acquire('range-1', 'w1'), leases.acquire('range-1', 'w2')]);
    expect([x, y].filter((l) => l !== undefined)).toHaveLength(1);
    const held = (x ?? y)!;
    await held.release();
    const again = await leases.acquire('range-1', 'w3');
    expect(again).toBeDefined();
    await again?.release();
  });
});
