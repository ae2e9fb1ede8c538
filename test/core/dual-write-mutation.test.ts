import { afterEach, describe, expect, it, vi } from 'vitest';
import { dualWrite } from '../../src/core/dual-write.js';
import type { SecondaryFailure } from '../../src/core/dual-write.js';
import { RollbackHold } from '../../src/core/rollback-hold.js';
import { MigrationGlueError, phases } from '../../src/index.js';
import type { MigrationConfig } from '../../src/index.js';
import { recordingLogger } from '../helpers.js';
import { Cleaner } from '../../src/core/cleaner.js';
import { LogLimiter } from '../../src/observe/log-limiter.js';
import { systemClock } from '../../src/observe/clock.js';
import type { Logger } from '../../src/index.js';

// src/core/dual-write.ts: a dualWrite method writes the primary, then the
// secondary, and answers with the primary's outcome.

/** The clean rules of a service without `shadow.clean`: errors logged as they are. */
const noClean = (logger: Logger) => new Cleaner<unknown[], unknown>('accounts', {}, new LogLimiter(logger, systemClock));

function setup(config: MigrationConfig, sides: { old?: (...args: unknown[]) => Promise<unknown>; new?: (...args: unknown[]) => Promise<unknown> } = {}, withHandler = true) {
  const calls: string[] = [];
  const failures: SecondaryFailure[] = [];
  const logger = recordingLogger();
  const hold = new RollbackHold({ current: () => config, subscribe: () => () => {} });
  const write = dualWrite({
    service: 'accounts',
    method: 'deposit',
    hold,
    oldMethod: async (...args) => {
      calls.push('old');
      return sides.old ? sides.old(...args) : { side: 'old', args };
    },
    newMethod: async (...args) => {
      calls.push('new');
      return sides.new ? sides.new(...args) : { side: 'new', args };
    },
    logger,
    onSecondaryFailure: withHandler ? (failure) => void failures.push(failure) : undefined,
    cleaner: noClean(logger),
    timeoutMs: 100,
  });
  return { write, calls, failures, logger };
}

afterEach(() => {
  vi.useRealTimers();
});

describe('dualWrite', () => {
  it('writes old alone in preparation', async () => {
    const { write, calls } = setup(phases.preparation());
    await expect(write(1, 2)).resolves.toEqual({ side: 'old', args: [1, 2] });
    expect(calls).toEqual(['old']);
  });

  it.each([
    ['shadow', phases.shadow(), ['old', 'new'], 'old'],
    ['canary', phases.canary(50), ['old', 'new'], 'old'],
    ['full', phases.full(), ['new', 'old'], 'new'],
  ] as const)('in %s writes the primary first and answers with its very value', async (_, config, order, primary) => {
    const value = { primary: true };
    const { write, calls, failures } = setup(config, { [primary]: async () => value });
    await expect(write('a')).resolves.toBe(value);
    expect(calls).toEqual(order);
    expect(failures).toEqual([]);
  });

  it.each([
    ['canary', phases.canary(50), 'new', 'old'],
    ['full', phases.full(), 'old', 'new'],
  ] as const)('in %s reports a failed secondary (%s) and still answers with the primary', async (_, config, secondary, primary) => {
    const boom = new Error('secondary down');
    const { write, failures, logger } = setup(config, { [secondary]: async () => Promise.reject(boom) });
    await expect(write('a', 5)).resolves.toMatchObject({ side: primary });
    expect(failures).toEqual([{ service: 'accounts', method: 'deposit', args: ['a', 5], side: secondary, error: boom }]);
    const errors = logger.lines.filter((line) => line.message === 'secondary write failed; it needs repair');
    expect(errors).toHaveLength(1);
    expect(errors[0]?.context).toMatchObject({ err: boom, migration: 'accounts', method: 'deposit', side: secondary });
  });

  it('logs a failed secondary without a handler', async () => {
    const { write, logger } = setup(phases.canary(50), { new: async () => Promise.reject(new Error('x')) }, false);
    await expect(write()).resolves.toMatchObject({ side: 'old' });
    expect(logger.lines.filter((line) => line.level === 'error')).toHaveLength(1);
  });

  it('rejects with the primary error unchanged, and writes no secondary', async () => {
    const boom = new Error('primary down');
    const { write, calls, failures } = setup(phases.canary(50), { old: async () => Promise.reject(boom) });
    await expect(write()).rejects.toBe(boom);
    expect(calls).toEqual(['old']);
    expect(failures).toEqual([]);
  });

  it('answers only once the secondary settled', async () => {
    let finish: (() => void) | undefined;
    const { write } = setup(phases.canary(50), { new: () => new Promise<void>((resolve) => (finish = resolve)) });
    let done = false;
    const answer = write().then(() => (done = true));
    for (let i = 0; i < 20; i++) await Promise.resolve();
    expect(done).toBe(false);
    finish?.();
    await answer;
    expect(done).toBe(true);
  });

  it('reports a secondary that does not settle within timeoutMs as ERR_TIMEOUT, naming the method and the option', async () => {
    vi.useFakeTimers();
    const { write, failures } = setup(phases.canary(50), { new: () => new Promise(() => {}) });
    const answer = write();
    await vi.advanceTimersByTimeAsync(99);
    expect(failures).toEqual([]);
    await vi.advanceTimersByTimeAsync(1);
    await expect(answer).resolves.toMatchObject({ side: 'old' });
    expect(failures).toHaveLength(1);
    const error = failures[0]?.error;
    expect(MigrationGlueError.is(error, 'ERR_TIMEOUT')).toBe(true);
    expect((error as Error).message).toBe('[migration-glue] secondary write of accounts.deposit did not settle within 100 ms (option `secondaryTimeoutMs`)');
  });

  it('clears the timer of a secondary that settled', async () => {
    vi.useFakeTimers();
    const { write } = setup(phases.canary(50), { new: async () => Promise.reject(new Error('x')) });
    await write();
    const ok = setup(phases.canary(50));
    await ok.write();
    expect(vi.getTimerCount()).toBe(0);
  });

  it('logs a handler that throws or rejects, never reaching the caller', async () => {
    for (const handler of [
      () => {
        throw new Error('handler broke');
      },
      async () => Promise.reject(new Error('handler broke')),
    ]) {
      const logger = recordingLogger();
      const write = dualWrite({
        service: 'accounts',
        method: 'deposit',
        hold: new RollbackHold({ current: () => phases.canary(50), subscribe: () => () => {} }),
        oldMethod: async () => 'old',
        newMethod: async () => Promise.reject(new Error('x')),
        logger,
        onSecondaryFailure: handler,
        timeoutMs: 100,
        cleaner: noClean(logger),
      });
      await expect(write()).resolves.toBe('old');
      await vi.waitFor(() => expect(logger.lines.filter((line) => line.message === 'onSecondaryFailure threw')).toHaveLength(1));
      expect(logger.lines.find((line) => line.message === 'onSecondaryFailure threw')?.context).toMatchObject({ migration: 'accounts', method: 'deposit' });
    }
  });
});
