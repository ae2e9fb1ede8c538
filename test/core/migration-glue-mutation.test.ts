import { afterEach, describe, expect, it, vi } from 'vitest';
import { followRollback } from '../../src/core/migration-glue.js';
import { InMemoryConfigStore, MigrationGlue, MigrationGlueError, bucketOf, phases } from '../../src/index.js';
import type { ConfigProvider, FallbackEvent, MigrationConfig, MigrationGlueOptions, RouteEvent, SettledEvent } from '../../src/index.js';
import { ManualClock } from '../../src/testing/index.js';
import { pricingGlue, recordingLogger } from '../helpers.js';

// What MigrationGlue itself decides, one assertion per decision: the side
// each phase serves, the route event (arm, reason and key) it emits, what a
// fallback reports, the figures of stats() and what close() stops.

type Input = { userId?: string; n?: number };

function makeGlue(config: MigrationConfig | ConfigProvider, extra: Partial<MigrationGlueOptions<Input, string>> = {}) {
  const { glue, logger } = pricingGlue<Input>(config, extra);
  const routes: RouteEvent[] = [];
  glue.on('route', (event) => routes.push(event));
  return { glue, logger, routes };
}

/** A key whose bucket under 'pricing' is below `bucket` (or at or above it, when `below` is false). */
function keyAround(bucket: number, below: boolean): string {
  for (let i = 0; ; i++) {
    const key = `user-${i}`;
    if (bucketOf(key, 'pricing') < bucket === below) return key;
  }
}

