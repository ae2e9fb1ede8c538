import type { Redis } from 'ioredis';
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest';
import { InvalidOptionError, MigrationConfigError, MigrationGlue, MigrationGlueError, phases, silentLogger } from '../../src/index.js';
import type { MigrationConfig } from '../../src/index.js';
import { FleetError, RedisConfigStore } from '../../src/redis/index.js';
import { describeConfigStore } from '../config-store-conformance.js';
import { recordingLogger } from '../helpers.js';
import { client, describeWithRedis, ownRedis, uniqueKey, until } from './redis-env.js';

describe('RedisConfigStore options', () => {
  const fakeRedis = { duplicate: () => fakeRedis, eval: () => {}, get: () => {} } as unknown as Redis;

  it('names a missing client', () => {
    expect(() => new RedisConfigStore({ redis: undefined as unknown as Redis, key: 'k' })).toThrow(InvalidOptionError);
    expect(() => new RedisConfigStore({ redis: {} as Redis, key: 'k' })).toThrow(/option `redis`/);
  });

  it('names a bad key, channel or clock with the value received', () => {
    expect(() => new RedisConfigStore({ redis: fakeRedis, key: '' })).toThrow(/option `key` .*got ""/);
    expect(() => new RedisConfigStore({ redis: fakeRedis, key: 'k', channel: 3 as unknown as string })).toThrow(/option `channel` .*got 3/);
    expect(() => new RedisConfigStore({ redis: fakeRedis, key: 'k', clock: {} as never })).toThrow(/option `clock`/);
  });

  it('refuses a bad initial config', () => {
    expect(() => new RedisConfigStore({ redis: fakeRedis, key: 'k', initial: { ...phases.full(), newSystemPercentage: -1 } })).toThrow(MigrationConfigError);
  });
});

