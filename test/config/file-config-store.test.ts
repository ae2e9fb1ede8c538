import { execFile } from 'node:child_process';
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { MigrationGlueError } from '../../src/errors.js';
import type { FileConfigStoreOptions } from '../../src/config/file-config-store.js';
import { FileConfigStore } from '../../src/config/file-config-store.js';
import type { MigrationConfig } from '../../src/config/migration-config.js';
import { MigrationConfigError } from '../../src/config/migration-config.js';
import { phases } from '../../src/config/phases.js';
import type { Logger } from '../../src/observe/logger.js';

const run = promisify(execFile);

interface LogLine {
  readonly level: keyof Logger;
  readonly context: object;
  readonly message: string | undefined;
}

function recordingLogger(): Logger & { readonly lines: LogLine[]; at(level: keyof Logger): LogLine[] } {
  const lines: LogLine[] = [];
  const method = (level: keyof Logger) => (context: object, message?: string) => {
    lines.push({ level, context, message });
  };
  return {
    lines,
    at: (level) => lines.filter((line) => line.level === level),
    debug: method('debug'),
    info: method('info'),
    warn: method('warn'),
    error: method('error'),
  };
}

let dir: string;
let file: string;
const stores: FileConfigStore[] = [];

function open(options: Partial<FileConfigStoreOptions> = {}): FileConfigStore {
  const store = new FileConfigStore({ path: file, ...options });
  stores.push(store);
  return store;
}

function readJson(): unknown {
  return JSON.parse(fs.readFileSync(file, 'utf8'));
}

function tempFiles(): string[] {
  return fs.readdirSync(dir).filter((name) => name.endsWith('.tmp'));
}

/** Writes `config` to `target` from another Node process, atomically, as a second instance would. */
async function writeFromAnotherProcess(target: string, config: MigrationConfig): Promise<void> {
  const script = `
    const fs = require('node:fs');
    const [target, text] = process.argv.slice(1);
    const temp = target + '.' + process.pid + '.child.tmp';
    fs.writeFileSync(temp, text);
    fs.renameSync(temp, target);
  `;
  await run(process.execPath, ['-e', script, target, JSON.stringify(config)]);
}

/** Resolves once the next listener call arrives. */
function nextChange(store: FileConfigStore): Promise<MigrationConfig> {
  return new Promise((resolve) => {
    const stop = store.subscribe((config) => {
      stop();
      resolve(config);
    });
  });
}

beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'migration-glue-file-store-'));
  file = path.join(dir, 'migration.json');
});

afterEach(() => {
  for (const store of stores.splice(0)) store.close();
  vi.restoreAllMocks();
  fs.rmSync(dir, { recursive: true, force: true });
});

