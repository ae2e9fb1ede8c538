import { afterEach, describe, expect, it, vi } from 'vitest';
import { isRolledBack } from '../../src/config/migration-config.js';
import { InMemoryConfigStore, MigrationGlueError, glueService, phases } from '../../src/index.js';
import type { ConfigProvider, MigrationConfig, Notification } from '../../src/index.js';
import { recordingLogger } from '../helpers.js';

// The rollback of a glued service (src/core/service-rollback.ts): who saves,
// what the notification says, and what a second rollback does.

interface Catalog {
  price(input: { userId: string }): Promise<string>;
  reserve(input: { userId: string }): Promise<string>;
  email(input: { userId: string }): Promise<string>;
}

function catalog(side: 'old' | 'new'): Catalog {
  return { price: async () => side, reserve: async () => side, email: async () => side };
}

const withShadow = { price: 'shadow', reserve: 'dualWrite', email: 'oldOnly' } as const;
const withoutShadow = { price: 'oldOnly', reserve: 'dualWrite', email: 'oldOnly' } as const;

function glued(config: MigrationConfig | ConfigProvider, policies: typeof withShadow | typeof withoutShadow) {
  const notifications: Notification[] = [];
  const logger = recordingLogger();
  const service = glueService<Catalog>({
    name: 'catalog',
    oldService: catalog('old'),
    newService: catalog('new'),
    policies,
    config,
    logger,
    notifier: (n) => void notifications.push(n),
  });
  return { service, notifications, logger };
}

