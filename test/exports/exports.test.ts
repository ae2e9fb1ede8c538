/**
 * Pins each entry point's public names. A change here is a change to the
 * package's API: make it deliberately, and say so in the changelog.
 * Runtime names are read from the loaded module; type-only names from the
 * entry's export statements.
 */
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { entries } from './entries.js';

const root = path.resolve(import.meta.dirname, '../..');

/** Every name an entry file's `export { ... } from` and `export type { ... } from` statements list. */
function listedNames(file: string): { values: string[]; types: string[] } {
  const text = fs.readFileSync(path.join(root, file), 'utf8');
  const values: string[] = [];
  const types: string[] = [];
  expect(text, `${file} re-exports with a star`).not.toMatch(/^export \*/m);
  for (const match of text.matchAll(/export (type )?\{([^}]*)\}/g)) {
    const names = match[2]!.split(',').map((name) => name.trim()).filter((name) => name !== '');
    (match[1] === undefined ? values : types).push(...names);
  }
  return { values: values.sort(), types: types.sort() };
}

describe.each(Object.entries(entries))('the %s entry', (file, expected) => {
  it('exports exactly its pinned runtime names', async () => {
    const loaded = (await import(path.join(root, file))) as Record<string, unknown>;
    expect(Object.keys(loaded).sort()).toEqual([...expected.values].sort());
  });

  it('lists exactly its pinned names, types included, one by one', () => {
    const listed = listedNames(file);
    expect(listed.values).toEqual([...expected.values].sort());
    expect(listed.types).toEqual([...expected.types].sort());
  });
});
