import type { Logger } from '../observe/logger.js';
import type { ConfigStore } from './config-provider.js';
import { ConfigConflictError, undoesUnseenRollback } from './config-conflict.js';
import type { MigrationConfig } from './migration-config.js';
import { parseMigrationConfig, sameConfig } from './migration-config.js';
import { phases } from './phases.js';
import type { RampChange, RampState, RampStateStore } from './ramp-state.js';
import { emptyRampState, nextRevision, parseRampState, rollbackFlag } from './ramp-state.js';
import { Listeners } from './listeners.js';
import { z } from 'zod';
import { parseOptions } from '../option-schema.js';
import { resolveStoreLogger } from './store-options.js';

const noop = (): void => {};

const optionsSchema = z.strictObject({ logger: z.unknown().optional() });

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
export class InMemoryConfigStore implements ConfigStore, RampStateStore {
  #config: MigrationConfig;
  #ramp: RampState = emptyRampState();
  #rolledBack = false;
  readonly #rampListeners: Listeners<RampState>;
  // +1 per change, so a save can tell whether the config in force is newer than the view it was decided from.
  #version = 0;
  #queue: Promise<void> = Promise.resolve();
  readonly #listeners: Listeners<MigrationConfig>;
  readonly #logger: Logger;

  /**
   * @param initial the first config; default `phases.preparation()`.
   * @throws MigrationConfigError on a bad initial config; InvalidOptionError on a bad `logger`.
   */
  constructor(initial: MigrationConfig = phases.preparation(), options: InMemoryConfigStoreOptions = {}) {
    this.#config = parseMigrationConfig(initial);
    this.#logger = resolveStoreLogger(parseOptions(optionsSchema, options, 'the InMemoryConfigStore options').logger as Logger | undefined);
    this.#listeners = new Listeners(this.#logger, 'config listener threw');
    this.#rampListeners = new Listeners(this.#logger, 'ramp listener threw');
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
    return this.#listeners.add(listener);
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

  /** The ramp state kept with the config. */
  rampState(): RampState {
    return this.#ramp;
  }

  /** True when the config in force came from a rollback. */
  rolledBack(): boolean {
    return this.#rolledBack;
  }

  /**
   * Applies `change` to the ramp state and config in force, after the saves
   * called before it; see RampStateStore.
   * @throws MigrationConfigError when `change` returns a bad config or ramp state.
   */
  updateRamp(change: (ramp: RampState, config: MigrationConfig) => RampChange | undefined): Promise<RampState> {
    const run = this.#queue.then(() => {
      const result = change(this.#ramp, this.#config);
      if (result === undefined) return this.#ramp;
      const ramp = parseRampState(nextRevision(result.ramp, this.#ramp));
      if (ramp === undefined) throw new TypeError('[migration-glue] updateRamp: the change returned an invalid ramp state');
      this.#ramp = ramp;
      if (result.config !== undefined) this.#apply(parseMigrationConfig(result.config), this.#version);
      if (result.ramp.rolledBack !== undefined) this.#rolledBack = result.ramp.rolledBack;
      this.#rampListeners.notify(ramp);
      return ramp;
    });
    this.#queue = run.then(noop, noop);
    return run;
  }

  /** Calls `listener` after each change of the ramp state; returns a function that stops it. */
  subscribeRamp(listener: (ramp: RampState) => void): () => void {
    return this.#rampListeners.add(listener);
  }

  /** Drops every listener; later `subscribe` calls are no-ops. `current()` and `save()` keep working. Idempotent. */
  close(): void {
    this.#listeners.close();
    this.#rampListeners.close();
  }

  #apply(config: MigrationConfig, seen: number): void {
    if (undoesUnseenRollback(config, this.#config, this.#version > seen)) {
      throw new ConfigConflictError(
        'config not saved: the migration was rolled back after this save was decided; it stays rolled back. Decide again from the rolled-back config.',
      );
    }
    if (!sameConfig(config, this.#config)) this.#version += 1;
    this.#rolledBack = rollbackFlag(config, this.#config, this.#rolledBack);
    this.#config = config;
    this.#listeners.notify(config);
  }
}
