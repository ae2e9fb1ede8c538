import type { Redis } from 'ioredis';
import { describe, expect, it } from 'vitest';
import { phases, silentLogger } from '../../src/index.js';
import type { MigrationConfig, RampStep } from '../../src/index.js';
import { ManualClock } from '../../src/testing/index.js';
import { FleetError, LeasedRampController, RedisConfigStore, RedisLease } from '../../src/redis/index.js';
import { describeWithRedis, redisPool, uniqueKey, until } from './redis-env.js';

const day = 24 * 60 * 60 * 1000;

describe('RedisLease options', () => {
  const fakeRedis = { duplicate: () => fakeRedis, eval: () => {}, get: () => {} } as unknown as Redis;
  it('names a bad ttl and key', () => {
    expect(() => new RedisLease({ redis: fakeRedis, key: 'k', ttlMs: 5 })).toThrow(/option `ttlMs` .*got 5/);
    expect(() => new RedisLease({ redis: fakeRedis, key: undefined as unknown as string })).toThrow(/option `key`/);
  });
});

describeWithRedis('RedisLease and LeasedRampController', (url) => {
  const { redis, closers } = redisPool(url);

  async function store(key: string, clock?: ManualClock, initial: MigrationConfig = phases.preparation()) {
    const s = await RedisConfigStore.connect({ redis: redis(), key, initial, clock });
    closers.push(() => s.close());
    return s;
  }

  function controller(configStore: RedisConfigStore, leaseKey: string, plan: readonly RampStep[], clock?: ManualClock, ttlMs = 5000) {
    const lease = new RedisLease({ redis: redis(), key: leaseKey, ttlMs });
    const c = new LeasedRampController({ store: configStore, lease, plan, clock, logger: silentLogger, name: 'lease-test' });
    closers.push(() => c.close());
    return { lease, controller: c };
  }

  it('is held by one holder at a time, and free again once released', async () => {
    const key = uniqueKey('lease');
    const a = new RedisLease({ redis: redis(), key });
    const b = new RedisLease({ redis: redis(), key });
    const [gotA, gotB] = await Promise.all([a.acquire(), b.acquire()]);
    expect([gotA, gotB].filter(Boolean)).toHaveLength(1);
    const [holder, other] = gotA ? [a, b] : [b, a];
    expect(await holder.acquire()).toBe(true);
    expect(await other.renew()).toBe(false);
    await holder.release();
    expect(holder.held).toBe(false);
    expect(await other.acquire()).toBe(true);
    await other.release();
  });

  it('expires when its holder stops renewing, and another takes it', async () => {
    const key = uniqueKey('lease-expiry');
    const a = new RedisLease({ redis: redis(), key, ttlMs: 150 });
    const b = new RedisLease({ redis: redis(), key, ttlMs: 150 });
    expect(await a.acquire()).toBe(true);
    expect(await b.acquire()).toBe(false);
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(a.held).toBe(false);
    expect(await b.acquire()).toBe(true);
    expect(await a.renew()).toBe(false);
    await b.release();
  });

  it('fences a save: a holder that lost the lease cannot write', async () => {
    const key = uniqueKey('fence');
    const s = await store(key);
    const a = new RedisLease({ redis: redis(), key: `${key}:lease`, ttlMs: 100 });
    const b = new RedisLease({ redis: redis(), key: `${key}:lease`, ttlMs: 5000 });
    expect(await a.acquire()).toBe(true);
    await s.save(phases.canary(1), { fence: a.fence });
    await new Promise((resolve) => setTimeout(resolve, 150));
    expect(await b.acquire()).toBe(true);
    const error: unknown = await s.save(phases.canary(5), { fence: a.fence }).catch((err: unknown) => err);
    expect(FleetError.is(error, 'ERR_LEASE_LOST')).toBe(true);
    expect(s.current()).toEqual(phases.canary(1));
    await b.release();
  });

  it('two controllers racing never both advance: every step is taken once, in order', async () => {
    const key = uniqueKey('race-ramp');
    const plan = [1, 5, 10, 25, 50, 90, 100].map((percentage) => ({ percentage, holdMs: 0 }));
    const observer = await store(key);
    const seen: number[] = [];
    observer.subscribe((config) => seen.push(config.newSystemPercentage));
    const a = controller(await store(key), `${key}:lease`, plan);
    const b = controller(await store(key), `${key}:lease`, plan);
    for (let round = 0; round < 12; round++) {
      const [sa, sb] = await Promise.all([a.controller.tick(), b.controller.tick()]);
      expect(sa.leader && sb.leader).toBe(false);
    }
    await until(() => seen.length >= plan.length);
    expect(seen).toEqual(plan.map((s) => s.percentage));
  });

  it('a new leader continues where a dead one stopped, keeping the hold of the step in force', async () => {
    const key = uniqueKey('takeover');
    const clock = new ManualClock({ start: 1_700_000_000_000 });
    const plan = [
      { percentage: 1, holdMs: day },
      { percentage: 5, holdMs: 2 * day },
      { percentage: 10, holdMs: day },
    ];
    const storeA = await store(key, clock);
    const storeB = await store(key, clock);
    const a = controller(storeA, `${key}:lease`, plan, clock, 200);
    const b = controller(storeB, `${key}:lease`, plan, clock, 200);
    expect((await a.controller.tick()).percentage).toBe(1);
    expect((await b.controller.tick()).leader).toBe(false);
    clock.advance(day);
    expect((await a.controller.tick()).percentage).toBe(5);
    // a dies: it stops ticking and renewing; its lease runs out.
    await new Promise((resolve) => setTimeout(resolve, 250));
    await until(() => storeB.current().newSystemPercentage === 5);
    clock.advance(day);
    const blocked = await b.controller.tick();
    expect(blocked).toMatchObject({ leader: true, percentage: 5, blockedBy: 'hold' });
    clock.advance(day);
    const next = await b.controller.tick();
    expect(next).toMatchObject({ leader: true, percentage: 10 });
    await until(() => storeA.current().newSystemPercentage === 10);
  });

  it('after a rollback no leader advances until resume()', async () => {
    const key = uniqueKey('rolled-back');
    const plan = [1, 5, 10].map((percentage) => ({ percentage, holdMs: 0 }));
    const s = await store(key);
    const other = await store(key);
    const a = controller(s, `${key}:lease`, plan);
    await a.controller.tick();
    await a.controller.tick();
    expect(s.current().newSystemPercentage).toBe(5);
    await other.save(phases.rolledBack());
    await until(() => s.info().rolledBack);
    await a.controller.close();
    const b = controller(await store(key), `${key}:lease`, plan);
    expect(await b.controller.tick()).toMatchObject({ blockedBy: 'rolledBack' });
    expect(s.current()).toEqual(phases.rolledBack());
    expect(await b.controller.resume()).toBe(true);
    await until(() => s.current().shadowMode);
    await b.controller.tick();
    await until(() => s.current().newSystemPercentage === 1 && !s.current().shadowMode);
  });
});
