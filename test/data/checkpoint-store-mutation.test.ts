import { describe, expect, it } from 'vitest';
import { InMemoryCheckpointStore } from '../../src/data/checkpoint-store.js';

// src/data/checkpoint-store.ts: the in-memory checkpoint store keeps a JSON
// copy of the last state saved, until it is cleared.

describe('InMemoryCheckpointStore', () => {
  it('holds no state until one is saved', async () => {
    await expect(new InMemoryCheckpointStore().load()).resolves.toBeUndefined();
  });

  it('loads a JSON copy of the last state saved, not the object itself', async () => {
    const store = new InMemoryCheckpointStore();
    const state = { lastKey: 'k0003', checked: 4, done: false, skip: undefined };
    await store.save({ lastKey: 'k0001' });
    await store.save(state);
    state.checked = 99;
    const loaded = await store.load();
    expect(loaded).toStrictEqual({ lastKey: 'k0003', checked: 4, done: false });
    expect(loaded).not.toBe(state);
    expect(await store.load()).not.toBe(loaded);
  });

  it('keeps falsy states: null, 0 and false are states too', async () => {
    const store = new InMemoryCheckpointStore();
    for (const state of [null, 0, false, '']) {
      await store.save(state);
      await expect(store.load()).resolves.toBe(state);
    }
  });

  it('forgets the state on clear, and can save again after', async () => {
    const store = new InMemoryCheckpointStore();
    await store.save({ lastKey: 7 });
    await store.clear();
    await expect(store.load()).resolves.toBeUndefined();
    await store.save({ lastKey: 8 });
    await expect(store.load()).resolves.toEqual({ lastKey: 8 });
  });
});
