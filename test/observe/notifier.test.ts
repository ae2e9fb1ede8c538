import { afterEach, describe, expect, it, vi } from 'vitest';
import { MigrationGlueError } from '../../src/index.js';
import type { Notification } from '../../src/index.js';
import { defaultNotifierTimeoutMs, toNotify } from '../../src/observe/notifier.js';
import { recordingLogger } from '../helpers.js';

const notification: Notification = { kind: 'rollback', migration: 'm', message: 'rolled back', at: 0 };

afterEach(() => {
  vi.useRealTimers();
});

describe('toNotify', () => {
  it('a notifier that never settles: the wait ends after the default timeout, logged', async () => {
    vi.useFakeTimers();
    const logger = recordingLogger();
    const notify = toNotify(() => new Promise<void>(() => {}), logger);
    let done = false;
    void notify(notification).then(() => (done = true));
    await vi.advanceTimersByTimeAsync(defaultNotifierTimeoutMs - 1);
    expect(done).toBe(false);
    await vi.advanceTimersByTimeAsync(1);
    expect(done).toBe(true);
    expect(logger.lines).toEqual([expect.objectContaining({ level: 'error', context: expect.objectContaining({ migration: 'm', timeoutMs: defaultNotifierTimeoutMs }) })]);
  });

  it('a thenable that never calls back is bounded too, with a custom timeout', async () => {
    vi.useFakeTimers();
    const notify = toNotify({ notify: () => ({ then() {} }) as never }, recordingLogger(), 20);
    const pending = notify(notification);
    await vi.advanceTimersByTimeAsync(20);
    await expect(pending).resolves.toBeUndefined();
  });

  it('a sync throw, a rejection, and a then getter that throws are logged as notifier failed', async () => {
    const thenThrows = {
      get then() {
        throw new Error('then getter');
      },
    };
    for (const send of [
      () => {
        throw new Error('sync');
      },
      () => Promise.reject(new Error('async')),
      () => thenThrows as never,
    ]) {
      const logger = recordingLogger();
      await expect(toNotify(send, logger)(notification)).resolves.toBeUndefined();
      expect(logger.lines.map((l) => l.message)).toEqual(['notifier failed']);
    }
  });

  it('resolves as soon as the notifier does, without waiting for the timeout', async () => {
    vi.useFakeTimers();
    const sent: Notification[] = [];
    const notify = toNotify({ notify: async (n: Notification) => void sent.push(n) }, recordingLogger());
    await notify(notification);
    expect(sent).toEqual([notification]);
    expect(vi.getTimerCount()).toBe(0);
  });

  it.each([{}, null, 'x', 3, { notify: 'x' }])('refuses %o with ERR_INVALID_OPTION naming notifier', (value) => {
    expect(() => toNotify(value as never, recordingLogger())).toThrow(
      expect.toSatisfy((err) => MigrationGlueError.is(err, 'ERR_INVALID_OPTION') && String((err as Error).message).includes('`notifier`')),
    );
  });
});
