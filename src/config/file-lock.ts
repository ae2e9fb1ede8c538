import type fs from 'node:fs';
import fsp from 'node:fs/promises';
import os from 'node:os';
import { randomBytes } from 'node:crypto';
import { MigrationGlueError } from '../errors.js';

// A lock file beside the config file, so that a save's read-compare-write is
// atomic across every process that shares the file.

/** A lock older than this is taken to belong to a process that died holding it. */
export const staleLockMs = 5_000;

/** Releases the lock; never throws. */
export type ReleaseLock = () => Promise<void>;

function holderOf(text: string): { pid: number; host: string } | undefined {
  const match = /^(\d+) (.*)$/s.exec(text.trim());
  return match === null ? undefined : { pid: Number(match[1]), host: match[2] ?? '' };
}

function isDead(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return false;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'ESRCH';
  }
}

async function isStale(lock: string, stats: fs.Stats): Promise<boolean> {
  const age = Date.now() - stats.mtimeMs;
  if (age > staleLockMs) return true;
  // Written a moment ago: its holder may not have written its pid yet.
  if (age < 250) return false;
  const holder = holderOf(await fsp.readFile(lock, 'utf8').catch(() => ''));
  return holder !== undefined && holder.host === os.hostname() && holder.pid !== process.pid && isDead(holder.pid);
}

/** Removes the stale lock judged by `stats`, and only that one: a fresh lock taken meanwhile is put back. */
async function breakStale(lock: string, stats: fs.Stats): Promise<void> {
  const aside = `${lock}.${randomBytes(4).toString('hex')}.stale`;
  try {
    await fsp.rename(lock, aside);
  } catch {
    return;
  }
  const moved = await fsp.stat(aside).catch(() => undefined);
  if (moved !== undefined && moved.ino !== stats.ino) await fsp.link(aside, lock).catch(() => {});
  await fsp.rm(aside, { force: true }).catch(() => {});
}

/**
 * Takes `lock` (created exclusively, holding "pid hostname"), waiting while
 * another live process holds it; breaks a lock left by a dead process.
 * @throws MigrationGlueError `ERR_TIMEOUT` after `timeoutMs` of waiting.
 * @throws the fs error when the lock cannot be created (read-only directory…).
 */
export async function acquireFileLock(lock: string, timeoutMs: number): Promise<ReleaseLock> {
  const started = Date.now();
  let pause = 2;
  for (;;) {
    let handle: fsp.FileHandle | undefined;
    try {
      handle = await fsp.open(lock, 'wx');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    if (handle !== undefined) {
      let ino: number | undefined;
      try {
        await handle.writeFile(`${process.pid} ${os.hostname()}\n`);
        ino = (await handle.stat()).ino;
      } finally {
        await handle.close();
      }
      return async () => {
        // Only our own lock: after a long stall another process may have broken it and taken its own.
        const now = await fsp.stat(lock).catch(() => undefined);
        if (now !== undefined && now.ino === ino) await fsp.rm(lock, { force: true }).catch(() => {});
      };
    }
    const stats = await fsp.stat(lock).catch(() => undefined);
    if (stats !== undefined && (await isStale(lock, stats))) {
      await breakStale(lock, stats);
      continue;
    }
    if (Date.now() - started > timeoutMs) {
      const holder = await fsp.readFile(lock, 'utf8').catch(() => '');
      throw new MigrationGlueError(
        'ERR_TIMEOUT',
        `config file lock ${lock} still held after ${timeoutMs} ms (holder: ${holder.trim() || 'unknown'}); if no process is saving, delete the lock file`,
      );
    }
    await new Promise((resolve) => setTimeout(resolve, pause));
    pause = Math.min(pause * 2, 50);
  }
}
