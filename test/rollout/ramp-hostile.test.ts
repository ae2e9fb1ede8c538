import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  FileConfigStore,
  InMemoryConfigStore,
  MigrationGlue,
  MigrationGlueError,
  MigrationJournal,
  RampController,
  phases,
} from '../../src/index.js';
import type { ConfigStore, JournalStore, MigrationConfig, RampStep } from '../../src/index.js';
import { ManualClock } from '../../src/testing/index.js';
import { recordingLogger } from '../helpers.js';

const never = <T>() => new Promise<T>(() => {});
const quick: readonly RampStep[] = [
  { percentage: 10, holdMs: 0 },
  { percentage: 50, holdMs: 0 },
  { percentage: 100, holdMs: 0 },
];

afterEach(() => {
  vi.useRealTimers();
});

describe('when the notifier never settles', () => {
  it('tick settles after notifyTimeoutMs (default 10 s), takes the step, and the next tick is a new one', async () => {
    vi.useFakeTimers();
    const store = new InMemoryConfigStore(phases.preparation());
    const logger = recordingLogger();
    const ramp = new RampController({ store, plan: quick, notifier: () => never(), logger, clock: new ManualClock() });
    let settled = false;
    const first = ramp.tick().then((status) => {
      settled = true;
      return status;
    });
    await vi.advanceTimersByTimeAsync(9_999);
    expect(settled).toBe(false);
    await vi.advanceTimersByTimeAsync(1);
    expect((await first).percentage).toBe(10);
    expect(logger.lines.some((l) => l.message === 'notifier did not answer in time; going on')).toBe(true);
    const second = ramp.tick();
    expect(second).not.toBe(first);
    await vi.advanceTimersByTimeAsync(10_000);
    expect((await second).percentage).toBe(50);
  });

  it('an object notifier whose notify throws synchronously does not break the tick', async () => {
    const store = new InMemoryConfigStore(phases.preparation());
    const notifier = {
      notify() {
        throw new Error('pager down');
      },
    };
    const ramp = new RampController({ store, plan: quick, notifier, logger: recordingLogger(), clock: new ManualClock() });
    expect((await ramp.tick()).percentage).toBe(10);
  });
});

describe('when approve never answers', () => {
  it('counts as no after approvalTimeoutMs (default 60 s), and logs it', async () => {
    vi.useFakeTimers();
    const store = new InMemoryConfigStore(phases.preparation());
    const logger = recordingLogger();
    const journal = new MigrationJournal({ clock: new ManualClock() });
    const ramp = new RampController({ store, plan: quick, approve: () => never<boolean>(), logger, journal, clock: new ManualClock() });
    const tick = ramp.tick();
    await vi.advanceTimersByTimeAsync(60_000);
    expect((await tick).blockedBy).toBe('approval');
    expect(store.current()).toEqual(phases.preparation());
    expect(logger.lines.some((l) => l.message === 'approval timed out; taken as no')).toBe(true);
    expect(journal.entries().filter((e) => e.kind === 'approval')).toEqual([expect.objectContaining({ approved: false })]);
  });
});

