import { describe, expect, it } from 'vitest';
import { InMemoryConfigStore, phases } from '../../src/index.js';
import type { ConfigProvider, ConfigStore, MigrationConfig, MigrationGlueOptions, Notification, RollbackEvent , MigrationGlue} from '../../src/index.js';
import { ManualClock } from '../../src/testing/index.js';
import { pricingGlue } from '../helpers.js';

// The config a glue serves (src/core/config-in-force.ts): which provider
// configs are usable, what a rollback shows and waits for, and when the
// override it sets ends.

type Input = { userId?: string };

/** A provider whose answer the test sets, and whose listener it calls. */
function manualProvider(initial: unknown) {
  let config = initial;
  let listener: ((config: MigrationConfig) => void) | undefined;
  const provider: ConfigProvider & { set(next: unknown, notify?: boolean): void; listening(): boolean } = {
    current: () => config as MigrationConfig,
    subscribe: (next) => {
      listener = next;
      return () => {
        listener = undefined;
      };
    },
    set(next, notify = true) {
      config = next;
      if (notify) listener?.(next as MigrationConfig);
    },
    listening: () => listener !== undefined,
  };
  return provider;
}

function makeGlue(config: MigrationConfig | ConfigProvider, extra: Partial<MigrationGlueOptions<Input, string>> = {}) {
  return pricingGlue<Input>(config, extra);
}

const serving = (glue: MigrationGlue<Input, string>) => glue.process({ userId: 'u1' });

describe('a provider config', () => {
  it.each([
    ['at 0 %', { ...phases.full(), newSystemPercentage: 0 }, 'old'],
    ['at 100 %', phases.full(), 'new'],
  ])('is usable %s', async (_, config, side) => {
    const { glue, logger } = makeGlue(manualProvider(config));
    await expect(serving(glue)).resolves.toBe(side);
    expect(logger.lines.filter((line) => line.level === 'error')).toEqual([]);
  });

  const throwing = {
    get shadowMode(): boolean {
      throw new Error('getter broke');
    },
  };
  it.each([
    ['null', null],
    ['a string', 'full'],
    ['above 100 %', { ...phases.full(), newSystemPercentage: 100.001 }],
    ['below 0 %', { ...phases.full(), newSystemPercentage: -0.001 }],
    ['a string percentage', { ...phases.full(), newSystemPercentage: '100' }],
    ['a string shadowMode', { ...phases.full(), shadowMode: 'false' }],
    ['a string newSystemEnabled', { ...phases.full(), newSystemEnabled: 'true' }],
    ['a string fallbackEnabled', { ...phases.full(), fallbackEnabled: 'false' }],
    ['a getter that throws', throwing],
  ])('is refused when it is %s: old serves, the error logged', async (_, config) => {
    const { glue, logger } = makeGlue(manualProvider(config));
    await expect(serving(glue)).resolves.toBe('old');
    expect(glue.stats().config).toEqual(phases.preparation());
    const errors = logger.lines.filter((line) => line.level === 'error');
    expect(errors.length).toBeGreaterThan(0);
    for (const line of errors) {
      expect(line.message).toMatch(/returned something that is not a MigrationConfig/);
      expect(line.context).toMatchObject({ migration: 'pricing', config: expect.any(String) });
    }
  });

  it('that throws gets old served and the error logged', async () => {
    const provider = manualProvider(phases.full());
    const { glue, logger } = makeGlue(provider);
    provider.current = () => {
      throw new Error('provider down');
    };
    await expect(serving(glue)).resolves.toBe('old');
    const errors = logger.lines.filter((line) => line.level === 'error');
    expect(errors.length).toBeGreaterThan(0);
    for (const line of errors) {
      expect(line.message).toMatch(/the config provider threw/);
      expect(line.context).toMatchObject({ migration: 'pricing', err: expect.objectContaining({ message: 'provider down' }) });
    }
  });

  it('reported to the listener is ignored when unusable, and applied when usable', async () => {
    const provider = manualProvider(phases.full());
    const { glue, logger } = makeGlue(provider);
    const changes: unknown[] = [];
    glue.on('configChange', (event) => changes.push(event));
    provider.set({ ...phases.full(), newSystemPercentage: 101 });
    expect(changes).toEqual([]);
    const reported = logger.lines.filter((line) => /reported something that is not a MigrationConfig/.test(line.message ?? ''));
    expect(reported).toHaveLength(1);
    expect(reported[0]?.context).toEqual({ migration: 'pricing' });
    provider.set(phases.canary(10));
    expect(changes).toEqual([expect.objectContaining({ migration: 'pricing', before: phases.full(), after: phases.canary(10) })]);
    const info = logger.lines.filter((line) => line.message === 'migration config changed');
    expect(info).toEqual([{ level: 'info', context: { migration: 'pricing', before: phases.full(), after: phases.canary(10) }, message: 'migration config changed' }]);
    // the same config again is no change
    provider.set({ ...phases.canary(10) });
    expect(changes).toHaveLength(1);
  });
});