describeWithRedis('RedisConfigStore', (url) => {
  const clients: Redis[] = [];
  const stores: RedisConfigStore[] = [];
  const redis = (u = url) => {
    const c = client(u);
    clients.push(c);
    return c;
  };
  const connect = async (key: string, options: { initial?: MigrationConfig; logger?: ReturnType<typeof recordingLogger>; u?: string } = {}) => {
    const store = await RedisConfigStore.connect({ redis: redis(options.u), key, initial: options.initial, logger: options.logger ?? silentLogger });
    stores.push(store);
    return store;
  };
  afterEach(async () => {
    for (const store of stores.splice(0)) await store.close();
  });
  afterAll(async () => {
    for (const c of clients.splice(0)) c.disconnect();
  });

  describeConfigStore('RedisConfigStore', async (initial, logger) => {
    const key = uniqueKey('conformance');
    const store = await RedisConfigStore.connect({ redis: redis(), key, initial, logger });
    const peer = await RedisConfigStore.connect({ redis: redis(), key, logger });
    return {
      store,
      peer,
      hideChanges: () => store.close(),
      close: async () => {
        await store.close();
        await peer.close();
      },
    };
  });

  describe('when the key does not exist yet', () => {
    it('writes the initial config, and a second instance reads it rather than its own initial', async () => {
      const key = uniqueKey('initial');
      const first = await connect(key, { initial: phases.shadow() });
      const second = await connect(key, { initial: phases.full() });
      expect(first.current()).toEqual(phases.shadow());
      expect(second.current()).toEqual(phases.shadow());
      expect(second.info()).toMatchObject({ version: 1, loaded: true, rolledBack: false });
    });

    it('serves the initial config synchronously before ready() resolves', async () => {
      const store = new RedisConfigStore({ redis: redis(), key: uniqueKey('sync'), initial: phases.canary(3) });
      stores.push(store);
      expect(store.current()).toEqual(phases.canary(3));
      expect(store.info().loaded).toBe(false);
      await store.ready();
      expect(store.info().loaded).toBe(true);
    });
  });

  describe('when another instance saves', () => {
    it('applies the change within milliseconds, with one notification', async () => {
      const key = uniqueKey('propagate');
      const a = await connect(key);
      const b = await connect(key);
      const seen = vi.fn();
      b.subscribe(seen);
      const started = performance.now();
      await a.save(phases.canary(10));
      await until(() => b.current().newSystemPercentage === 10, 2000);
      expect(performance.now() - started).toBeLessThan(500);
      expect(seen).toHaveBeenCalledTimes(1);
      expect(b.info().version).toBe(a.info().version);
    });

    it('a glue on that instance routes the next call by it', async () => {
      const key = uniqueKey('glue');
      const a = await connect(key, { initial: phases.full() });
      const b = await connect(key);
      const glue = new MigrationGlue<{ userId: string }, string>({ name: 'g', oldService: async () => 'old', newService: async () => 'new', config: b, logger: silentLogger });
      expect(await glue.process({ userId: 'u1' })).toBe('new');
      await a.save(phases.rolledBack());
      await until(() => b.current().newSystemEnabled === false, 2000);
      expect(await glue.process({ userId: 'u1' })).toBe('old');
      await glue.close();
    });
  });

  describe('when two instances save at once', () => {
    it('one wins, the other rejects with ERR_CONFLICT and then serves the winner', async () => {
      const key = uniqueKey('race');
      const a = await connect(key);
      const b = await connect(key);
      const results = await Promise.allSettled([a.save(phases.canary(5)), b.save(phases.canary(50))]);
      const fulfilled = results.filter((r) => r.status === 'fulfilled');
      const rejected = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
      expect(fulfilled).toHaveLength(1);
      expect(rejected).toHaveLength(1);
      expect(FleetError.is(rejected[0]?.reason, 'ERR_CONFLICT')).toBe(true);
      expect(MigrationGlueError.is(rejected[0]?.reason)).toBe(true);
      const winner = results[0]?.status === 'fulfilled' ? phases.canary(5) : phases.canary(50);
      await until(() => a.current().newSystemPercentage === winner.newSystemPercentage && b.current().newSystemPercentage === winner.newSystemPercentage);
      const raw = JSON.parse((await redis().get(key)) as string) as { version: number; config: MigrationConfig };
      expect(raw.config).toEqual(winner);
      expect(raw.version).toBe(2);
    });

    it('a rollback always wins, even from an instance that has not seen the latest version', async () => {
      const key = uniqueKey('rollback-wins');
      const a = await connect(key, { initial: phases.canary(5) });
      // A newer version that `a` never heard of: written without publishing.
      await redis().set(key, JSON.stringify({ version: 9, savedAt: 1, rolledBack: false, config: phases.canary(25) }));
      await expect(a.save(phases.canary(10))).rejects.toMatchObject({ code: 'ERR_CONFLICT' });
      expect(a.current()).toEqual(phases.canary(25));
      await redis().set(key, JSON.stringify({ version: 12, savedAt: 1, rolledBack: false, config: phases.canary(50) }));
      await a.save(phases.rolledBack());
      expect(a.current()).toEqual(phases.rolledBack());
      const raw = JSON.parse((await redis().get(key)) as string) as { version: number; rolledBack: boolean };
      expect(raw).toMatchObject({ version: 13, rolledBack: true });
      expect(a.info()).toMatchObject({ version: 13, rolledBack: true });
    });
  });

  describe('when Redis lost the key (restart without persistence)', () => {
    it('a save onto it succeeds, and its version keeps growing', async () => {
      const key = uniqueKey('lost');
      const a = await connect(key);
      const b = await connect(key);
      await a.save(phases.canary(5));
      await a.save(phases.canary(10));
      await redis().del(key);
      await a.save(phases.canary(25));
      expect(a.info().version).toBe(4);
      await until(() => b.current().newSystemPercentage === 25);
      await redis().del(key);
      await b.save(phases.rolledBack());
      await until(() => a.current().newSystemEnabled === false);
    });
  });

  describe('when Redis holds an invalid config', () => {
    it('refuses a published one, logs it once, and keeps serving the last good config', async () => {
      const key = uniqueKey('invalid');
      const logger = recordingLogger();
      const a = await connect(key, { initial: phases.canary(5), logger });
      const bad = JSON.stringify({ version: 99, savedAt: 1, rolledBack: false, config: { ...phases.full(), newSystemPercentage: 250 } });
      await redis().publish(`${key}:changes`, bad);
      await redis().publish(`${key}:changes`, bad);
      await redis().publish(`${key}:changes`, 'not json');
      await until(() => logger.lines.filter((l) => l.level === 'error').length >= 2);
      await new Promise((resolve) => setTimeout(resolve, 30));
      const errors = logger.lines.filter((l) => l.level === 'error');
      expect(errors).toHaveLength(2);
      expect(errors[0]?.message).toMatch(/refused.*config\.newSystemPercentage/);
      expect(a.current()).toEqual(phases.canary(5));
      await a.save(phases.canary(10));
      expect(a.current()).toEqual(phases.canary(10));
    });

    it('ready() rejects with MigrationConfigError on a stored invalid record, serving the initial config', async () => {
      const key = uniqueKey('invalid-stored');
      await redis().set(key, JSON.stringify({ version: 3, config: { shadowMode: 'yes' } }));
      const store = new RedisConfigStore({ redis: redis(), key, initial: phases.preparation() });
      stores.push(store);
      await expect(store.ready()).rejects.toBeInstanceOf(MigrationConfigError);
      expect(store.current()).toEqual(phases.preparation());
      await store.save(phases.rolledBack());
      expect(store.current()).toEqual(phases.rolledBack());
    });
  });

  describe('when the connection is lost and comes back', () => {
    it('keeps the last good config, logs once, and catches up on what was saved meanwhile', async () => {
      const own = await ownRedis();
      try {
        const key = uniqueKey('reconnect');
        const logger = recordingLogger();
        const follower = await connect(key, { initial: phases.canary(5), logger, u: own.url });
        await own.kill();
        await until(() => logger.lines.some((l) => l.level === 'warn' && /connection lost/.test(l.message ?? '')), 5000);
        await new Promise((resolve) => setTimeout(resolve, 200));
        expect(follower.current()).toEqual(phases.canary(5));
        expect(logger.lines.filter((l) => /connection lost/.test(l.message ?? ''))).toHaveLength(1);
        await own.start();
        // Saved by an instance that reached the restarted (empty) server first: the follower may not be subscribed again yet.
        const writer = await connect(key, { initial: phases.canary(5), u: own.url });
        await writer.save(phases.rolledBack());
        await until(() => follower.current().newSystemEnabled === false, 10_000, 'catch-up');
        expect(follower.info()).toMatchObject({ rolledBack: true });
        expect(logger.lines.filter((l) => /connection lost/.test(l.message ?? ''))).toHaveLength(1);
        expect(logger.lines.some((l) => /connection back/.test(l.message ?? ''))).toBe(true);
      } finally {
        for (const store of stores.splice(0)) await store.close();
        await own.kill();
      }
    }, 30_000);

    it('restores a key the restarted server lost, so later instances read the last good config', async () => {
      const own = await ownRedis();
      try {
        const key = uniqueKey('restore');
        const a = await connect(key, { initial: phases.preparation(), u: own.url });
        await a.save(phases.canary(10));
        await own.kill();
        await own.start();
        const probe = redis(own.url);
        let raw: string | null = null;
        const deadline = Date.now() + 10_000;
        while (raw === null && Date.now() < deadline) {
          raw = await probe.get(key);
          if (raw === null) await new Promise((resolve) => setTimeout(resolve, 20));
        }
        expect(JSON.parse(raw as string)).toMatchObject({ version: 2, config: phases.canary(10) });
        const late = await connect(key, { initial: phases.full(), u: own.url });
        expect(late.current()).toEqual(phases.canary(10));
      } finally {
        for (const store of stores.splice(0)) await store.close();
        await own.kill();
      }
    }, 30_000);
  });
});