describe('when the store save never answers', () => {
  it('tick rejects with ERR_TIMEOUT after saveTimeoutMs (default 30 s); the step is not counted as taken', async () => {
    vi.useFakeTimers();
    const inner = new InMemoryConfigStore(phases.preparation());
    const store: ConfigStore = { current: () => inner.current(), subscribe: (l) => inner.subscribe(l), save: () => never() };
    const ramp = new RampController({ store, plan: quick, logger: recordingLogger(), clock: new ManualClock() });
    const tick = ramp.tick();
    const outcome = tick.then(
      () => undefined,
      (err: unknown) => err,
    );
    await vi.advanceTimersByTimeAsync(30_000);
    const err = await outcome;
    expect(MigrationGlueError.is(err, 'ERR_TIMEOUT')).toBe(true);
    expect(ramp.status().step).toBe(-1);
    // the stuck tick is over: a later tick runs again rather than returning the old promise
    const again = ramp.tick();
    expect(again).not.toBe(tick);
    again.catch(() => undefined);
    await vi.advanceTimersByTimeAsync(30_000);
  });

  it('resume() rejects with ERR_TIMEOUT instead of hanging, and ticks still settle', async () => {
    vi.useFakeTimers();
    const inner = new InMemoryConfigStore(phases.canary(10));
    let hang = false;
    const store: ConfigStore = {
      current: () => inner.current(),
      subscribe: (l) => inner.subscribe(l),
      save: (c) => (hang ? never() : inner.save(c)),
    };
    const ramp = new RampController({ store, plan: quick, logger: recordingLogger(), clock: new ManualClock() });
    await inner.save(phases.rolledBack());
    hang = true;
    const resumed = ramp.resume().then(
      () => undefined,
      (err: unknown) => err,
    );
    const tick = ramp.tick();
    await vi.advanceTimersByTimeAsync(30_000);
    expect(MigrationGlueError.is(await resumed, 'ERR_TIMEOUT')).toBe(true);
    expect((await tick).blockedBy).toBe('rolledBack');
  });
});

