import path from 'node:path';
import { InvalidOptionError } from '../errors.js';
import { parseOptions } from '../option-schema.js';
import type { Logger } from '../observe/logger.js';
import { writeFileAtomic } from '../atomic-file.js';
import type { ConfigStore } from './config-provider.js';
import type { FileConfigStoreOptions, FileSaveOptions } from './file-store-options.js';
import { fileSaveSchema, fileStoreOptionsSchema } from './file-store-options.js';
import type { WritePlan, WriteRequest } from './file-config-write.js';
import { planWrite } from './file-config-write.js';
import type { ConfigFileRead } from './config-file.js';
import { createConfigFileSync, readConfigFile, readConfigFileSync, resolveWriteTarget, serializeConfigFile, signatureOf } from './config-file.js';
import { acquireFileLock } from './file-lock.js';
import { FileWatch } from './file-watch.js';
import { Listeners } from './listeners.js';
import type { MigrationConfig } from './migration-config.js';
import { parseMigrationConfig, sameConfig } from './migration-config.js';
import { phases } from './phases.js';
import type { RampChange, RampState, RampStateStore } from './ramp-state.js';
import { emptyRampState, sameRampState } from './ramp-state.js';
import { describeSafely, resolveStoreLogger } from './store-options.js';

export type { FileConfigStoreOptions, FileSaveOptions } from './file-store-options.js';

type Listener = (config: MigrationConfig) => void;

const noop = (): void => {};

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
export class FileConfigStore implements ConfigStore, RampStateStore {
  readonly #file: string;
  readonly #logger: Logger;
  readonly #debounceMs: number;
  readonly #lockTimeoutMs: number;
  readonly #listeners: Listeners<MigrationConfig>;
  readonly #rampListeners: Listeners<RampState>;
  #config: MigrationConfig;
  // The ramp state stored in the file beside the config; undefined while the file holds none.
  #ramp: RampState | undefined;
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
    const options = parseOptions(fileStoreOptionsSchema, given, 'FileConfigStore');
    this.#debounceMs = options.debounceMs;
    this.#lockTimeoutMs = options.lockTimeoutMs;
    const { pollIntervalMs, watch } = options;
    const file = options.path;
    this.#file = path.resolve(file);
    this.#logger = resolveStoreLogger(options.logger);
    this.#listeners = new Listeners(this.#logger, 'config listener threw');
    this.#rampListeners = new Listeners(this.#logger, 'ramp listener threw');

    const read = readConfigFileSync(this.#file);
    if (read.kind === 'invalid') throw read.error;
    if (read.kind === 'ok') {
      this.#config = read.config;
      this.#signature = read.signature;
      this.#ramp = read.ramp;
    } else {
      const created = createConfigFileSync(this.#file, parseMigrationConfig(options.initial ?? phases.preparation()));
      this.#config = created.config;
      this.#signature = created.signature;
      this.#ramp = created.ramp;
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
    return this.#listeners.add(listener);
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
    let request: WriteRequest;
    try {
      const parsed = parseMigrationConfig(config);
      const { overwriteInvalid = false } = parseOptions(fileSaveSchema, options, 'FileConfigStore.save');
      request = { config: parsed, seen: this.#signature, overwriteInvalid };
    } catch (err) {
      return Promise.reject(err);
    }
    return this.#enqueue(() => this.#write(request));
  }

  /** The ramp state stored in the file (emptyRampState() while it holds none). */
  rampState(): RampState {
    return this.#ramp ?? emptyRampState();
  }

  /** True when the config in force came from a rollback (known once the file holds a ramp state). */
  rolledBack(): boolean {
    return this.#ramp?.rolledBack === true;
  }

  /**
   * Holding the file's lock, re-reads the file, applies `change` to its ramp
   * state and config and replaces the file atomically; see RampStateStore.
   * @throws MigrationConfigError when the file holds no valid config and the change is not a rollback,
   *   or when `change` returns a bad config or ramp state.
   */
  updateRamp(change: (ramp: RampState, config: MigrationConfig) => RampChange | undefined): Promise<RampState> {
    return this.#enqueue(async () => {
      await this.#write({ change });
    }).then(() => this.rampState());
  }

  /** Calls `listener` after each change of the ramp state, saved here or picked up from the file; returns a function that stops it. */
  subscribeRamp(listener: (ramp: RampState) => void): () => void {
    return this.#rampListeners.add(listener);
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
    this.#listeners.close();
    this.#rampListeners.close();
  }

  #enqueue(task: () => Promise<void>): Promise<void> {
    const run = this.#queue.then(task);
    this.#queue = run.then(noop, noop);
    return run;
  }

  async #write(request: WriteRequest): Promise<void> {
    const target = resolveWriteTarget(this.#file);
    const release = await acquireFileLock(`${target}.lock`, this.#lockTimeoutMs);
    let plan: WritePlan;
    const before = this.#config;
    try {
      const found = await readConfigFile(target);
      plan = planWrite(this.#file, found, this.#config, request);
      if (plan.kind !== 'write') {
        if (found.kind === 'ok') this.#serve(found.config, found.signature, found.ramp);
        if (plan.kind === 'conflict') throw plan.error;
        return;
      }
      if (found.kind === 'invalid') {
        this.#logger.warn({ path: this.#file, issues: found.error.issues, config: plan.config }, 'config file held no valid config; replaced by this save');
      }
      const stats = await writeFileAtomic(target, serializeConfigFile(plan.config, plan.ramp), found.kind === 'missing' ? {} : { mode: found.mode });
      this.#signature = signatureOf(stats);
    } finally {
      await release();
    }
    const { config, ramp } = plan;
    this.#config = config;
    this.#lastProblem = undefined;
    const rampChanged = ramp !== undefined && (this.#ramp === undefined || !sameRampState(ramp, this.#ramp));
    this.#ramp = ramp;
    if ('config' in request || !sameConfig(before, config)) this.#listeners.notify(config);
    if (rampChanged) this.#rampListeners.notify(ramp);
  }

  /** Serves a config read from the file; notifies when it differs. */
  #serve(config: MigrationConfig, signature: string, ramp: RampState | undefined): void {
    this.#signature = signature;
    this.#lastProblem = undefined;
    const rampChanged = ramp !== undefined && (this.#ramp === undefined || !sameRampState(ramp, this.#ramp));
    this.#ramp = ramp;
    if (rampChanged) this.#rampListeners.notify(ramp);
    if (sameConfig(config, this.#config)) return;
    const before = this.#config;
    this.#config = config;
    this.#logger.info({ path: this.#file, before, after: config }, 'config changed in file');
    this.#listeners.notify(config);
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
    this.#serve(read.config, read.signature, read.ramp);
  }

  #refuse(problem: string, log: () => void): void {
    if (problem === this.#lastProblem) return;
    this.#lastProblem = problem;
    log();
  }
}
