import { describe, expect, it } from 'vitest';
import { InMemoryTombstoneStore } from '../../src/data/tombstone-store.js';

// src/data/tombstone-store.ts: the in-memory TombstoneStore, the default.

describe('InMemoryTombstoneStore', () => {
  it('answers has() with the given keys that have a tombstone, in the order asked', async () => {
    const store = new InMemoryTombstoneStore<string>();
    await store.add('b', 1);
    await store.add('a', 2);
    expect(await store.has(['a', 'x', 'b'])).toEqual(['a', 'b']);
    expect(await store.has(['x'])).toEqual([]);
    expect(store.size).toBe(2);
  });

  it('forgets a key on remove(), and only that key', async () => {
    const store = new InMemoryTombstoneStore<string>();
    await store.add('a', 1);
    await store.add('b', 1);
    await store.remove('a');
    await store.remove('never added');
    expect(await store.has(['a', 'b'])).toEqual(['b']);
    expect(store.size).toBe(1);
  });

  it('keeps a number key and its string apart', async () => {
    const store = new InMemoryTombstoneStore<string | number>();
    await store.add(1, 5);
    expect(await store.has([1, '1'])).toEqual([1]);
    await store.remove('1');
    expect(await store.has([1])).toEqual([1]);
  });

  it('holds one tombstone per key, however often it is deleted', async () => {
    const store = new InMemoryTombstoneStore<string>();
    await store.add('a', 1);
    await store.add('a', 2);
    expect(store.size).toBe(1);
  });

  it('forgets every key on clear()', async () => {
    const store = new InMemoryTombstoneStore<string>();
    await store.add('a', 1);
    await store.add('b', 2);
    await store.clear();
    expect(store.size).toBe(0);
    expect(await store.has(['a', 'b'])).toEqual([]);
  });
});
