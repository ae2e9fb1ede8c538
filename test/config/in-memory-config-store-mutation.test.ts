import { describe, expect, it, vi } from 'vitest';
import { InMemoryConfigStore } from '../../src/config/in-memory-config-store.js';
import type { MigrationConfig } from '../../src/config/migration-config.js';
import { phases } from '../../src/config/phases.js';
import type { RampState } from '../../src/config/ramp-state.js';
import { emptyRampState } from '../../src/config/ramp-state.js';

// InMemoryConfigStore rule by rule: each case is one a mutant of
// src/config/in-memory-config-store.ts would otherwise pass.

describe('InMemoryConfigStore state', () => {
  it('starts in preparation with the empty ramp state, not rolled back', () => {
    const store = new InMemoryConfigStore();
    expect(store.current()).toEqual(phases.preparation());
    expect(store.rampState()).toEqual(emptyRampState());
    expect(store.rolledBack()).toBe(false);
  });

  it('serves the initial config parsed: frozen, unknown fields dropped', () => {
    const store = new InMemoryConfigStore({ ...phases.canary(5), extra: 1 } as MigrationConfig);
    expect(store.current()).toEqual(phases.canary(5));
    expect(Object.isFrozen(store.current())).toBe(true);
  });

  it('rejects a bad config without throwing, and keeps going with the next save', async () => {
    const store = new InMemoryConfigStore(phases.canary(5));
    const bad = store.save({ ...phases.full(), newSystemPercentage: 101 });
    await expect(bad).rejects.toMatchObject({ code: 'ERR_INVALID_CONFIG' });
    await store.save(phases.canary(6));
    expect(store.current()).toEqual(phases.canary(6));
  });

  it('calls a rollback over a config that used new rolled back, not one over preparation, and forgets it on a step', async () => {
    const store = new InMemoryConfigStore(phases.canary(5));
    await store.save(phases.rolledBack());
    expect(store.rolledBack()).toBe(true);
    await store.save(phases.rolledBack());
    expect(store.rolledBack()).toBe(true);
    await store.save(phases.canary(1));
    expect(store.rolledBack()).toBe(false);
    const fresh = new InMemoryConfigStore();
    await fresh.save(phases.rolledBack());
    expect(fresh.rolledBack()).toBe(false);
  });

  it('notifies every save, the config already in force included', async () => {
    const store = new InMemoryConfigStore(phases.canary(5));
    const seen: MigrationConfig[] = [];
    store.subscribe((config) => seen.push(config));
    await store.save(phases.canary(5));
    await store.save(phases.canary(6));
    expect(seen).toEqual([phases.canary(5), phases.canary(6)]);
  });
});

describe('InMemoryConfigStore saves and rollbacks', () => {
  it('takes a step decided after a rollback that was awaited', async () => {
    const store = new InMemoryConfigStore(phases.canary(5));
    await store.save(phases.rolledBack());
    await store.save(phases.canary(10));
    expect(store.current()).toEqual(phases.canary(10));
  });

  it('refuses a step queued after a rollback, keeps the rollback and notifies only the rollback', async () => {
    const store = new InMemoryConfigStore(phases.canary(5));
    const seen: MigrationConfig[] = [];
    store.subscribe((config) => seen.push(config));
    const results = await Promise.allSettled([store.save(phases.rolledBack()), store.save(phases.canary(10))]);
    expect(results.map((result) => result.status)).toEqual(['fulfilled', 'rejected']);
    expect((results[1] as PromiseRejectedResult).reason).toMatchObject({ code: 'ERR_CONFLICT' });
    expect(store.current()).toEqual(phases.rolledBack());
    expect(store.rolledBack()).toBe(true);
    expect(seen).toEqual([phases.rolledBack()]);
  });

  it('lets a step through that was queued after a step (no rollback to protect)', async () => {
    const store = new InMemoryConfigStore(phases.canary(5));
    await Promise.all([store.save(phases.canary(6)), store.save(phases.canary(7))]);
    expect(store.current()).toEqual(phases.canary(7));
  });
});

