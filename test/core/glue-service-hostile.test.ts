import { afterEach, describe, expect, it, vi } from 'vitest';
import { isRolledBack } from '../../src/config/migration-config.js';
import { InMemoryConfigStore, MigrationGlueError, glueService, phases } from '../../src/index.js';
import type { ConfigStore, MigrationConfig, Notification, SecondaryFailure } from '../../src/index.js';
import { recordingLogger } from '../helpers.js';

interface Accounts {
  balance(input: { userId: string }): Promise<number>;
  deposit(input: { userId: string; amount: number }): Promise<number>;
  sendReceipt(input: { userId: string }): Promise<string>;
}

function throwingMessage(): unknown {
  return {
    get message(): string {
      throw new Error('message getter');
    },
  };
}

function revokedProxy(): unknown {
  const { proxy, revoke } = Proxy.revocable(new Error('gone'), {});
  revoke();
  return proxy;
}

/** Old and new accounts, each counting the writes it applied. */
function sides(overrides: { old?: Partial<Accounts>; new?: Partial<Accounts> } = {}) {
  const applied = { old: 0, new: 0 };
  const make = (side: 'old' | 'new'): Accounts => ({
    balance: async () => (side === 'old' ? 100 : 100),
    deposit: async ({ amount }) => {
      applied[side] += 1;
      return 100 + amount;
    },
    sendReceipt: async () => `${side} receipt`,
    ...overrides[side],
  });
  return { applied, oldService: make('old'), newService: make('new') };
}

/** The two sides alone, to spread into glueService's options (which refuse unknown ones such as `applied`). */
function services(overrides: { old?: Partial<Accounts>; new?: Partial<Accounts> } = {}) {
  const { oldService, newService } = sides(overrides);
  return { oldService, newService };
}

const policies = { balance: 'shadow', deposit: 'dualWrite', sendReceipt: 'oldOnly' } as const;

afterEach(() => {
  vi.useRealTimers();
});

describe('glueService dualWrite with a hostile secondary', () => {
  for (const [what, make] of [
    ['a message getter that throws', throwingMessage],
    ['a revoked Proxy', revokedProxy],
  ] as const) {
    it(`when new rejects with ${what}, the caller gets old's value (the write old applied), with the default logger`, async () => {
      const { applied, oldService, newService } = sides({ new: { deposit: () => Promise.reject(make()) } });
      const failures: SecondaryFailure[] = [];
      const service = glueService<Accounts>({
        name: 'accounts-default-logger',
        oldService,
        newService,
        policies,
        config: phases.shadow(),
        onSecondaryFailure: (failure) => void failures.push(failure),
      });
      await expect(service.deposit({ userId: 'a', amount: 5 })).resolves.toBe(105);
      expect(applied.old).toBe(1);
      expect(failures).toHaveLength(1);
      expect(failures[0]?.side).toBe('new');
    });
  }

  it('when the primary rejects with a hostile value, the caller gets that very value and the secondary is not written', async () => {
    const hostile = throwingMessage();
    const { applied, oldService, newService } = sides({ old: { deposit: () => Promise.reject(hostile) } });
    const service = glueService<Accounts>({ name: 'accounts', oldService, newService, policies, config: phases.shadow(), logger: recordingLogger() });
    await expect(service.deposit({ userId: 'a', amount: 5 })).rejects.toBe(hostile);
    expect(applied.new).toBe(0);
  });

  it('a secondary that never answers: the caller gets the primary value after secondaryTimeoutMs, and the failure is reported', async () => {
    vi.useFakeTimers();
    const { oldService, newService } = sides({ new: { deposit: () => new Promise<number>(() => {}) } });
    const failures: SecondaryFailure[] = [];
    const service = glueService<Accounts>({
      name: 'accounts',
      oldService,
      newService,
      policies,
      config: phases.shadow(),
      logger: recordingLogger(),
      secondaryTimeoutMs: 200,
      onSecondaryFailure: (failure) => void failures.push(failure),
    });
    let answer: unknown;
    void service.deposit({ userId: 'a', amount: 5 }).then((value) => (answer = value));
    await vi.advanceTimersByTimeAsync(199);
    expect(answer).toBeUndefined();
    await vi.advanceTimersByTimeAsync(1);
    expect(answer).toBe(105);
    expect(failures).toHaveLength(1);
    expect(MigrationGlueError.is(failures[0]?.error, 'ERR_TIMEOUT')).toBe(true);
  });

  it('an onSecondaryFailure that throws or rejects is logged, never reaching the caller nor left unhandled', async () => {
    const unhandled = vi.fn();
    process.on('unhandledRejection', unhandled);
    try {
      for (const onSecondaryFailure of [
        () => {
          throw new Error('hook broke');
        },
        async () => {
          throw new Error('hook rejected');
        },
      ]) {
        const logger = recordingLogger();
        const { oldService, newService } = sides({ new: { deposit: () => Promise.reject(new Error('new down')) } });
        const service = glueService<Accounts>({ name: 'accounts', oldService, newService, policies, config: phases.shadow(), logger, onSecondaryFailure });
        await expect(service.deposit({ userId: 'a', amount: 5 })).resolves.toBe(105);
        await new Promise((resolve) => setTimeout(resolve, 10));
        expect(logger.lines.some((l) => l.message === 'onSecondaryFailure threw')).toBe(true);
      }
      expect(unhandled).not.toHaveBeenCalled();
    } finally {
      process.off('unhandledRejection', unhandled);
    }
  });
});

