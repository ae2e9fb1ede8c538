import { afterEach, describe, expect, it } from 'vitest';
import type { Repository } from '../../src/data/repository.js';

/** The entity every conformance run stores. */
export interface Item {
  id: string;
  name: string;
  qty: number;
}

/** A fresh, empty repository of Items keyed by `id`, and how to release it. */
export interface RepositoryFixture {
  readonly repo: Repository<Item, string>;
  readonly close?: () => Promise<void>;
}

export const itemKey = (item: Item): string => item.id;

export function item(i: number, name = `item ${i}`): Item {
  return { id: `k${String(i).padStart(4, '0')}`, name, qty: i };
}

/** Walks the whole store with getBatch pages of `limit`. */
export async function readAll<E, K>(repo: Repository<E, K>, keyOf: (entity: E) => K, limit = 1000): Promise<E[]> {
  const all: E[] = [];
  let after: K | null = null;
  for (;;) {
    const page: readonly E[] = await repo.getBatch(after, limit);
    if (page.length === 0) return all;
    all.push(...page);
    after = keyOf(page[page.length - 1] as E);
  }
}

/**
 * The contract every Repository keeps, run on each implementation: the test
 * memory repository, sqlRepository on PGlite and on PostgreSQL.
 */
export function describeRepository(name: string, make: () => Promise<RepositoryFixture>): void {
  describe(`Repository conformance: ${name}`, () => {
    let fixture: RepositoryFixture | undefined;
    const open = async (): Promise<Repository<Item, string>> => {
      fixture = await make();
      return fixture.repo;
    };
    afterEach(async () => {
      await fixture?.close?.();
      fixture = undefined;
    });

    it('get of an absent key resolves undefined', async () => {
      const repo = await open();
      expect(await repo.get('nope')).toBeUndefined();
    });

    it('save then get returns an equal entity; a second save replaces it', async () => {
      const repo = await open();
      await repo.save(item(1));
      expect(await repo.get('k0001')).toEqual(item(1));
      await repo.save({ ...item(1), name: 'renamed', qty: 42 });
      expect(await repo.get('k0001')).toEqual({ id: 'k0001', name: 'renamed', qty: 42 });
    });

    it('delete removes the row; deleting an absent key is not an error', async () => {
      const repo = await open();
      await repo.save(item(1));
      await repo.delete('k0001');
      expect(await repo.get('k0001')).toBeUndefined();
      await expect(repo.delete('k0001')).resolves.toBeUndefined();
    });

    it('getBatch pages in ascending key order, without gaps or repeats', async () => {
      const repo = await open();
      const order = [5, 3, 9, 1, 7, 2, 8, 4, 6, 0, 12, 10, 11];
      for (const i of order) await repo.save(item(i));
      const pages: string[][] = [];
      let after: string | null = null;
      for (;;) {
        const page: readonly Item[] = await repo.getBatch(after, 4);
        if (page.length === 0) break;
        expect(page.length).toBeLessThanOrEqual(4);
        pages.push(page.map(itemKey));
        after = itemKey(page[page.length - 1] as Item);
      }
      expect(pages.flat()).toEqual([...order].sort((a, b) => a - b).map((i) => item(i).id));
      expect(await repo.getBatch('k9999', 10)).toEqual([]);
    });

    it('getBatch starts strictly after a key that is not stored', async () => {
      const repo = await open();
      for (const i of [1, 3, 5]) await repo.save(item(i));
      expect((await repo.getBatch('k0002', 10)).map(itemKey)).toEqual(['k0003', 'k0005']);
      expect((await repo.getBatch('k0003', 1)).map(itemKey)).toEqual(['k0005']);
    });

    it('orders keys by code point: upper case before lower case, accents last', async () => {
      const repo = await open();
      const keys = ['b', 'a', 'Z', 'é', 'aa', 'A'];
      for (const id of keys) await repo.save({ id, name: id, qty: 0 });
      expect((await readAll(repo, itemKey, 2)).map(itemKey)).toEqual(['A', 'Z', 'a', 'aa', 'b', 'é']);
    });

    it('keeps quotes, backslashes and unicode in values as they are', async () => {
      const repo = await open();
      const odd = { id: `it's "odd"; --`, name: `O'Brien \\ "x" ; DROP TABLE items; -- ✓`, qty: -3 };
      await repo.save(odd);
      expect(await repo.get(odd.id)).toEqual(odd);
    });

    it('bulkInsert inserts absent keys only and returns exactly those', async () => {
      const repo = await open();
      if (repo.bulkInsert === undefined) return;
      await repo.save({ ...item(2), name: 'already there' });
      const inserted = await repo.bulkInsert([item(1), item(2), item(3)]);
      expect([...inserted].sort()).toEqual(['k0001', 'k0003']);
      expect(await repo.get('k0002')).toEqual({ ...item(2), name: 'already there' });
      expect(await repo.bulkInsert([])).toEqual([]);
      expect((await readAll(repo, itemKey)).map(itemKey)).toEqual(['k0001', 'k0002', 'k0003']);
    });

    it('walks a few hundred rows with small pages', async () => {
      const repo = await open();
      const rows = Array.from({ length: 230 }, (_, i) => item(i));
      if (repo.bulkInsert !== undefined) await repo.bulkInsert(rows);
      else for (const row of rows) await repo.save(row);
      expect(await readAll(repo, itemKey, 7)).toEqual(rows);
    });
  });
}

/**
 * `repo` seen through get, save, delete and getBatch, with some methods
 * added or replaced by `methods` (a hung, failing or lying one); the
 * others still reach `repo`. Optional capabilities are left out unless
 * `methods` gives them.
 */
export function withMethods(repo: Repository<Item, string>, methods: Partial<Record<keyof Repository<Item, string>, unknown>>): Repository<Item, string> {
  return {
    get: (key) => repo.get(key),
    save: (row) => repo.save(row),
    delete: (key) => repo.delete(key),
    getBatch: (after, limit) => repo.getBatch(after, limit),
    ...methods,
  } as Repository<Item, string>;
}