describe('InMemoryConfigStore updateRamp', () => {
  it('hands the change the state and config in force, stores the next revision and notifies the ramp listeners', async () => {
    const store = new InMemoryConfigStore(phases.canary(5));
    const ramps: RampState[] = [];
    store.subscribeRamp((state) => ramps.push(state));
    const change = vi.fn((state: RampState) => ({ ramp: { ...state, step: 0 } }));
    const written = await store.updateRamp(change);
    expect(change).toHaveBeenCalledWith(emptyRampState(), phases.canary(5));
    expect(written).toMatchObject({ revision: 1, step: 0 });
    expect(store.rampState()).toEqual(written);
    expect(ramps).toEqual([written]);
    expect((await store.updateRamp((state) => ({ ramp: state }))).revision).toBe(2);
    expect(ramps).toHaveLength(2);
  });

  it('writes nothing and tells no one when the change returns undefined', async () => {
    const store = new InMemoryConfigStore(phases.canary(5));
    const first = await store.updateRamp((state) => ({ ramp: { ...state, step: 1 } }));
    const ramps = vi.fn();
    store.subscribeRamp(ramps);
    expect(await store.updateRamp(() => undefined)).toBe(first);
    expect(store.rampState()).toBe(first);
    expect(ramps).not.toHaveBeenCalled();
  });

  it('refuses an invalid ramp state with a TypeError, changing nothing, and keeps going', async () => {
    const store = new InMemoryConfigStore(phases.canary(5));
    const results = await Promise.allSettled([
      store.updateRamp((state) => ({ ramp: { ...state, step: -7 }, config: phases.full() })),
      store.save(phases.canary(6)),
    ]);
    expect(results[0]?.status).toBe('rejected');
    const error = (results[0] as PromiseRejectedResult).reason as Error;
    expect(error).toBeInstanceOf(TypeError);
    expect(error.message).toBe('[migration-glue] updateRamp: the change returned an invalid ramp state');
    expect(results[1]?.status).toBe('fulfilled');
    expect(store.rampState()).toEqual(emptyRampState());
    expect(store.current()).toEqual(phases.canary(6));
  });

  it('refuses an invalid config from the change', async () => {
    const store = new InMemoryConfigStore(phases.canary(5));
    await expect(store.updateRamp((state) => ({ ramp: state, config: { ...phases.full(), newSystemPercentage: 101 } }))).rejects.toMatchObject({
      code: 'ERR_INVALID_CONFIG',
    });
    expect(store.current()).toEqual(phases.canary(5));
  });

  it('applies the config the change returns, notifying the config listeners, never as a conflict', async () => {
    const store = new InMemoryConfigStore(phases.canary(5));
    const seen: MigrationConfig[] = [];
    store.subscribe((config) => seen.push(config));
    // Queued behind a rollback: the change sees it and decides from it.
    const [, written] = await Promise.all([
      store.save(phases.rolledBack()),
      store.updateRamp((state, config) => ({ ramp: state, config: config.newSystemEnabled ? phases.full() : phases.shadow() })),
    ]);
    expect(written.revision).toBe(1);
    expect(store.current()).toEqual(phases.shadow());
    expect(seen).toEqual([phases.rolledBack(), phases.shadow()]);
    // The change moved forward: a step decided now goes through.
    await store.save(phases.canary(1));
    expect(store.current()).toEqual(phases.canary(1));
  });

  it('takes the rollback flag the change sets, and works it out from the config when the change leaves it unset', async () => {
    const store = new InMemoryConfigStore(phases.canary(5));
    await store.updateRamp((state) => ({ ramp: { ...state, rolledBack: true } }));
    expect(store.rolledBack()).toBe(true);
    await store.updateRamp((state) => ({ ramp: { ...state, rolledBack: false }, config: phases.rolledBack() }));
    expect(store.rolledBack()).toBe(false);
    const other = new InMemoryConfigStore(phases.canary(5));
    await other.updateRamp(() => ({ ramp: emptyRampState(), config: phases.rolledBack() }));
    expect(other.rolledBack()).toBe(true);
    await other.updateRamp(() => ({ ramp: emptyRampState() }));
    expect(other.rolledBack()).toBe(true);
  });

  it('runs after the saves called before it', async () => {
    const store = new InMemoryConfigStore(phases.canary(5));
    const saving = store.save(phases.canary(9));
    const seen = await store.updateRamp((state, config) => ({ ramp: { ...state, step: config.newSystemPercentage } }));
    await saving;
    expect(seen.step).toBe(9);
  });

  it('after close, notifies no ramp listener but still writes', async () => {
    const store = new InMemoryConfigStore(phases.canary(5));
    const ramps = vi.fn();
    store.subscribeRamp(ramps);
    store.close();
    await store.updateRamp((state) => ({ ramp: { ...state, step: 2 } }));
    expect(store.rampState().step).toBe(2);
    expect(ramps).not.toHaveBeenCalled();
  });
});
