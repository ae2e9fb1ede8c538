import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { ConfigFileRead } from '../../src/config/config-file.js';
import {
  createConfigFileSync,
  fileConfigError,
  maxConfigFileBytes,
  readConfigFile,
  readConfigFileSync,
  resolveWriteTarget,
  serializeConfigFile,
  signatureOf,
} from '../../src/config/config-file.js';
import { MigrationConfigError } from '../../src/config/migration-config.js';
import { phases } from '../../src/config/phases.js';
import type { RampState } from '../../src/config/ramp-state.js';
import { emptyRampState } from '../../src/config/ramp-state.js';

// Reading, locating and creating the config file, one rule at a time: each
// case is one a mutant of src/config/config-file.ts would otherwise pass.

let dir: string;
let file: string;

beforeEach(() => {
  dir = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'mg-config-file-')));
  file = path.join(dir, 'config.json');
});

afterEach(() => {
  vi.restoreAllMocks();
  fs.rmSync(dir, { recursive: true, force: true });
});

const ramp: RampState = { ...emptyRampState(), revision: 4, step: 1, blockedBy: 'hold' };

/** Both readers, which must agree on every file. */
const readers: readonly [string, (target: string) => Promise<ConfigFileRead>][] = [
  ['readConfigFileSync', async (target) => readConfigFileSync(target)],
  ['readConfigFile', readConfigFile],
];

function signatureNow(target: string): string {
  return signatureOf(fs.statSync(target, { bigint: true }));
}

function invalidOf(read: ConfigFileRead): Extract<ConfigFileRead, { kind: 'invalid' }> {
  expect(read.kind).toBe('invalid');
  return read as Extract<ConfigFileRead, { kind: 'invalid' }>;
}

describe('signatureOf and fileConfigError', () => {
  it('names the device, inode, size and mtime in nanoseconds', () => {
    fs.writeFileSync(file, 'abc');
    const stats = fs.statSync(file, { bigint: true });
    expect(signatureOf(stats)).toBe(`${stats.dev}:${stats.ino}:3:${stats.mtimeNs}`);
  });

  it('names the file in the message, keeping the issues', () => {
    const error = fileConfigError('/etc/x.json', [{ path: 'shadowMode', message: 'is required (true or false)' }]);
    expect(error).toBeInstanceOf(MigrationConfigError);
    expect(error.message).toBe('[migration-glue] invalid config in /etc/x.json: `shadowMode` is required (true or false)');
    expect(error.issues).toEqual([{ path: 'shadowMode', message: 'is required (true or false)' }]);
  });
});

