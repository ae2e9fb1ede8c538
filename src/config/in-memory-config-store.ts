import { ignoreRejection } from '../errors.js';
import type { Logger } from '../observe/logger.js';
import type { ConfigStore } from './config-provider.js';
import { ConfigConflictError, undoesUnseenRollback } from './config-conflict.js';
import type { MigrationConfig } from './migration-config.js';
import { parseMigrationConfig, sameConfig } from './migration-config.js';
import { phases } from './phases.js';
import { readStoreOptions, requireListener, resolveStoreLogger } from './store-options.js';

/** Calls each listener with `config`; a listener that throws is logged and skipped. */
export function notifyListeners(
  listeners: Iterable<(config: MigrationConfig) => void>,
  config: MigrationConfig,
  logger: Logger,
): void {
  for (const listener of listeners) {
    try {
      // A listener that returns a rejected promise must not become an unhandled rejection.
      ignoreRejection(listener(config));
    } catch (err) {
      logger.warn({ err }, 'config listener threw');
    }
  }
}

const noop = (): void => {};

/** Options of InMemoryConfigStore. */
export interface InMemoryConfigStoreOptions {
  /**
   * Receives listener failures.
   * @default silentLogger
   */
  readonly logger?: Logger;
}

/**
 * A ConfigStore in process memory (tests, single-instance apps).
 *
 * Saves apply one at a time, in call order, each judged against the config
 * in force when it was called: a save that would undo a rollback queued
 * before it (one its caller had not seen) rejects with `ERR_CONFLICT`.
 */
export class InMemoryConfigStore implements ConfigStore {
  #config: MigrationConfig;
  // +1 per change, so a save can tell whether the config in force is newer than the view it was decided from.
  #version = 0;
  #queue: Promise<void> = Promise.resolve();
  #closed = false;
  readonly #listeners = new Set<(config: MigrationConfig) => void>();
  readonly #logger: Logger;

  /**
   * @param initial the first config; default `phases.preparation()`.
   * @throws MigrationConfigError on a bad initial config; InvalidOptionError on a bad `logger`.
   */
  constructor(initial: MigrationConfig = phases.preparation(), options: InMemoryConfigStoreOptions = {}) {
    this.#config = parseMigrationConfig(initial);
    this.#logger = resolveStoreLogger(readStoreOptions<InMemoryConfigStoreOptions>(options, 'the InMemoryConfigStore options').logger);
  }

  /** The config in force. */
  current(): MigrationConfig {
    return this.#config;
  }

  /**
   * Calls `listener` after each change; returns a function that stops it. After `close()`, a no-op.
   * @throws InvalidOptionError when `listener` is not a function.
   */
  subscribe(listener: (config: MigrationConfig) => void): () => void {
    requireListener(listener);
    if (this.#closed) return noop;
    this.#listeners.add(listener);
    return () => {
      this.#listeners.delete(listener);
    };
  }

  /**
   * Validates `config`, then (after the saves called before it) serves it and notifies listeners.
   * @throws MigrationConfigError on a bad config.
   * @throws ConfigConflictError (`ERR_CONFLICT`) when a rollback was applied after this save was
   *   called and `config` is not itself a rollback: the rollback stays in force. Never for a rollback.
   */
  save(config: MigrationConfig): Promise<void> {
    let parsed: MigrationConfig;
    try {
      parsed = parseMigrationConfig(config);
    } catch (err) {
      return Promise.reject(err);
    }
    const seen = this.#version;
    const run = this.#queue.then(() => this.#apply(parsed, seen));
    this.#queue = run.then(noop, noop);
    return run;
  }

  /** Drops every listener; later `subscribe` calls are no-ops. `current()` and `save()` keep working. Idempotent. */
  close(): void {
    this.#closed = true;
    this.#listeners.clear();
  }

  #apply(config: MigrationConfig, seen: number): void {
    if (undoesUnseenRollback(config, this.#config, this.#version > seen)) {
      throw new ConfigConflictError(
        'config not saved: the migration was rolled back after this save was decided; it stays rolled back. Decide again from the rolled-back config.',
      );
    }
    if (!sameConfig(config, this.#config)) this.#version += 1;
    this.#config = config;
    notifyListeners([...this.#listeners], config, this.#logger);
  }
}
