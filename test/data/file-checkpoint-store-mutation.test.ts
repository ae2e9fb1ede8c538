import fsp from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FileCheckpointStore } from '../../src/data/file-checkpoint-store.js';

// src/data/file-checkpoint-store.ts: the checkpoint state in a JSON file,
// replaced whole on every save and removed on clear.

let dir: string;

beforeEach(async () => {
  dir = await fsp.mkdtemp(path.join(os.tmpdir(), 'file-checkpoint-'));
});

afterEach(async () => {
  await fsp.rm(dir, { recursive: true, force: true });
});

describe('FileCheckpointStore options', () => {
  it('takes a path, resolved against the working directory', () => {
    expect(new FileCheckpointStore({ path: 'state/verify.json' }).path).toBe(path.resolve('state/verify.json'));
    const file = path.join(dir, 'a.json');
    expect(new FileCheckpointStore({ path: file }).path).toBe(file);
  });

  it.each<[string, unknown]>([
    ['no path', {}],
    ['an empty path', { path: '' }],
    ['a path that is no string', { path: 5 }],
  ])('refuses %s, naming the option and the store', (_, options) => {
    expect(() => new FileCheckpointStore(options as never)).toThrow(/`path`/);
    expect(() => new FileCheckpointStore(options as never)).toThrow(expect.objectContaining({ code: 'ERR_INVALID_OPTION', option: 'path' }));
  });

  it('names itself when an option is unknown', () => {
    expect(() => new FileCheckpointStore({ path: 'x', pth: 'y' } as never)).toThrow(/is not an option of FileCheckpointStore/);
  });
});

describe('FileCheckpointStore', () => {
  it('loads undefined while there is no file', async () => {
    await expect(new FileCheckpointStore({ path: path.join(dir, 'none.json') }).load()).resolves.toBeUndefined();
  });

  it('writes the state as one line of JSON and loads it back, also from a new instance', async () => {
    const file = path.join(dir, 'nested', 'state.json');
    const store = new FileCheckpointStore({ path: file });
    await store.save({ lastKey: 'k0001', checked: 1 });
    await store.save({ lastKey: 'k0003', checked: 4, done: false });
    expect(await fsp.readFile(file, 'utf8')).toBe('{"lastKey":"k0003","checked":4,"done":false}\n');
    await expect(store.load()).resolves.toEqual({ lastKey: 'k0003', checked: 4, done: false });
    await expect(new FileCheckpointStore({ path: file }).load()).resolves.toEqual({ lastKey: 'k0003', checked: 4, done: false });
  });

  it('keeps falsy states', async () => {
    const store = new FileCheckpointStore({ path: path.join(dir, 'falsy.json') });
    for (const state of [null, 0, false, '']) {
      await store.save(state);
      await expect(store.load()).resolves.toBe(state);
    }
  });

  it('refuses a file that does not hold JSON', async () => {
    const file = path.join(dir, 'bad.json');
    await fsp.writeFile(file, '{"lastKey":');
    await expect(new FileCheckpointStore({ path: file }).load()).rejects.toBeInstanceOf(SyntaxError);
  });

  it('removes the file on clear, and clearing without a file succeeds', async () => {
    const file = path.join(dir, 'state.json');
    const store = new FileCheckpointStore({ path: file });
    await store.clear();
    await store.save({ lastKey: 2 });
    await store.clear();
    await expect(fsp.access(file)).rejects.toMatchObject({ code: 'ENOENT' });
    await expect(store.load()).resolves.toBeUndefined();
    await store.clear();
    await expect(store.load()).resolves.toBeUndefined();
  });
});