describe('a rollback that lands while a tick is under way', () => {
  it('is seen by re-reading the store before saving, even before the store notifies', async () => {
    const inner = new InMemoryConfigStore(phases.canary(10));
    const listeners = new Set<(c: MigrationConfig) => void>();
    let current = inner.current();
    // A store whose current() changes before its listeners hear of it (as a file store's write does).
    const store: ConfigStore = {
      current: () => current,
      subscribe: (l) => {
        listeners.add(l);
        return () => listeners.delete(l);
      },
      save: async (c) => {
        current = c;
      },
    };
    const ramp = new RampController({
      store,
      plan: quick,
      logger: recordingLogger(),
      clock: new ManualClock(),
      approve: async () => {
        current = phases.rolledBack(); // glue.rollback()'s write, landing during the approval
        return true;
      },
    });
    const status = await ramp.tick();
    expect(current).toEqual(phases.rolledBack());
    expect(status.blockedBy).toBe('rolledBack');
  });

  it('treats an ERR_CONFLICT refusal from the store (a rollback it holds) as rolled back, not a crash', async () => {
    const inner = new InMemoryConfigStore(phases.canary(10));
    const store: ConfigStore = {
      current: () => inner.current(),
      subscribe: (l) => inner.subscribe(l),
      save: async (c) => {
        if (c.newSystemEnabled) {
          // the rollback won the race inside the store
          await inner.save(phases.rolledBack());
          throw new MigrationGlueError('ERR_CONFLICT', 'refused: the store holds a rollback');
        }
        await inner.save(c);
      },
    };
    const logger = recordingLogger();
    const ramp = new RampController({ store, plan: quick, logger, clock: new ManualClock() });
    const status = await ramp.tick();
    expect(status.blockedBy).toBe('rolledBack');
    expect(inner.current()).toEqual(phases.rolledBack());
    expect((await ramp.tick()).blockedBy).toBe('rolledBack');
  });

  it('a step written just after a rollback landed (a store without fencing) is undone: the rollback is saved again', async () => {
    const inner = new InMemoryConfigStore(phases.canary(10));
    let raced = false;
    const store: ConfigStore = {
      current: () => inner.current(),
      subscribe: (l) => inner.subscribe(l),
      save: async (c) => {
        if (c.newSystemEnabled && !raced) {
          raced = true;
          await inner.save(phases.rolledBack()); // glue.rollback()'s write lands first
        }
        await inner.save(c); // then the stale step overwrites it
      },
    };
    const logger = recordingLogger();
    const ramp = new RampController({ store, plan: quick, logger, clock: new ManualClock() });
    expect((await ramp.tick()).blockedBy).toBe('rolledBack');
    expect(inner.current()).toEqual(phases.rolledBack());
    expect(logger.lines.some((l) => l.level === 'error' && /saving the rollback again/.test(l.message ?? ''))).toBe(true);
  });

  it('an ERR_CONFLICT while the store holds another forward config is not a crash either', async () => {
    const inner = new InMemoryConfigStore(phases.canary(10));
    const store: ConfigStore = {
      current: () => inner.current(),
      subscribe: (l) => inner.subscribe(l),
      save: async () => {
        throw new MigrationGlueError('ERR_CONFLICT', 'another instance saved first');
      },
    };
    const logger = recordingLogger();
    const ramp = new RampController({ store, plan: quick, logger, clock: new ManualClock() });
    const status = await ramp.tick();
    expect(status).toMatchObject({ step: 0, percentage: 10 });
    expect(logger.lines.some((l) => l.message === 'config changed during a ramp tick; the step was not taken')).toBe(true);
  });

  it('does not save a step computed before someone else moved the ramp during the tick', async () => {
    const store = new InMemoryConfigStore(phases.canary(10));
    const saved: number[] = [];
    store.subscribe((c) => saved.push(c.newSystemPercentage));
    const ramp = new RampController({
      store,
      plan: quick,
      logger: recordingLogger(),
      clock: new ManualClock(),
      approve: async () => {
        await store.save(phases.full()); // an operator jumped to 100 %
        return true;
      },
    });
    await ramp.tick();
    expect(saved).toEqual([100]);
    expect(store.current()).toEqual(phases.full());
  });

  it('with a FileConfigStore: glue.rollback() racing a ramp step leaves the file rolled back', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ramp-race-'));
    try {
      const store = new FileConfigStore({ path: path.join(dir, 'config.json'), initial: phases.canary(10), watch: false });
      const glue = new MigrationGlue<{ userId: string }, string>({
        name: 'pricing',
        config: store,
        logger: recordingLogger(),
        oldService: async () => 'old',
        newService: async () => 'new',
      });
      let rolledBack: Promise<boolean> | undefined;
      const ramp = new RampController({
        store,
        plan: quick,
        logger: recordingLogger(),
        clock: new ManualClock(),
        approve: () => {
          rolledBack = glue.rollback('bad release');
          return true;
        },
      });
      const status = await ramp.tick().catch((err: unknown) => err);
      expect(await rolledBack).toBe(true);
      expect(JSON.parse(fs.readFileSync(path.join(dir, 'config.json'), 'utf8'))).toMatchObject({ newSystemEnabled: false, newSystemPercentage: 0 });
      expect(store.current()).toEqual(phases.rolledBack());
      expect(status).toMatchObject({ blockedBy: 'rolledBack' });
      for (let i = 0; i < 50; i++) expect(await glue.process({ userId: `u${i}` })).toBe('old');
      store.close();
      await glue.close();
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('a clock that misbehaves', () => {
  const day = 24 * 60 * 60 * 1000;

  it('a clock that turns to NaN never lets a step through early: the ramp holds', async () => {
    let now = 10_000;
    const store = new InMemoryConfigStore(phases.canary(10));
    const ramp = new RampController({ store, plan: [{ percentage: 10, holdMs: 1_000 }, { percentage: 50, holdMs: 0 }], logger: recordingLogger(), clock: { now: () => now } });
    now = Number.NaN;
    expect((await ramp.tick()).blockedBy).toBe('hold');
    expect(ramp.status().blockedBy).toBe('hold');
    expect(store.current().newSystemPercentage).toBe(10);
    now = 11_000;
    expect((await ramp.tick()).percentage).toBe(50);
  });

  it('a clock that throws or answers garbage from the start holds the ramp', async () => {
    const store = new InMemoryConfigStore(phases.canary(10));
    const plan = [{ percentage: 10, holdMs: day }, { percentage: 50, holdMs: 0 }];
    const throwing = {
      now: (): number => {
        throw new Error('clock broken');
      },
    };
    const garbage = { now: () => 'soon' as unknown as number };
    for (const clock of [throwing, garbage, { now: () => Number.NaN }]) {
      const ramp = new RampController({ store, plan, logger: recordingLogger(), clock });
      expect((await ramp.tick()).blockedBy).toBe('hold');
      expect(ramp.status().blockedBy).toBe('hold');
      expect(store.current().newSystemPercentage).toBe(10);
      ramp.close();
    }
  });

  it('a clock that goes backwards holds longer, never shorter', async () => {
    let now = 10_000;
    const store = new InMemoryConfigStore(phases.canary(10));
    const ramp = new RampController({ store, plan: [{ percentage: 10, holdMs: 1_000 }, { percentage: 50, holdMs: 0 }], logger: recordingLogger(), clock: { now: () => now } });
    now = 5_000;
    expect((await ramp.tick()).blockedBy).toBe('hold');
    now = 10_999;
    expect((await ramp.tick()).blockedBy).toBe('hold');
    now = 11_000;
    expect((await ramp.tick()).percentage).toBe(50);
  });
});

describe('hooks and stores that throw', () => {
  it('a journal whose store throws does not undo or hide a step that was saved', async () => {
    const broken: JournalStore = {
      append() {
        throw new Error('disk full');
      },
      load: () => [],
    };
    const store = new InMemoryConfigStore(phases.preparation());
    const logger = recordingLogger();
    const ramp = new RampController({ store, plan: quick, logger, journal: new MigrationJournal({ store: broken }), clock: new ManualClock() });
    expect((await ramp.tick()).percentage).toBe(10);
    expect(logger.lines.some((l) => l.message === 'journal could not record; going on')).toBe(true);
  });

  it('a journal whose load throws at construction falls back to now', () => {
    const broken: JournalStore = {
      append() {},
      load() {
        throw new Error('unreadable');
      },
    };
    const store = new InMemoryConfigStore(phases.canary(10));
    const clock = new ManualClock();
    const ramp = new RampController({ store, plan: quick, journal: new MigrationJournal({ store: broken }), clock, logger: recordingLogger() });
    expect(ramp.status().since).toBe(clock.now());
  });

  it('a guard whose check throws blocks the ramp as guard, with the reason', async () => {
    const store = new InMemoryConfigStore(phases.preparation());
    const guard = {
      check() {
        throw new Error('stats unavailable');
      },
    };
    const ramp = new RampController({ store, plan: quick, guard: guard as never, logger: recordingLogger(), clock: new ManualClock() });
    const status = await ramp.tick();
    expect(status.blockedBy).toBe('guard');
    expect(status.reasons?.[0]).toMatch(/stats unavailable/);
    expect(store.current()).toEqual(phases.preparation());
  });

  it('a guard that returns garbage blocks the ramp rather than advancing it', async () => {
    const store = new InMemoryConfigStore(phases.preparation());
    const ramp = new RampController({ store, plan: quick, guard: { check: () => null } as never, logger: recordingLogger(), clock: new ManualClock() });
    expect((await ramp.tick()).blockedBy).toBe('guard');
    expect(store.current()).toEqual(phases.preparation());
  });

  it('a store whose current() throws does not break status()', async () => {
    const inner = new InMemoryConfigStore(phases.canary(10));
    let broken = false;
    const store: ConfigStore = {
      current: () => {
        if (broken) throw new Error('boom');
        return inner.current();
      },
      subscribe: (l) => inner.subscribe(l),
      save: (c) => inner.save(c),
    };
    const ramp = new RampController({ store, plan: quick, logger: recordingLogger(), clock: new ManualClock() });
    broken = true;
    expect(ramp.status().percentage).toBe(10);
    // unable to re-read the store before saving, the tick takes no step rather than risk saving over a rollback
    await expect(ramp.tick()).resolves.toMatchObject({ step: 0, percentage: 10 });
    expect(inner.current().newSystemPercentage).toBe(10);
    broken = false;
    await expect(ramp.tick()).resolves.toMatchObject({ step: 1, percentage: 50 });
  });
});

describe('re-entrancy and repeated calls', () => {
  it('a tick() made from inside the tick (by a hook) shares it instead of running a second one', async () => {
    const store = new InMemoryConfigStore(phases.preparation());
    const saves: number[] = [];
    store.subscribe((c) => saves.push(c.newSystemPercentage));
    let inner: Promise<unknown> | undefined;
    const holder: { ramp?: RampController } = {};
    const clock = {
      now: () => {
        inner ??= holder.ramp?.tick();
        return 1_000;
      },
    };
    const ramp = new RampController({ store, plan: quick, logger: recordingLogger(), clock });
    holder.ramp = ramp;
    await ramp.tick();
    await inner;
    expect(saves).toEqual([10]);
  });

  it('run() twice keeps one timer, stop() twice is harmless, and a closed controller takes no step', async () => {
    vi.useFakeTimers();
    const store = new InMemoryConfigStore(phases.preparation());
    const saves: number[] = [];
    store.subscribe((c) => saves.push(c.newSystemPercentage));
    const ramp = new RampController({ store, plan: quick, logger: recordingLogger(), clock: new ManualClock() });
    ramp.run({ intervalMs: 1_000 });
    ramp.run({ intervalMs: 1_000 });
    await vi.advanceTimersByTimeAsync(1_000);
    expect(saves).toEqual([10]);
    ramp.stop();
    ramp.stop();
    await vi.advanceTimersByTimeAsync(5_000);
    expect(saves).toEqual([10]);
    ramp.close();
    ramp.close();
    await ramp.tick();
    expect(saves).toEqual([10]);
  });

  it('refuses timeouts a timer cannot hold, so they never fire at once', () => {
    const store = new InMemoryConfigStore();
    expect(() => new RampController({ store, approvalTimeoutMs: 2 ** 31 })).toThrow(/`approvalTimeoutMs`/);
    expect(() => new RampController({ store, notifyTimeoutMs: 0 })).toThrow(/`notifyTimeoutMs`/);
    expect(() => new RampController({ store, saveTimeoutMs: Number.NaN })).toThrow(/`saveTimeoutMs`/);
    const ramp = new RampController({ store, logger: recordingLogger() });
    expect(() => ramp.run({ intervalMs: 1e12 })).toThrow(/`intervalMs`/);
  });
});

describe('a plan with odd values', () => {
  it('refuses a sparse plan, a plan step whose getter throws, and a revoked Proxy, naming the plan', () => {
    const store = new InMemoryConfigStore();
    // eslint-disable-next-line no-sparse-arrays
    expect(() => new RampController({ store, plan: [, { percentage: 5, holdMs: 0 }] as never })).toThrow(/`plan\[0\]`/);
    const throwing = {
      get percentage(): number {
        throw new Error('getter');
      },
      holdMs: 0,
    };
    expect(() => new RampController({ store, plan: [throwing] })).toThrow(expect.objectContaining({ code: 'ERR_INVALID_OPTION' }));
    const { proxy, revoke } = Proxy.revocable([{ percentage: 5, holdMs: 0 }], {});
    revoke();
    expect(() => new RampController({ store, plan: proxy })).toThrow(expect.objectContaining({ code: 'ERR_INVALID_OPTION' }));
  });

  it('keeps a percentage like 0.1 + 0.2 to two decimals, so the store accepts it', async () => {
    const store = new InMemoryConfigStore(phases.preparation());
    const ramp = new RampController({ store, plan: [{ percentage: 0.1 + 0.2, holdMs: 0 }], logger: recordingLogger(), clock: new ManualClock() });
    expect(ramp.plan[0]?.percentage).toBe(0.3);
    await ramp.tick();
    expect(store.current().newSystemPercentage).toBe(0.3);
  });
});
