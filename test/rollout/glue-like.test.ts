import type { Redis } from 'ioredis';
import { describe, expect, expectTypeOf, it } from 'vitest';
import { InMemoryConfigStore, MigrationGlue, RollbackGuard, phases, silentLogger } from '../../src/index.js';
import type { GlueLike } from '../../src/core/glue-like.js';
import { MigrationJournal } from '../../src/rollout/journal.js';
import { FleetStats } from '../../src/redis/fleet-stats.js';

// What the guard, the journal, instrumentGlue and FleetStats need of a glue, under one name.

describe('GlueLike', () => {
  it('is satisfied by a MigrationGlue of any input and output types', async () => {
    const glue = new MigrationGlue<{ userId: string; cart: number[] }, { total: number }>({
      name: 'checkout',
      oldService: async () => ({ total: 1 }),
      newService: async () => ({ total: 1 }),
      config: new InMemoryConfigStore(phases.canary(50)),
      logger: silentLogger,
    });
    const g: GlueLike = glue;
    expectTypeOf(glue).toExtend<GlueLike>();
    expect(g.name).toBe('checkout');
    expect(g.stats().config.newSystemPercentage).toBe(50);
    const seen: string[] = [];
    const off = g.on('settled', (event) => seen.push(event.arm));
    await glue.process({ userId: 'u1', cart: [] });
    off();
    expect(seen).toHaveLength(1);
    await glue.close();
  });

  it('is satisfied by FleetStats, which forwards every GlueLike event of its glue', async () => {
    expectTypeOf<FleetStats>().toExtend<GlueLike>();
    const glue = new MigrationGlue<{ userId: string }, number>({
      name: 'fleet-events',
      oldService: async () => 1,
      newService: async () => {
        throw new Error('new failed');
      },
      config: new InMemoryConfigStore(phases.canary(99)),
      logger: silentLogger,
    });
    const fakeRedis = { duplicate: () => fakeRedis, eval: () => {}, get: () => {} } as unknown as Redis;
    const fleet: GlueLike = new FleetStats({ redis: fakeRedis, key: 'k', glue, autoStart: false });
    const fallbacks: string[] = [];
    fleet.on('fallback', (event) => fallbacks.push(event.migration));
    for (let i = 0; i < 20; i++) await glue.process({ userId: `u${i}` }).catch(() => undefined);
    expect(fallbacks.length).toBeGreaterThan(0);
    expect(new Set(fallbacks)).toEqual(new Set(['fleet-events']));
    await (fleet as FleetStats).close();
    await glue.close();
  });

  it('is all the guard and the journal need: a hand-made GlueLike works with both', () => {
    const stats = new MigrationGlue({ name: 'hand', oldService: async () => 1, newService: async () => 1, config: phases.shadow(), logger: silentLogger }).stats();
    const handMade: GlueLike = {
      name: 'hand',
      stats: () => stats,
      rollback: async () => true,
      on: () => () => {},
    };
    const guard = new RollbackGuard(handMade, {}, { logger: silentLogger });
    expect(guard.check().verdict).toBe('inconclusive');
    guard.close();
    const journal = new MigrationJournal();
    const stop = journal.attach(handMade);
    expect(journal.entries()[0]).toMatchObject({ kind: 'phase', migration: 'hand', phase: 'shadow' });
    stop();
  });
});
