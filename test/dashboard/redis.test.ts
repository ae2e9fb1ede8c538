import { afterEach, expect, it } from 'vitest';
import type { Operator } from '../../src/cli/operator.js';
import { openOperator } from '../../src/cli/operator.js';
import { phases } from '../../src/config/phases.js';
import { MigrationGlue } from '../../src/core/migration-glue.js';
import type { Dashboard } from '../../src/dashboard/server.js';
import { startDashboard } from '../../src/dashboard/server.js';
import { silentLogger } from '../../src/observe/logger.js';
import { FleetStats } from '../../src/redis/fleet-stats.js';
import { RedisConfigStore } from '../../src/redis/redis-config-store.js';
import { client, describeWithRedis, uniqueKey } from '../redis/redis-env.js';

// On Redis the status carries the fleet's figures: the dashboard keeps them
// as chart points, and a rollback from it reaches every instance's store.

const token = 'redis-dashboard-token-0123456789';
const closers: (() => Promise<unknown> | unknown)[] = [];
afterEach(async () => {
  for (const close of closers.splice(0).reverse()) await close();
});

describeWithRedis('the dashboard on a RedisConfigStore with FleetStats publishing', (url) => {
  it("keeps each arm's fleet figures as chart points, and rolls the fleet back", async () => {
    const key = uniqueKey('dashboard');
    const redis = client(url);
    closers.push(() => redis.quit());
    const store = await RedisConfigStore.connect({ redis, key, initial: phases.canary(50) });
    closers.push(() => store.close());
    const glue = new MigrationGlue<{ id: string }, number>({
      name: 'pricing',
      oldService: async () => 1,
      newService: async ({ id }) => {
        if (id.endsWith('7')) throw new Error('new failed');
        return 1;
      },
      config: store,
      routingKey: ({ id }) => id,
      logger: silentLogger,
    });
    closers.push(() => glue.close());
    const fleet = new FleetStats({ redis, key: `${key}:fleet`, glue, autoStart: false });
    closers.push(() => fleet.close());
    for (let i = 0; i < 200; i++) await glue.process({ id: `u-${i}` });
    await fleet.refresh();

    const operator: Operator = await openOperator(`${url}?key=${encodeURIComponent(key)}`, { by: 'dashboard test' });
    closers.push(() => operator.close());
    const dashboard: Dashboard = await startDashboard({ operator, port: 0, token });
    closers.push(() => dashboard.close());
    const headers = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };
    const snapshot = (await (await fetch(new URL('/api/status', dashboard.url), { headers })).json()) as {
      status: { fleet?: { new: { calls: number } } };
      history: { new?: { calls: number; errorRate: number }; old?: { calls: number } }[];
    };
    expect(snapshot.status.fleet?.new.calls).toBeGreaterThan(0);
    const point = snapshot.history.at(-1);
    expect(point?.new?.calls).toBe(snapshot.status.fleet?.new.calls);
    expect(point?.new?.errorRate).toBeGreaterThan(0);
    expect(point?.old?.calls).toBeGreaterThan(0);

    const res = await fetch(new URL('/api/rollback', dashboard.url), { method: 'POST', headers, body: JSON.stringify({ reason: 'errors on new' }) });
    expect(res.status, await res.clone().text()).toBe(200);
    await expect.poll(() => store.current().newSystemEnabled, { timeout: 10_000 }).toBe(false);
    expect(store.rampState().lastRollback).toMatchObject({ reason: 'errors on new', by: 'dashboard' });
  });
});
