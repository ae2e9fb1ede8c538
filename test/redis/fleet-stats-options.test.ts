import type { Redis } from 'ioredis';
import { describe, expect, it } from 'vitest';
import { MigrationGlue, phases, silentLogger } from '../../src/index.js';
import { FleetStats } from '../../src/redis/index.js';

// FleetStats' options without a server: a client-shaped stand-in is enough, autoStart off.

describe('FleetStats options, strict', () => {
  const glue = new MigrationGlue({ name: 'opts', oldService: async () => 1, newService: async () => 2, config: phases.preparation(), logger: silentLogger });
  const redis = { duplicate: () => redis, eval: () => {}, get: () => {} } as unknown as Redis;

  it('refuses an unknown option and suggests the nearest name', () => {
    expect(() => new FleetStats({ redis, key: 'k', glue, autoStart: false, intervalMS: 100 } as never)).toThrow(
      expect.objectContaining({ code: 'ERR_INVALID_OPTION', option: 'intervalMS', message: expect.stringMatching(/did you mean `intervalMs`\?/) }),
    );
  });

  it('names a ttlMs below intervalMs with the interval as its minimum', () => {
    expect(() => new FleetStats({ redis, key: 'k', glue, intervalMs: 100, ttlMs: 50, autoStart: false })).toThrow(
      /option `ttlMs` must be a finite number of milliseconds, at least 100, got 50/,
    );
  });

  it('names a missing client, a bad logger and a bad instanceId', () => {
    expect(() => new FleetStats({ key: 'k', glue, autoStart: false } as never)).toThrow(/option `redis` must be an ioredis client/);
    expect(() => new FleetStats({ redis, key: 'k', glue, autoStart: false, logger: 3 as never })).toThrow(/option `logger`/);
    expect(() => new FleetStats({ redis, key: 'k', glue, autoStart: false, instanceId: '' })).toThrow(/option `instanceId`/);
  });

  it('resolves the defaults once: an instance id of its own and three intervals of TTL', async () => {
    const a = new FleetStats({ redis, key: 'k', glue, autoStart: false });
    const b = new FleetStats({ redis, key: 'k', glue, autoStart: false, instanceId: 'mine' });
    expect(a.instanceId).toMatch(/:\d+:[0-9a-f]{8}$/);
    expect(b.instanceId).toBe('mine');
    await a.close().catch(() => undefined);
    await b.close().catch(() => undefined);
  });
});
