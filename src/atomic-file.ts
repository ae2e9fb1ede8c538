import { randomBytes } from 'node:crypto';
import type { BigIntStats } from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';

/** Options of writeFileAtomic. */
export interface AtomicWriteOptions {
  /** Permission bits of the new file (e.g. the old file's, so a save keeps them). @default the process umask */
  readonly mode?: number;
}

/**
 * Replaces `file` with `text` atomically: temp file, fsync, rename, fsync of
 * the directory. Resolves with the new file's stats (device, inode, size,
 * mtime: what a later stat of `file` shows until it changes again).
 */
export async function writeFileAtomic(file: string, text: string, options: AtomicWriteOptions = {}): Promise<BigIntStats> {
  const dir = path.dirname(file);
  await fsp.mkdir(dir, { recursive: true });
  const temp = path.join(dir, `${path.basename(file)}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`);
  let stats: BigIntStats;
  try {
    const handle = await fsp.open(temp, 'wx');
    try {
      await handle.writeFile(text);
      if (options.mode !== undefined) await handle.chmod(options.mode);
      await handle.sync();
      stats = await handle.stat({ bigint: true });
    } finally {
      await handle.close();
    }
    await fsp.rename(temp, file);
  } catch (err) {
    await fsp.rm(temp, { force: true }).catch(() => {});
    throw err;
  }
  await fsyncDir(dir);
  return stats;
}

/** Appends `text` to `file` and fsyncs it before resolving. */
export async function appendDurably(file: string, text: string): Promise<void> {
  await fsp.mkdir(path.dirname(file), { recursive: true });
  const handle = await fsp.open(file, 'a');
  try {
    await handle.writeFile(text);
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/** The file's text, or undefined when it does not exist. */
export async function readIfExists(file: string): Promise<string | undefined> {
  try {
    return await fsp.readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}

// A rename is durable only once its directory entry is; some platforms cannot fsync a directory.
async function fsyncDir(dir: string): Promise<void> {
  try {
    const handle = await fsp.open(dir, 'r');
    try {
      await handle.sync();
    } finally {
      await handle.close();
    }
  } catch {
    // best effort
  }
}
