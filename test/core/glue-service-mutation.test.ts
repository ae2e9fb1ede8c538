import { afterEach, describe, expect, it, vi } from 'vitest';
import { glueService } from '../../src/core/glue-service.js';
import type { GlueServiceOptions } from '../../src/core/glue-service.js';
import { InMemoryConfigStore, MigrationGlueError, phases } from '../../src/index.js';
import type { MigrationConfig } from '../../src/index.js';
import { recordingLogger } from '../helpers.js';

// src/core/glue-service.ts: a whole service glued at once, each method by
// its policy, all sharing one config.

interface Shop {
  find(input: { userId?: string; item: string }): Promise<string>;
  buy(input: { userId: string; item: string }): Promise<string>;
  mail(input: { userId: string }): Promise<string>;
}

function sides() {
  const calls: string[] = [];
  const make = (side: 'old' | 'new'): Shop & { side: string } => ({
    side,
    async find({ item }) {
      calls.push(`${this.side}.find`);
      return `${item}@${this.side}`;
    },
    async buy({ item }) {
      calls.push(`${this.side}.buy`);
      return `bought ${item}@${this.side}`;
    },
    async mail() {
      calls.push(`${this.side}.mail`);
      return `mail@${this.side}`;
    },
  });
  return { calls, oldSide: make('old'), newSide: make('new') };
}

function shop(config: MigrationConfig | InMemoryConfigStore, extra: Partial<GlueServiceOptions<Shop>> = {}) {
  const { calls, oldSide, newSide } = sides();
  const logger = recordingLogger();
  const service = glueService<Shop>({
    name: 'shop',
    oldService: oldSide,
    newService: newSide,
    config,
    logger,
    policies: { find: 'shadow', buy: 'dualWrite', mail: 'oldOnly' },
    ...extra,
  });
  return { service, calls, logger };
}

/** The ERR_INVALID_OPTION message glueService throws for `extra`, checking the option named. */
function refusal(extra: Record<string, unknown>, option: string): string {
  let caught: unknown;
  try {
    shop(phases.preparation(), extra as Partial<GlueServiceOptions<Shop>>);
  } catch (err) {
    caught = err;
  }
  expect(MigrationGlueError.is(caught, 'ERR_INVALID_OPTION')).toBe(true);
  expect(caught).toMatchObject({ option });
  return (caught as Error).message;
}

afterEach(() => {
  vi.useRealTimers();
});

describe('glueService methods', () => {
  it('calls each implementation on its own object', async () => {
    const { service } = shop(phases.full());
    await expect(service.find({ userId: 'u', item: 'tea' })).resolves.toBe('tea@new');
    await expect(service.mail({ userId: 'u' })).resolves.toBe('mail@new');
    await expect(service.buy({ userId: 'u', item: 'tea' })).resolves.toBe('bought tea@new');
    await service.migration.close();
  });

  it('an oldOnly method goes to old until the config is full', async () => {
    for (const [config, side] of [
      [phases.preparation(), 'old'],
      [phases.shadow(), 'old'],
      [phases.canary(99.99), 'old'],
      [phases.full(), 'new'],
    ] as const) {
      const { service, calls } = shop(config);
      await expect(service.mail({ userId: 'u' })).resolves.toBe(`mail@${side}`);
      expect(calls).toEqual([`${side}.mail`]);
    }
  });

  it('a shadow method is a glue named after the service and the method, with the service as salt', async () => {
    const { service } = shop(phases.shadow());
    await service.find({ userId: 'u', item: 'tea' });
    await service.migration.drain();
    expect(Object.keys(service.migration.glues)).toEqual(['find']);
    expect(service.migration.glues.find?.name).toBe('shop.find');
    const stats = service.migration.stats();
    expect(Object.keys(stats)).toEqual(['find']);
    expect(stats['find']?.migration).toBe('shop.find');
    expect(stats['find']?.shadow.compared).toBe(1);
    await service.migration.close();
  });

  it('by default, the routing key is the first argument\'s userId', async () => {
    const { service } = shop(phases.canary(50));
    await service.find({ userId: 'u', item: 'tea' });
    expect(service.migration.stats()['find']?.missingKeys).toBe(0);
    await service.find({ item: 'tea' });
    expect(service.migration.stats()['find']?.missingKeys).toBe(1);
    await service.migration.close();
  });

  it('a routingKey given is asked with the method\'s name and its arguments', async () => {
    const asked: unknown[] = [];
    const { service } = shop(phases.canary(50), {
      routingKey: (method, args) => {
        asked.push([method, args]);
        return 'fixed';
      },
    });
    await service.find({ item: 'tea' });
    expect(asked).toEqual([['find', [{ item: 'tea' }]]]);
    expect(service.migration.stats()['find']?.missingKeys).toBe(0);
    await service.migration.close();
  });

  it('the glued service is frozen', () => {
    const { service } = shop(phases.preparation());
    expect(Object.isFrozen(service)).toBe(true);
  });
});

