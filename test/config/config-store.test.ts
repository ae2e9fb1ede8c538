import { describe, expect, it, vi } from 'vitest';
import { InMemoryConfigStore, MigrationConfigError, isConfigProvider, isConfigStore, phases, staticConfig } from '../../src/index.js';
import type { Logger } from '../../src/index.js';

function recordingLogger(): Logger & { lines: { level: string; message?: string }[] } {
  const lines: { level: string; message?: string }[] = [];
  const at = (level: string) => (_context: object, message?: string) => {
    lines.push({ level, message });
  };
  return { lines, debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
}

describe('InMemoryConfigStore', () => {
  it('starts in preparation by default', () => {
    expect(new InMemoryConfigStore().current()).toEqual(phases.preparation());
  });

  it('serves a saved config and notifies each listener once', async () => {
    const store = new InMemoryConfigStore();
    const listener = vi.fn();
    store.subscribe(listener);
    await store.save(phases.canary(10));
    expect(store.current()).toEqual(phases.canary(10));
    expect(listener).toHaveBeenCalledTimes(1);
    expect(listener).toHaveBeenCalledWith(phases.canary(10));
  });

  it('rejects an invalid config and keeps the old one', async () => {
    const store = new InMemoryConfigStore(phases.shadow());
    await expect(store.save({ ...phases.full(), newSystemPercentage: 200 })).rejects.toBeInstanceOf(MigrationConfigError);
    expect(store.current()).toEqual(phases.shadow());
  });

  it('keeps notifying the others when a listener throws, and logs it', async () => {
    const logger = recordingLogger();
    const store = new InMemoryConfigStore(phases.preparation(), { logger });
    const after = vi.fn();
    store.subscribe(() => {
      throw new Error('boom');
    });
    store.subscribe(after);
    await store.save(phases.full());
    expect(after).toHaveBeenCalledOnce();
    expect(logger.lines).toEqual([{ level: 'warn', message: 'config listener threw' }]);
  });

  it('stops notifying after unsubscribe', async () => {
    const store = new InMemoryConfigStore();
    const listener = vi.fn();
    const stop = store.subscribe(listener);
    stop();
    await store.save(phases.full());
    expect(listener).not.toHaveBeenCalled();
  });
});

describe('staticConfig', () => {
  it('validates once and never changes', () => {
    const provider = staticConfig(phases.canary(3));
    expect(provider.current()).toEqual(phases.canary(3));
    expect(typeof provider.subscribe(() => {})).toBe('function');
    expect(() => staticConfig({ ...phases.full(), newSystemPercentage: -5 })).toThrow(/newSystemPercentage/);
  });
});

describe('isConfigProvider and isConfigStore', () => {
  it('tell a plain config from a provider, and a provider that can save from one that cannot', () => {
    expect(isConfigProvider(phases.full())).toBe(false);
    expect(isConfigProvider(null)).toBe(false);
    expect(isConfigProvider(staticConfig(phases.full()))).toBe(true);
    expect(isConfigStore(staticConfig(phases.full()))).toBe(false);
    expect(isConfigStore(new InMemoryConfigStore())).toBe(true);
  });
});
