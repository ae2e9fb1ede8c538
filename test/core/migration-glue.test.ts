import fc from 'fast-check';
import { describe, expect, expectTypeOf, it, vi } from 'vitest';
import { InMemoryConfigStore, MigrationGlue, MigrationGlueError, bucketOf, defaultRoutingKey, phases, silentLogger, staticConfig } from '../../src/index.js';
import type { ConfigProvider, MigrationConfig, Notification, RouteEvent } from '../../src/index.js';
import { ManualClock, fakeService, recordEvents } from '../../src/testing/index.js';
import { pricingGlue, recordingLogger } from '../helpers.js';

type Input = { userId?: string | number; requestId?: string; n?: number };

function makeGlue(config: MigrationConfig | ConfigProvider, extra: Partial<ConstructorParameters<typeof MigrationGlue<Input, string>>[0]> = {}) {
  return pricingGlue<Input>(config, extra);
}

describe('MigrationGlue routing', () => {
  it('sends every call to old in preparation, without calling new', async () => {
    const newService = vi.fn(async () => 'new');
    const { glue } = makeGlue(phases.preparation(), { newService });
    await fc.assert(
      fc.asyncProperty(fc.string(), async (userId) => {
        expect(await glue.process({ userId })).toBe('old');
      }),
    );
    expect(newService).not.toHaveBeenCalled();
  });

  it('sends every call to new in full, even without a routing key', async () => {
    const { glue } = makeGlue(phases.full());
    expect(await glue.process({ userId: 'a' })).toBe('new');
    expect(await glue.process({})).toBe('new');
  });

  it('in canary sends a key to new exactly when its bucket is below percentage * 100', async () => {
    await fc.assert(
      fc.asyncProperty(fc.string({ minLength: 1 }), fc.integer({ min: 0, max: 10_000 }), async (userId, hundredths) => {
        const percentage = hundredths / 100;
        const { glue } = makeGlue({ ...phases.canary(50), newSystemPercentage: percentage });
        const expected = percentage > 0 && bucketOf(userId, 'pricing') < hundredths ? 'new' : 'old';
        expect(await glue.process({ userId })).toBe(expected);
      }),
    );
  });

  it('in canary sends about the percentage of keys to new', async () => {
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 1, max: 99 }), async (percentage) => {
        const { glue } = makeGlue(phases.canary(percentage));
        let toNew = 0;
        for (let i = 0; i < 4_000; i++) if ((await glue.process({ userId: `u${i}` })) === 'new') toNew += 1;
        expect(Math.abs(toNew / 4_000 - percentage / 100)).toBeLessThan(0.035);
      }),
      { numRuns: 15 },
    );
  });

  it('is sticky and monotonic: raising the percentage never moves a key from new to old', async () => {
    const store = new InMemoryConfigStore(phases.canary(1));
    const { glue } = makeGlue(store);
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.integer({ min: 1, max: 10_000 }), { minLength: 2, maxLength: 6 }),
        fc.array(fc.string({ minLength: 1 }), { minLength: 1, maxLength: 30 }),
        async (steps, keys) => {
          const ascending = [...steps].sort((a, b) => a - b);
          const onNew = new Set<string>();
          for (const hundredths of ascending) {
            await store.save({ ...phases.canary(1), newSystemPercentage: hundredths / 100 });
            for (const userId of keys) {
              const first = await glue.process({ userId });
              expect(await glue.process({ userId })).toBe(first);
              if (first === 'new') onNew.add(userId);
              else expect(onNew.has(userId)).toBe(false);
            }
          }
        },
      ),
      { numRuns: 50 },
    );
  });

  it('buckets two migrations independently (the name is the salt)', () => {
    let differ = 0;
    for (let i = 0; i < 1_000; i++) if ((bucketOf(i, 'a') < 5_000) !== (bucketOf(i, 'b') < 5_000)) differ += 1;
    expect(differ).toBeGreaterThan(400);
  });

  it('reads the config once per call from the provider', async () => {
    const current = vi.fn(() => phases.canary(50));
    const { glue } = makeGlue({ current, subscribe: () => () => {} } as never);
    current.mockClear();
    await glue.process({ userId: 'x' });
    expect(current).toHaveBeenCalledTimes(1);
  });
});

