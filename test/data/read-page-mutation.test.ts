import { describe, expect, it } from 'vitest';
import type { BoundedCall } from '../../src/data/bounded-call.js';
import { compareKeys } from '../../src/data/keys.js';
import type { PageSource } from '../../src/data/read-page.js';
import { readPage } from '../../src/data/read-page.js';
import type { Repository } from '../../src/data/repository.js';

// src/data/read-page.ts: a page read from a store, its keys checked to be
// keys, ascending and past the cursor.

interface Row {
  readonly k: unknown;
}

function sourceOf(pages: unknown, keyOf: (row: Row) => unknown = (row) => row.k) {
  const asked: [unknown, number][] = [];
  const names: string[] = [];
  const store = {
    get: async () => undefined,
    save: async () => {},
    delete: async () => {},
    getBatch: async (after: unknown, limit: number) => (asked.push([after, limit]), pages),
  } as unknown as Repository<Row, unknown>;
  const call: BoundedCall = (what, fn) => {
    names.push(what);
    return Promise.resolve(fn());
  };
  const source: PageSource<Row, unknown> = { store, option: 'new', keyOf, compare: compareKeys, call };
  return { source, asked, names };
}

const rows = (...keys: unknown[]) => keys.map((k) => ({ k }));

describe('readPage', () => {
  it('reads the page after the cursor and gives each row’s key', async () => {
    const { source, asked, names } = sourceOf(rows('b', 'c', 'd'));
    expect(await readPage(source, 'a', 3)).toEqual({ rows: rows('b', 'c', 'd'), keys: ['b', 'c', 'd'] });
    expect(asked).toEqual([['a', 3]]);
    expect(names).toEqual(['new.getBatch']);
  });

  it('accepts any first key from the start, and an empty page', async () => {
    expect((await readPage(sourceOf(rows(-5, 0, 7)).source, null, 3)).keys).toEqual([-5, 0, 7]);
    expect(await readPage(sourceOf([]).source, 'z', 3)).toEqual({ rows: [], keys: [] });
  });

  it('accepts bigint keys', async () => {
    expect((await readPage(sourceOf(rows(1n, 2n)).source, 0n, 2)).keys).toEqual([1n, 2n]);
  });

  it('refuses a page that is no array, naming the store', async () => {
    await expect(readPage(sourceOf({ length: 0 }).source, null, 3)).rejects.toMatchObject({
      code: 'ERR_INVALID_OPTION',
      option: 'new',
      message: expect.stringContaining('getBatch resolved with an object, not an array') as unknown,
    });
  });

  it('refuses a first key not past the cursor, saying it came after afterKey', async () => {
    for (const first of ['a', '0']) {
      const outcome = readPage(sourceOf(rows(first, 'b')).source, 'a', 3);
      await expect(outcome).rejects.toMatchObject({ code: 'ERR_INVALID_KEY' });
      await expect(outcome).rejects.toThrow(`new returned key "${first}" after afterKey "a": getBatch must return keys strictly greater than afterKey`);
      await expect(outcome).rejects.toThrow(/\(a store that ignores afterKey would be read for ever; for text keys in PostgreSQL, use a "C" collation\)/);
    }
  });

  it('refuses a repeated or descending key within the page, naming the key before it', async () => {
    for (const page of [rows('b', 'c', 'c'), rows('b', 'c', 'bb')]) {
      const outcome = readPage(sourceOf(page).source, 'a', 3);
      await expect(outcome).rejects.toMatchObject({ code: 'ERR_INVALID_KEY' });
      await expect(outcome).rejects.toThrow(/after "c" in the same page/);
    }
    await expect(readPage(sourceOf(rows(2, 1)).source, null, 3)).rejects.toThrow(/new returned key 1 after 2 in the same page/);
  });

  it('wraps a keyOf that throws in ERR_INVALID_KEY, its error as the cause', async () => {
    const failure = new Error('no id');
    const outcome = readPage(
      sourceOf(rows('a'), () => {
        throw failure;
      }).source,
      null,
      3,
    );
    await expect(outcome).rejects.toMatchObject({ code: 'ERR_INVALID_KEY', cause: failure });
    await expect(outcome).rejects.toThrow('keyOf threw on a row of new');
  });

  it.each<[string, unknown]>([
    ['NaN', Number.NaN],
    ['Infinity', Number.POSITIVE_INFINITY],
    ['null', null],
    ['an object', { id: 1 }],
    ['a boolean', true],
  ])('refuses a key that is %s', async (_, key) => {
    const outcome = readPage(sourceOf(rows(key)).source, null, 3);
    await expect(outcome).rejects.toMatchObject({ code: 'ERR_INVALID_KEY' });
    await expect(outcome).rejects.toThrow(/keyOf returned .* for a row of new: a key must be a string, a finite number or a bigint/);
  });
});
