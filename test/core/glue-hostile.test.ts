import { Writable } from 'node:stream';
import pino from 'pino';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { isRolledBack } from '../../src/config/migration-config.js';
import { InMemoryConfigStore, MigrationGlue, MigrationGlueError, phases } from '../../src/index.js';
import type { ConfigStore, Logger, MigrationConfig, MigrationGlueOptions, Notification } from '../../src/index.js';
import { pricingGlue } from '../helpers.js';

type Input = { userId?: string; accountId?: string; card?: string };

function makeGlue(config: MigrationConfig | ConfigStore, extra: Partial<MigrationGlueOptions<Input, string>> = {}) {
  return pricingGlue<Input>(config, extra);
}

/** Errors whose reading throws: what a hostile new service may reject with. */
function hostileErrors(): [string, () => unknown][] {
  return [
    [
      'a message getter that throws',
      () => ({
        get message(): string {
          throw new Error('message getter');
        },
      }),
    ],
    [
      'a stack getter that throws',
      () => {
        const err = new Error('boom');
        Object.defineProperty(err, 'stack', {
          get() {
            throw new Error('stack getter');
          },
        });
        return err;
      },
    ],
    [
      'a revoked Proxy',
      () => {
        const { proxy, revoke } = Proxy.revocable(new Error('gone'), {});
        revoke();
        return proxy;
      },
    ],
  ];
}

/** A pino logger writing JSON lines into an array. */
function pinoLines(): { logger: Logger; lines: string[] } {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(chunk.toString());
      done();
    },
  });
  return { logger: pino({ level: 'debug' }, stream), lines };
}

afterEach(() => {
  vi.useRealTimers();
});

describe('canary 100 % with fallback, when new rejects with a hostile error', () => {
  for (const [what, make] of hostileErrors()) {
    it(`with ${what}, the caller gets old's value (default logger)`, async () => {
      const glue = new MigrationGlue<Input, string>({
        name: 'hostile-default-logger',
        oldService: async () => 'old',
        newService: () => Promise.reject(make()),
        config: phases.canary(100),
      });
      await expect(glue.process({ userId: 'a' })).resolves.toBe('old');
    });

    it(`with ${what}, the caller gets old's value (a pino logger) and a line is still written`, async () => {
      const { logger, lines } = pinoLines();
      const { glue } = makeGlue(phases.canary(100), { logger, newService: () => Promise.reject(make()) });
      await expect(glue.process({ userId: 'a' })).resolves.toBe('old');
      expect(lines.some((line) => line.includes('fallback'))).toBe(true);
    });
  }
});

describe('error summaries in log lines', () => {
  it('carry name, message and code of new error, never its other enumerable properties', async () => {
    const { logger, lines } = pinoLines();
    const error = Object.assign(new Error('request failed with status 500'), {
      code: 'ERR_BAD_RESPONSE',
      config: { headers: { Authorization: 'Bearer sk_live_secret' } },
      card: '4111111111111111',
    });
    const { glue } = makeGlue(phases.canary(100), {
      logger,
      newService: () => Promise.reject(error),
      shadow: { clean: { input: (input) => ({ ...input, card: '[redacted]' }) } },
    });
    await expect(glue.process({ userId: 'a', card: '4111111111111111' })).resolves.toBe('old');
    const text = lines.join('\n');
    expect(text).toContain('request failed with status 500');
    expect(text).toContain('ERR_BAD_RESPONSE');
    expect(text).not.toContain('sk_live_secret');
    expect(text).not.toContain('4111111111111111');
  });
});

describe('rollback and a notifier that never settles', () => {
  it('resolves once the notifier timeout passed, and logs the timeout', async () => {
    vi.useFakeTimers();
    const { glue, logger } = makeGlue(new InMemoryConfigStore(phases.full()), { notifier: () => new Promise<void>(() => {}) });
    let settled = false;
    const pending = glue.rollback('pager hangs').then((value) => {
      settled = true;
      return value;
    });
    await vi.advanceTimersByTimeAsync(9_999);
    expect(settled).toBe(false);
    await vi.advanceTimersByTimeAsync(1);
    await expect(pending).resolves.toBe(true);
    expect(logger.lines.some((l) => l.level === 'error' && l.message?.includes('notifier did not settle'))).toBe(true);
  });

  it('honours notifierTimeoutMs', async () => {
    vi.useFakeTimers();
    const { glue } = makeGlue(phases.full(), { notifier: { notify: () => new Promise<void>(() => {}) }, notifierTimeoutMs: 50 });
    const pending = glue.rollback('pager hangs');
    await vi.advanceTimersByTimeAsync(50);
    await expect(pending).resolves.toBe(true);
  });
});