describe('when the routing key is missing', () => {
  it('serves from old and says why in the route event', async () => {
    const { glue, logger } = makeGlue(phases.canary(99.99));
    const routes = recordEvents(glue).events.route;
    for (const input of [{}, { userId: '' }, { userId: Number.NaN }, { userId: null as unknown as string }]) {
      expect(await glue.process(input)).toBe('old');
    }
    expect(routes.map((r) => r.reason)).toEqual(['missing-key', 'missing-key', 'missing-key', 'missing-key']);
    expect(routes.every((r) => r.arm === 'old' && r.key === undefined)).toBe(true);
    expect(logger.lines.filter((l) => l.message?.includes('routing key')).length).toBeGreaterThan(0);
  });

  it('treats a routing-key function that throws as a missing key', async () => {
    const { glue } = makeGlue(phases.canary(99.99), {
      routingKey: () => {
        throw new Error('no key');
      },
    });
    await expect(glue.process({ userId: 'x' })).resolves.toBe('old');
  });

  it('uses requestId when there is no userId, and a primitive input as its own key', async () => {
    const { glue } = makeGlue(phases.canary(50));
    const seen = recordEvents(glue);
    await glue.process({ requestId: 'r1' });
    await glue.process(7 as Input);
    expect(seen.events.route.map((r: RouteEvent) => r.key)).toEqual(['r1', 7]);
  });
});

describe('defaultRoutingKey', () => {
  it('takes userId, then requestId, a string or number input itself, and nothing else', () => {
    expect(defaultRoutingKey({ userId: 'u', requestId: 'r' })).toBe('u');
    expect(defaultRoutingKey({ requestId: 'r' })).toBe('r');
    expect(defaultRoutingKey(42)).toBe(42);
    expect(defaultRoutingKey('k')).toBe('k');
    expect(defaultRoutingKey({ userId: '' })).toBeUndefined();
    expect(defaultRoutingKey({ userId: {} })).toBeUndefined();
    expect(defaultRoutingKey(null)).toBeUndefined();
  });
});

describe('when new fails in canary', () => {
  const failure = new Error('new is down');

  const failing = () => fakeService<Input, string>({ output: ['new'], failRate: 1, error: failure });

  it('with fallback, the caller gets old answer and a fallback event carries new error', async () => {
    const { glue, logger } = makeGlue(phases.canary(100), { newService: failing() });
    const seen = recordEvents(glue);
    expect(await glue.process({ userId: 'a' })).toBe('old');
    expect(seen.events.fallback).toHaveLength(1);
    expect(seen.events.fallback[0]?.error).toBe(failure);
    expect(seen.events.fallback[0]?.input).toEqual({ userId: 'a' });
    expect(glue.stats().fallbacks).toBe(1);
    expect(glue.stats().new.errors).toBe(1);
    expect(logger.lines.some((l) => l.message?.includes('fallback'))).toBe(true);
  });

  it('without fallback, the caller gets new error object unchanged', async () => {
    const { glue } = makeGlue({ ...phases.canary(100), fallbackEnabled: false }, { newService: failing() });
    await expect(glue.process({ userId: 'a' })).rejects.toBe(failure);
  });

  it('with fallback, when old fails too, the caller gets old error', async () => {
    const oldFailure = { code: 'OLD' };
    const { glue } = makeGlue(phases.canary(100), {
      newService: failing(),
      oldService: fakeService<Input, string>({ output: ['old'], failRate: 1, error: oldFailure }),
    });
    await expect(glue.process({ userId: 'a' })).rejects.toBe(oldFailure);
  });

  it('a new call over newTimeoutMs falls back to old (and fails with ERR_TIMEOUT without fallback)', async () => {
    vi.useFakeTimers();
    try {
      const hang = () => fakeService<Input, string>({ output: ['new'], hang: true });
      const { glue } = makeGlue(phases.canary(100), { newService: hang(), newTimeoutMs: 50 });
      const served = glue.process({ userId: 'a' });
      await vi.advanceTimersByTimeAsync(60);
      await expect(served).resolves.toBe('old');

      const strict = makeGlue(phases.full(), { newService: hang(), newTimeoutMs: 50 }).glue;
      const failed = strict.process({ userId: 'a' });
      const assertion = expect(failed).rejects.toSatisfy((err) => MigrationGlueError.is(err, 'ERR_TIMEOUT'));
      await vi.advanceTimersByTimeAsync(60);
      await assertion;
    } finally {
      vi.useRealTimers();
    }
  });
});