describe('glueService and implementations that throw synchronously or return non-promises', () => {
  const boom = new Error('sync boom');
  const throwing = () => {
    throw boom;
  };

  it.each([
    ['oldOnly', 'sendReceipt', phases.preparation()],
    ['oldOnly in full', 'sendReceipt', phases.full()],
    ['dualWrite (primary)', 'deposit', phases.shadow()],
    ['dualWrite in preparation', 'deposit', phases.preparation()],
    ['shadow', 'balance', phases.preparation()],
  ] as const)('%s: a synchronous throw comes back as a rejection with that very error', async (_what, method, config) => {
    const overrides = { [method]: throwing } as Partial<Accounts>;
    const service = glueService<Accounts>({
      name: 'accounts',
      ...services({ old: overrides, new: overrides }),
      policies,
      config,
      logger: recordingLogger(),
    });
    let result: Promise<unknown> | undefined;
    expect(() => {
      result = (service[method] as (input: { userId: string; amount: number }) => Promise<unknown>)({ userId: 'a', amount: 1 });
    }).not.toThrow();
    expect(result).toBeInstanceOf(Promise);
    await expect(result).rejects.toBe(boom);
  });

  it('a method returning a plain value still returns a promise of it', async () => {
    const plain = { sendReceipt: (() => 'plain receipt') as never, deposit: (() => 7) as never };
    const service = glueService<Accounts>({ name: 'accounts', ...services({ old: plain, new: plain }), policies, config: phases.shadow(), logger: recordingLogger() });
    const receipt = service.sendReceipt({ userId: 'a' });
    expect(receipt).toBeInstanceOf(Promise);
    await expect(receipt).resolves.toBe('plain receipt');
    await expect(service.deposit({ userId: 'a', amount: 1 })).resolves.toBe(7);
  });
});

/** A store whose saves land and resolve only when the test says so. */
class GatedStore implements ConfigStore {
  #config: MigrationConfig;
  readonly #listeners = new Set<(config: MigrationConfig) => void>();
  readonly pending: { config: MigrationConfig; land: () => void; resolve: () => void }[] = [];
  immediate = false;

  constructor(initial: MigrationConfig) {
    this.#config = initial;
  }

  current(): MigrationConfig {
    return this.#config;
  }

