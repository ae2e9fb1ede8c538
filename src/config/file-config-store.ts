import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { describeValue, InvalidOptionError } from '../errors.js';
import type { Logger } from '../observe/logger.js';
import { safeLogger, silentLogger } from '../observe/logger.js';
import type { ConfigStore } from './config-provider.js';
import { notifyListeners } from './in-memory-config-store.js';
import type { ConfigIssue, MigrationConfig } from './migration-config.js';
import { MigrationConfigError, parseMigrationConfig, sameConfig } from './migration-config.js';
import { phases } from './phases.js';
import { writeFileAtomic } from '../atomic-file.js';

/** Options of FileConfigStore. */
export interface FileConfigStoreOptions {
  /** The JSON file holding the config. Relative paths resolve against the working directory. Required. */
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
}

type Listener = (config: MigrationConfig) => void;

type ReadResult =
  | { readonly kind: 'ok'; readonly config: MigrationConfig }
  | { readonly kind: 'missing' }
  | { readonly kind: 'invalid'; readonly text: string; readonly error: MigrationConfigError };

const noop = (): void => {};

/**
 * A ConfigStore kept in a JSON file, shared by every process on the machine
 * that opens the same path.
 *
 * The file is read once in the constructor; `current()` answers from memory.
 * `save()` validates, then replaces the file atomically (temp file, fsync,
 * rename), so a reader never sees half a config and a crash leaves the old
 * file whole. Saves are queued, never interleaved. Changes made by other
 * processes are picked up through a directory watch; an edit that does not
 * parse is refused and logged, and the last good config keeps serving.
 */
export class FileConfigStore implements ConfigStore {
  readonly #file: string;
  readonly #dir: string;
  readonly #base: string;
  readonly #logger: Logger;
  readonly #debounceMs: number;
  readonly #listeners = new Set<Listener>();
  #config: MigrationConfig;
  #queue: Promise<void> = Promise.resolve();
  #watcher: fs.FSWatcher | undefined;
  #debounce: NodeJS.Timeout | undefined;
  #closed = false;
  // What the last refused read looked like, so one bad edit logs once however many events it fires.
  #lastProblem: string | undefined;

  /**
   * Reads the file, or creates it with `initial` when it does not exist.
   * @throws InvalidOptionError on a missing `path` or a bad `debounceMs`.
   * @throws MigrationConfigError (ERR_INVALID_CONFIG) when the file exists but
   *   does not hold a valid config, or `initial` is invalid.
   */
  constructor(options: FileConfigStoreOptions) {
    if (typeof options !== 'object' || options === null) {
      throw new InvalidOptionError('path', `is required (the config file), got options ${describeValue(options)}`);
    }
    const file: unknown = options.path;
    if (typeof file !== 'string' || file.length === 0) {
      throw new InvalidOptionError('path', `must be a non-empty string (the config file), got ${describeValue(file)}`);
    }
    const debounceMs: unknown = options.debounceMs ?? 20;
    if (typeof debounceMs !== 'number' || !Number.isFinite(debounceMs) || debounceMs < 0) {
      throw new InvalidOptionError('debounceMs', `must be a finite number of milliseconds, at least 0, got ${describeValue(debounceMs)}`);
    }
    const watch: unknown = options.watch ?? true;
    if (typeof watch !== 'boolean') {
      throw new InvalidOptionError('watch', `must be true or false, got ${describeValue(watch)}`);
    }
    this.#file = path.resolve(file);
    this.#dir = path.dirname(this.#file);
    this.#base = path.basename(this.#file);
    this.#debounceMs = debounceMs;
    this.#logger = options.logger === undefined ? silentLogger : safeLogger(options.logger);

    const read = this.#read();
    if (read.kind === 'invalid') throw read.error;
    if (read.kind === 'ok') {
      this.#config = read.config;
    } else {
      this.#config = this.#createSync(parseMigrationConfig(options.initial ?? phases.preparation()));
    }
    if (watch) this.#startWatching();
  }

  /** The absolute path of the config file. */
  get path(): string {
    return this.#file;
  }

  /** The config in force, from memory. */
  current(): MigrationConfig {
    return this.#config;
  }