describe('a service rollback without shadow methods', () => {
  it('saves the rollback once, notifies once with the reason and the config before, and logs one line', async () => {
    const store = new InMemoryConfigStore(phases.canary(30));
    const save = vi.spyOn(store, 'save');
    const { service, notifications, logger } = glued(store, withoutShadow);
    await expect(service.migration.rollback('bad deploy')).resolves.toBe(true);
    expect(save).toHaveBeenCalledTimes(1);
    expect(isRolledBack(store.current())).toBe(true);
    expect(notifications).toEqual([
      expect.objectContaining({
        kind: 'rollback',
        migration: 'catalog',
        message: 'catalog: rolled back (bad deploy)',
        details: { reason: 'bad deploy', before: phases.canary(30), after: phases.rolledBack() },
      }),
    ]);
    expect(typeof notifications[0]?.at).toBe('number');
    const warnings = logger.lines.filter((line) => line.message === 'migration rolled back');
    expect(warnings).toEqual([{ level: 'warn', context: { migration: 'catalog', reason: 'bad deploy', before: phases.canary(30) }, message: 'migration rolled back' }]);
    expect(await service.reserve({ userId: 'a' })).toBe('old');
  });

  it.each([
    ['', 'no reason given'],
    [undefined, 'no reason given'],
    [42, 'no reason given'],
    ['z'.repeat(1_001), 'z'.repeat(1_000)],
    ['z'.repeat(1_000), 'z'.repeat(1_000)],
  ])('shows the reason %j as %j', async (reason, shown) => {
    const { service, notifications } = glued(new InMemoryConfigStore(phases.full()), withoutShadow);
    await service.migration.rollback(reason as string);
    expect(notifications[0]?.details).toMatchObject({ reason: shown });
  });

  it('rolls back again once the store moved forward', async () => {
    const store = new InMemoryConfigStore(phases.full());
    const { service, notifications } = glued(store, withoutShadow);
    await expect(service.migration.rollback('first')).resolves.toBe(true);
    await store.save(phases.canary(10));
    await expect(service.migration.rollback('second')).resolves.toBe(true);
    expect(notifications).toHaveLength(2);
  });

  describe('with a slow store', () => {
    afterEach(() => {
      vi.useRealTimers();
    });

    it('waits for the save up to storeTimeoutMs (30 s by default), not less', async () => {
      vi.useFakeTimers();
      const store = new InMemoryConfigStore(phases.full());
      const save = store.save.bind(store);
      store.save = (config) => new Promise<void>((resolve) => setTimeout(() => void save(config).then(resolve), 20_000));
      const { service } = glued(store, withoutShadow);
      const rolling = service.migration.rollback('slow');
      await vi.advanceTimersByTimeAsync(20_000);
      await expect(rolling).resolves.toBe(true);
      expect(isRolledBack(store.current())).toBe(true);
    });
  });

  it('does nothing on a store already rolled back', async () => {
    const store = new InMemoryConfigStore(phases.rolledBack());
    const save = vi.spyOn(store, 'save');
    const { service, notifications } = glued(store, withoutShadow);
    await expect(service.migration.rollback('x')).resolves.toBe(false);
    expect(save).not.toHaveBeenCalled();
    expect(notifications).toEqual([]);
  });

  it('refuses with a config provider that cannot save', async () => {
    const provider: ConfigProvider = { current: () => phases.full(), subscribe: () => () => {} };
    const { service } = glued(provider, withoutShadow);
    const rolling = service.migration.rollback('x');
    await expect(rolling).rejects.toBeInstanceOf(MigrationGlueError);
    await expect(rolling).rejects.toMatchObject({ code: 'ERR_INVALID_OPTION' });
    await expect(rolling).rejects.toThrow(/cannot roll back "catalog"/);
  });

  it('reports a failed save: rejects with the store error, logs it, notified all the same, and keeps serving old', async () => {
    const store = new InMemoryConfigStore(phases.full());
    const down = new Error('store down');
    store.save = () => Promise.reject(down);
    const { service, notifications, logger } = glued(store, withoutShadow);
    await expect(service.migration.rollback('x')).rejects.toBe(down);
    expect(notifications).toHaveLength(1);
    const errors = logger.lines.filter((line) => line.level === 'error' && /could not be saved/.test(line.message ?? ''));
    expect(errors).toHaveLength(1);
    expect(errors[0]?.context).toMatchObject({ migration: 'catalog', err: expect.objectContaining({ message: 'store down' }) });
    expect(await service.reserve({ userId: 'a' })).toBe('old');
  });

  it('resolves only once the notifier answered', async () => {
    let answer: (() => void) | undefined;
    const service = glueService<Catalog>({
      name: 'catalog',
      oldService: catalog('old'),
      newService: catalog('new'),
      policies: withoutShadow,
      config: new InMemoryConfigStore(phases.full()),
      logger: recordingLogger(),
      notifier: () => new Promise<void>((resolve) => (answer = resolve)),
    });
    let done = false;
    const pending = service.migration.rollback('x').then(() => (done = true));
    for (let i = 0; i < 30; i++) await Promise.resolve();
    expect(done).toBe(false);
    answer?.();
    await pending;
    expect(done).toBe(true);
  });

  it('a second rollback while one is saved waits for it and resolves false, even when the first fails', async () => {
    const store = new InMemoryConfigStore(phases.full());
    let fail: ((err: Error) => void) | undefined;
    store.save = () => new Promise<void>((_, reject) => (fail = reject));
    const { service } = glued(store, withoutShadow);
    const first = service.migration.rollback('a');
    let secondDone = false;
    const second = service.migration.rollback('b').then((value) => {
      secondDone = true;
      return value;
    });
    for (let i = 0; i < 30; i++) await Promise.resolve();
    expect(secondDone).toBe(false);
    fail?.(new Error('down'));
    await expect(first).rejects.toThrow('down');
    await expect(second).resolves.toBe(false);
  });
});

describe('a service rollback with a shadow method', () => {
  it('does nothing when every glue is already rolled back, even when the store still uses new', async () => {
    const store = new InMemoryConfigStore(phases.full());
    const { service, notifications } = glued(store, withShadow);
    await expect(service.migration.rollback('first')).resolves.toBe(true);
    await expect(service.migration.rollback('second')).resolves.toBe(false);
    expect(notifications).toHaveLength(1);
  });

  it('the glue saves and notifies once; dual writes serve old until the save settled', async () => {
    const store = new InMemoryConfigStore(phases.full());
    const save = store.save.bind(store);
    let finish: (() => void) | undefined;
    store.save = (config) => new Promise<void>((resolve) => (finish = () => void save(config).then(resolve)));
    const { service, notifications } = glued(store, withShadow);
    const rolling = service.migration.rollback('x');
    expect(await service.reserve({ userId: 'a' })).toBe('old');
    expect(await service.price({ userId: 'a' })).toBe('old');
    finish?.();
    await expect(rolling).resolves.toBe(true);
    expect(notifications).toHaveLength(1);
    expect(await service.reserve({ userId: 'a' })).toBe('old');
  });
});