/** A store whose saves land (apply and notify) and resolve only when the test says so. */
class GatedStore implements ConfigStore {
  #config: MigrationConfig;
  readonly #listeners = new Set<(config: MigrationConfig) => void>();
  readonly pending: { config: MigrationConfig; land: () => void; resolve: () => void }[] = [];
  /** When true, a save lands and resolves at once. */
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
    return new Promise<void>((resolve) => {
      this.pending.push({ config, land, resolve });
    });
  }
}

describe('a save issued before rollback() that lands after it', () => {
  it('never brings traffic back to new once rollback() resolved', async () => {
    const store = new GatedStore(phases.canary(10));
    const { glue, logger } = makeGlue(store);
    const stale = store.save(phases.canary(50));
    const rollback = glue.rollback('error rate');
    const [step, back] = store.pending;
    // the rollback lands first, then the stale step lands over it, then both saves resolve
    back?.land();
    step?.land();
    step?.resolve();
    store.immediate = true;
    back?.resolve();
    await stale;
    await expect(rollback).resolves.toBe(true);
    expect(isRolledBack(store.current())).toBe(true);
    let toNew = 0;
    for (let i = 0; i < 200; i++) if ((await glue.process({ userId: `u${i}` })) === 'new') toNew += 1;
    expect(toNew).toBe(0);
    expect(logger.lines.some((l) => l.level === 'error' && l.message?.includes('saving the rollback again'))).toBe(true);
  });

  it('while the rollback is being saved, a stale config that lands is not served', async () => {
    const store = new GatedStore(phases.canary(10));
    const { glue } = makeGlue(store);
    void store.save(phases.full());
    const rollback = glue.rollback('error rate');
    const [step, back] = store.pending;
    back?.land();
    step?.land();
    expect(await glue.process({ userId: 'a' })).toBe('old');
    store.immediate = true;
    step?.resolve();
    back?.resolve();
    await rollback;
    expect(await glue.process({ userId: 'a' })).toBe('old');
  });

  it('follows a deliberate move forward made after the rollback', async () => {
    const store = new GatedStore(phases.canary(10));
    store.immediate = true;
    const { glue } = makeGlue(store);
    await glue.rollback('x');
    await store.save(phases.full());
    expect(await glue.process({ userId: 'a' })).toBe('new');
  });

  it('gives up after a bounded number of saves, keeps serving old on this instance and rejects with ERR_CONFLICT', async () => {
    const store = new InMemoryConfigStore(phases.full());
    const realSave = store.save.bind(store);
    // a store that keeps answering the old config: every save is silently overwritten
    store.save = async (config) => {
      await realSave(config);
      if (isRolledBack(config)) await realSave(phases.full());
    };
    const save = vi.spyOn(store, 'save');
    const { glue } = makeGlue(store);
    await expect(glue.rollback('x')).rejects.toSatisfy((err) => MigrationGlueError.is(err, 'ERR_CONFLICT'));
    expect(save.mock.calls.filter(([c]) => isRolledBack(c)).length).toBe(3);
    expect(await glue.process({ userId: 'a' })).toBe('old');
  });
});

describe('rollback() edge cases', () => {
  it('twice at once: one save, one notification, the second resolves false after the first', async () => {
    const store = new GatedStore(phases.full());
    const notifications: Notification[] = [];
    const { glue } = makeGlue(store, { notifier: (n) => void notifications.push(n) });
    const first = glue.rollback('a');
    let secondDone = false;
    const second = glue.rollback('b').then((value) => {
      secondDone = true;
      return value;
    });
    await Promise.resolve();
    await Promise.resolve();
    expect(secondDone).toBe(false);
    expect(store.pending).toHaveLength(1);
    store.pending[0]?.land();
    store.pending[0]?.resolve();
    await expect(first).resolves.toBe(true);
    await expect(second).resolves.toBe(false);
    expect(notifications).toHaveLength(1);
  });

  it('accepts odd reasons: non-strings, throwing toString, a revoked Proxy, a huge string', async () => {
    const { proxy, revoke } = Proxy.revocable({}, {});
    revoke();
    const reasons: unknown[] = [
      undefined,
      null,
      42,
      Symbol('why'),
      proxy,
      {
        toString() {
          throw new Error('toString');
        },
      },
      'x'.repeat(1_000_000),
    ];
    for (const reason of reasons) {
      const { glue, logger } = makeGlue(phases.full());
      const seen: string[] = [];
      glue.on('rollback', (event) => seen.push(event.reason));
      await expect(glue.rollback(reason as string)).resolves.toBe(true);
      expect(typeof seen[0]).toBe('string');
      expect(seen[0]?.length).toBeLessThanOrEqual(1_100);
      expect(logger.lines.some((l) => l.message === 'migration rolled back')).toBe(true);
      expect(await glue.process({ userId: 'a' })).toBe('old');
    }
  });

  it('still works after close(); process() after close() rejects, never throws', async () => {
    const store = new InMemoryConfigStore(phases.full());
    const { glue } = makeGlue(store);
    await glue.close();
    let result: Promise<string> | undefined;
    expect(() => {
      result = glue.process({ userId: 'a' });
    }).not.toThrow();
    await expect(result).rejects.toSatisfy((err) => MigrationGlueError.is(err, 'ERR_CLOSED'));
    await expect(glue.rollback('after close')).resolves.toBe(true);
    expect(isRolledBack(store.current())).toBe(true);
  });
});