describe('rollback', () => {
  it('shows the reason as given, cut at 1,000 characters, or says none was given', async () => {
    const reasons: string[] = [];
    const cases: [unknown, string][] = [
      ['too many errors', 'too many errors'],
      ['x'.repeat(1_000), 'x'.repeat(1_000)],
      ['y'.repeat(1_001), `${'y'.repeat(1_000)}…`],
      ['', 'no reason given'],
      [undefined, 'no reason given'],
      [42, '42'],
      [false, 'false'],
      [7n, '7'],
      [{ why: 'x' }, 'no reason given (got '],
    ];
    for (const [reason] of cases) {
      const { glue } = makeGlue(phases.full());
      glue.on('rollback', (event: RollbackEvent) => reasons.push(event.reason));
      await glue.rollback(reason as string);
    }
    cases.forEach(([, expected], i) => {
      if (expected.endsWith('(got ')) expect(reasons[i]?.startsWith(expected)).toBe(true);
      else expect(reasons[i]).toBe(expected);
    });
  });

  it('notifies once with the share it rolled back from, and emits the time it happened', async () => {
    const clock = new ManualClock({ start: 1_000 });
    const notifications: Notification[] = [];
    const { glue, logger } = makeGlue(phases.canary(25), { clock, notifier: (n) => void notifications.push(n) });
    const events: RollbackEvent[] = [];
    glue.on('rollback', (event) => events.push(event));
    await glue.rollback('errors');
    expect(notifications).toEqual([
      expect.objectContaining({ kind: 'rollback', migration: 'pricing', message: 'pricing: rolled back from 25 % (errors)', at: 1_000, details: { reason: 'errors', before: phases.canary(25), after: phases.rolledBack() } }),
    ]);
    expect(events).toEqual([{ migration: 'pricing', reason: 'errors', before: phases.canary(25), after: phases.rolledBack(), at: 1_000 }]);
    expect(logger.lines.filter((line) => line.message === 'migration rolled back')).toEqual([
      { level: 'warn', context: { migration: 'pricing', reason: 'errors', before: phases.canary(25), after: phases.rolledBack() }, message: 'migration rolled back' },
    ]);
    await glue.rollback('again');
    expect(notifications).toHaveLength(1);
    expect(glue.stats().rollbacks).toBe(1);
  });

  it('resolves only once the notifier has answered', async () => {
    let answer: (() => void) | undefined;
    const { glue } = makeGlue(phases.full(), { notifier: () => new Promise<void>((resolve) => (answer = resolve)) });
    let done = false;
    const pending = glue.rollback('x').then(() => (done = true));
    for (let i = 0; i < 20; i++) await Promise.resolve();
    expect(done).toBe(false);
    answer?.();
    await pending;
    expect(done).toBe(true);
  });

  it('while one is in progress: a second waits for it and resolves false, even when the first fails', async () => {
    const store = new InMemoryConfigStore(phases.full());
    let fail: ((err: Error) => void) | undefined;
    store.save = () => new Promise<void>((_, reject) => (fail = reject));
    const { glue, logger } = makeGlue(store);
    const first = glue.rollback('first');
    let secondDone = false;
    const second = glue.rollback('second').then((value) => {
      secondDone = true;
      return value;
    });
    for (let i = 0; i < 20; i++) await Promise.resolve();
    expect(secondDone).toBe(false);
    fail?.(new Error('store down'));
    await expect(first).rejects.toThrow('store down');
    await expect(second).resolves.toBe(false);
    const saveErrors = logger.lines.filter((line) => /rollback could not be saved/.test(line.message ?? ''));
    expect(saveErrors).toHaveLength(1);
    expect(saveErrors[0]?.context).toMatchObject({ migration: 'pricing', err: expect.objectContaining({ message: 'store down' }) });
    expect(glue.stats().rollbacks).toBe(1);
    // the failed save leaves old serving; another rollback is a no-op on a config already rolled back
    await expect(serving(glue)).resolves.toBe('old');
    await expect(glue.rollback('third')).resolves.toBe(false);
  });

  it('serves no config that arrives while the rollback is saved, then follows the store', async () => {
    const store = new InMemoryConfigStore(phases.full());
    const save = store.save.bind(store);
    let finish: (() => void) | undefined;
    const { glue } = makeGlue(store);
    let first = true;
    store.save = (config) => {
      if (!first) return save(config);
      first = false;
      return new Promise<void>((resolve) => (finish = () => void save(config).then(resolve)));
    };
    const pending = glue.rollback('x');
    // someone saves a config that uses new while the rollback is saved
    await save(phases.canary(100));
    await expect(serving(glue)).resolves.toBe('old');
    finish?.();
    await expect(pending).resolves.toBe(true);
    await expect(serving(glue)).resolves.toBe('old');
    expect(glue.stats().phase).toBe('rolled-back');
  });

  it('with a plain provider: keeps old while it echoes the config rolled back from, follows it once it moves', async () => {
    const provider = manualProvider(phases.canary(50));
    const { glue } = makeGlue(provider);
    await glue.rollback('x');
    provider.set({ ...phases.canary(50) });
    await expect(serving(glue)).resolves.toBe('old');
    expect(glue.stats().phase).toBe('rolled-back');
    provider.set(phases.full());
    await expect(serving(glue)).resolves.toBe('new');
    expect(glue.stats().phase).toBe('full');
  });

  it('rolls back again once the migration moved forward after a rollback', async () => {
    const store = new InMemoryConfigStore(phases.full());
    const { glue } = makeGlue(store);
    await expect(glue.rollback('first')).resolves.toBe(true);
    await store.save(phases.canary(10));
    await expect(glue.rollback('second')).resolves.toBe(true);
    expect(glue.stats().rollbacks).toBe(2);
  });

  it('stops following the provider on close', async () => {
    const provider = manualProvider(phases.full());
    const { glue } = makeGlue(provider);
    expect(provider.listening()).toBe(true);
    await glue.close();
    expect(provider.listening()).toBe(false);
  });
});