describe('MigrationGlue route events', () => {
  it('in preparation: old, "disabled", with the key', async () => {
    const { glue, routes } = makeGlue(phases.preparation());
    await expect(glue.process({ userId: 'u1' })).resolves.toBe('old');
    expect(routes).toEqual([{ migration: 'pricing', key: 'u1', arm: 'old', reason: 'disabled' }]);
  });

  it('while a rollback is being saved: old, "rolled-back"; once the store shows it: "disabled"', async () => {
    const store = new InMemoryConfigStore(phases.full());
    let finish: (() => void) | undefined;
    const save = store.save.bind(store);
    store.save = (config) => new Promise<void>((resolve) => (finish = () => void save(config).then(resolve)));
    const { glue, routes } = makeGlue(store);
    const pending = glue.rollback('test');
    await expect(glue.process({ userId: 'u1' })).resolves.toBe('old');
    expect(routes.at(-1)).toEqual({ migration: 'pricing', key: 'u1', arm: 'old', reason: 'rolled-back' });
    finish?.();
    await expect(pending).resolves.toBe(true);
    await expect(glue.process({ userId: 'u1' })).resolves.toBe('old');
    expect(routes.at(-1)).toEqual({ migration: 'pricing', key: 'u1', arm: 'old', reason: 'disabled' });
  });

  it('in shadow: old, "shadow", with the key, no key counted missing', async () => {
    const { glue, routes } = makeGlue(phases.shadow());
    await expect(glue.process({ userId: 'u1' })).resolves.toBe('old');
    await glue.drain();
    expect(routes).toEqual([{ migration: 'pricing', key: 'u1', arm: 'old', reason: 'shadow' }]);
    expect(glue.stats().missingKeys).toBe(0);
  });

  it('in shadow, says why a routingKey gave no key (it threw)', async () => {
    const { glue, logger } = makeGlue(phases.shadow(), {
      routingKey: () => {
        throw new Error('no key here');
      },
    });
    await expect(glue.process({ userId: 'u1' })).resolves.toBe('old');
    await glue.drain();
    const missing = logger.lines.filter((line) => line.message?.startsWith('call without a routing key'));
    expect(missing).toHaveLength(1);
    expect(missing[0]?.message).toMatch(/The `routingKey` option threw for this input/);
  });

  it('in shadow without a key: old, "shadow", no key, counted as missing', async () => {
    const { glue, routes } = makeGlue(phases.shadow());
    await expect(glue.process({})).resolves.toBe('old');
    await glue.drain();
    expect(routes).toEqual([{ migration: 'pricing', key: undefined, arm: 'old', reason: 'shadow' }]);
    expect(glue.stats().missingKeys).toBe(1);
  });

  it('in full: new, "full", with the key, and without one', async () => {
    const { glue, routes } = makeGlue(phases.full());
    await expect(glue.process({ userId: 'u1' })).resolves.toBe('new');
    await expect(glue.process({})).resolves.toBe('new');
    expect(routes).toEqual([
      { migration: 'pricing', key: 'u1', arm: 'new', reason: 'full' },
      { migration: 'pricing', key: undefined, arm: 'new', reason: 'full' },
    ]);
    // full needs no key: none is counted missing
    expect(glue.stats().missingKeys).toBe(0);
  });

  it('in canary: the bucket decides, and the event names the side and the key', async () => {
    const { glue, routes } = makeGlue(phases.canary(50));
    const toNew = keyAround(5_000, true);
    const toOld = keyAround(5_000, false);
    await expect(glue.process({ userId: toNew })).resolves.toBe('new');
    await expect(glue.process({ userId: toOld })).resolves.toBe('old');
    expect(routes).toEqual([
      { migration: 'pricing', key: toNew, arm: 'new', reason: 'bucket' },
      { migration: 'pricing', key: toOld, arm: 'old', reason: 'bucket' },
    ]);
  });

  it('in canary without a key: old, "missing-key", counted once', async () => {
    const { glue, routes } = makeGlue(phases.canary(99.99));
    await expect(glue.process({})).resolves.toBe('old');
    expect(routes).toEqual([{ migration: 'pricing', key: undefined, arm: 'old', reason: 'missing-key' }]);
    expect(glue.stats().missingKeys).toBe(1);
  });

  it('in canary with a hasher that throws: old, "hash-failed", with the key', async () => {
    const { glue, routes } = makeGlue(phases.canary(99.99), {
      hasher: {
        hash32: () => {
          throw new Error('hasher down');
        },
      },
    });
    await expect(glue.process({ userId: 'u1' })).resolves.toBe('old');
    expect(routes).toEqual([{ migration: 'pricing', key: 'u1', arm: 'old', reason: 'hash-failed' }]);
  });

  it('serves the same sides with no route listener', async () => {
    const quiet = (config: MigrationConfig, extra = {}) =>
      new MigrationGlue<Input, string>({ name: 'pricing', oldService: async () => 'old', newService: async () => 'new', config, logger: recordingLogger(), ...extra });
    await expect(quiet(phases.preparation()).process({ userId: 'u1' })).resolves.toBe('old');
    await expect(quiet(phases.full()).process({})).resolves.toBe('new');
    await expect(quiet(phases.canary(99.99)).process({})).resolves.toBe('old');
    await expect(quiet(phases.canary(50)).process({ userId: keyAround(5_000, true) })).resolves.toBe('new');
    await expect(quiet(phases.canary(50)).process({ userId: keyAround(5_000, false) })).resolves.toBe('old');
    const throwing = { hash32: () => Number.NaN };
    await expect(quiet(phases.canary(99.99), { hasher: throwing }).process({ userId: 'u1' })).resolves.toBe('old');
  });
});