describe.each(readers)('%s', (_name, read) => {
  it('reads a config, its ramp state, signature and permission bits', async () => {
    fs.writeFileSync(file, serializeConfigFile(phases.canary(5), ramp));
    fs.chmodSync(file, 0o640);
    expect(await read(file)).toEqual({ kind: 'ok', config: phases.canary(5), ramp, signature: signatureNow(file), mode: 0o640 });
  });

  it('reads a config with no ramp state, and drops a bad one without blocking the config', async () => {
    fs.writeFileSync(file, JSON.stringify(phases.shadow()));
    expect(await read(file)).toMatchObject({ kind: 'ok', config: phases.shadow(), ramp: undefined });
    fs.writeFileSync(file, JSON.stringify({ ...phases.shadow(), ramp: { revision: -1 } }));
    expect(await read(file)).toMatchObject({ kind: 'ok', config: phases.shadow(), ramp: undefined });
  });

  it('reads a missing file, or one under a path that is not a directory, as missing', async () => {
    expect(await read(file)).toEqual({ kind: 'missing' });
    fs.writeFileSync(file, '{}');
    expect(await read(path.join(file, 'inner.json'))).toEqual({ kind: 'missing' });
  });

  it('throws any other fs error', async () => {
    fs.writeFileSync(file, JSON.stringify(phases.shadow()));
    const failure = Object.assign(new Error('EIO: disk gone'), { code: 'EIO' });
    vi.spyOn(fs, 'openSync').mockImplementationOnce(() => {
      throw failure;
    });
    vi.spyOn(fsp, 'open').mockRejectedValueOnce(failure);
    await expect(read(file)).rejects.toBe(failure);
  });

  it('refuses a directory as not a regular file', async () => {
    fs.mkdirSync(file);
    const found = invalidOf(await read(file));
    expect(found.problem).toBe('not-a-file');
    expect(found.signature).toBe(signatureNow(file));
    expect(found.error.issues).toEqual([{ path: '(root)', message: 'is not a regular file' }]);
    expect(found.error.message).toContain(file);
  });

  it('refuses a FIFO without blocking', async () => {
    execFileSync('mkfifo', [file]);
    expect(invalidOf(await read(file)).problem).toBe('not-a-file');
  });

  it('reads a file of exactly the most a config file may hold, and refuses one byte more without reading it', async () => {
    expect(maxConfigFileBytes).toBe(1024 * 1024);
    const text = JSON.stringify(phases.full());
    fs.writeFileSync(file, text + ' '.repeat(maxConfigFileBytes - text.length));
    expect(await read(file)).toMatchObject({ kind: 'ok', config: phases.full() });
    fs.appendFileSync(file, ' ');
    const found = invalidOf(await read(file));
    const signature = signatureNow(file);
    expect(found.problem).toBe(`too-big:${signature}`);
    expect(found.signature).toBe(signature);
    expect(found.error.issues).toEqual([{ path: '(root)', message: `is ${maxConfigFileBytes + 1} bytes; a config file holds at most ${maxConfigFileBytes}` }]);
  });

  it('refuses text that is not JSON, saying so, with the text as the problem', async () => {
    fs.writeFileSync(file, '{ "shadowMode": tru');
    const found = invalidOf(await read(file));
    expect(found.problem).toBe('json:{ "shadowMode": tru');
    expect(found.error.issues[0]?.path).toBe('(root)');
    expect(found.error.issues[0]?.message).toMatch(/^is not valid JSON: (?!the file is empty)./);
  });

  it('calls an empty or blank file empty', async () => {
    for (const text of ['', ' \n\t']) {
      fs.writeFileSync(file, text);
      const found = invalidOf(await read(file));
      expect(found.problem).toBe(`json:${text}`);
      expect(found.error.issues).toEqual([{ path: '(root)', message: 'is not valid JSON: the file is empty' }]);
    }
  });

  it('refuses JSON that is not a config, naming the issues, with the text as the problem', async () => {
    for (const text of ['null', '5', '"config"', '[]', JSON.stringify({ ...phases.full(), newSystemPercentage: 101 })]) {
      fs.writeFileSync(file, text);
      const found = invalidOf(await read(file));
      expect(found.problem).toBe(`config:${text}`);
      expect(found.error).toBeInstanceOf(MigrationConfigError);
      expect(found.error.message).toContain(`invalid config in ${file}:`);
    }
  });

  it('reads multi-byte text whole', async () => {
    const text = JSON.stringify({ ...phases.shadow(), note: 'é'.repeat(40_000) });
    fs.writeFileSync(file, text);
    expect(await read(file)).toMatchObject({ kind: 'ok', config: phases.shadow() });
  });
});

describe('a file that grew after its size was checked', () => {
  const grown = () => {
    const text = JSON.stringify(phases.full());
    fs.writeFileSync(file, text + ' '.repeat(maxConfigFileBytes + 10 - text.length));
  };
  const message = `holds more than ${maxConfigFileBytes} bytes; a config file holds at most that`;

  it('is refused by readConfigFileSync after reading one byte more than allowed', () => {
    grown();
    const realFstat = fs.fstatSync.bind(fs);
    vi.spyOn(fs, 'fstatSync').mockImplementation(((fd: number, options?: fs.StatOptions) => {
      const stats = realFstat(fd, options as never) as unknown as fs.BigIntStats;
      return Object.assign(Object.create(Object.getPrototypeOf(stats) as object) as fs.BigIntStats, stats, { size: 100n });
    }) as never);
    const found = invalidOf(readConfigFileSync(file));
    expect(found.error.issues).toEqual([{ path: '(root)', message }]);
    expect(found.problem).toMatch(/^too-big:/);
  });

  it('is refused by readConfigFile after reading one byte more than allowed', async () => {
    grown();
    const realOpen = fsp.open.bind(fsp);
    vi.spyOn(fsp, 'open').mockImplementation((async (...args: Parameters<typeof fsp.open>) => {
      const handle = await realOpen(...args);
      const realStat = handle.stat.bind(handle);
      handle.stat = (async (options?: fs.StatOptions) => {
        const stats = (await realStat(options as never)) as unknown as fs.BigIntStats;
        return Object.assign(Object.create(Object.getPrototypeOf(stats) as object) as fs.BigIntStats, stats, { size: 100n });
      }) as typeof handle.stat;
      return handle;
    }) as typeof fsp.open);
    const found = invalidOf(await readConfigFile(file));
    expect(found.error.issues).toEqual([{ path: '(root)', message }]);
  });

  it('is read whole by readConfigFile however short each read is', async () => {
    fs.writeFileSync(file, serializeConfigFile(phases.canary(7), ramp));
    const realOpen = fsp.open.bind(fsp);
    vi.spyOn(fsp, 'open').mockImplementation((async (...args: Parameters<typeof fsp.open>) => {
      const handle = await realOpen(...args);
      const realRead = handle.read.bind(handle) as (buffer: Buffer, offset: number, length: number, position: null) => Promise<fs.promises.FileReadResult<Buffer>>;
      handle.read = ((buffer: Buffer, offset: number, length: number, position: null) => realRead(buffer, offset, Math.min(length, 3), position)) as typeof handle.read;
      return handle;
    }) as typeof fsp.open);
    expect(await readConfigFile(file)).toMatchObject({ kind: 'ok', config: phases.canary(7), ramp });
  });

  it('is read whole by readConfigFileSync however short each read is', () => {
    fs.writeFileSync(file, serializeConfigFile(phases.canary(7), ramp));
    const realRead = fs.readSync.bind(fs) as (fd: number, buffer: Buffer, offset: number, length: number, position: null) => number;
    vi.spyOn(fs, 'readSync').mockImplementation(((fd: number, buffer: Buffer, offset: number, length: number, position: null) =>
      realRead(fd, buffer, offset, Math.min(length, 3), position)) as never);
    expect(readConfigFileSync(file)).toMatchObject({ kind: 'ok', config: phases.canary(7), ramp });
  });
});

