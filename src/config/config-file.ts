import { randomBytes } from 'node:crypto';
import type { BigIntStats } from 'node:fs';
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import type { ConfigIssue, MigrationConfig } from './migration-config.js';
import { MigrationConfigError, parseMigrationConfig } from './migration-config.js';
import type { RampState } from './ramp-state.js';
import { parseRampState } from './ramp-state.js';

// Reading and locating the JSON file behind a FileConfigStore: no state, no watching.

/** The most a config file may hold. A config is about a hundred bytes; anything this big is not one. */
export const maxConfigFileBytes = 1024 * 1024;

/** What a read of the config file found. `signature` identifies the file version read (inode, size, mtime). */
export type ConfigFileRead =
  | { readonly kind: 'ok'; readonly config: MigrationConfig; readonly ramp: RampState | undefined; readonly signature: string; readonly mode: number }
  | { readonly kind: 'missing' }
  | { readonly kind: 'invalid'; readonly problem: string; readonly signature: string; readonly mode: number; readonly error: MigrationConfigError };

/** Identifies one version of a file: a save or an edit changes it. */
export function signatureOf(stats: BigIntStats): string {
  return `${stats.dev}:${stats.ino}:${stats.size}:${stats.mtimeNs}`;
}

/** A MigrationConfigError whose message names the file. */
export function fileConfigError(file: string, issues: readonly ConfigIssue[]): MigrationConfigError {
  const error = new MigrationConfigError(issues);
  error.message = error.message.replace('invalid config:', `invalid config in ${file}:`);
  return error;
}

// Non-blocking, so that a FIFO put where the file should be cannot hang the open.
const readFlags = fs.constants.O_RDONLY | (fs.constants.O_NONBLOCK ?? 0);

function isMissing(err: unknown): boolean {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  return code === 'ENOENT' || code === 'ENOTDIR';
}

function judge(file: string, stats: BigIntStats, read: (length: number) => Buffer): ConfigFileRead {
  const signature = signatureOf(stats);
  const mode = Number(stats.mode & 0o7777n);
  const invalid = (problem: string, issues: readonly ConfigIssue[]): ConfigFileRead => ({
    kind: 'invalid',
    problem,
    signature,
    mode,
    error: fileConfigError(file, issues),
  });
  if (!stats.isFile()) return invalid('not-a-file', [{ path: '(root)', message: 'is not a regular file' }]);
  if (stats.size > BigInt(maxConfigFileBytes)) {
    return invalid(`too-big:${signature}`, [{ path: '(root)', message: `is ${stats.size} bytes; a config file holds at most ${maxConfigFileBytes}` }]);
  }
  // One byte more than allowed, to catch a file that grew since the stat.
  const bytes = read(maxConfigFileBytes + 1);
  if (bytes.length > maxConfigFileBytes) {
    return invalid(`too-big:${signature}`, [{ path: '(root)', message: `holds more than ${maxConfigFileBytes} bytes; a config file holds at most that` }]);
  }
  const text = bytes.toString('utf8');
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    const reason = text.trim() === '' ? 'the file is empty' : (err as Error).message;
    return invalid(`json:${text}`, [{ path: '(root)', message: `is not valid JSON: ${reason}` }]);
  }
  try {
    // The ramp state rides beside the four fields; a bad one is dropped, never blocking the config.
    const ramp = typeof value === 'object' && value !== null && 'ramp' in value ? parseRampState((value as { ramp: unknown }).ramp) : undefined;
    return { kind: 'ok', config: parseMigrationConfig(value), ramp, signature, mode };
  } catch (err) {
    if (!(err instanceof MigrationConfigError)) throw err;
    return invalid(`config:${text}`, err.issues);
  }
}

/**
 * Reads and validates the config file (symlinks followed), refusing what is
 * not a regular file or bigger than `maxConfigFileBytes` without reading it.
 * @throws the fs error other than a missing file.
 */
