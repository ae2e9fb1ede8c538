import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { InvalidOptionError } from '../errors.js';
import type { Logger } from '../observe/logger.js';
import { writeFileAtomic } from '../atomic-file.js';
import type { ConfigStore } from './config-provider.js';
import type { ConfigFileRead } from './config-file.js';
import { readConfigFile, readConfigFileSync, resolveWriteTarget, signatureOf } from './config-file.js';
import { ConfigConflictError, undoesUnseenRollback } from './config-conflict.js';
import { acquireFileLock } from './file-lock.js';
import { FileWatch } from './file-watch.js';
import { notifyListeners } from './in-memory-config-store.js';
import type { MigrationConfig } from './migration-config.js';
import { MigrationConfigError, isRolledBack, parseMigrationConfig, sameConfig } from './migration-config.js';
import { phases } from './phases.js';
import { describeSafely, readStoreOptions, requireListener, resolveStoreLogger } from './store-options.js';

/** Options of FileConfigStore. */
export interface FileConfigStoreOptions {
  /**
   * The JSON file holding the config. Relative paths resolve against the
   * working directory. It may be a symlink (a Kubernetes ConfigMap mount):
   * reads follow it, saves replace the file it points to and keep the link. Required.
   */
  readonly path: string;
  /**
   * Written (atomically) when the file does not exist yet; ignored otherwise.
   * @default phases.preparation()
   */
  readonly initial?: MigrationConfig;
  /**
   * Receives config changes picked up from the file, refused edits and a deleted file.
   * @default silentLogger
   */
  readonly logger?: Logger;
  /**
   * Watch the file, so that a change saved by another process (or by hand) is picked up.
   * @default true
   */
  readonly watch?: boolean;
  /**
   * How long the file must stay quiet before it is re-read, in milliseconds; at least 0.
   * @default 20
   */
  readonly debounceMs?: number;
  /**
   * How often the file is also checked with a stat, in milliseconds, at least 1: the
   * fallback for fs events that never come (network filesystems, a directory
   * deleted and recreated). Only while watching.
   * @default 1000
   */
  readonly pollIntervalMs?: number;
  /**
   * How long a save waits for another process's save to the same file to finish, in
   * milliseconds, at least 1; then it rejects with `ERR_TIMEOUT`. A lock left by a
   * process that died is broken after 5 s (at once when that process ran on this host).
   * @default 10000
   */
  readonly lockTimeoutMs?: number;
}

/** Options of one FileConfigStore `save`. */
export interface FileSaveOptions {
  /**
   * Replace the file even when it holds no valid config (a botched hand edit). Without it,
   * only a rollback replaces an invalid file; any other save rejects with `ERR_INVALID_CONFIG`.
   * @default false
   */
  readonly overwriteInvalid?: boolean;
}

type Listener = (config: MigrationConfig) => void;

const noop = (): void => {};

function msOption(value: unknown, option: string, fallback: number, min: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isFinite(value) || value < min) {
    throw new InvalidOptionError(option, `must be a finite number of milliseconds, at least ${min}, got ${describeSafely(value)}`);
  }
  return value;
}

/**
 * A ConfigStore kept in a JSON file, shared by every process on the machine
 * that opens the same path.
 *
 * The file is read once in the constructor; `current()` answers from memory.
 * `save()` validates, then, holding a lock file beside the config file,
 * re-reads it and replaces it atomically (temp file, fsync, rename), so a
 * reader never sees half a config, a crash leaves the old file whole, and
 * a save that would undo a rollback its caller had not seen is refused with
 * `ERR_CONFLICT`, in this process or any other. Saves are queued, never
 * interleaved. Changes made by other processes are picked up through
 * directory watches and a periodic stat; an edit that does not parse is
 * refused and logged, and the last good config keeps serving.
 */
export class FileConfigStore implements ConfigStore {
  readonly #file: string;
  readonly #logger: Logger;
  readonly #debounceMs: number;
  readonly #lockTimeoutMs: number;
  readonly #listeners = new Set<Listener>();
  #config: MigrationConfig;
  // Which version of the file `#config` came from: a save compares it with the file it finds.
  #signature: string | undefined;
  #queue: Promise<void> = Promise.resolve();
  #watch: FileWatch | undefined;
  #debounce: NodeJS.Timeout | undefined;
  #closed = false;
  // What the last refused read looked like, so one bad edit logs once however many events it fires.
  #lastProblem: string | undefined;

