import { afterEach, describe, expect, it, vi } from 'vitest';
import { InMemoryConfigStore, MigrationGlue, RollbackGuard, phases } from '../../src/index.js';
import type { AnyGlue, MigrationConfig, MigrationStats } from '../../src/index.js';
import { ManualClock } from '../../src/testing/index.js';
import { recordingLogger } from '../helpers.js';

afterEach(() => {
  vi.useRealTimers();
});

type Input = { userId: string };

describe('when the glue notifier never settles', () => {
  it('the guard rolls back, and after the migration moves forward again a failing new is rolled back again', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    const clock = new ManualClock({ start: 1_700_000_000_000 });
    const store = new InMemoryConfigStore(phases.canary(50));
    const glue = new MigrationGlue<Input, string>({
      name: 'pricing',
      clock,
      config: store,
      logger: recordingLogger(),
      notifier: () => new Promise<void>(() => {}),
      notifierTimeoutMs: 1_000,
      oldService: async () => 'old',
      newService: async () => {
        clock.advance(1);
        throw new Error('bad release');
      },
    });
    const guard = new RollbackGuard(glue, { minSamples: 20 }, { logger: recordingLogger() });
    guard.watch();
    const drive = async (from: number) => {
      for (let i = from; i < from + 200; i++) await glue.process({ userId: `u${i}` }).catch(() => undefined);
    };
    await drive(0);
    expect(store.current()).toEqual(phases.rolledBack());
    await vi.advanceTimersByTimeAsync(1_000); // the glue stops waiting for its notifier
    clock.advance(301_000); // the failures leave the window
    await store.save(phases.canary(50)); // moved forward again (a resume and a ramp, say)
    await drive(1_000);
    expect(store.current()).toEqual(phases.rolledBack());
    await vi.advanceTimersByTimeAsync(1_000);
    await glue.close();
  });
});

/**
 * A hand-made glue: `rollback` behaves as the test says, the config follows
 * `config`, and each `settled` event stands for 200 more calls on each side,
 * half of new's failing.
 */
function fakeGlue(rollback: (reason: string) => Promise<boolean>) {
  const listeners = new Map<string, Set<(event: unknown) => void>>();
  const state = { config: phases.canary(50) as MigrationConfig, calls: 0, statsThrow: false };
  const stats = () => {
    if (state.statsThrow) throw new Error('stats broken');
    const arm = (calls: number, errors: number) => ({ window: { calls, errorRate: calls > 0 ? errors / calls : 0, p95: 10 }, calls, errors });
    return {
      windowMs: 300_000,
      config: state.config,
      old: arm(state.calls, 0),
      new: arm(state.calls, state.calls / 2),
      shadow: { compared: 0, errors: 0, mismatchesByKind: { value: 0 }, window: { compared: 0, mismatchRate: 0 } },
    } as unknown as MigrationStats;
  };
  const glue: AnyGlue = {
    name: 'fake',
    stats,
    rollback,
    on: ((event: string, listener: (event: unknown) => void) => {
      const set = listeners.get(event) ?? new Set();
      listeners.set(event, set);
      set.add(listener);
      return () => set.delete(listener);
    }) as AnyGlue['on'],
  };
  const emit = (event: string, payload: unknown) => {
    if (event === 'settled') state.calls += 200;
    for (const listener of listeners.get(event) ?? []) listener(payload);
  };
  return { glue, state, emit };
}

describe('when glue.rollback() never settles', () => {
  it('stops waiting after rollbackTimeoutMs (default 30 s), logs it, and may trip again', async () => {
    vi.useFakeTimers();
    const calls: string[] = [];
    const { glue, emit } = fakeGlue((reason) => {
      calls.push(reason);
      return new Promise<boolean>(() => {});
    });
    const logger = recordingLogger();
    const guard = new RollbackGuard(glue, {}, { logger });
    guard.watch();
    emit('settled', { arm: 'new' });
    emit('settled', { arm: 'new' });
    expect(calls).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(29_999);
    emit('settled', { arm: 'new' });
    expect(calls).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(1);
    expect(logger.lines.some((l) => l.message === 'rollback did not settle in time; the guard may trip again')).toBe(true);
    emit('settled', { arm: 'new' });
    expect(calls).toHaveLength(2);
  });

  it('a config change that moves forward again re-arms the guard at once', () => {
    const calls: string[] = [];
    const { glue, emit, state } = fakeGlue((reason) => {
      calls.push(reason);
      return new Promise<boolean>(() => {});
    });
    const guard = new RollbackGuard(glue, {}, { logger: recordingLogger() });
    guard.watch();
    emit('settled', { arm: 'new' });
    state.config = phases.rolledBack();
    emit('configChange', { migration: 'fake', before: phases.canary(50), after: phases.rolledBack() });
    emit('settled', { arm: 'new' });
    expect(calls).toHaveLength(1);
    state.config = phases.canary(50);
    emit('configChange', { migration: 'fake', before: phases.rolledBack(), after: phases.canary(50) });
    emit('settled', { arm: 'new' });
    expect(calls).toHaveLength(2);
  });
});

describe('when the glue misbehaves', () => {
  it('a rollback() that throws synchronously is logged, never thrown into the listener', async () => {
    const { glue, emit } = fakeGlue(() => {
      throw new Error('sync boom');
    });
    const logger = recordingLogger();
    new RollbackGuard(glue, {}, { logger }).watch();
    expect(() => emit('settled', { arm: 'new' })).not.toThrow();
    await new Promise((resolve) => setImmediate(resolve));
    expect(logger.lines.some((l) => l.message === 'rollback guard could not save the rollback')).toBe(true);
  });

  it('a stats() that throws while watching is logged, not thrown into the glue', () => {
    const { glue, emit, state } = fakeGlue(async () => true);
    const logger = recordingLogger();
    new RollbackGuard(glue, {}, { logger }).watch();
    state.statsThrow = true;
    expect(() => emit('settled', { arm: 'new' })).not.toThrow();
    expect(() => emit('mismatch', {})).not.toThrow();
    expect(logger.lines.filter((l) => l.message === 'rollback guard could not read the glue stats')).toHaveLength(1);
  });

  it('a stats() that returns garbage neither throws nor rolls back', () => {
    const calls: string[] = [];
    const { glue, emit } = fakeGlue(async (r) => {
      calls.push(r);
      return true;
    });
    const guard = new RollbackGuard(glue, {}, { logger: recordingLogger() });
    guard.watch();
    glue.stats = () => ({ config: phases.canary(5), new: { window: { calls: 'many', errorRate: null } } }) as unknown as MigrationStats;
    expect(() => emit('settled', { arm: 'new' })).not.toThrow();
    expect(calls).toHaveLength(0);
    expect(guard.check()).toMatchObject({ ok: true, enough: false });
  });

  it('refuses a bad rollbackTimeoutMs', () => {
    const { glue } = fakeGlue(async () => true);
    expect(() => new RollbackGuard(glue, {}, { rollbackTimeoutMs: -1 })).toThrow(/`rollbackTimeoutMs`/);
  });
});