describe('when a service misbehaves', () => {
  it('a service that throws synchronously rejects the call with that error', async () => {
    const thrown = new TypeError('sync');
    const { glue } = makeGlue(phases.preparation(), {
      oldService: (() => {
        throw thrown;
      }) as never,
    });
    await expect(glue.process({ userId: 'a' })).rejects.toBe(thrown);
    expect(glue.stats().old.errors).toBe(1);
  });

  it('a service that returns a non-promise resolves with that value', async () => {
    const value = { price: 3 };
    const glue = new MigrationGlue<Input, { price: number }>({
      name: 'sync',
      oldService: (() => value) as never,
      newService: async () => ({ price: 4 }),
      config: phases.preparation(),
      logger: recordingLogger(),
    });
    await expect(glue.process({ userId: 'a' })).resolves.toBe(value);
  });

  it('rejections with non-Error values reach the caller unchanged', async () => {
    for (const reason of ['text', undefined, null, 42, { not: 'an error' }]) {
      const { glue } = makeGlue(phases.full(), { newService: () => Promise.reject(reason) });
      await expect(glue.process({ userId: 'a' })).rejects.toBe(reason);
    }
  });

  it('returns the very object the serving side gave', async () => {
    const answer = { total: 10 };
    const glue = new MigrationGlue<Input, object>({
      name: 'identity',
      oldService: async () => ({}),
      newService: async () => answer,
      config: phases.full(),
      logger: recordingLogger(),
    });
    expect(await glue.process({ userId: 'a' })).toBe(answer);
  });
});

describe('rollback', () => {
  it('with a store: saves new disabled at 0 %, the next call goes to old, event, one notification, one log line', async () => {
    const store = new InMemoryConfigStore(phases.canary(100));
    const notifications: Notification[] = [];
    const { glue, logger } = makeGlue(store, { notifier: (n) => void notifications.push(n) });
    const events: unknown[] = [];
    glue.on('rollback', (event) => events.push(event));
    expect(await glue.process({ userId: 'a' })).toBe('new');
    await expect(glue.rollback('error rate too high')).resolves.toBe(true);
    expect(store.current()).toEqual({ shadowMode: false, newSystemEnabled: false, newSystemPercentage: 0, fallbackEnabled: false });
    expect(await glue.process({ userId: 'a' })).toBe('old');
    expect(events).toEqual([
      expect.objectContaining({ migration: 'pricing', reason: 'error rate too high', before: phases.canary(100), after: store.current() }),
    ]);
    expect(notifications).toHaveLength(1);
    expect(notifications[0]).toMatchObject({ kind: 'rollback', migration: 'pricing' });
    expect(logger.lines.filter((l) => l.message === 'migration rolled back')).toHaveLength(1);
  });

  it('is a no-op the second time', async () => {
    const store = new InMemoryConfigStore(phases.full());
    const notifier = vi.fn();
    const { glue } = makeGlue(store, { notifier });
    const save = vi.spyOn(store, 'save');
    expect(await glue.rollback('first')).toBe(true);
    expect(await glue.rollback('second')).toBe(false);
    expect(save).toHaveBeenCalledTimes(1);
    expect(notifier).toHaveBeenCalledTimes(1);
    expect(glue.stats().rollbacks).toBe(1);
  });

  it('with a static config the glue switches itself', async () => {
    const { glue } = makeGlue(staticConfig(phases.full()));
    expect(await glue.process({ userId: 'a' })).toBe('new');
    const pending = glue.rollback('manual');
    // the very next call, before the rollback promise resolves, already goes to old
    expect(await glue.process({ userId: 'a' })).toBe('old');
    await pending;
    expect(glue.stats().config.newSystemEnabled).toBe(false);
  });

  it('serves old at once even while a slow store is saving, and reports a failed save', async () => {
    let finishSave: (() => void) | undefined;
    const store = new InMemoryConfigStore(phases.full());
    const realSave = store.save.bind(store);
    store.save = (config) => new Promise<void>((resolve) => (finishSave = () => void realSave(config).then(resolve)));
    const { glue } = makeGlue(store);
    const pending = glue.rollback('slow store');
    expect(await glue.process({ userId: 'a' })).toBe('old');
    finishSave?.();
    await pending;
    expect(store.current().newSystemEnabled).toBe(false);

    const broken = new InMemoryConfigStore(phases.full());
    const storeDown = new Error('store down');
    broken.save = () => Promise.reject(storeDown);
    const { glue: other, logger } = makeGlue(broken);
    await expect(other.rollback('x')).rejects.toBe(storeDown);
    expect(await other.process({ userId: 'a' })).toBe('old');
    expect(logger.lines.some((l) => l.level === 'error')).toBe(true);
  });

  it('a notifier or listener that throws is logged and never reaches the caller', async () => {
    const { glue, logger } = makeGlue(phases.full(), {
      notifier: () => {
        throw new Error('pager down');
      },
    });
    glue.on('rollback', () => {
      throw new Error('listener broke');
    });
    glue.on('route', () => {
      throw new Error('route listener broke');
    });
    await expect(glue.process({ userId: 'a' })).resolves.toBe('new');
    await expect(glue.rollback('x')).resolves.toBe(true);
    expect(logger.lines.filter((l) => l.message === 'event listener threw')).toHaveLength(2);
    expect(logger.lines.filter((l) => l.message === 'notifier failed')).toHaveLength(1);
  });

  it('follows the store again when someone saves a new config after the rollback', async () => {
    const store = new InMemoryConfigStore(phases.full());
    const { glue } = makeGlue(store);
    await glue.rollback('x');
    await store.save(phases.canary(100));
    expect(await glue.process({ userId: 'a' })).toBe('new');
  });
});