describe('MigrationGlue fallback', () => {
  const failing = async (): Promise<string> => {
    throw new Error('new down');
  };

  it.each([
    ['canary', phases.canary(50), (): string => keyAround(5_000, true)],
    ['full', phases.full(), (): string => 'u1'],
  ] as const)('in %s: serves old, counts one fallback and reports the key read from the input', async (_, config, keyOf) => {
    const key = keyOf();
    const { glue, logger } = makeGlue({ ...config, fallbackEnabled: true }, { newService: failing });
    const fallbacks: FallbackEvent<Input>[] = [];
    glue.on('fallback', (event) => fallbacks.push(event));
    await expect(glue.process({ userId: key, n: 1 })).resolves.toBe('old');
    expect(glue.stats().fallbacks).toBe(1);
    expect(fallbacks).toHaveLength(1);
    expect(fallbacks[0]).toMatchObject({ migration: 'pricing', key, input: { userId: key, n: 1 } });
    expect((fallbacks[0]?.error as Error).message).toBe('new down');
    expect(logger.lines.filter((line) => line.level === 'warn' && line.message === 'new failed, old served (fallback)')).toHaveLength(1);
    // without a listener the fallback still happens and is counted
    const { glue: quiet } = makeGlue({ ...config, fallbackEnabled: true }, { newService: failing });
    await expect(quiet.process({ userId: key })).resolves.toBe('old');
    expect(quiet.stats().fallbacks).toBe(1);
  });

  it('without fallback: the caller gets new error and nothing is counted', async () => {
    const { glue } = makeGlue(phases.full(), { newService: failing });
    await expect(glue.process({ userId: 'u1' })).rejects.toThrow('new down');
    expect(glue.stats().fallbacks).toBe(0);
  });
});

describe('MigrationGlue routing keys', () => {
  it('reads no routing key where the phase needs none and nobody listens', async () => {
    let reads = 0;
    const routingKey = (input: Input) => {
      reads += 1;
      return input.userId;
    };
    const failing = async (): Promise<string> => {
      throw new Error('new down');
    };
    for (const config of [phases.preparation(), phases.full(), { ...phases.full(), fallbackEnabled: true }]) {
      const glue = new MigrationGlue<Input, string>({ name: 'pricing', oldService: async () => 'old', newService: failing, config, logger: recordingLogger(), routingKey });
      await glue.process({ userId: 'u1' }).catch(() => {});
    }
    expect(reads).toBe(0);
  });

  it('shows the key of the input in settled events', async () => {
    const { glue } = makeGlue(phases.full());
    const settled: SettledEvent[] = [];
    glue.on('settled', (event) => settled.push(event));
    await glue.process({ userId: 'u1' });
    expect(settled).toEqual([expect.objectContaining({ migration: 'pricing', key: 'u1', arm: 'new', ok: true })]);
  });

  it('logs the error of a hasher that throws, cleaned', async () => {
    const { glue, logger } = makeGlue(phases.canary(50), {
      hasher: {
        hash32: () => {
          throw new Error('hasher down');
        },
      },
    });
    await expect(glue.process({ userId: 'u1' })).resolves.toBe('old');
    const line = logger.lines.find((l) => l.message === 'the hasher threw; old served the call');
    expect(line).toBeDefined();
    expect(JSON.stringify((line?.context as { err?: unknown }).err)).toContain('hasher down');
  });
});

describe('MigrationGlue arms', () => {
  it.each([
    ['full', phases.full()],
    ['canary', { ...phases.canary(50), fallbackEnabled: false }],
  ] as const)('records a call served by new without fallback in %s as new', async (_, config) => {
    const { glue } = makeGlue(config);
    const settled: SettledEvent[] = [];
    glue.on('settled', (event) => settled.push(event));
    await expect(glue.process({ userId: keyAround(5_000, true) })).resolves.toBe('new');
    expect(settled.map((event) => event.arm)).toEqual(['new']);
    expect(glue.stats().new.calls).toBe(1);
    expect(glue.stats().old.calls).toBe(0);
  });
});