  /**
   * Reads the file, or creates it with `initial` when it does not exist.
   * @throws InvalidOptionError naming a missing `path` or any bad option.
   * @throws MigrationConfigError (ERR_INVALID_CONFIG) when the file exists but
   *   does not hold a valid config, or `initial` is invalid.
   */
  constructor(given: FileConfigStoreOptions) {
    if (typeof given !== 'object' || (given as unknown) === null) {
      throw new InvalidOptionError('path', `is required (the config file), got options ${describeSafely(given)}`);
    }
    const options = readStoreOptions<FileConfigStoreOptions>(given, 'the FileConfigStore options');
    const file: unknown = options.path;
    if (typeof file !== 'string' || file.length === 0 || file.includes('\0')) {
      throw new InvalidOptionError('path', `must be a non-empty string (the config file), got ${describeSafely(file)}`);
    }
    this.#debounceMs = msOption(options.debounceMs, 'debounceMs', 20, 0);
    const pollIntervalMs = msOption(options.pollIntervalMs, 'pollIntervalMs', 1000, 1);
    this.#lockTimeoutMs = msOption(options.lockTimeoutMs, 'lockTimeoutMs', 10_000, 1);
    const watch: unknown = options.watch ?? true;
    if (typeof watch !== 'boolean') {
      throw new InvalidOptionError('watch', `must be true or false, got ${describeSafely(watch)}`);
    }
    this.#file = path.resolve(file);
    this.#logger = resolveStoreLogger(options.logger);

    const read = readConfigFileSync(this.#file);
    if (read.kind === 'invalid') throw read.error;
    if (read.kind === 'ok') {
      this.#config = read.config;
      this.#signature = read.signature;
    } else {
      [this.#config, this.#signature] = this.#createSync(parseMigrationConfig(options.initial ?? phases.preparation()));
    }
    if (watch) {
      this.#watch = new FileWatch({
        file: this.#file,
        pollIntervalMs,
        logger: this.#logger,
        signature: this.#signature,
        onChange: () => this.#scheduleReload(),
      });
    }
  }

  /** The absolute path of the config file (as given: a symlink stays a symlink). */
  get path(): string {
    return this.#file;
  }

  /** The config in force, from memory. */
  current(): MigrationConfig {
    return this.#config;
  }

  /**
   * Calls `listener` after each change, saved here or picked up from the file;
   * returns a function that stops it. After `close()`, a no-op.
   * @throws InvalidOptionError when `listener` is not a function.
   */
  subscribe(listener: Listener): () => void {
    requireListener(listener);
    if (this.#closed) return noop;
    this.#listeners.add(listener);
    return () => {
      this.#listeners.delete(listener);
    };
  }

  /**
   * Validates `config`, then (after the saves called before it, and holding the
   * file's lock against other processes) re-reads the file and replaces it
   * atomically, then serves the new config and notifies listeners.
   * @throws MigrationConfigError on a bad config (the file is untouched), or when the
   *   file holds no valid config and this save is neither a rollback nor `overwriteInvalid`.
   * @throws ConfigConflictError (`ERR_CONFLICT`) when the file holds a rollback written
   *   after this save was called, and `config` is not a rollback: the store then serves
   *   the rollback. Never for a rollback.
   * @throws MigrationGlueError `ERR_TIMEOUT` when another process held the lock too long.
   * @throws the fs error when the file could not be written (the old file,
   *   and `current()`, are unchanged).
   */
  save(config: MigrationConfig, options: FileSaveOptions = {}): Promise<void> {
    let parsed: MigrationConfig;
    try {
      parsed = parseMigrationConfig(config);
    } catch (err) {
      return Promise.reject(err);
    }
    const overwriteInvalid = typeof options === 'object' && options !== null && options.overwriteInvalid === true;
    const seen = this.#signature;
    return this.#enqueue(() => this.#write(parsed, seen, overwriteInvalid));
  }

  /**
   * Stops watching the file and drops every listener. Idempotent. A save in
   * flight completes; `current()` and `save()` keep working, notifying no one.
   */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    clearTimeout(this.#debounce);
    this.#debounce = undefined;
    this.#watch?.close();
    this.#watch = undefined;
    this.#listeners.clear();
  }

  #enqueue(task: () => Promise<void>): Promise<void> {
    const run = this.#queue.then(task);
    this.#queue = run.then(noop, noop);
    return run;
  }