describe('stats().phase of a rolled-back config', () => {
  const withInfo = (info: unknown): ConfigProvider => Object.assign(manualProvider(phases.rolledBack()), { info });

  it('says rolled-back when the store keeps a rollback flag, preparation otherwise', () => {
    expect(makeGlue(withInfo(() => ({ rolledBack: true }))).glue.stats().phase).toBe('rolled-back');
    expect(makeGlue(withInfo(() => ({ rolledBack: false }))).glue.stats().phase).toBe('preparation');
    expect(makeGlue(withInfo(() => ({ rolledBack: 'yes' }))).glue.stats().phase).toBe('preparation');
    expect(makeGlue(withInfo(() => undefined)).glue.stats().phase).toBe('preparation');
    expect(makeGlue(withInfo({ rolledBack: true })).glue.stats().phase).toBe('preparation');
    expect(
      makeGlue(
        withInfo(() => {
          throw new Error('info broke');
        }),
      ).glue.stats().phase,
    ).toBe('preparation');
    expect(makeGlue(phases.rolledBack()).glue.stats().phase).toBe('preparation');
  });

  it('asks the store on its own object', () => {
    const provider = withInfo(function (this: { flag?: boolean }) {
      return { rolledBack: this.flag === true };
    });
    Object.assign(provider, { flag: true });
    expect(makeGlue(provider).glue.stats().phase).toBe('rolled-back');
  });

  it('says preparation for a config that falls to none of new without a rollback seen', async () => {
    const provider = manualProvider(phases.preparation());
    const { glue } = makeGlue(provider);
    expect(glue.stats().phase).toBe('preparation');
    provider.set(phases.rolledBack());
    expect(glue.stats().phase).toBe('preparation');
    // another config that uses no new, after one that used none either: still no rollback
    provider.set({ ...phases.preparation(), fallbackEnabled: !phases.preparation().fallbackEnabled });
    expect(glue.stats().phase).toBe('preparation');
    provider.set(phases.full());
    provider.set(phases.rolledBack());
    // from new to none: a rollback somewhere else
    expect(glue.stats().phase).toBe('rolled-back');
    provider.set(phases.canary(5));
    expect(glue.stats().phase).toBe('canary');
  });
});

describe('following another glue rollback', () => {
  it('is a no-op while this glue saves its own, or when already rolled back', async () => {
    const { followRollback } = await import('../../src/core/migration-glue.js');
    const store: ConfigStore = new InMemoryConfigStore(phases.rolledBack());
    const { glue } = makeGlue(store);
    await followRollback(glue, Promise.resolve());
    await store.save(phases.full());
    await expect(serving(glue)).resolves.toBe('new');
    // the rollback it follows failed, and the store still uses new: this glue keeps serving old until the store moves
    await followRollback(glue, Promise.reject(new Error('failed')));
    await expect(serving(glue)).resolves.toBe('old');
    await store.save(phases.canary(100));
    await expect(serving(glue)).resolves.toBe('new');
  });
});
