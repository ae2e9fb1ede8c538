import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, expect, it, describe } from 'vitest';
import { MigrationConfigError, phases } from '../../src/index.js';
import type { MigrationGlueError } from '../../src/index.js';
import { FileConfigStore } from '../../src/config/file-config-store.js';

const storeModule = path.resolve(__dirname, '../../src/config/file-config-store.ts');

describe('FileConfigStore: links, torn files and concurrent creators', () => {
  let dir: string;
  const stores: FileConfigStore[] = [];
  const open = (file: string, extra: object = {}) => {
    const store = new FileConfigStore({ path: file, watch: false, ...extra });
    stores.push(store);
    return store;
  };
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mg-file-races-'));
  });
  afterEach(() => {
    for (const s of stores.splice(0)) s.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('two stores, one through a symlink and one on the real file, share one lock: a stale save never undoes the rollback', async () => {
    const real = path.join(dir, 'real.json');
    const link = path.join(dir, 'link.json');
    fs.writeFileSync(real, JSON.stringify(phases.canary(5)));
    fs.symlinkSync(real, link);
    const viaLink = open(link);
    const viaReal = open(real);
    const stale = viaReal.save(phases.canary(50)); // decided at canary 5
    await viaLink.save(phases.rolledBack());
    const [outcome] = await Promise.allSettled([stale]);
    const file = JSON.parse(fs.readFileSync(real, 'utf8'));
    // Either the stale step was written first and the rollback after it, or the step was refused: the file ends rolled back.
    expect(file).toMatchObject(phases.rolledBack());
    expect(fs.lstatSync(link).isSymbolicLink()).toBe(true);
    // The stale step was either written before the rollback, or refused as a conflict; never lost silently.
    if (outcome?.status === 'rejected') expect((outcome.reason as MigrationGlueError).code).toBe('ERR_CONFLICT');
  });

  it('a file truncated to nothing by a non-atomic writer makes a step save reject and keeps the last good config; a rollback replaces it', async () => {
    const file = path.join(dir, 'config.json');
    const store = open(file, { initial: phases.canary(5) });
    fs.truncateSync(file, 0);
    await expect(store.save(phases.canary(10))).rejects.toBeInstanceOf(MigrationConfigError);
    expect(store.current()).toEqual(phases.canary(5));
    await store.save(phases.rolledBack());
    expect(JSON.parse(fs.readFileSync(file, 'utf8'))).toMatchObject(phases.rolledBack());
  });

  it('three processes creating the file at once with different initial configs all end up serving the one config in the file', async () => {
    const file = path.join(dir, 'sub', 'config.json');
    const script = `
      const { FileConfigStore } = await import(${JSON.stringify(storeModule)});
      const fs = await import('node:fs');
      const go = process.argv[1] + '.go';
      process.stderr.write('ready\\n');
      while (!fs.existsSync(go)) await new Promise((r) => setTimeout(r, 1));
      const store = new FileConfigStore({ path: process.argv[1], watch: false, initial: { shadowMode: false, newSystemEnabled: true, newSystemPercentage: Number(process.argv[2]), fallbackEnabled: true } });
      process.stdout.write(JSON.stringify(store.current()));
    `;
    fs.mkdirSync(path.dirname(file), { recursive: true });
    const children = Array.from({ length: 3 }, (_, i) =>
      spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script, file, String(i + 1)], { stdio: ['ignore', 'pipe', 'pipe'] }),
    );
    const ready = children.map((child) => new Promise<void>((resolve) => {
      const onData = (d: Buffer) => {
        if (String(d).includes('ready')) {
          child.stderr.off('data', onData);
          resolve();
        }
      };
      child.stderr.on('data', onData);
      child.on('exit', () => resolve());
    }));
    const outputs = children.map(
      (child) =>
        new Promise<string>((resolve) => {
          let out = '';
          let err = '';
          child.stdout.on('data', (d) => (out += String(d)));
          child.stderr.on('data', (d) => (err += String(d)));
          child.on('exit', () => resolve(out || `ERR ${err}`));
        }),
    );
    await Promise.all(ready);
    fs.writeFileSync(`${file}.go`, '');
    const served = await Promise.all(outputs);
    const inFile = JSON.parse(fs.readFileSync(file, 'utf8'));
    for (const s of served) expect(JSON.parse(s)).toEqual(inFile);
    expect(fs.readdirSync(path.dirname(file)).filter((n) => n.endsWith('.tmp'))).toEqual([]);
  }, 60_000);
});