  /** Calls `listener` after each change, saved here or picked up from the file; returns a function that stops it. */
  subscribe(listener: Listener): () => void {
    if (this.#closed) return noop;
    this.#listeners.add(listener);
    return () => {
      this.#listeners.delete(listener);
    };
  }

  /**
   * Validates `config`, replaces the file atomically, then serves the new
   * config and notifies listeners. Saves run one at a time, in call order.
   * @throws MigrationConfigError on a bad config (the file is untouched).
   * @throws the fs error when the file could not be written (the old file,
   *   and `current()`, are unchanged).
   */
  async save(config: MigrationConfig): Promise<void> {
    const parsed = parseMigrationConfig(config);
    return this.#enqueue(async () => {
      await this.#writeAtomic(parsed);
      this.#config = parsed;
      this.#lastProblem = undefined;
      notifyListeners([...this.#listeners], parsed, this.#logger);
    });
  }

  /** Stops watching the file and drops every listener. Idempotent. `current()` and `save()` keep working. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    clearTimeout(this.#debounce);
    this.#debounce = undefined;
    this.#watcher?.close();
    this.#watcher = undefined;
    this.#listeners.clear();
  }

  #enqueue(task: () => Promise<void>): Promise<void> {
    const run = this.#queue.then(task);
    this.#queue = run.then(noop, noop);
    return run;
  }

  #read(): ReadResult {
    let text: string;
    try {
      text = fs.readFileSync(this.#file, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { kind: 'missing' };
      throw err;
    }
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch (err) {
      const reason = text.trim() === '' ? 'the file is empty' : (err as Error).message;
      return { kind: 'invalid', text, error: this.#configError([{ path: '(root)', message: `is not valid JSON: ${reason}` }]) };
    }
    try {
      return { kind: 'ok', config: parseMigrationConfig(value) };
    } catch (err) {
      if (!(err instanceof MigrationConfigError)) throw err;
      return { kind: 'invalid', text, error: this.#configError(err.issues) };
    }
  }

  #configError(issues: readonly ConfigIssue[]): MigrationConfigError {
    const error = new MigrationConfigError(issues);
    const where = `invalid config in ${this.#file}:`;
    error.message = error.message.replace('invalid config:', where);
    return error;
  }

  #tempPath(): string {
    return path.join(this.#dir, `${this.#base}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`);
  }

  /** Writes the first config without clobbering a file another process created meanwhile. */
  #createSync(config: MigrationConfig): MigrationConfig {
    fs.mkdirSync(this.#dir, { recursive: true });
    const temp = this.#tempPath();
    try {
      const fd = fs.openSync(temp, 'wx');
      try {
        fs.writeFileSync(fd, serialize(config));
        fs.fsyncSync(fd);
      } finally {
        fs.closeSync(fd);
      }
      try {
        // link fails with EEXIST where rename would overwrite: the first creator wins.
        fs.linkSync(temp, this.#file);
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        if (code !== 'EEXIST') {
          fs.renameSync(temp, this.#file);
        } else {
          const read = this.#read();
          if (read.kind === 'invalid') throw read.error;
          if (read.kind === 'ok') return read.config;
          fs.renameSync(temp, this.#file);
        }
      }
      this.#fsyncDirSync();
      return config;
    } finally {
      fs.rmSync(temp, { force: true });
    }
  }

  #writeAtomic(config: MigrationConfig): Promise<void> {
    return writeFileAtomic(this.#file, serialize(config));
  }

  #fsyncDirSync(): void {
    try {
      const fd = fs.openSync(this.#dir, 'r');
      try {
        fs.fsyncSync(fd);
      } finally {
        fs.closeSync(fd);
      }
    } catch {
      // best effort
    }
  }

  // The directory, not the file: rename gives the file a new inode, which a file watch would lose.
  #startWatching(): void {
    try {
      this.#watcher = fs.watch(this.#dir, { persistent: false }, (_event, filename) => {
        if (filename !== null && filename.toString() !== this.#base) return;
        this.#scheduleReload();
      });
    } catch (err) {
      this.#logger.warn({ err, path: this.#file }, 'config file cannot be watched; changes by other processes will not be picked up');
      return;
    }
    this.#watcher.on('error', (err) => {
      this.#logger.warn({ err, path: this.#file }, 'config file watch failed; changes by other processes will not be picked up');
      this.#watcher?.close();
      this.#watcher = undefined;
    });
  }

  #scheduleReload(): void {
    if (this.#closed) return;
    clearTimeout(this.#debounce);
    this.#debounce = setTimeout(() => {
      this.#debounce = undefined;
      // Queued behind saves, so our own write is already current() when we read it back.
      void this.#enqueue(async () => this.#reload());
    }, this.#debounceMs);
    this.#debounce.unref();
  }

  #reload(): void {
    if (this.#closed) return;
    let read: ReadResult;
    try {
      read = this.#read();
    } catch (err) {
      this.#refuse(`unreadable:${String(err)}`, () =>
        this.#logger.error({ err, path: this.#file }, 'config file could not be read; keeping the last good config'),
      );
      return;
    }
    if (read.kind === 'missing') {
      this.#refuse('missing', () =>
        this.#logger.warn({ path: this.#file, config: this.#config }, 'config file was deleted; keeping the last good config'),
      );
      return;
    }
    if (read.kind === 'invalid') {
      this.#refuse(`invalid:${read.text}`, () =>
        this.#logger.error(
          { path: this.#file, issues: read.error.issues, config: this.#config },
          `config file refused, keeping the last good config: ${read.error.message}`,
        ),
      );
      return;
    }
    this.#lastProblem = undefined;
    if (sameConfig(read.config, this.#config)) return;
    const before = this.#config;
    this.#config = read.config;
    this.#logger.info({ path: this.#file, before, after: read.config }, 'config changed in file');
    notifyListeners([...this.#listeners], read.config, this.#logger);
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