describe('serializeConfigFile', () => {
  it('writes the four fields, indented, with a final newline, and the ramp state beside them when there is one', () => {
    expect(serializeConfigFile(phases.shadow(), undefined)).toBe(`${JSON.stringify(phases.shadow(), null, 2)}\n`);
    expect(serializeConfigFile(phases.shadow(), ramp)).toBe(`${JSON.stringify({ ...phases.shadow(), ramp }, null, 2)}\n`);
  });
});

describe('resolveWriteTarget', () => {
  it('gives a plain path back, its directory resolved', () => {
    expect(resolveWriteTarget(file)).toBe(file);
    fs.symlinkSync(dir, path.join(os.tmpdir(), path.basename(dir) + '-link'));
    try {
      expect(resolveWriteTarget(path.join(`${dir}-link`, 'config.json'))).toBe(file);
    } finally {
      fs.rmSync(`${dir}-link`);
    }
  });

  it('follows a chain of links, relative ones from their own directory, to the file they end at', () => {
    fs.mkdirSync(path.join(dir, 'a'));
    fs.mkdirSync(path.join(dir, 'b'));
    fs.writeFileSync(path.join(dir, 'b', 'real.json'), '{}');
    fs.symlinkSync(path.join('..', 'b', 'real.json'), path.join(dir, 'a', 'hop.json'));
    fs.symlinkSync(path.join('a', 'hop.json'), file);
    expect(resolveWriteTarget(file)).toBe(path.join(dir, 'b', 'real.json'));
  });

  it('gives the file a dangling link points to', () => {
    fs.symlinkSync(path.join(dir, 'target.json'), file);
    expect(resolveWriteTarget(file)).toBe(path.join(dir, 'target.json'));
  });

  it('stops on a loop of links', () => {
    fs.symlinkSync(path.join(dir, 'b.json'), path.join(dir, 'a.json'));
    fs.symlinkSync(path.join(dir, 'a.json'), path.join(dir, 'b.json'));
    expect([path.join(dir, 'a.json'), path.join(dir, 'b.json')]).toContain(resolveWriteTarget(path.join(dir, 'a.json')));
  });

  it('gives the path as it is when its directory does not exist', () => {
    const nowhere = path.join(dir, 'no', 'such', 'config.json');
    expect(resolveWriteTarget(nowhere)).toBe(nowhere);
  });
});

