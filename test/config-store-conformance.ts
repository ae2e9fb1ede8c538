/**
 * The conformance suite every ConfigStore passes: run it on each
 * implementation with `describeConfigStore(name, make)`.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { ConfigStore, Logger, MigrationConfig } from '../src/index.js';
import { MigrationConfigError, MigrationGlueError, phases } from '../src/index.js';

/** A store under test, and how to dispose of it. */
export interface ConfigStoreUnderTest {
  readonly store: ConfigStore;
  /** Another instance over the same storage, when the store is shared (file, Redis): saves must reach it. */
  readonly peer?: ConfigStore;
  readonly close?: () => void | Promise<void>;
}

/** Builds a fresh store (fresh storage) holding `initial`, logging to `logger`. */
export type MakeConfigStore = (initial: MigrationConfig, logger: Logger) => ConfigStoreUnderTest | Promise<ConfigStoreUnderTest>;

function recordingLogger(): Logger & { lines: { level: string; message?: string }[] } {
  const lines: { level: string; message?: string }[] = [];
  const at = (level: string) => (_context: object, message?: string) => {
    lines.push({ level, message });
  };
  return { lines, debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
}

async function until(check: () => boolean, timeoutMs = 5000): Promise<void> {
  const start = Date.now();
  while (!check()) {
    if (Date.now() - start > timeoutMs) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

/** Runs the ConfigStore contract against stores built by `make`. */
/** `shared: false` for a store that lives in one process only: the peer test is left out rather than skipped. */
export function describeConfigStore(name: string, make: MakeConfigStore, options: { shared?: boolean } = {}): void {
  describe(`${name} (ConfigStore conformance)`, () => {
    const open: ConfigStoreUnderTest[] = [];
    const build = async (initial: MigrationConfig, logger: Logger = recordingLogger()) => {
      const made = await make(initial, logger);
      open.push(made);
      return made;
    };
    afterEach(async () => {
      for (const made of open.splice(0)) await made.close?.();
    });

    it('serves the initial config, synchronously', async () => {
      const { store } = await build(phases.shadow());
      const current = store.current();
      expect(current).not.toBeInstanceOf(Promise);
      expect(current).toEqual(phases.shadow());
    });

    it('serves a saved config as soon as save resolves', async () => {
      const { store } = await build(phases.preparation());
      await store.save(phases.canary(5));
      expect(store.current()).toEqual(phases.canary(5));
      await store.save(phases.full());
      expect(store.current()).toEqual(phases.full());
    });

    it('notifies each listener once per change, until unsubscribed', async () => {
      const { store } = await build(phases.preparation());
      const listener = vi.fn();
      const off = store.subscribe(listener);
      await store.save(phases.canary(1));
      await until(() => listener.mock.calls.length >= 1);
      expect(listener).toHaveBeenCalledWith(phases.canary(1));
      off();
      await store.save(phases.canary(2));
      await new Promise((resolve) => setTimeout(resolve, 30));
      expect(listener).toHaveBeenCalledTimes(1);
    });

    it('rejects an invalid config with ERR_INVALID_CONFIG naming the field, and keeps the old one', async () => {
      const { store } = await build(phases.canary(10));
      const listener = vi.fn();
      store.subscribe(listener);
      const error: unknown = await store.save({ ...phases.full(), newSystemPercentage: 200 }).catch((err: unknown) => err);
      expect(error).toBeInstanceOf(MigrationConfigError);
      expect(MigrationGlueError.is(error, 'ERR_INVALID_CONFIG')).toBe(true);
      expect((error as MigrationConfigError).issues.map((i) => i.path)).toContain('newSystemPercentage');
      await expect(store.save(null as unknown as MigrationConfig)).rejects.toBeInstanceOf(MigrationConfigError);
      expect(store.current()).toEqual(phases.canary(10));
      expect(listener).not.toHaveBeenCalled();
    });

    it('keeps notifying the others when a listener throws, logs it, and save still resolves', async () => {
      const logger = recordingLogger();
      const { store } = await build(phases.preparation(), logger);
      const after = vi.fn();
      store.subscribe(() => {
        throw new Error('listener boom');
      });
      store.subscribe(after);
      await expect(store.save(phases.shadow())).resolves.toBeUndefined();
      await until(() => after.mock.calls.length >= 1);
      expect(after).toHaveBeenCalledWith(phases.shadow());
      expect(logger.lines.some((line) => line.level === 'warn' && line.message === 'config listener threw')).toBe(true);
    });

    it('always accepts a rollback', async () => {
      const { store } = await build(phases.canary(50));
      await store.save(phases.rolledBack());
      expect(store.current()).toEqual(phases.rolledBack());
    });

    if (options.shared === false) return;
    it('brings a save to every instance sharing the storage', async () => {
      const { store, peer } = await build(phases.preparation());
      if (peer === undefined) throw new Error('a shared store must return a peer instance from make()');
      const seen = vi.fn();
      peer.subscribe(seen);
      await store.save(phases.canary(25));
      await until(() => peer.current().newSystemPercentage === 25);
      expect(peer.current()).toEqual(phases.canary(25));
      expect(seen).toHaveBeenCalledWith(phases.canary(25));
    });
  });
}
