import type { Redis } from 'ioredis';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { MigrationConfigError, MigrationGlueError, phases } from '../../src/index.js';
import { RedisConfigStore } from '../../src/redis/index.js';
import { recordingLogger } from '../helpers.js';
import { client, describeWithRedis, uniqueKey, until } from './redis-env.js';

describeWithRedis('RedisConfigStore when the key holds garbage', (url) => {
  const clients: Redis[] = [];
  const stores: RedisConfigStore[] = [];
  const redis = () => {
    const c = client(url);
    clients.push(c);
    return c;
  };
  const connect = async (key: string, logger = recordingLogger()) => {
    const store = await RedisConfigStore.connect({ redis: redis(), key, initial: phases.canary(5), logger });
    stores.push(store);
    return store;
  };
  afterEach(async () => {
    for (const store of stores.splice(0)) await store.close();
  });
  afterAll(() => {
    for (const c of clients.splice(0)) c.disconnect();
  });

  describe.each([
    ['not JSON', 'this is { not json'],
    ['a record whose config is invalid', JSON.stringify({ version: 2, savedAt: 1, rolledBack: false, config: { ...phases.full(), newSystemPercentage: 250 } })],
    ['a record without a version', JSON.stringify({ config: phases.full() })],
  ])('(%s)', (_name, garbage) => {
    it('a step is refused with ERR_INVALID_CONFIG naming the key and the way out, every time, and logged once', async () => {
      const key = uniqueKey('garbage');
      const logger = recordingLogger();
      const store = await connect(key, logger);
      await store.save(phases.canary(6));
      await redis().set(key, garbage);
      for (let attempt = 0; attempt < 3; attempt += 1) {
        const error = await store.save(phases.canary(10)).catch((err: unknown) => err);
        expect(MigrationGlueError.is(error, 'ERR_CONFLICT')).toBe(false);
        expect(error).toBeInstanceOf(MigrationConfigError);
        expect((error as Error).message).toContain(`redis key "${key}"`);
        expect((error as Error).message).toMatch(/overwriteInvalid/);
      }
      expect(await redis().get(key)).toBe(garbage);
      expect(store.current()).toEqual(phases.canary(6));
      const errors = logger.lines.filter((line) => line.level === 'error');
      expect(errors).toHaveLength(1);
      expect(errors[0]?.message).toContain(key);
    });

    it('recovers with save(config, { overwriteInvalid: true }), which every instance then applies', async () => {
      const key = uniqueKey('garbage-recover');
      const store = await connect(key);
      const peer = await connect(key);
      await redis().set(key, garbage);
      await store.save(phases.canary(10), { overwriteInvalid: true });
      expect(store.current()).toEqual(phases.canary(10));
      await until(() => peer.current().newSystemPercentage === 10);
      const raw = JSON.parse((await redis().get(key)) as string) as { version: number; config: unknown };
      expect(raw.config).toEqual(phases.canary(10));
      await store.save(phases.canary(11));
      expect(store.current()).toEqual(phases.canary(11));
    });

    it('a rollback replaces it, and says so', async () => {
      const key = uniqueKey('garbage-rollback');
      const logger = recordingLogger();
      const store = await connect(key, logger);
      await redis().set(key, garbage);
      await store.save(phases.rolledBack());
      expect(store.current()).toEqual(phases.rolledBack());
      expect(logger.lines.some((line) => line.level === 'warn' && /invalid record; replaced/.test(line.message ?? ''))).toBe(true);
    });
  });

  it('a fresh instance that could not read the garbage cannot overwrite it with a step either', async () => {
    const key = uniqueKey('garbage-fresh');
    await redis().set(key, 'garbage');
    const store = new RedisConfigStore({ redis: redis(), key, initial: phases.preparation() });
    stores.push(store);
    await expect(store.ready()).rejects.toBeInstanceOf(MigrationConfigError);
    await expect(store.save(phases.shadow())).rejects.toBeInstanceOf(MigrationConfigError);
    expect(await redis().get(key)).toBe('garbage');
  });

  it('overwriteInvalid never overwrites a valid record this instance has not seen', async () => {
    const key = uniqueKey('garbage-valid');
    const store = await connect(key);
    await redis().set(key, JSON.stringify({ version: 9, savedAt: 1, rolledBack: true, config: phases.rolledBack() }));
    await expect(store.save(phases.canary(50), { overwriteInvalid: true })).rejects.toMatchObject({ code: 'ERR_CONFLICT' });
    expect(store.current()).toEqual(phases.rolledBack());
  });

  it('deleting the key is a way out too: the next save writes it', async () => {
    const key = uniqueKey('garbage-del');
    const store = await connect(key);
    await redis().set(key, 'garbage');
    await redis().del(key);
    await store.save(phases.canary(7));
    expect(store.current()).toEqual(phases.canary(7));
  });

  it('never overwrites a key of another type, not even for a rollback', async () => {
    const key = uniqueKey('garbage-type');
    const store = await connect(key);
    await redis().del(key);
    await redis().hset(key, 'owner', 'another app');
    await expect(store.save(phases.rolledBack())).rejects.toThrow(/WRONGTYPE/);
    expect(await redis().hget(key, 'owner')).toBe('another app');
  });

  it('save refuses garbage options with ERR_INVALID_OPTION', async () => {
    const store = await connect(uniqueKey('garbage-options'));
    await expect(store.save(phases.canary(7), null as never)).rejects.toMatchObject({ code: 'ERR_INVALID_OPTION' });
    await expect(store.save(phases.canary(7), { fence: 'x' } as never)).rejects.toMatchObject({ code: 'ERR_INVALID_OPTION' });
    expect(() => new RedisConfigStore({ redis: redis(), key: 'k', logger: 'x' as never })).toThrow(/`logger`/);
  });

  it('save refuses an unknown or mistyped option, naming it, and writes nothing', async () => {
    const key = uniqueKey('garbage-save-options');
    const store = await connect(key);
    const before = await redis().get(key);
    const serving = store.current();
    await expect(store.save(phases.canary(7), { overwriteInvalid: 'yes' } as never)).rejects.toThrow(/overwriteInvalid/);
    await expect(store.save(phases.canary(7), { fenced: { key: 'l', token: 't' } } as never)).rejects.toThrow(/did you mean `fence`/);
    await expect(store.save(phases.canary(7), { fence: { key: 'l', token: '' } })).rejects.toMatchObject({ code: 'ERR_INVALID_OPTION' });
    expect(await redis().get(key)).toBe(before);
    expect(store.current()).toEqual(serving);
    expect(serving).not.toEqual(phases.canary(7));
  });
});