describe('glueService config', () => {
  it('a config provider is used as it is; a plain config is wrapped in a store every method reads', async () => {
    const store = new InMemoryConfigStore(phases.preparation());
    expect(shop(store).service.migration.config).toBe(store);
    const { service, calls } = shop(phases.preparation());
    expect(service.migration.config).toBeInstanceOf(InMemoryConfigStore);
    expect(service.migration.config.current()).toEqual(phases.preparation());
    await (service.migration.config as InMemoryConfigStore).save(phases.full());
    await service.mail({ userId: 'u' });
    await service.find({ userId: 'u', item: 'x' });
    expect(calls).toEqual(['new.mail', 'new.find']);
    await service.migration.close();
  });
});

describe('glueService dual writes', () => {
  it('waits 5 s for the secondary write by default', async () => {
    vi.useFakeTimers();
    const { oldSide, newSide } = sides();
    const service = glueService<Shop>({
      name: 'shop',
      oldService: oldSide,
      newService: { ...newSide, buy: () => new Promise<string>(() => {}) },
      config: phases.shadow(),
      logger: recordingLogger(),
      policies: { find: 'shadow', buy: 'dualWrite', mail: 'oldOnly' },
    });
    let answer: unknown;
    void service.buy({ userId: 'u', item: 'tea' }).then((value) => (answer = value));
    await vi.advanceTimersByTimeAsync(4_999);
    expect(answer).toBeUndefined();
    await vi.advanceTimersByTimeAsync(1);
    expect(answer).toBe('bought tea@old');
  });

  it('logs a failed secondary write by the shadow.clean rules', async () => {
    const { oldSide, newSide } = sides();
    const logger = recordingLogger();
    const service = glueService<Shop>({
      name: 'shop',
      oldService: oldSide,
      newService: {
        ...newSide,
        buy: async ({ item }) => {
          throw new Error(`no stock of ${item}`);
        },
      },
      config: phases.shadow(),
      logger,
      policies: { find: 'shadow', buy: 'dualWrite', mail: 'oldOnly' },
      shadow: { clean: { input: (args) => args.map(() => ({ userId: '***', item: '***' })) } },
    });
    await service.buy({ userId: 'u', item: 'SECRET-ITEM' });
    const line = logger.lines.find((l) => l.level === 'error');
    expect(line?.context).toMatchObject({ err: { name: 'Error', message: 'no stock of [redacted]' }, migration: 'shop', method: 'buy', side: 'new' });
    expect(JSON.stringify(logger.lines)).not.toContain('SECRET-ITEM');
  });

  it('without shadow.clean, a failed secondary write is logged as it is', async () => {
    const { oldSide, newSide } = sides();
    const logger = recordingLogger();
    const service = glueService<Shop>({
      name: 'shop',
      oldService: oldSide,
      newService: {
        ...newSide,
        buy: async () => {
          throw new Error('no stock');
        },
      },
      config: phases.shadow(),
      logger,
      policies: { find: 'shadow', buy: 'dualWrite', mail: 'oldOnly' },
      shadow: { timeoutMs: 100 },
    });
    await service.buy({ userId: 'u', item: 'x' });
    const err = (logger.lines.find((l) => l.level === 'error')?.context as { err?: Record<string, unknown> }).err;
    expect(err).toMatchObject({ name: 'Error', message: 'no stock' });
    expect(err?.['stack']).toEqual(expect.stringContaining('no stock'));
  });
});