  subscribe(listener: (config: MigrationConfig) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  save(config: MigrationConfig): Promise<void> {
    const land = () => {
      this.#config = config;
      for (const listener of this.#listeners) listener(config);
    };
    if (this.immediate) {
      land();
      return Promise.resolve();
    }
    return new Promise<void>((resolve) => this.pending.push({ config, land, resolve }));
  }
}

interface Catalog {
  price(input: { userId: string }): Promise<string>;
  stock(input: { userId: string }): Promise<string>;
  reserve(input: { userId: string }): Promise<string>;
  email(input: { userId: string }): Promise<string>;
}

function catalog(side: 'old' | 'new'): Catalog {
  return { price: async () => side, stock: async () => side, reserve: async () => side, email: async () => side };
}

describe('glueService rollback', () => {
  const catalogPolicies = { price: 'shadow', stock: 'shadow', reserve: 'dualWrite', email: 'oldOnly' } as const;

  it('every method serves old from the call on, while the save is pending and after a stale save landed over it', async () => {
    const store = new GatedStore(phases.full());
    const service = glueService<Catalog>({ name: 'catalog', oldService: catalog('old'), newService: catalog('new'), policies: catalogPolicies, config: store, logger: recordingLogger() });
    const all = async () => Promise.all([service.price({ userId: 'a' }), service.stock({ userId: 'a' }), service.reserve({ userId: 'a' }), service.email({ userId: 'a' })]);
    expect(await all()).toEqual(['new', 'new', 'new', 'new']);
    const stale = store.save(phases.full());
    const rollback = service.migration.rollback('error rate');
    expect(await all()).toEqual(['old', 'old', 'old', 'old']);
    const [step, back] = store.pending;
    back?.land();
    step?.land();
    step?.resolve();
    expect(await all()).toEqual(['old', 'old', 'old', 'old']);
    store.immediate = true;
    back?.resolve();
    await stale;
    await expect(rollback).resolves.toBe(true);
    expect(isRolledBack(store.current())).toBe(true);
    expect(await all()).toEqual(['old', 'old', 'old', 'old']);
    // a deliberate move forward is followed by every method
    await store.save(phases.full());
    expect(await all()).toEqual(['new', 'new', 'new', 'new']);
  });

  it('twice at once: one save, one notification; the second resolves false', async () => {
    const store = new InMemoryConfigStore(phases.full());
    const save = vi.spyOn(store, 'save');
    const notifications: Notification[] = [];
    const service = glueService<Catalog>({
      name: 'catalog',
      oldService: catalog('old'),
      newService: catalog('new'),
      policies: catalogPolicies,
      config: store,
      logger: recordingLogger(),
      notifier: (n) => void notifications.push(n),
    });
    const [first, second] = await Promise.all([service.migration.rollback('a'), service.migration.rollback('b')]);
    expect([first, second]).toEqual([true, false]);
    expect(save).toHaveBeenCalledTimes(1);
    expect(notifications).toHaveLength(1);
  });

  it('without shadow methods: notifies (bounded by notifierTimeoutMs) and saves once', async () => {
    vi.useFakeTimers();
    const store = new InMemoryConfigStore(phases.full());
    const notifier = vi.fn(() => new Promise<void>(() => {}));
    const logger = recordingLogger();
    const service = glueService<Catalog>({
      name: 'catalog',
      oldService: catalog('old'),
      newService: catalog('new'),
      policies: { price: 'oldOnly', stock: 'oldOnly', reserve: 'dualWrite', email: 'oldOnly' },
      config: store,
      logger,
      notifier,
      notifierTimeoutMs: 100,
    });
    const pending = service.migration.rollback('manual');
    expect(await service.price({ userId: 'a' })).toBe('old');
    await vi.advanceTimersByTimeAsync(100);
    await expect(pending).resolves.toBe(true);
    expect(notifier).toHaveBeenCalledTimes(1);
    expect(isRolledBack(store.current())).toBe(true);
    expect(logger.lines.some((l) => l.message?.includes('notifier did not settle'))).toBe(true);
  });
});

describe('glueService option checks', () => {
  const base = { name: 'catalog', oldService: catalog('old'), newService: catalog('new'), policies: { price: 'shadow', stock: 'shadow', reserve: 'dualWrite', email: 'oldOnly' } as const, config: phases.preparation() };
  const invalid = (option: string) => (err: unknown) => MigrationGlueError.is(err, 'ERR_INVALID_OPTION') && (err as Error).message.includes(`\`${option}\``);

  it.each([
    ['notifier', {}],
    ['notifier', null],
    ['notifier', 'x'],
    ['logger', null],
    ['logger', 'x'],
    ['secondaryTimeoutMs', -1],
    ['onSecondaryFailure', 'x'],
  ])('refuses %s: %o with ERR_INVALID_OPTION naming it', (option, value) => {
    expect(() => glueService<Catalog>({ ...base, [option]: value as never })).toThrow(expect.toSatisfy(invalid(option)));
  });
});
