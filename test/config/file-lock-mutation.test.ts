import { spawn } from 'node:child_process';
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { acquireFileLock, staleLockMs } from '../../src/config/file-lock.js';

// The lock file beside the config file, rule by rule: each case is one a
// mutant of src/config/file-lock.ts would otherwise pass. Ages are set with
// utimes (far in the past, or in the future for "just written"), never
// waited for.

let dir: string;
let lock: string;
let deadPid: number | undefined;

beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mg-file-lock-'));
  lock = path.join(dir, 'config.json.lock');
});

afterEach(() => {
  vi.restoreAllMocks();
  fs.rmSync(dir, { recursive: true, force: true });
});

async function exitedPid(): Promise<number> {
  if (deadPid !== undefined) return deadPid;
  const child = spawn(process.execPath, ['-e', '0']);
  await new Promise((resolve) => child.on('exit', resolve));
  deadPid = child.pid ?? 0;
  return deadPid;
}

/** Writes a lock holding `text`, last modified `ageMs` ago (negative: in the future). */
function placeLock(text: string, ageMs: number): void {
  fs.writeFileSync(lock, text);
  const when = new Date(Date.now() - ageMs);
  fs.utimesSync(lock, when, when);
}

async function timeoutOf(timeoutMs = 30): Promise<Error & { code?: string }> {
  const error = await acquireFileLock(lock, timeoutMs).then(
    () => undefined,
    (err: unknown) => err as Error & { code?: string },
  );
  expect(error).toBeInstanceOf(Error);
  return error as Error & { code?: string };
}

const leftovers = () => fs.readdirSync(dir).filter((name) => name !== 'config.json.lock');