describe('MigrationGlue newTimeoutMs', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('bounds nothing without it: a slow new answers', async () => {
    vi.useFakeTimers();
    const slow = () => new Promise<string>((resolve) => setTimeout(() => resolve('new'), 60_000));
    const { glue } = makeGlue(phases.full(), { newService: slow });
    const answer = glue.process({ userId: 'u1' });
    await vi.advanceTimersByTimeAsync(60_000);
    await expect(answer).resolves.toBe('new');
  });

  it('names the side and the glue in ERR_TIMEOUT', async () => {
    vi.useFakeTimers();
    const never = () => new Promise<string>(() => {});
    const { glue } = makeGlue(phases.full(), { newService: never, newTimeoutMs: 50 });
    const answer = glue.process({ userId: 'u1' });
    const outcome = expect(answer).rejects.toThrow('new service of "pricing" took longer than 50 ms');
    await vi.advanceTimersByTimeAsync(50);
    await outcome;
  });
});

describe('MigrationGlue stats', () => {
  it('reports the name, window, config, phase and counters of one instant', async () => {
    const clock = new ManualClock();
    const { glue } = makeGlue(phases.canary(50), { clock, windowMs: 30_000 });
    await glue.process({ userId: keyAround(5_000, true) });
    await glue.process({});
    const stats = glue.stats();
    expect(stats).toMatchObject({ migration: 'pricing', windowMs: 30_000, config: phases.canary(50), phase: 'canary', fallbacks: 0, rollbacks: 0, missingKeys: 1 });
    expect(stats.new.calls).toBe(1);
    expect(stats.old.calls).toBe(1);
  });
});

describe('MigrationGlue close', () => {
  it('refuses later calls with ERR_CLOSED as a rejected promise, never a throw', async () => {
    const { glue } = makeGlue(phases.full());
    await glue.close();
    let result: Promise<string> | undefined;
    expect(() => (result = glue.process({ userId: 'u1' }))).not.toThrow();
    await expect(result).rejects.toBeInstanceOf(MigrationGlueError);
    await expect(result).rejects.toMatchObject({ code: 'ERR_CLOSED' });
    await expect(result).rejects.toThrow('migration "pricing" is closed');
    await expect(glue.close()).resolves.toBeUndefined();
  });

  it('drops listeners and stops following the store', async () => {
    const store = new InMemoryConfigStore(phases.preparation());
    const { glue, routes } = makeGlue(store);
    const changes: unknown[] = [];
    glue.on('configChange', (event) => changes.push(event));
    await glue.close();
    await store.save(phases.full());
    expect(changes).toEqual([]);
    await expect(glue.process({ userId: 'u1' })).rejects.toMatchObject({ code: 'ERR_CLOSED' });
    expect(routes).toEqual([]);
  });

  it('waits for the shadow calls in flight', async () => {
    let finish: (() => void) | undefined;
    const slowNew = () => new Promise<string>((resolve) => (finish = () => resolve('new')));
    const { glue } = makeGlue(phases.shadow(), { newService: slowNew });
    await expect(glue.process({ userId: 'u1' })).resolves.toBe('old');
    let closed = false;
    const closing = glue.close().then(() => (closed = true));
    await Promise.resolve();
    await Promise.resolve();
    expect(closed).toBe(false);
    finish?.();
    await closing;
    expect(closed).toBe(true);
  });
});

describe('followRollback', () => {
  it('resolves at once for an object that is not a glue', async () => {
    await expect(followRollback({} as MigrationGlue<unknown, unknown>, new Promise(() => {}))).resolves.toBeUndefined();
  });

  it('makes a glue serve old until the rollback it follows has settled', async () => {
    const store = new InMemoryConfigStore(phases.full());
    const { glue, routes } = makeGlue(store);
    let settle: (() => void) | undefined;
    const rolling = new Promise<void>((resolve) => (settle = resolve));
    const following = followRollback(glue, rolling);
    await expect(glue.process({ userId: 'u1' })).resolves.toBe('old');
    expect(routes.at(-1)).toMatchObject({ arm: 'old', reason: 'rolled-back' });
    await store.save(phases.rolledBack());
    settle?.();
    await following;
    await expect(glue.process({ userId: 'u1' })).resolves.toBe('old');
    expect(routes.at(-1)).toMatchObject({ arm: 'old', reason: 'disabled' });
  });
});