describe('config changes', () => {
  it('apply on the next call and emit configChange once per real change', async () => {
    const store = new InMemoryConfigStore(phases.preparation());
    const { glue, logger } = makeGlue(store);
    const changes: unknown[] = [];
    glue.on('configChange', (event) => changes.push(event.after));
    expect(await glue.process({ userId: 'a' })).toBe('old');
    await store.save(phases.full());
    await store.save(phases.full());
    expect(await glue.process({ userId: 'a' })).toBe('new');
    expect(changes).toEqual([phases.full()]);
    expect(logger.lines.filter((l) => l.message === 'migration config changed')).toHaveLength(1);
  });
});

describe('settled events', () => {
  it('fire after the call is in the stats, with the outcome and the arm', async () => {
    const { glue } = makeGlue(phases.canary(100), { newService: fakeService<Input, string>({ output: ['new'], failRate: 1 }) });
    const seen: { arm: string; ok: boolean; newErrors: number }[] = [];
    glue.on('settled', (event) => seen.push({ arm: event.arm, ok: event.ok, newErrors: glue.stats().new.errors }));
    await glue.process({ userId: 'a' });
    expect(seen).toEqual([
      { arm: 'new', ok: false, newErrors: 1 },
      { arm: 'old', ok: true, newErrors: 1 },
    ]);
  });
});

describe('nesting', () => {
  it('a glue can serve as old or new of another glue', async () => {
    const inner = new MigrationGlue<Input, string>({
      name: 'inner',
      oldService: async () => 'v1',
      newService: async () => 'v2',
      config: phases.full(),
      logger: recordingLogger(),
    });
    const outer = new MigrationGlue<Input, string>({
      name: 'outer',
      oldService: async () => 'v0',
      newService: inner,
      config: phases.full(),
      logger: recordingLogger(),
    });
    expect(await outer.process({ userId: 'a' })).toBe('v2');
    expect(inner.stats().new.calls).toBe(1);
    expect(outer.stats().new.calls).toBe(1);
  });
});

describe('stats', () => {
  it('counts exactly and puts p95 within one histogram bucket of the true value', async () => {
    const clock = new ManualClock();
    // call i takes i + 1 ms: latencies 1..200 ms
    const oldService = fakeService<Input, string>({ output: ['old'], latency: (_, i) => i + 1, clock });
    const { glue } = makeGlue(phases.preparation(), { clock, oldService });
    await Promise.all(Array.from({ length: 200 }, (_, i) => glue.process({ userId: String(i) })));
    expect(oldService.calls.map((c) => c.durationMs)).toEqual(Array.from({ length: 200 }, (_, i) => i + 1));
    const stats = glue.stats();
    expect(stats.old.calls).toBe(200);
    expect(stats.old.errors).toBe(0);
    expect(stats.old.window.calls).toBe(200);
    expect(stats.new.calls).toBe(0);
    // nearest-rank p95 of 1..200 is 190
    expect(stats.old.p95).toBeGreaterThanOrEqual(190);
    expect(stats.old.p95).toBeLessThanOrEqual(190 * 1.05 + 1e-9);
    expect(stats.old.p50).toBeGreaterThanOrEqual(100);
    expect(stats.old.p50).toBeLessThanOrEqual(105 + 1e-9);
  });

  it('counts errors per arm and forgets them after the window', async () => {
    const clock = new ManualClock();
    const { glue } = makeGlue(phases.full(), { clock, newService: fakeService<Input, string>({ output: ['new'], failRate: 1 }), windowMs: 60_000 });
    for (let i = 0; i < 10; i++) await glue.process({ userId: i }).catch(() => {});
    expect(glue.stats().new).toMatchObject({ calls: 10, errors: 10, errorRate: 1 });
    clock.advance(61_000);
    const stats = glue.stats();
    expect(stats.new.window).toMatchObject({ calls: 0, errors: 0, errorRate: 0 });
    expect(stats.new.calls).toBe(10);
  });

  it('reports the config in force and its phase', () => {
    const { glue } = makeGlue(phases.canary(5));
    expect(glue.stats().config).toEqual(phases.canary(5));
    expect(glue.stats().phase).toBe('canary');
  });
});

