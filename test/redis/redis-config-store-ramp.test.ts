import type { Redis } from 'ioredis';
import { afterEach, expect, it } from 'vitest';
import { MigrationGlueError, phases } from '../../src/index.js';
import type { RampState } from '../../src/config/ramp-state.js';
import { RedisConfigStore } from '../../src/redis/index.js';
import { client, describeWithRedis, uniqueKey } from './redis-env.js';

const approval = (ramp: RampState, by: string) => ({
  ramp: { ...ramp, approvals: [...ramp.approvals, { percentage: 5, by, at: 1, revision: ramp.revision + 1 }] },
});

describeWithRedis('the ramp state kept with the config in Redis', (url) => {
  const clients: Redis[] = [];
  const stores: RedisConfigStore[] = [];
  const open = async (key: string) => {
    const redis = client(url);
    clients.push(redis);
    const store = await RedisConfigStore.connect({ redis, key, initial: phases.canary(5) });
    stores.push(store);
    return store;
  };
  afterEach(async () => {
    for (const store of stores.splice(0)) await store.close();
    for (const redis of clients.splice(0)) redis.disconnect();
  });

  it('reaches the other instances, and a plain save keeps it', async () => {
    const key = uniqueKey('ramp-state');
    const [a, b] = [await open(key), await open(key)];
    const arrived = new Promise<RampState>((resolve) => b.subscribeRamp(resolve));
    const written = await a.updateRamp((ramp) => ({ ramp: { ...ramp, blockedBy: 'approval', pendingApproval: { step: 1, percentage: 10, requestedAt: 2 } } }));
    expect(written).toMatchObject({ revision: 1, pendingApproval: { percentage: 10 } });
    expect(await arrived).toMatchObject({ revision: 1, pendingApproval: { percentage: 10 } });
    await a.save(phases.canary(10));
    expect(a.rampState()).toMatchObject({ pendingApproval: { percentage: 10 } });
  });

  it('approvals written at once by two instances are both kept', async () => {
    const key = uniqueKey('ramp-race');
    const [a, b] = [await open(key), await open(key)];
    await Promise.all([a.updateRamp((r) => approval(r, 'a')), b.updateRamp((r) => approval(r, 'b')), a.updateRamp((r) => approval(r, 'a2'))]);
    const final = await a.updateRamp(() => undefined);
    expect(final.approvals.map((x) => x.by).sort()).toEqual(['a', 'a2', 'b']);
  });

  it('a rollback written with the ramp state is never undone by a step decided before it', async () => {
    const key = uniqueKey('ramp-rollback');
    const [operator, glue] = [await open(key), await open(key)];
    // The glue's step is decided now, from canary 5; the rollback lands first.
    const stale = glue.save(phases.canary(10));
    await operator.updateRamp((ramp) => ({ config: phases.rolledBack(), ramp: { ...ramp, rolledBack: true, lastRollback: { at: 1, by: 'ops', reason: 'p95', percentage: 5 } } }));
    const outcome = await stale.then(
      () => 'saved',
      (err: unknown) => (MigrationGlueError.is(err, 'ERR_CONFLICT') ? 'conflict' : String(err)),
    );
    // Either the step landed before the rollback (then the rollback is in force now), or it was refused.
    expect(['saved', 'conflict']).toContain(outcome);
    const settled = await operator.updateRamp(() => undefined);
    expect(operator.current()).toEqual(phases.rolledBack());
    expect(operator.rolledBack()).toBe(true);
    expect(settled.lastRollback?.reason).toBe('p95');
    // A deliberate move afterwards clears the flag.
    await operator.updateRamp((ramp) => ({ config: phases.preparation(), ramp: { ...ramp, rolledBack: false } }));
    expect(operator.rolledBack()).toBe(false);
  });
});