describe('option checks', () => {
  const base = { name: 'x', oldService: async () => 1, newService: async () => 2, config: phases.preparation() };
  const invalid = (option: string) => (err: unknown) => MigrationGlueError.is(err, 'ERR_INVALID_OPTION') && (err as Error).message.includes(`\`${option}\``);

  it.each([
    ['an empty object', {}],
    ['null', null],
    ['a string', 'x'],
    ['an object whose notify is not a function', { notify: 1 }],
  ])('refuses notifier: %s with ERR_INVALID_OPTION naming it', (_what, notifier) => {
    expect(() => new MigrationGlue({ ...base, notifier: notifier as never })).toThrow(expect.toSatisfy(invalid('notifier')));
  });

  it.each([
    ['null', null],
    ['a string', 'x'],
    ['a number', 3],
    ['an object without log methods', { log: () => {} }],
  ])('refuses logger: %s with ERR_INVALID_OPTION naming it', (_what, logger) => {
    expect(() => new MigrationGlue({ ...base, logger: logger as never })).toThrow(expect.toSatisfy(invalid('logger')));
  });

  it('refuses a revoked Proxy as logger or hasher without a TypeError', () => {
    const { proxy, revoke } = Proxy.revocable({}, {});
    revoke();
    expect(() => new MigrationGlue({ ...base, logger: proxy as never })).toThrow(expect.toSatisfy(invalid('logger')));
    expect(() => new MigrationGlue({ ...base, hasher: proxy as never })).toThrow(expect.toSatisfy(invalid('hasher')));
    expect(() => new MigrationGlue({ ...base, clock: proxy as never })).toThrow(expect.toSatisfy(invalid('clock')));
  });

  it('refuses a bad notifierTimeoutMs', () => {
    expect(() => new MigrationGlue({ ...base, notifierTimeoutMs: 0 })).toThrow(expect.toSatisfy(invalid('notifierTimeoutMs')));
  });
});

describe('a call without a routing key in canary', () => {
  it('warns once, prominently, naming the routingKey option and the input fields (never values), and counts', async () => {
    const { glue, logger } = makeGlue(phases.canary(10));
    let toNew = 0;
    for (let i = 0; i < 1_000; i++) if ((await glue.process({ accountId: `acct-secret-${i}` })) === 'new') toNew += 1;
    expect(toNew).toBe(0);
    expect(glue.stats().missingKeys).toBe(1_000);
    const warnings = logger.lines.filter((l) => l.message?.includes('routing key'));
    const first = warnings[0];
    expect(first?.level).toBe('warn');
    expect(first?.message).toContain('`routingKey`');
    expect(first?.context).toMatchObject({ inputFields: ['accountId'] });
    expect(JSON.stringify(first)).not.toContain('acct-secret');
    // rate-limited after the first: far fewer lines than calls
    expect(warnings.length).toBeLessThanOrEqual(11);
  });

  it('says when routingKey threw or returned a promise or an object', async () => {
    const cases: [(input: Input) => never, RegExp][] = [
      [
        () => {
          throw new Error('no key');
        },
        /threw/,
      ],
      [(async () => 'k') as never, /promise/],
      [(() => ({ id: 1 })) as never, /object/],
    ];
    for (const [routingKey, says] of cases) {
      const { glue, logger } = makeGlue(phases.canary(50), { routingKey });
      await expect(glue.process({ userId: 'a' })).resolves.toBe('old');
      expect(logger.lines.some((l) => l.message !== undefined && says.test(l.message) && l.message.includes('`routingKey`'))).toBe(true);
    }
  });
});

