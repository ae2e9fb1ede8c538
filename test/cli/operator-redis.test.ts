import type { Redis } from 'ioredis';
import { afterEach, expect, it } from 'vitest';
import { phases } from '../../src/index.js';
import { openOperator } from '../../src/cli/operator.js';
import { FleetHistogram } from '../../src/redis/fleet-histogram.js';
import { RedisConfigStore } from '../../src/redis/index.js';
import { client, describeWithRedis, uniqueKey } from '../redis/redis-env.js';

function published(calls: number, errors: number, latencyMs: number) {
  const arm = (n: number, e: number, ms: number) => {
    const histogram = new FleetHistogram();
    for (let i = 0; i < n; i++) histogram.record(ms);
    return { calls: n, errors: e, latency: histogram.serialize() };
  };
  const shadow = { window: { compared: 10, mismatched: 1 }, fingerprints: [{ fingerprint: 'f1', description: 'total differs', count: 3 }] };
  return JSON.stringify({ at: 1, windowMs: 300_000, window: { old: arm(calls, 0, 10), new: arm(calls, errors, latencyMs) }, total: {}, shadow });
}

describeWithRedis('an operator on Redis', (url) => {
  const clients: Redis[] = [];
  afterEach(() => {
    for (const c of clients.splice(0)) c.disconnect();
  });

  it('sums the fleet figures every instance publishes, and refuses a key that holds no migration', async () => {
    const key = uniqueKey('operator-fleet');
    const redis = client(url);
    clients.push(redis);
    const address = new URL(url);
    address.searchParams.set('key', key);
    await expect(openOperator(address.toString())).rejects.toThrow(/no migration config at redis key/);
    await (await RedisConfigStore.connect({ redis, key, initial: phases.canary(5) })).close();
    await redis.sadd(`${key}:fleet:instances`, 'a', 'b', 'gone');
    await redis.hset(`${key}:fleet:instance:a`, 'figures', published(100, 2, 20));
    await redis.hset(`${key}:fleet:instance:b`, 'figures', published(300, 0, 20));
    const operator = await openOperator(address.toString(), { connectTimeoutMs: 5_000 });
    try {
      const status = await operator.status();
      expect(status).toMatchObject({ phase: 'canary', percentage: 5, fleet: { instances: 2, windowMs: 300_000 } });
      expect(status.fleet?.new).toMatchObject({ calls: 400, errors: 2, errorRate: 0.005 });
      expect(status.fleet?.new.p95).toBeGreaterThanOrEqual(20);
      expect(status.fleet?.old).toMatchObject({ calls: 400, errors: 0 });
      expect(status.fleet?.shadow).toMatchObject({ compared: 20, mismatched: 2, mismatchRate: 0.1, fingerprints: [{ fingerprint: 'f1', count: 6 }] });
    } finally {
      await operator.close();
    }
  });
});
