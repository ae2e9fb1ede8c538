import { afterEach, describe, expect, it, vi } from 'vitest';
import type { ConfigStore } from '../../src/config/config-provider.js';
import type { MigrationConfig } from '../../src/config/migration-config.js';
import { defaultStoreTimeoutMs, maxRollbackSaves, saveRollback } from '../../src/core/rollback-save.js';
import { MigrationGlueError, phases } from '../../src/index.js';
import { recordingLogger } from '../helpers.js';

// src/core/rollback-save.ts: a rollback is saved, then read back; while the
// store shows a config that is not rolled back, it is saved again, three
// saves in all. Each save is bounded by a timeout (fake timers here).

/** A store whose `current()` answers `shows` in turn (the last one from then on), recording what is saved. */
function storeShowing(shows: (() => unknown)[], save?: (config: MigrationConfig) => Promise<void>) {
  const saved: MigrationConfig[] = [];
  let reads = 0;
  const store: ConfigStore = {
    current: () => {
      const show = shows[Math.min(reads, shows.length - 1)];
      reads += 1;
      return (show as () => unknown)() as MigrationConfig;
    },
    subscribe: () => () => {},
    save: (config) => {
      saved.push(config);
      return save ? save(config) : Promise.resolve();
    },
  };
  return { store, saved };
}

const init = (logger = recordingLogger()) => ({ migration: 'pricing', logger, timeoutMs: 1_000 });

afterEach(() => {
  vi.useRealTimers();
});

describe('saveRollback', () => {
  it('saves the rolled-back config once and answers the config the store then shows', async () => {
    const shown = { ...phases.rolledBack(), fallbackEnabled: true };
    const { store, saved } = storeShowing([() => shown]);
    const logger = recordingLogger();
    await expect(saveRollback(store, init(logger))).resolves.toBe(shown);
    expect(saved).toEqual([phases.rolledBack()]);
    expect(logger.lines).toEqual([]);
  });

  it('saves again while the store shows a config that uses new, logging each time', async () => {
    const rolledBack = phases.rolledBack();
    const { store, saved } = storeShowing([() => phases.canary(50), () => rolledBack]);
    const logger = recordingLogger();
    await expect(saveRollback(store, init(logger))).resolves.toBe(rolledBack);
    expect(saved).toHaveLength(2);
    expect(logger.lines).toEqual([
      {
        level: 'error',
        context: { migration: 'pricing', saves: 1 },
        message: 'the config store does not show the rollback just saved (a save issued before it landed after it); saving the rollback again',
      },
    ]);
  });

  it('gives up after three saves with ERR_CONFLICT', async () => {
    expect(maxRollbackSaves).toBe(3);
    const { store, saved } = storeShowing([() => phases.full()]);
    const logger = recordingLogger();
    const error = await saveRollback(store, init(logger)).catch((err: unknown) => err);
    expect(MigrationGlueError.is(error, 'ERR_CONFLICT')).toBe(true);
    expect((error as Error).message).toBe(
      '[migration-glue] the config store of "pricing" does not keep the rollback: after 3 saves it still shows another config (does something keep writing a config that uses new?)',
    );
    expect(saved).toHaveLength(3);
    expect(logger.lines.map((l) => l.context)).toEqual([
      { migration: 'pricing', saves: 1 },
      { migration: 'pricing', saves: 2 },
      { migration: 'pricing', saves: 3 },
    ]);
    expect(logger.lines[2]?.message).toBe('the config store still does not show the rollback; this instance keeps serving old');
  });

  it('a store whose current() throws or answers something that is not a config does not show the rollback', async () => {
    const rolledBack = phases.rolledBack();
    const { store, saved } = storeShowing([
      () => {
        throw new Error('unreadable');
      },
      () => null,
      () => rolledBack,
    ]);
    await expect(saveRollback(store, init())).resolves.toBe(rolledBack);
    expect(saved).toHaveLength(3);
    const text = storeShowing([() => 'rolled back', () => rolledBack]);
    await expect(saveRollback(text.store, init())).resolves.toBe(rolledBack);
    expect(text.saved).toHaveLength(2);
  });

  it('rejects with the store\'s own error, whether save rejects or throws, and leaves no timer', async () => {
    vi.useFakeTimers();
    const refused = new Error('store refused');
    const rejecting = storeShowing([() => phases.rolledBack()], () => Promise.reject(refused));
    await expect(saveRollback(rejecting.store, init())).rejects.toBe(refused);
    expect(vi.getTimerCount()).toBe(0);
    const throwing = storeShowing([() => phases.rolledBack()], () => {
      throw refused;
    });
    await expect(saveRollback(throwing.store, init())).rejects.toBe(refused);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('a successful save leaves no timer', async () => {
    vi.useFakeTimers();
    const { store } = storeShowing([() => phases.rolledBack()]);
    await saveRollback(store, init());
    expect(vi.getTimerCount()).toBe(0);
  });

  it('a save that does not settle within timeoutMs rejects with ERR_TIMEOUT', async () => {
    vi.useFakeTimers();
    const { store } = storeShowing([() => phases.rolledBack()], () => new Promise<void>(() => {}));
    const outcome = saveRollback(store, init()).catch((err: unknown) => err);
    await vi.advanceTimersByTimeAsync(999);
    let settled = false;
    void outcome.then(() => (settled = true));
    await Promise.resolve();
    expect(settled).toBe(false);
    await vi.advanceTimersByTimeAsync(1);
    const error = await outcome;
    expect(MigrationGlueError.is(error, 'ERR_TIMEOUT')).toBe(true);
    expect((error as Error).message).toBe('[migration-glue] the config store did not finish saving the rollback of "pricing" within 1000 ms (option `storeTimeoutMs`)');
  });

  it('waits 30 s for a store by default', () => {
    expect(defaultStoreTimeoutMs).toBe(30_000);
  });
});