describe('acquireFileLock', () => {
  it('creates the lock holding "pid hostname", and its release removes it', async () => {
    const release = await acquireFileLock(lock, 1000);
    expect(fs.readFileSync(lock, 'utf8')).toBe(`${process.pid} ${os.hostname()}\n`);
    await release();
    expect(fs.existsSync(lock)).toBe(false);
    await expect(release()).resolves.toBeUndefined();
  });

  it('releases only its own lock: one taken by another process since stays', async () => {
    const release = await acquireFileLock(lock, 1000);
    // Written beside it and renamed over it, so that it is surely another inode.
    fs.writeFileSync(`${lock}.new`, '4242 other-host\n');
    fs.renameSync(`${lock}.new`, lock);
    await release();
    expect(fs.readFileSync(lock, 'utf8')).toBe('4242 other-host\n');
  });

  it('throws the fs error when the lock cannot be created', async () => {
    await expect(acquireFileLock(path.join(dir, 'missing', 'x.lock'), 1000)).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('waits for a lock released meanwhile, then takes it', async () => {
    const first = await acquireFileLock(lock, 1000);
    const second = acquireFileLock(lock, 5_000);
    await first();
    const release = await second;
    expect(fs.readFileSync(lock, 'utf8')).toBe(`${process.pid} ${os.hostname()}\n`);
    await release();
  });

  it('gives up after timeoutMs while a live process holds it, naming the lock, the wait and the holder', async () => {
    placeLock(`${process.ppid} ${os.hostname()}\n`, 1000);
    const error = await timeoutOf(30);
    expect(error.code).toBe('ERR_TIMEOUT');
    expect(error.message).toBe(
      `[migration-glue] config file lock ${lock} still held after 30 ms (holder: ${process.ppid} ${os.hostname()}); if no process is saving, delete the lock file`,
    );
    expect(fs.readFileSync(lock, 'utf8')).toBe(`${process.ppid} ${os.hostname()}\n`);
  });

  it('names the holder unknown when the lock is empty', async () => {
    placeLock('', -60_000);
    expect((await timeoutOf()).message).toContain('(holder: unknown)');
  });
});

describe('acquireFileLock when the lock changes under it', () => {
  it('closes the handle it wrote the lock through', async () => {
    const realOpen = fsp.open.bind(fsp);
    const closed: string[] = [];
    vi.spyOn(fsp, 'open').mockImplementation((async (...args: Parameters<typeof fsp.open>) => {
      const handle = await realOpen(...args);
      const realClose = handle.close.bind(handle);
      handle.close = async () => {
        closed.push(String(args[0]));
        await realClose();
      };
      return handle;
    }) as typeof fsp.open);
    const release = await acquireFileLock(lock, 1000);
    expect(closed).toEqual([lock]);
    await release();
  });

  it('waits on when the lock it found is gone before it could look at it', async () => {
    placeLock(`${process.ppid} ${os.hostname()}\n`, 1000);
    vi.spyOn(fsp, 'stat').mockRejectedValueOnce(Object.assign(new Error('ENOENT'), { code: 'ENOENT' }));
    expect((await timeoutOf()).code).toBe('ERR_TIMEOUT');
  });

  it('names the holder unknown, and does not take the lock, when it cannot be read', async () => {
    placeLock(`${await exitedPid()} ${os.hostname()}\n`, 1000);
    vi.spyOn(fsp, 'readFile').mockRejectedValue(Object.assign(new Error('EIO'), { code: 'EIO' }));
    const error = await timeoutOf();
    expect(error.code).toBe('ERR_TIMEOUT');
    expect(error.message).toContain('(holder: unknown)');
  });
});

describe('a lock left behind', () => {
  it('is broken at once when its holder died on this host', async () => {
    placeLock(`${await exitedPid()} ${os.hostname()}\n`, 1000);
    // Less than the 4 s the lock has left before it is stale for its age alone.
    const release = await acquireFileLock(lock, 2_000);
    expect(fs.readFileSync(lock, 'utf8')).toBe(`${process.pid} ${os.hostname()}\n`);
    expect(leftovers()).toEqual([]);
    await release();
  });

  it('is broken once older than staleLockMs, whatever it holds', async () => {
    expect(staleLockMs).toBe(5_000);
    placeLock('garbage', staleLockMs + 2_000);
    const release = await acquireFileLock(lock, 5_000);
    expect(fs.readFileSync(lock, 'utf8')).toBe(`${process.pid} ${os.hostname()}\n`);
    await release();
  });

  it('is kept while younger than staleLockMs when its holder lives, ran on another host, is this process or cannot be read', async () => {
    const dead = await exitedPid();
    for (const text of [`${process.ppid} ${os.hostname()}`, `${dead} another-host`, `${process.pid} ${os.hostname()}`, `${dead}`, `x${dead} ${os.hostname()}`, `${dead} ${os.hostname()} extra`]) {
      placeLock(`${text}\n`, staleLockMs - 2_000);
      expect((await timeoutOf()).code).toBe('ERR_TIMEOUT');
      expect(fs.readFileSync(lock, 'utf8')).toBe(`${text}\n`);
    }
  });

  it('reads the holder from text with spaces around it', async () => {
    placeLock(`  ${await exitedPid()} ${os.hostname()}  \n\n`, 1000);
    const release = await acquireFileLock(lock, 2_000);
    await release();
  });

  it('is kept when just written, even by a process that died (it may not have written its pid yet)', async () => {
    placeLock(`${await exitedPid()} ${os.hostname()}\n`, -60_000);
    expect((await timeoutOf()).code).toBe('ERR_TIMEOUT');
  });

  it('is kept when the kill probe says the holder lives but is not ours to signal', async () => {
    const dead = await exitedPid();
    placeLock(`${dead} ${os.hostname()}\n`, 1000);
    vi.spyOn(process, 'kill').mockImplementation(() => {
      throw Object.assign(new Error('EPERM'), { code: 'EPERM' });
    });
    expect((await timeoutOf()).code).toBe('ERR_TIMEOUT');
  });

  it('is put back when a fresh lock took its place before it was moved aside', async () => {
    placeLock('garbage', staleLockMs + 2_000);
    const realRename = fsp.rename.bind(fsp);
    let swapped = false;
    vi.spyOn(fsp, 'rename').mockImplementation(async (from, to) => {
      if (!swapped) {
        swapped = true;
        // Another process broke it first and took its own lock (another inode).
        const fresh = `${lock}.fresh`;
        fs.writeFileSync(fresh, `${process.ppid} ${os.hostname()}\n`);
        const when = new Date(Date.now() + 60_000);
        fs.utimesSync(fresh, when, when);
        fs.renameSync(fresh, lock);
      }
      await realRename(from, to);
    });
    expect((await timeoutOf(100)).code).toBe('ERR_TIMEOUT');
    expect(fs.readFileSync(lock, 'utf8')).toBe(`${process.ppid} ${os.hostname()}\n`);
    expect(leftovers()).toEqual([]);
  });

  it('is taken over once another process removed it before it could be moved aside', async () => {
    placeLock('garbage', staleLockMs + 2_000);
    const realRename = fsp.rename.bind(fsp);
    vi.spyOn(fsp, 'rename').mockImplementationOnce(async (from, to) => {
      fs.rmSync(lock);
      await realRename(from, to);
    });
    const release = await acquireFileLock(lock, 5_000);
    expect(fs.readFileSync(lock, 'utf8')).toBe(`${process.pid} ${os.hostname()}\n`);
    expect(leftovers()).toEqual([]);
    await release();
  });
});