  async #write(config: MigrationConfig, seen: string | undefined, overwriteInvalid: boolean): Promise<void> {
    const target = resolveWriteTarget(this.#file);
    const release = await acquireFileLock(`${target}.lock`, this.#lockTimeoutMs);
    try {
      const found = await readConfigFile(target);
      const rollback = isRolledBack(config);
      if (found.kind === 'ok' && undoesUnseenRollback(config, found.config, found.signature !== seen)) {
        this.#serve(found.config, found.signature);
        throw new ConfigConflictError(
          `config not saved to ${this.#file}: it was rolled back after this save was decided, and stays rolled back; this store now serves the rollback, decide again from it`,
        );
      }
      if (found.kind === 'invalid') {
        if (!rollback && !overwriteInvalid) {
          const error = new MigrationConfigError(found.error.issues);
          error.message = `${found.error.message}; not replaced by a save that is not a rollback: fix the file, roll back, or save with { overwriteInvalid: true }`;
          throw error;
        }
        this.#logger.warn({ path: this.#file, issues: found.error.issues, config }, 'config file held no valid config; replaced by this save');
      }
      const stats = await writeFileAtomic(target, serialize(config), found.kind === 'missing' ? {} : { mode: found.mode });
      this.#signature = signatureOf(stats);
    } finally {
      await release();
    }
    this.#config = config;
    this.#lastProblem = undefined;
    notifyListeners([...this.#listeners], config, this.#logger);
  }

  /** Serves a config read from the file; notifies when it differs. */
  #serve(config: MigrationConfig, signature: string): void {
    this.#signature = signature;
    this.#lastProblem = undefined;
    if (sameConfig(config, this.#config)) return;
    const before = this.#config;
    this.#config = config;
    this.#logger.info({ path: this.#file, before, after: config }, 'config changed in file');
    notifyListeners([...this.#listeners], config, this.#logger);
  }

  /** Writes the first config without clobbering a file another process created meanwhile. */
  #createSync(config: MigrationConfig): [MigrationConfig, string | undefined] {
    const target = resolveWriteTarget(this.#file);
    const dir = path.dirname(target);
    fs.mkdirSync(dir, { recursive: true });
    const temp = path.join(dir, `${path.basename(target)}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`);
    try {
      const fd = fs.openSync(temp, 'wx');
      let signature: string;
      try {
        fs.writeFileSync(fd, serialize(config));
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
          const read = readConfigFileSync(this.#file);
          if (read.kind === 'invalid') throw read.error;
          if (read.kind === 'ok') return [read.config, read.signature];
          fs.renameSync(temp, target);
        }
      }
      fsyncDirSync(dir);
      // A hard link shares the inode, so the signature read back is the one written.
      return [config, signature];
    } finally {
      fs.rmSync(temp, { force: true });
    }
  }

  #scheduleReload(): void {
    if (this.#closed) return;
    clearTimeout(this.#debounce);
    this.#debounce = setTimeout(() => {
      this.#debounce = undefined;
      // Queued behind saves, so our own write is already current() when we read it back.
      void this.#enqueue(() => this.#reload());
    }, this.#debounceMs);
    this.#debounce.unref();
  }

  async #reload(): Promise<void> {
    if (this.#closed) return;
    let read: ConfigFileRead;
    try {
      read = await readConfigFile(this.#file);
    } catch (err) {
      this.#refuse(`unreadable:${String(err)}`, () =>
        this.#logger.error({ err, path: this.#file }, 'config file could not be read; keeping the last good config'),
      );
      return;
    }
    if (this.#closed) return;
    if (read.kind === 'missing') {
      this.#refuse('missing', () =>
        this.#logger.warn({ path: this.#file, config: this.#config }, 'config file was deleted; keeping the last good config'),
      );
      return;
    }
    if (read.kind === 'invalid') {
      this.#refuse(`invalid:${read.problem}`, () =>
        this.#logger.error(
          { path: this.#file, issues: read.error.issues, config: this.#config },
          `config file refused, keeping the last good config: ${read.error.message}`,
        ),
      );
      return;
    }
    this.#serve(read.config, read.signature);
  }

  #refuse(problem: string, log: () => void): void {
    if (problem === this.#lastProblem) return;
    this.#lastProblem = problem;
    log();
  }
}

function serialize(config: MigrationConfig): string {
  return `${JSON.stringify(config, null, 2)}\n`;
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