describe('glueService drain and close', () => {
  it('wait for every shadow method\'s glue', async () => {
    let release: () => void = () => {};
    const { oldSide, newSide } = sides();
    const service = glueService<Shop>({
      name: 'shop',
      oldService: oldSide,
      newService: { ...newSide, find: () => new Promise<string>((resolve) => (release = () => resolve('late'))) },
      config: phases.shadow(),
      logger: recordingLogger(),
      policies: { find: 'shadow', buy: 'dualWrite', mail: 'oldOnly' },
    });
    await service.find({ userId: 'u', item: 'x' });
    expect(service.migration.stats()['find']?.shadow.inFlight).toBe(1);
    let drained = false;
    const draining = service.migration.drain().then(() => (drained = true));
    for (let i = 0; i < 10; i++) await Promise.resolve();
    expect(drained).toBe(false);
    release();
    await draining;
    expect(service.migration.stats()['find']?.shadow.inFlight).toBe(0);
    await service.migration.close();
  });

  it('close closes every shadow method\'s glue', async () => {
    const { service } = shop(phases.shadow());
    await service.migration.close();
    await expect(service.find({ userId: 'u', item: 'x' })).rejects.toMatchObject({ code: 'ERR_CLOSED' });
  });
});

describe('glueService option checks', () => {
  it('services: objects or functions with the methods policies names', () => {
    expect(refusal({ oldService: 'shop' }, 'oldService')).toBe('[migration-glue] option `oldService` must be an object with the methods `policies` names, got "shop"');
    refusal({ newService: null }, 'newService');
    const fnService = Object.assign(() => undefined, { find: async () => 'f', buy: async () => 'b', mail: async () => 'm' });
    expect(() => shop(phases.preparation(), { oldService: fnService as unknown as Shop })).not.toThrow();
  });

  it('a method that is not a function, or cannot be read, is refused naming side and method', () => {
    expect(refusal({ newService: { find: async () => '', buy: 'no', mail: async () => '' } }, 'newService.buy')).toBe(
      '[migration-glue] option `newService.buy` must be a function (policies names it), got "no"',
    );
    const getter = Object.defineProperty({ buy: async () => '', mail: async () => '' }, 'find', {
      enumerable: true,
      get() {
        throw new Error('no');
      },
    });
    expect(refusal({ oldService: getter }, 'oldService.find')).toBe('[migration-glue] option `oldService.find` must be a function (policies names it), got undefined');
  });

  it('policies: a map of method to shadow, dualWrite or oldOnly', () => {
    expect(refusal({ policies: { find: 'read' } }, 'policies.find')).toBe(
      '[migration-glue] option `policies.find` must be \'shadow\', \'dualWrite\' or \'oldOnly\', got "read"',
    );
    expect(refusal({ policies: 'shadow' }, 'policies')).toBe(
      '[migration-glue] option `policies` must map each method to \'shadow\', \'dualWrite\' or \'oldOnly\', got "shadow"',
    );
  });

  it('an unknown option is refused as not an option of glueService', () => {
    expect(refusal({ secondaryTimeout: 5 }, 'secondaryTimeout')).toMatch(/^\[migration-glue\] option `secondaryTimeout` is not an option of glueService/);
  });

  it('routingKey and onSecondaryFailure: functions; secondaryTimeoutMs: a timer delay', () => {
    refusal({ routingKey: 'userId' }, 'routingKey');
    refusal({ onSecondaryFailure: true }, 'onSecondaryFailure');
    refusal({ secondaryTimeoutMs: 0 }, 'secondaryTimeoutMs');
  });
});