export function readConfigFileSync(file: string): ConfigFileRead {
  let fd: number;
  try {
    fd = fs.openSync(file, readFlags);
  } catch (err) {
    if (isMissing(err)) return { kind: 'missing' };
    throw err;
  }
  try {
    return judge(file, fs.fstatSync(fd, { bigint: true }), (length) => {
      const buffer = Buffer.alloc(length);
      let filled = 0;
      for (;;) {
        const n = fs.readSync(fd, buffer, filled, length - filled, null);
        if (n === 0 || filled + n >= length) return buffer.subarray(0, filled + n);
        filled += n;
      }
    });
  } finally {
    fs.closeSync(fd);
  }
}

/** readConfigFileSync, without blocking the event loop. */
export async function readConfigFile(file: string): Promise<ConfigFileRead> {
  let handle: fsp.FileHandle;
  try {
    handle = await fsp.open(file, readFlags);
  } catch (err) {
    if (isMissing(err)) return { kind: 'missing' };
    throw err;
  }
  try {
    const stats = await handle.stat({ bigint: true });
    if (!stats.isFile() || stats.size > BigInt(maxConfigFileBytes)) return judge(file, stats, () => Buffer.alloc(0));
    const buffer = Buffer.alloc(maxConfigFileBytes + 1);
    let filled = 0;
    for (;;) {
      const { bytesRead } = await handle.read(buffer, filled, buffer.length - filled, null);
      filled += bytesRead;
      if (bytesRead === 0 || filled >= buffer.length) break;
    }
    return judge(file, stats, () => buffer.subarray(0, filled));
  } finally {
    await handle.close();
  }
}

/**
 * The file a write to `file` must replace so that symlinks survive: the
 * last component's symlinks are followed (a dangling link gives the file to
 * create), and the directory is resolved to its real path, so a directory
 * symlink swapped meanwhile (a Kubernetes ConfigMap's `..data`) cannot move
 * the file between the temp file and the rename.
 */
export function resolveWriteTarget(file: string): string {
  let current = file;
  for (let hops = 0; hops < 40; hops += 1) {
    let stats: fs.Stats;
    try {
      stats = fs.lstatSync(current);
    } catch {
      break;
    }
    if (!stats.isSymbolicLink()) break;
    current = path.resolve(path.dirname(current), fs.readlinkSync(current));
  }
  try {
    return path.join(fs.realpathSync(path.dirname(current)), path.basename(current));
  } catch {
    return current;
  }
}

/** The file's text: the config's four fields, and the ramp state beside them when there is one. */
export function serializeConfigFile(config: MigrationConfig, ramp: RampState | undefined): string {
  return `${JSON.stringify(ramp === undefined ? config : { ...config, ramp }, null, 2)}\n`;
}

/**
 * Writes the first config without clobbering a file another process created
 * meanwhile (that file is read and returned instead).
 * @throws MigrationConfigError when the file another process created is invalid; the fs error.
 */
export function createConfigFileSync(file: string, config: MigrationConfig): { config: MigrationConfig; ramp: RampState | undefined; signature: string | undefined } {
  const target = resolveWriteTarget(file);
  const dir = path.dirname(target);
  fs.mkdirSync(dir, { recursive: true });
  const temp = path.join(dir, `${path.basename(target)}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`);
  try {
    const fd = fs.openSync(temp, 'wx');
    let signature: string;
    try {
      fs.writeFileSync(fd, serializeConfigFile(config, undefined));
      fs.fsyncSync(fd);
      signature = signatureOf(fs.fstatSync(fd, { bigint: true }));
    } finally {
      fs.closeSync(fd);
    }
    try {
      // link fails with EEXIST where rename would overwrite: the first creator wins.
      fs.linkSync(temp, target);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code !== 'EEXIST') {
        fs.renameSync(temp, target);
      } else {
        const read = readConfigFileSync(file);
        if (read.kind === 'invalid') throw read.error;
        if (read.kind === 'ok') return { config: read.config, ramp: read.ramp, signature: read.signature };
        fs.renameSync(temp, target);
      }
    }
    fsyncDirSync(dir);
    // A hard link shares the inode, so the signature read back is the one written.
    return { config, ramp: undefined, signature };
  } finally {
    fs.rmSync(temp, { force: true });
  }
}

// A rename is durable only once its directory entry is; some platforms cannot fsync a directory.
function fsyncDirSync(dir: string): void {
  try {
    const fd = fs.openSync(dir, 'r');
    try {
      fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
  } catch {
    // best effort
  }
}