describe('createConfigFileSync', () => {
  const leftovers = () => fs.readdirSync(path.dirname(file)).filter((name) => name.endsWith('.tmp'));

  it('creates the file and its directories, durable, with no temp file left; the signature is the file read back', () => {
    file = path.join(dir, 'x', 'y', 'config.json');
    const created = createConfigFileSync(file, phases.canary(3));
    expect(created).toEqual({ config: phases.canary(3), ramp: undefined, signature: signatureNow(file) });
    expect(fs.readFileSync(file, 'utf8')).toBe(serializeConfigFile(phases.canary(3), undefined));
    expect(leftovers()).toEqual([]);
  });

  it('creates the file a dangling link points to, keeping the link', () => {
    const real = path.join(dir, 'real.json');
    fs.symlinkSync(real, file);
    createConfigFileSync(file, phases.shadow());
    expect(fs.lstatSync(file).isSymbolicLink()).toBe(true);
    expect(JSON.parse(fs.readFileSync(real, 'utf8'))).toEqual(phases.shadow());
  });

  it('returns the file another process created first, untouched', () => {
    fs.writeFileSync(file, serializeConfigFile(phases.full(), ramp));
    const before = fs.readFileSync(file, 'utf8');
    expect(createConfigFileSync(file, phases.canary(3))).toEqual({ config: phases.full(), ramp, signature: signatureNow(file) });
    expect(fs.readFileSync(file, 'utf8')).toBe(before);
    expect(leftovers()).toEqual([]);
  });

  it('throws when the file another process created is invalid, leaving it and no temp file', () => {
    fs.writeFileSync(file, 'garbage');
    expect(() => createConfigFileSync(file, phases.canary(3))).toThrow(MigrationConfigError);
    expect(fs.readFileSync(file, 'utf8')).toBe('garbage');
    expect(leftovers()).toEqual([]);
  });

  it('renames into place when the file that was in the way is gone again', () => {
    vi.spyOn(fs, 'linkSync').mockImplementationOnce(() => {
      throw Object.assign(new Error('EEXIST: raced'), { code: 'EEXIST' });
    });
    const created = createConfigFileSync(file, phases.canary(4));
    expect(created.config).toEqual(phases.canary(4));
    expect(created.signature).toBe(signatureNow(file));
    expect(JSON.parse(fs.readFileSync(file, 'utf8'))).toEqual(phases.canary(4));
    expect(leftovers()).toEqual([]);
  });

  it('renames into place where hard links are not supported', () => {
    vi.spyOn(fs, 'linkSync').mockImplementationOnce(() => {
      throw Object.assign(new Error('EPERM: no hard links here'), { code: 'EPERM' });
    });
    expect(createConfigFileSync(file, phases.canary(6)).config).toEqual(phases.canary(6));
    expect(JSON.parse(fs.readFileSync(file, 'utf8'))).toEqual(phases.canary(6));
    expect(leftovers()).toEqual([]);
  });

  it('fsyncs the directory once the file is in place, and survives a directory that cannot be fsynced', () => {
    const realFsync = fs.fsyncSync.bind(fs);
    const synced: string[] = [];
    const realOpen = fs.openSync.bind(fs);
    const opened = new Map<number, string>();
    vi.spyOn(fs, 'openSync').mockImplementation(((target: fs.PathLike, flags: fs.OpenMode, mode?: fs.Mode) => {
      const fd = realOpen(target, flags, mode);
      opened.set(fd, String(target));
      return fd;
    }) as never);
    vi.spyOn(fs, 'fsyncSync').mockImplementation((fd: number) => {
      synced.push(opened.get(fd) ?? '?');
      if (opened.get(fd) === dir) throw Object.assign(new Error('EINVAL'), { code: 'EINVAL' });
      realFsync(fd);
    });
    createConfigFileSync(file, phases.canary(8));
    expect(synced.at(-1)).toBe(dir);
    expect(synced.filter((where) => where.endsWith('.tmp'))).toHaveLength(1);
    expect(JSON.parse(fs.readFileSync(file, 'utf8'))).toEqual(phases.canary(8));
  });
});

describe('every file opened is closed', () => {
  /** Records the descriptors fs.openSync returns and the ones fs.closeSync closes. */
  function trackSync(): { opened: number[]; closed: number[] } {
    const opened: number[] = [];
    const closed: number[] = [];
    const realOpen = fs.openSync.bind(fs);
    const realClose = fs.closeSync.bind(fs);
    vi.spyOn(fs, 'openSync').mockImplementation(((...args: Parameters<typeof fs.openSync>) => {
      const fd = realOpen(...args);
      opened.push(fd);
      return fd;
    }) as typeof fs.openSync);
    vi.spyOn(fs, 'closeSync').mockImplementation((fd: number) => {
      closed.push(fd);
      realClose(fd);
    });
    return { opened, closed };
  }

  it('by readConfigFileSync, whether the file is good or not', () => {
    const { opened, closed } = trackSync();
    fs.writeFileSync(file, JSON.stringify(phases.shadow()));
    readConfigFileSync(file);
    fs.writeFileSync(file, 'garbage');
    readConfigFileSync(file);
    expect(opened).toHaveLength(2);
    expect(closed).toEqual(opened);
  });

  it('by readConfigFile, whether the file is good or not', async () => {
    const realOpen = fsp.open.bind(fsp);
    let open = 0;
    let closed = 0;
    vi.spyOn(fsp, 'open').mockImplementation((async (...args: Parameters<typeof fsp.open>) => {
      const handle = await realOpen(...args);
      open += 1;
      const realClose = handle.close.bind(handle);
      handle.close = async () => {
        closed += 1;
        await realClose();
      };
      return handle;
    }) as typeof fsp.open);
    fs.writeFileSync(file, JSON.stringify(phases.shadow()));
    await readConfigFile(file);
    fs.writeFileSync(file, 'garbage');
    await readConfigFile(file);
    expect(open).toBe(2);
    expect(closed).toBe(2);
  });

  it('by createConfigFileSync: the temp file and the directory it fsyncs', () => {
    const { opened, closed } = trackSync();
    createConfigFileSync(file, phases.canary(2));
    expect(opened.length).toBeGreaterThanOrEqual(2);
    expect(closed).toEqual(opened);
  });
});
