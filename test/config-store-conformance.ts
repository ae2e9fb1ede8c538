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
  /** Stops `store` from hearing of changes made by `peer` (watcher, subscription), to test a stale view. */
  readonly hideChanges?: () => void | Promise<void>;
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

async function until(check: () => boolean, timeoutMs = 10_000): Promise<void> {
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

    describe('when a rollback and a save race', () => {
      it('refuses a step issued before the rollback landed (ERR_CONFLICT) and stays rolled back', async () => {
        const { store, peer } = await build(phases.canary(25));
        // Both decided from canary 25: the rollback is queued first, the ramp step lands after it.
        const [rollback, step] = await Promise.allSettled([store.save(phases.rolledBack()), store.save(phases.canary(50))]);
        expect(rollback.status).toBe('fulfilled');
        expect(step.status).toBe('rejected');
        const error = (step as PromiseRejectedResult).reason as unknown;
        expect(MigrationGlueError.is(error, 'ERR_CONFLICT')).toBe(true);
        expect((error as Error).message).toMatch(/roll/);
        expect(store.current()).toEqual(phases.rolledBack());
        if (peer !== undefined) await until(() => peer.current().newSystemEnabled === false);
      });

      it('refuses every later step queued from the stale view, not only the next one', async () => {
        const { store } = await build(phases.canary(25));
        const results = await Promise.allSettled([
          store.save(phases.canary(30)),
          store.save(phases.rolledBack()),
          store.save(phases.canary(50)),
          store.save(phases.full()),
        ]);
        expect(results.map((r) => r.status)).toEqual(['fulfilled', 'fulfilled', 'rejected', 'rejected']);
        expect(store.current()).toEqual(phases.rolledBack());
      });

      it('accepts a step decided after the rollback was seen (moving forward again is deliberate)', async () => {
        const { store } = await build(phases.canary(25));
        await store.save(phases.rolledBack());
        await store.save(phases.canary(1));
        expect(store.current()).toEqual(phases.canary(1));
      });

      it('never refuses a rollback, whatever was saved before it', async () => {
        const { store } = await build(phases.preparation());
        const results = await Promise.allSettled([store.save(phases.canary(10)), store.save(phases.full()), store.save(phases.rolledBack())]);
        expect(results.map((r) => r.status)).toEqual(['fulfilled', 'fulfilled', 'fulfilled']);
        expect(store.current()).toEqual(phases.rolledBack());
      });

      it('lets saves from preparation through: a store that never used new holds no rollback to protect', async () => {
        const { store } = await build(phases.preparation());
        const results = await Promise.allSettled([store.save(phases.shadow()), store.save(phases.canary(1))]);
        expect(results.map((r) => r.status)).toEqual(['fulfilled', 'fulfilled']);
        expect(store.current()).toEqual(phases.canary(1));
      });
    });

    describe('when given garbage', () => {
      it('subscribe refuses a listener that is not a function with ERR_INVALID_OPTION', async () => {
        const { store } = await build(phases.preparation());
        for (const bad of [null, undefined, 'x', 42, {}]) {
          let caught: unknown;
          try {
            store.subscribe(bad as unknown as (config: MigrationConfig) => void);
          } catch (err) {
            caught = err;
          }
          expect(MigrationGlueError.is(caught, 'ERR_INVALID_OPTION')).toBe(true);
          expect((caught as Error).message).toContain('`listener`');
        }
        await store.save(phases.shadow());
        expect(store.current()).toEqual(phases.shadow());
      });

      it('survives a logger whose methods throw, and a listener that unsubscribes others mid-notification', async () => {
        const boom = () => {
          throw new Error('logger boom');
        };
        const { store } = await build(phases.preparation(), { debug: boom, info: boom, warn: boom, error: boom });
        const seen: number[] = [];
        let offSecond = (): void => {};
        store.subscribe(() => {
          offSecond();
          throw new Error('listener boom');
        });
        offSecond = store.subscribe((config) => seen.push(config.newSystemPercentage));
        await expect(store.save(phases.canary(3))).resolves.toBeUndefined();
        await store.save(phases.canary(4));
        await new Promise((resolve) => setTimeout(resolve, 30));
        expect(store.current()).toEqual(phases.canary(4));
        expect(seen.filter((p) => p === 4)).toEqual([]);
      });
    });

    it('after close, subscribe returns a function and the listener is never called; a rollback still saves', async () => {
      const { store } = await build(phases.canary(5));
      if (store.close === undefined) return;
      await store.close();
      const listener = vi.fn();
      const off = store.subscribe(listener);
      expect(off).toBeTypeOf('function');
      off();
      store.subscribe(listener);
      await store.save(phases.rolledBack());
      expect(store.current()).toEqual(phases.rolledBack());
      await new Promise((resolve) => setTimeout(resolve, 30));
      expect(listener).not.toHaveBeenCalled();
    });

    if (options.shared === false) return;

    it('ends rolled back on every instance when one rolls back while another steps', async () => {
      const { store, peer } = await build(phases.canary(25));
      if (peer === undefined) throw new Error('a shared store must return a peer instance from make()');
      await until(() => peer.current().newSystemPercentage === 25);
      const [rollback, step] = await Promise.allSettled([peer.save(phases.rolledBack()), store.save(phases.canary(50))]);
      expect(rollback.status).toBe('fulfilled');
      if (step.status === 'rejected') expect(MigrationGlueError.is(step.reason, 'ERR_CONFLICT')).toBe(true);
      await until(() => store.current().newSystemEnabled === false && peer.current().newSystemEnabled === false);
      expect(store.current()).toEqual(phases.rolledBack());
      expect(peer.current()).toEqual(phases.rolledBack());
    });

    it('refuses a step from an instance that has not seen a peer\'s rollback yet', async () => {
      const { store, peer, hideChanges } = await build(phases.canary(25));
      if (peer === undefined) throw new Error('a shared store must return a peer instance from make()');
      if (hideChanges === undefined) return;
      await until(() => peer.current().newSystemPercentage === 25);
      // The store must not learn of the rollback before its save: no watcher, no subscription.
      await hideChanges();
      await peer.save(phases.rolledBack());
      expect(store.current()).toEqual(phases.canary(25));
      const error = await store.save(phases.canary(50)).catch((err: unknown) => err);
      expect(MigrationGlueError.is(error, 'ERR_CONFLICT')).toBe(true);
      // Refused, and now serving the rollback it had missed.
      expect(store.current()).toEqual(phases.rolledBack());
      await new Promise((resolve) => setTimeout(resolve, 30));
      expect(peer.current()).toEqual(phases.rolledBack());
    });

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