describe('options', () => {
  it('refuses bad options, naming the option and the value', () => {
    const base = { name: 'x', oldService: async () => 1, newService: async () => 2, config: phases.preparation() };
    expect(() => new MigrationGlue({ ...base, name: '' })).toThrow(/option `name` must be a non-empty string, got ""/);
    expect(() => new MigrationGlue({ ...base, oldService: 42 as never })).toThrow(/`oldService`.*got 42/);
    expect(() => new MigrationGlue({ ...base, newService: {} as never })).toThrow(/`newService`/);
    expect(() => new MigrationGlue({ ...base, config: { ...phases.full(), newSystemPercentage: 101 } })).toThrow(/newSystemPercentage/);
    expect(() => new MigrationGlue({ ...base, newTimeoutMs: -1 })).toThrow(/`newTimeoutMs`.*got -1/);
    expect(() => new MigrationGlue({ ...base, shadow: { sampleRate: 2 } })).toThrow(/`shadow.sampleRate`.*got 2/);
    expect(() => new MigrationGlue({ ...base, routingKey: 'userId' as never })).toThrow(/`routingKey`/);
    expect(() => new MigrationGlue({ ...base, windowMs: 0 })).toThrow(expect.objectContaining({ code: 'ERR_INVALID_OPTION' }));
  });

  it('after close, calls reject with ERR_CLOSED and config changes are no longer followed', async () => {
    const store = new InMemoryConfigStore();
    const { glue } = makeGlue(store);
    const changes = vi.fn();
    glue.on('configChange', changes);
    await glue.close();
    await store.save(phases.full());
    expect(changes).not.toHaveBeenCalled();
    await expect(glue.process({ userId: 'a' })).rejects.toSatisfy((err) => MigrationGlueError.is(err, 'ERR_CLOSED'));
  });

  it('types events from the event map', () => {
    const { glue } = makeGlue(phases.preparation());
    glue.on('fallback', (event) => {
      expectTypeOf(event.input).toEqualTypeOf<Input>();
      expectTypeOf(event.error).toEqualTypeOf<unknown>();
    });
    glue.on('rollback', (event) => {
      expectTypeOf(event.after).toEqualTypeOf<MigrationConfig>();
    });
    expectTypeOf(glue.on).parameter(0).toEqualTypeOf<'route' | 'settled' | 'fallback' | 'mismatch' | 'shadowError' | 'shadowSkipped' | 'rollback' | 'configChange'>();
    expectTypeOf(glue.process).returns.toEqualTypeOf<Promise<string>>();
  });
});

describe('stats().phase after a rollback', () => {
  it('says rolled-back, never preparation, whoever rolled back, until the migration moves forward', async () => {
    const store = new InMemoryConfigStore(phases.preparation());
    const make = () =>
      new MigrationGlue<{ userId: string }, string>({
        name: 'phase',
        config: store,
        logger: silentLogger,
        oldService: async () => 'old',
        newService: async () => 'new',
      });
    const a = make();
    const b = make();
    expect(a.stats().phase).toBe('preparation');
    await store.save(phases.canary(10));
    expect(a.stats().phase).toBe('canary');
    await a.rollback('bad release');
    expect(a.stats().phase).toBe('rolled-back');
    // b did not roll back itself: it saw the config fall from canary to none
    expect(b.stats().phase).toBe('rolled-back');
    expect(b.stats().config).toEqual(phases.preparation());
    await store.save(phases.shadow());
    expect(a.stats().phase).toBe('shadow');
    expect(b.stats().phase).toBe('shadow');
    await a.close();
    await b.close();
  });
});