describe('FileConfigStore', () => {
  describe('when options are bad', () => {
    it('throws ERR_INVALID_OPTION naming `path` and the value received', () => {
      for (const bad of ['', undefined, 42]) {
        let caught: unknown;
        try {
          new FileConfigStore({ path: bad } as unknown as FileConfigStoreOptions);
        } catch (err) {
          caught = err;
        }
        expect(MigrationGlueError.is(caught, 'ERR_INVALID_OPTION')).toBe(true);
        expect((caught as Error).message).toContain('`path`');
        expect((caught as Error).message).toContain(bad === '' ? '""' : String(bad));
      }
    });

    it('throws ERR_INVALID_OPTION on a negative debounceMs', () => {
      expect(() => new FileConfigStore({ path: file, debounceMs: -1 })).toThrow(/`debounceMs`.*-1/);
    });
  });

  describe('when the file does not exist', () => {
    it('writes the preparation config by default', () => {
      const store = open({ watch: false });
      expect(store.current()).toEqual(phases.preparation());
      expect(readJson()).toEqual(phases.preparation());
      expect(tempFiles()).toEqual([]);
    });

    it('writes `initial`, creating missing directories', () => {
      file = path.join(dir, 'nested', 'deeper', 'migration.json');
      const store = open({ initial: phases.canary(5), watch: false });
      expect(store.current()).toEqual(phases.canary(5));
      expect(readJson()).toEqual(phases.canary(5));
    });

    it('rejects an invalid `initial` with ERR_INVALID_CONFIG', () => {
      const initial = { ...phases.full(), newSystemPercentage: 150 };
      expect(() => open({ initial })).toThrow(MigrationConfigError);
      expect(fs.existsSync(file)).toBe(false);
    });
  });

  describe('when the file exists', () => {
    it('reads it and ignores `initial`', () => {
      fs.writeFileSync(file, JSON.stringify(phases.shadow()));
      const store = open({ initial: phases.full(), watch: false });
      expect(store.current()).toEqual(phases.shadow());
      expect(readJson()).toEqual(phases.shadow());
    });

    it.each([
      ['bad JSON', '{ "shadowMode": tru'],
      ['an empty file', ''],
      ['a bad field', JSON.stringify({ ...phases.full(), newSystemPercentage: 101 })],
      ['an array', '[]'],
    ])('throws ERR_INVALID_CONFIG naming the path on %s', (_name, text) => {
      fs.writeFileSync(file, text);
      let caught: unknown;
      try {
        open();
      } catch (err) {
        caught = err;
      }
      expect(caught).toBeInstanceOf(MigrationConfigError);
      expect(MigrationGlueError.is(caught, 'ERR_INVALID_CONFIG')).toBe(true);
      expect((caught as Error).message).toContain(file);
      expect(fs.readFileSync(file, 'utf8')).toBe(text);
    });

    it('ignores a leftover temp file from a crashed process', () => {
      fs.writeFileSync(file, JSON.stringify(phases.canary(10)));
      const leftover = path.join(dir, 'migration.json.99999.deadbeef.tmp');
      fs.writeFileSync(leftover, '{ "half": ');
      const store = open();
      expect(store.current()).toEqual(phases.canary(10));
      expect(fs.existsSync(leftover)).toBe(true);
    });
  });

  describe('save', () => {
    it('round-trips through the file and notifies once', async () => {
      const store = open();
      const listener = vi.fn();
      store.subscribe(listener);
      await store.save(phases.canary(25));
      expect(store.current()).toEqual(phases.canary(25));
      expect(readJson()).toEqual(phases.canary(25));
      expect(new FileConfigStore({ path: file, watch: false }).current()).toEqual(phases.canary(25));
      // Our own write also reaches the watcher; it must not notify a second time.
      await new Promise((resolve) => setTimeout(resolve, 100));
      expect(listener).toHaveBeenCalledTimes(1);
      expect(listener).toHaveBeenCalledWith(phases.canary(25));
      expect(tempFiles()).toEqual([]);
    });

    it('notifies once even when the watcher fires before the save resolves', async () => {
      const store = open({ debounceMs: 0 });
      const listener = vi.fn();
      store.subscribe(listener);
      const realRename = fsp.rename.bind(fsp);
      let renamed!: () => void;
      const watcherHadTime = new Promise<void>((resolve) => (renamed = resolve));
      vi.spyOn(fsp, 'rename').mockImplementationOnce(async (from, to) => {
        await realRename(from, to);
        // Hold the save open after the file changed, so the watcher's re-read races it.
        await new Promise((resolve) => setTimeout(resolve, 100));
        renamed();
      });
      await store.save(phases.canary(40));
      await watcherHadTime;
      await new Promise((resolve) => setTimeout(resolve, 50));
      expect(listener).toHaveBeenCalledTimes(1);
    });

    it('drops unknown fields', async () => {
      const store = open({ watch: false });
      await store.save({ ...phases.full(), extra: 1 } as MigrationConfig);
      expect(readJson()).toEqual(phases.full());
    });

    it('rejects an invalid config and leaves the file untouched', async () => {
      const store = open({ initial: phases.canary(5) });
      const before = fs.readFileSync(file, 'utf8');
      const listener = vi.fn();
      store.subscribe(listener);
      const bad = { ...phases.canary(5), newSystemPercentage: -3, shadowMode: 'yes' } as unknown as MigrationConfig;
      const error = await store.save(bad).catch((err: unknown) => err);
      expect(error).toBeInstanceOf(MigrationConfigError);
      expect((error as MigrationConfigError).issues.map((issue) => issue.path).sort()).toEqual(['newSystemPercentage', 'shadowMode']);
      expect(fs.readFileSync(file, 'utf8')).toBe(before);
      expect(store.current()).toEqual(phases.canary(5));
      expect(listener).not.toHaveBeenCalled();
    });

    it('serializes concurrent saves: the last one wins and the file stays valid', async () => {
      const store = open();
      const seen: number[] = [];
      store.subscribe((config) => seen.push(config.newSystemPercentage));
      const percentages = Array.from({ length: 20 }, (_, i) => i + 1);
      await Promise.all(percentages.map((p) => store.save(phases.canary(p))));
      expect(seen).toEqual(percentages);
      expect(store.current()).toEqual(phases.canary(20));
      expect(readJson()).toEqual(phases.canary(20));
      expect(tempFiles()).toEqual([]);
    });

    it('keeps going after a failed save in the queue', async () => {
      const store = open({ watch: false });
      const results = await Promise.allSettled([
        store.save(phases.canary(1)),
        store.save({ ...phases.canary(1), newSystemPercentage: 1000 }),
        store.save(phases.canary(2)),
      ]);
      expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
      expect(readJson()).toEqual(phases.canary(2));
    });
  });

  describe('when the write crashes before the rename', () => {
    it('rejects with the fs error, keeps the old file and config, and leaves no temp file', async () => {
      const store = open({ initial: phases.canary(5) });
      const listener = vi.fn();
      store.subscribe(listener);
      const crash = Object.assign(new Error('EIO: simulated crash'), { code: 'EIO' });
      const rename = vi.spyOn(fsp, 'rename').mockRejectedValueOnce(crash);

      await expect(store.save(phases.full())).rejects.toBe(crash);

      expect(rename).toHaveBeenCalledTimes(1);
      expect(readJson()).toEqual(phases.canary(5));
      expect(tempFiles()).toEqual([]);
      expect(store.current()).toEqual(phases.canary(5));
      expect(listener).not.toHaveBeenCalled();
      expect(open({ watch: false }).current()).toEqual(phases.canary(5));

      await store.save(phases.full());
      expect(readJson()).toEqual(phases.full());
    });
  });

  describe('when another process changes the file', () => {
    it('reaches subscribed listeners and logs one info line', async () => {
      const logger = recordingLogger();
      const store = open({ logger });
      const changed = nextChange(store);
      await writeFromAnotherProcess(file, phases.canary(50));
      expect(await changed).toEqual(phases.canary(50));
      expect(store.current()).toEqual(phases.canary(50));
      expect(logger.at('info')).toHaveLength(1);
      expect(logger.at('error')).toHaveLength(0);
    });

    it('reaches a second store on the same path', async () => {
      const writer = open();
      const reader = open();
      const changed = nextChange(reader);
      await writer.save(phases.shadow());
      expect(await changed).toEqual(phases.shadow());
    });
  });

  describe('when the file is edited by hand', () => {
    it('refuses garbage with one error, keeps the last good config, then picks up a valid edit', async () => {
      const logger = recordingLogger();
      const store = open({ initial: phases.canary(10), logger });
      const listener = vi.fn();
      store.subscribe(listener);

      fs.writeFileSync(file, 'this is { not json');
      await vi.waitFor(() => expect(logger.at('error')).toHaveLength(1));
      expect(logger.at('error')[0]?.message).toContain('not valid JSON');
      expect(store.current()).toEqual(phases.canary(10));

      fs.writeFileSync(file, JSON.stringify({ ...phases.canary(10), newSystemPercentage: 200 }));
      await vi.waitFor(() => expect(logger.at('error')).toHaveLength(2));
      expect(logger.at('error')[1]?.message).toContain('newSystemPercentage');
      expect(store.current()).toEqual(phases.canary(10));
      expect(listener).not.toHaveBeenCalled();

      fs.writeFileSync(file, JSON.stringify(phases.canary(20), null, 2));
      await vi.waitFor(() => expect(listener).toHaveBeenCalledTimes(1));
      expect(listener).toHaveBeenCalledWith(phases.canary(20));
      expect(store.current()).toEqual(phases.canary(20));
      expect(logger.at('error')).toHaveLength(2);
    });

    it('keeps serving the last good config when the file is deleted, and picks it up when it returns', async () => {
      const logger = recordingLogger();
      const store = open({ initial: phases.canary(10), logger });
      fs.rmSync(file);
      await vi.waitFor(() => expect(logger.at('warn')).toHaveLength(1));
      expect(store.current()).toEqual(phases.canary(10));

      const changed = nextChange(store);
      await writeFromAnotherProcess(file, phases.full());
      expect(await changed).toEqual(phases.full());
    });
  });

  describe('close', () => {
    it('stops notifications and is idempotent', async () => {
      const store = open();
      const witness = open();
      const listener = vi.fn();
      store.subscribe(listener);
      store.close();
      store.close();

      const witnessed = nextChange(witness);
      await writeFromAnotherProcess(file, phases.canary(30));
      await witnessed;
      // The witness saw it, so the closed store had the same chance; give its debounce time to pass.
      await new Promise((resolve) => setTimeout(resolve, 100));
      expect(listener).not.toHaveBeenCalled();
      expect(store.subscribe(listener)).toBeTypeOf('function');
    });

    it('does not keep the process alive', async () => {
      const script = `
        import(${JSON.stringify(new URL('../../src/config/file-config-store.ts', import.meta.url).href)})
          .then(({ FileConfigStore }) => { new FileConfigStore({ path: process.argv[1] }); });
      `;
      await run(process.execPath, ['--import', 'tsx', '-e', script, file], { timeout: 10_000 });
      expect(readJson()).toEqual(phases.preparation());
    });
  });
});