describe('hostile hooks', () => {
  it('a clock that throws or returns NaN never reaches the caller, and stats stay finite', async () => {
    let mode: 'throw' | 'nan' | 'ok' = 'throw';
    let t = 1_000;
    const clock = {
      now: () => {
        if (mode === 'throw') throw new Error('clock broke');
        if (mode === 'nan') return Number.NaN;
        return (t += 1);
      },
    };
    const { glue } = makeGlue(phases.canary(100), { clock, newService: () => Promise.reject(new Error('new down')) });
    expect(await glue.process({ userId: 'a' })).toBe('old');
    mode = 'nan';
    expect(await glue.process({ userId: 'a' })).toBe('old');
    mode = 'ok';
    expect(await glue.process({ userId: 'a' })).toBe('old');
    const stats = glue.stats();
    expect(stats.old.calls).toBe(3);
    expect(Number.isFinite(stats.old.p95)).toBe(true);
    expect(await glue.rollback('clock')).toBe(true);
  });

  it('a hasher that throws or returns garbage sends the call to old and logs it', async () => {
    const bad: unknown[] = [
      () => {
        throw new Error('hash broke');
      },
      () => Number.NaN,
      () => -5,
      () => 'abc',
      () => ({
        valueOf() {
          throw new Error('valueOf');
        },
      }),
    ];
    for (const hash32 of bad) {
      const { glue, logger } = makeGlue(phases.canary(99), { hasher: { hash32: hash32 as never } });
      const routes: string[] = [];
      glue.on('route', (event) => routes.push(`${event.arm}:${event.reason}`));
      await expect(glue.process({ userId: 'a' })).resolves.toBe('old');
      expect(routes).toEqual(['old:hash-failed']);
      expect(logger.lines.some((l) => l.message?.includes('hasher'))).toBe(true);
    }
  });

  it('a config provider whose current() throws or returns garbage routes to old', async () => {
    let mode: 'throw' | 'null' | 'ok' = 'throw';
    const provider = {
      current: () => {
        if (mode === 'throw') throw new Error('provider broke');
        if (mode === 'null') return null as unknown as MigrationConfig;
        return phases.full();
      },
      subscribe: () => () => {},
    };
    const { glue, logger } = makeGlue(phases.full(), { config: provider });
    expect(await glue.process({ userId: 'a' })).toBe('old');
    mode = 'null';
    expect(await glue.process({ userId: 'a' })).toBe('old');
    mode = 'ok';
    expect(await glue.process({ userId: 'a' })).toBe('new');
    expect(logger.lines.some((l) => l.message?.includes('config provider'))).toBe(true);
  });

  it('a listener that rejects (async) is logged, never an unhandled rejection', async () => {
    const unhandled = vi.fn();
    process.on('unhandledRejection', unhandled);
    try {
      const { glue, logger } = makeGlue(phases.full());
      glue.on('route', async () => {
        throw new Error('async listener');
      });
      expect(await glue.process({ userId: 'a' })).toBe('new');
      await new Promise((resolve) => setTimeout(resolve, 10));
      expect(unhandled).not.toHaveBeenCalled();
      expect(logger.lines.some((l) => l.message === 'event listener threw')).toBe(true);
    } finally {
      process.off('unhandledRejection', unhandled);
    }
  });

  it('hooks that return a rejected promise (logger, routingKey, clock, hasher) never cause an unhandled rejection', async () => {
    const unhandled = vi.fn();
    process.on('unhandledRejection', unhandled);
    try {
      const rejected = () => Promise.reject(new Error('async hook'));
      const logger = { debug: rejected, info: rejected, warn: rejected, error: rejected };
      const cases: Partial<MigrationGlueOptions<Input, string>>[] = [
        { logger, newService: () => Promise.reject(new Error('new down')) },
        { routingKey: rejected as never },
        { clock: { now: rejected as never } },
        { hasher: { hash32: rejected as never } },
      ];
      for (const extra of cases) {
        const { glue } = makeGlue(phases.canary(50), { ...extra });
        await expect(glue.process({ userId: 'a' })).resolves.toMatch(/old|new/);
      }
      await new Promise((resolve) => setTimeout(resolve, 10));
      expect(unhandled).not.toHaveBeenCalled();
    } finally {
      process.off('unhandledRejection', unhandled);
    }
  });

  it('a listener that subscribes another on every event does not loop for ever', async () => {
    const { glue } = makeGlue(phases.full());
    let calls = 0;
    const listener = () => {
      calls += 1;
      glue.on('route', listener === undefined ? () => {} : () => void (calls += 1));
    };
    glue.on('route', listener);
    expect(await glue.process({ userId: 'a' })).toBe('new');
    expect(calls).toBe(1);
  });
});
