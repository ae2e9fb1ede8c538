import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { FileConfigStore, InMemoryConfigStore, phases } from '../../src/index.js';
import type { RampState } from '../../src/index.js';
import { recordingLogger } from '../helpers.js';

/** Resolves once the event loop has run every pending promise callback and one macrotask. */
const settle = () => new Promise((resolve) => setImmediate(resolve));

describe('store listeners', () => {
  it('an async ramp listener that rejects never becomes an unhandled rejection', async () => {
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown) => unhandled.push(reason);
    process.on('unhandledRejection', onUnhandled);
    try {
      const logger = recordingLogger();
      const store = new InMemoryConfigStore(phases.canary(5), { logger });
      const seen: RampState[] = [];
      store.subscribeRamp(async () => {
        throw new Error('listener broke');
      });
      store.subscribeRamp((ramp) => seen.push(ramp));
      await store.updateRamp((ramp) => ({ ramp: { ...ramp, paused: { by: 'ops', at: 1, reason: 'lunch' } } }));
      await settle();
      await settle();
      expect(unhandled).toEqual([]);
      // The listener after the broken one still ran.
      expect(seen.at(-1)?.paused).toMatchObject({ by: 'ops' });
    } finally {
      process.off('unhandledRejection', onUnhandled);
    }
  });

  it('a ramp listener that throws is logged and skipped; one added after close is never called', async () => {
    const logger = recordingLogger();
    const store = new InMemoryConfigStore(phases.canary(5), { logger });
    store.subscribeRamp(() => {
      throw new Error('listener broke');
    });
    await store.updateRamp((ramp) => ({ ramp: { ...ramp, paused: { by: 'ops', at: 1 } } }));
    expect(logger.lines.filter((line) => line.message === 'ramp listener threw')).toHaveLength(1);
    store.close();
    let called = false;
    store.subscribeRamp(() => {
      called = true;
    });
    await store.updateRamp((ramp) => ({ ramp: { ...ramp, paused: { by: 'ops2', at: 2 } } }));
    expect(called).toBe(false);
  });

  it('every store refuses a listener that is not a function, for the config and the ramp', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mg-listeners-'));
    try {
      const stores = [new InMemoryConfigStore(), new FileConfigStore({ path: path.join(dir, 'c.json'), watch: false, initial: phases.preparation() })];
      for (const store of stores) {
        expect(() => store.subscribe(42 as never)).toThrow(expect.objectContaining({ code: 'ERR_INVALID_OPTION', option: 'listener' }));
        expect(() => store.subscribeRamp('x' as never)).toThrow(expect.objectContaining({ code: 'ERR_INVALID_OPTION', option: 'listener' }));
        store.close();
      }
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
