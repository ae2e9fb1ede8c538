import { createServer } from 'node:net';
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, afterEach, expect, it } from 'vitest';
import type { MigrationConfig } from '../../src/index.js';
import { MigrationConfigError, MigrationGlueError, phases } from '../../src/index.js';
import { RedisConfigStore } from '../../src/redis/index.js';
import { parseRecord } from '../../src/redis/redis-config-record.js';
import { recordingLogger } from '../helpers.js';
import { client, describeWithRedis, until } from './redis-env.js';

const key = (label: string) => `mg-test:recovery:${label}:${randomBytes(6).toString('hex')}`;

async function closedPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

describeWithRedis('RedisConfigStore recovers', (url) => {
  const clients: Redis[] = [];
  /** A client of a port nothing listens on, giving up after one retry; its duplicates are disconnected after the suite. */
  const unreachable = (port: number) => {
    const down = new Redis(`redis://127.0.0.1:${port}`, { retryStrategy: () => 20, maxRetriesPerRequest: 1 });
    down.on('error', () => {});
    clients.push(down);
    const duplicate = down.duplicate.bind(down);
    down.duplicate = ((override?: object) => {
      const dup = duplicate(override);
      dup.on('error', () => {});
      clients.push(dup);
      return dup;
    }) as typeof down.duplicate;
    return down;
  };
  const stores: RedisConfigStore[] = [];
  const keys: string[] = [];
  const redis = () => {
    const c = client(url);
    clients.push(c);
    return c;
  };
  const connect = async (k: string, initial = phases.preparation(), logger = recordingLogger()) => {
    const store = await RedisConfigStore.connect({ redis: redis(), key: k, initial, logger });
    stores.push(store);
    return store;
  };
  const newKey = (label: string) => {
    const k = key(label);
    keys.push(k);
    return k;
  };
  afterEach(async () => {
    for (const store of stores.splice(0)) await store.close();
    const c = redis();
    for (const k of keys.splice(0)) await c.del(k, `${k}:changes`);
  });
  afterAll(() => {
    for (const c of clients.splice(0)) c.disconnect();
  });

  it('a record with a version above Number.MAX_SAFE_INTEGER is refused as garbage, and a save over it leaves a record that the saver and a new instance both serve', async () => {
    const k = newKey('huge-version');
    await redis().set(k, JSON.stringify({ version: 1e20, savedAt: 1, rolledBack: false, config: phases.canary(5) }));
    expect(parseRecord((await redis().get(k)) as string)).toBeInstanceOf(MigrationConfigError);
    const store = new RedisConfigStore({ redis: redis(), key: k, initial: phases.shadow(), logger: recordingLogger() });
    stores.push(store);
    await expect(store.ready()).rejects.toThrow(/version/);
    expect(store.current()).toEqual(phases.shadow());
    await expect(store.save(phases.canary(10))).rejects.toThrow(MigrationConfigError);
    await store.save(phases.canary(10), { overwriteInvalid: true });
    const parsed = parseRecord((await redis().get(k)) as string);
    if (parsed instanceof MigrationConfigError) throw parsed;
    expect(parsed.version).toBe(1);
    expect(store.current()).toEqual(phases.canary(10));
    const peer = await connect(k, phases.shadow());
    expect(peer.current()).toEqual(store.current());
  });

  it('a rollback over a record with a huge version writes a version every instance serves', async () => {
    const k = newKey('huge-version-rollback');
    await redis().set(k, JSON.stringify({ version: 1e20, savedAt: 1, rolledBack: false, config: phases.canary(5) }));
    const store = new RedisConfigStore({ redis: redis(), key: k, initial: phases.canary(5), logger: recordingLogger() });
    stores.push(store);
    await store.save(phases.rolledBack());
    const parsed = parseRecord((await redis().get(k)) as string);
    if (parsed instanceof MigrationConfigError) throw parsed;
    expect(parsed.config).toEqual(phases.rolledBack());
    const peer = await connect(k, phases.shadow());
    expect(peer.current()).toEqual(phases.rolledBack());
  });

  it('at Number.MAX_SAFE_INTEGER a save keeps the version at the limit, and the other instances still follow', async () => {
    const k = newKey('max-version');
    await redis().set(k, JSON.stringify({ version: Number.MAX_SAFE_INTEGER, savedAt: 1, rolledBack: false, config: phases.canary(5) }));
    const a = await connect(k, phases.shadow());
    const b = await connect(k, phases.shadow());
    expect(b.info().version).toBe(Number.MAX_SAFE_INTEGER);
    await a.save(phases.canary(10));
    expect(a.info().version).toBe(Number.MAX_SAFE_INTEGER);
    await until(() => b.current().newSystemPercentage === 10, 5000, 'b follows the save at the limit');
    await b.save(phases.canary(20));
    await until(() => a.current().newSystemPercentage === 20, 5000, 'a follows');
    expect(a.info().version).toBe(Number.MAX_SAFE_INTEGER);
  });

  it('connect() rejects when Redis cannot be reached and the client gives up (maxRetriesPerRequest), rather than hanging', async () => {
    const port = await closedPort();
    const down = unreachable(port);
    const store = new RedisConfigStore({ redis: down, key: 'mg-test:recovery:unreachable', logger: recordingLogger() });
    try {
      await expect(store.ready()).rejects.toThrow();
      await expect(RedisConfigStore.connect({ redis: down, key: 'mg-test:recovery:unreachable', logger: recordingLogger() })).rejects.toThrow();
    } finally {
      await store.close();
    }
  });

  it('save() on a store that has not reached Redis rejects once the client gives up (maxRetriesPerRequest), rather than hanging', async () => {
    const port = await closedPort();
    const down = unreachable(port);
    const store = new RedisConfigStore({ redis: down, key: 'mg-test:recovery:unreachable-save', logger: recordingLogger() });
    try {
      await expect(store.save(phases.rolledBack())).rejects.toThrow();
      await expect(store.save(phases.canary(5))).rejects.toThrow();
      await expect(store.updateRamp(() => undefined)).rejects.toThrow();
    } finally {
      await store.close();
    }
  });

  it('close() completes while Redis is unreachable', async () => {
    const port = await closedPort();
    const down = unreachable(port);
    const store = new RedisConfigStore({ redis: down, key: 'mg-test:recovery:unreachable-close', logger: recordingLogger() });
    await store.close();
    expect(store.current()).toEqual(phases.preparation());
  });

  it('a key of the wrong Redis type makes ready() and save() reject without touching it, and a rollback too', async () => {
    const k = newKey('wrongtype');
    await redis().hset(k, 'a', '1');
    const store = new RedisConfigStore({ redis: redis(), key: k, initial: phases.canary(5), logger: recordingLogger() });
    stores.push(store);
    await expect(store.ready()).rejects.toThrow(/WRONGTYPE/);
    await expect(store.save(phases.canary(10))).rejects.toThrow(/WRONGTYPE/);
    await expect(store.save(phases.rolledBack())).rejects.toThrow(/WRONGTYPE/);
    expect(await redis().type(k)).toBe('hash');
    expect(store.current()).toEqual(phases.canary(5));
  });

  it('a published message that is not a record, or a record with wrong types, is refused and never served', async () => {
    const k = newKey('published-garbage');
    const store = await connect(k, phases.canary(5));
    const served: MigrationConfig[] = [];
    store.subscribe((config) => served.push(config));
    const pub = redis();
    for (const garbage of [
      'null',
      '[]',
      '"str"',
      JSON.stringify({ version: '9', config: phases.full() }),
      JSON.stringify({ version: 9.5, config: phases.full() }),
      JSON.stringify({ version: 9, config: { ...phases.full(), newSystemPercentage: '100' } }),
      JSON.stringify({ version: 9, config: { ...phases.full(), newSystemPercentage: Number.MAX_VALUE } }),
      JSON.stringify({ version: 9, config: phases.full(), ramp: { not: 'a string' } }).slice(0, 40),
      '{"version":9,"config":' + '['.repeat(5000) + ']'.repeat(5000) + '}',
    ]) {
      await pub.publish(`${k}:changes`, garbage);
    }
    await pub.publish(`${k}:changes`, 'x'.repeat(2_000_000));
    // A record with a lower version is not served either (it makes the store read the key).
    await pub.publish(`${k}:changes`, JSON.stringify({ version: 0, config: phases.full() }));
    // A marker: a peer's save is published after all of them, so once it is served they have all been handled.
    const peer = await connect(k);
    await peer.save(phases.canary(7));
    await until(() => store.current().newSystemPercentage === 7, 5000, 'the peer save is served');
    expect(served).toEqual([phases.canary(7)]);
    await store.save(phases.canary(6));
    expect(store.current()).toEqual(phases.canary(6));
  });

  it('two stores racing many saves never both succeed on the same version, and a rollback is never undone by a stale save', async () => {
    const k = newKey('race');
    const a = await connect(k, phases.canary(1));
    const b = await connect(k, phases.canary(1));
    const results = await Promise.allSettled([
      a.save(phases.canary(10)),
      b.save(phases.canary(20)),
      a.save(phases.rolledBack()),
      b.save(phases.canary(30)),
      a.save(phases.canary(40)),
    ]);
    void results;
    // After everything settled, both serve what the key holds.
    const raw = (await redis().get(k)) as string;
    const rec = parseRecord(raw);
    if (rec instanceof MigrationConfigError) throw rec;
    await until(() => a.info().version === rec.version && b.info().version === rec.version, 5000, 'both at the key version').catch((err: unknown) => {
      throw new Error(`${String(err)} key ${raw} a ${JSON.stringify(a.info())} ${JSON.stringify(a.current())} b ${JSON.stringify(b.info())} ${JSON.stringify(b.current())} ${JSON.stringify(results.map((r) => r.status))}`);
    });
    expect(a.current()).toEqual(rec.config);
    expect(b.current()).toEqual(rec.config);
    // The rollback's save call came before a.save(canary(40)) on a: that one must have been refused.
    expect(MigrationGlueError.is((results[4] as PromiseRejectedResult).reason, 'ERR_CONFLICT')).toBe(true);
  });
});
