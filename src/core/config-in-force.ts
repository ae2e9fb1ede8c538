import type { ConfigProvider } from '../config/config-provider.js';
import { isConfigStore } from '../config/config-provider.js';
import type { MigrationConfig } from '../config/migration-config.js';
import { isRolledBack, sameConfig } from '../config/migration-config.js';
import { phases } from '../config/phases.js';
import { describeValue } from '../errors.js';
import type { Clock } from '../observe/clock.js';
import type { Emitter } from '../observe/emitter.js';
import type { LogLimiter } from '../observe/log-limiter.js';
import type { Logger } from '../observe/logger.js';
import type { NotifyFn } from '../observe/notifier.js';
import type { GlueEvents } from './events.js';
import { saveRollback } from './rollback-save.js';
import type { PhaseName } from './routing.js';
import { describeShare, phaseOf } from './routing.js';

/** Served when the provider's config cannot be read: new disabled. */
const unreadableConfig = phases.preparation();

/**
 * The config a glue serves: the provider's, checked cheaply on every call,
 * or the rollback while one is being saved or followed. Logs and emits
 * `configChange` and `rollback`, and notifies rollbacks.
 */
export class ConfigInForce<I, O> {
  readonly #name: string;
  readonly #provider: ConfigProvider;
  readonly #logger: Logger;
  readonly #log: LogLimiter;
  readonly #notify: NotifyFn;
  readonly #clock: Clock;
  readonly #emitter: Emitter<GlueEvents<I, O>>;
  readonly #storeTimeoutMs: number;
  readonly #unsubscribe: () => void;
  #rollbacks = 0;
  #last: MigrationConfig;
  /**
   * Set by rollback: every call goes to old. Cleared once the store shows
   * the rollback (or, without a store, when the provider reports another config).
   */
  #override: MigrationConfig | undefined;
  #overrideFrom: MigrationConfig | undefined;
  /** The rollback in progress, for a concurrent rollback() to wait on. */
  #rolling: Promise<boolean> | undefined;
  /** True while the config in force came from a rollback (this glue's, or a fall from new to none seen in the provider). */
  #rolledBack = false;
  /** True while a rollback is being saved: no config that arrives is served until the save resolved. */
  #saving = false;
  /** The last config from the provider that passed the check (the check is skipped while it stays the same object). */
  #checked: unknown;

  constructor(init: {
    name: string;
    provider: ConfigProvider;
    logger: Logger;
    log: LogLimiter;
    notify: NotifyFn;
    clock: Clock;
    emitter: Emitter<GlueEvents<I, O>>;
    storeTimeoutMs: number;
  }) {
    this.#name = init.name;
    this.#provider = init.provider;
    this.#logger = init.logger;
    this.#log = init.log;
    this.#notify = init.notify;
    this.#clock = init.clock;
    this.#emitter = init.emitter;
    this.#storeTimeoutMs = init.storeTimeoutMs;
    this.#last = this.#read();
    this.#unsubscribe = this.#provider.subscribe((config) => this.#onConfig(config));
  }

  /** Rollbacks this glue made. */
  get rollbacks(): number {
    return this.#rollbacks;
  }

  /** True while a rollback of this glue (or one it follows) overrides the provider. */
  get overridden(): boolean {
    return this.#override !== undefined;
  }

  /** The config in force. Never throws: a provider that throws or answers garbage gets new disabled (logged). */
  current(): MigrationConfig {
    return this.#override ?? this.#read();
  }

  /** The phase for `stats()`: `rolled-back` when a rollback (not a config that never used new) put `config` in place. */
  phase(config: MigrationConfig): PhaseName | 'rolled-back' {
    return isRolledBack(config) && (this.#rolledBack || storeSaysRolledBack(this.#provider)) ? 'rolled-back' : phaseOf(config);
  }

  /** Stops following the provider. */
  close(): void {
    this.#unsubscribe();
  }

  /** See MigrationGlue.rollback. */
  async rollback(reason: string): Promise<boolean> {
    const inProgress = this.#rolling;
    if (inProgress !== undefined) {
      await inProgress.catch(() => {});
      return false;
    }
    const before = this.current();
    if (isRolledBack(before)) return false;
    const rolling = this.#rollBack(before, describeReason(reason));
    this.#rolling = rolling;
    try {
      return await rolling;
    } finally {
      this.#rolling = undefined;
    }
  }

  async #rollBack(before: MigrationConfig, why: string): Promise<boolean> {
    const after = phases.rolledBack();
    const at = this.#clock.now();
    this.#override = after;
    this.#overrideFrom = before;
    this.#rollbacks += 1;
    this.#rolledBack = true;
    this.#logger.warn({ migration: this.#name, reason: why, before, after }, 'migration rolled back');
    this.#emitter.emit('rollback', { migration: this.#name, reason: why, before, after, at });
    const notified = this.#notify({
      kind: 'rollback',
      migration: this.#name,
      message: `${this.#name}: rolled back from ${describeShare(before)} (${why})`,
      at,
      details: { reason: why, before, after },
    });
    try {
      if (isConfigStore(this.#provider)) {
        this.#saving = true;
        const stored = await saveRollback(this.#provider, { migration: this.#name, logger: this.#logger, timeoutMs: this.#storeTimeoutMs });
        // The store shows the rollback: follow it from now on.
        this.#endOverride();
        this.#apply(stored);
      }
    } catch (err) {
      this.#logger.error({ err, migration: this.#name }, 'rollback could not be saved to the config store; this instance serves old');
      throw err;
    } finally {
      this.#saving = false;
      await notified;
    }
    return true;
  }

  /**
   * Serves old at once and until `rolling` (another glue's `rollback()` on
   * the same store) has settled and the store shows the rollback; no save,
   * no event, no notification of its own.
   */
  async follow(rolling: Promise<unknown>): Promise<void> {
    const before = this.current();
    if (this.#saving || isRolledBack(before)) return;
    this.#override = phases.rolledBack();
    this.#overrideFrom = before;
    this.#saving = true;
    try {
      await rolling;
    } catch {
      // the leading glue logged it; this one keeps serving old
    } finally {
      this.#saving = false;
    }
    const stored = this.#read();
    if (this.#override !== undefined && isRolledBack(stored)) {
      this.#endOverride();
      this.#apply(stored);
    }
  }

  #endOverride(): void {
    this.#override = undefined;
    this.#overrideFrom = undefined;
  }

  #read(): MigrationConfig {
    let config: unknown;
    try {
      config = this.#provider.current();
      if (config === this.#checked) return config as MigrationConfig;
      if (isUsableConfig(config)) {
        this.#checked = config;
        return config;
      }
    } catch (err) {
      this.#log.log('error', 'config-provider', { migration: this.#name, err }, 'the config provider threw; old serves until it answers');
      return unreadableConfig;
    }
    this.#log.log(
      'error',
      'config-provider',
      { migration: this.#name, config: describeValue(config) },
      'the config provider returned something that is not a MigrationConfig; old serves until it answers',
    );
    return unreadableConfig;
  }

  #onConfig(config: MigrationConfig): void {
    if (!isUsableConfig(config)) {
      this.#log.log('error', 'config-provider', { migration: this.#name }, 'the config provider reported something that is not a MigrationConfig; ignored');
      return;
    }
    // While the rollback is saved, nothing that arrives is served: the store is read back once the save resolved.
    if (this.#saving) return;
    if (this.#override !== undefined) {
      // An echo of the config we rolled back from: keep serving old until the provider moves on.
      if (this.#overrideFrom !== undefined && sameConfig(config, this.#overrideFrom)) return;
      this.#endOverride();
    }
    this.#apply(config);
  }

  #apply(config: MigrationConfig): void {
    const before = this.#last;
    this.#last = config;
    if (sameConfig(before, config)) return;
    // Only a rollback takes a migration from serving new to serving nothing of it; any move forward ends it.
    if (!isRolledBack(config)) this.#rolledBack = false;
    else if (!isRolledBack(before)) this.#rolledBack = true;
    this.#logger.info({ migration: this.#name, before, after: config }, 'migration config changed');
    this.#emitter.emit('configChange', { migration: this.#name, before, after: config, at: this.#clock.now() });
  }
}

/** True when the provider keeps a rollback flag (RedisConfigStore's `info()`) and it is set: a rollback survives a restart. */
function storeSaysRolledBack(provider: ConfigProvider): boolean {
  try {
    const info = (provider as { info?: () => { rolledBack?: unknown } }).info;
    return typeof info === 'function' && info.call(provider)?.rolledBack === true;
  } catch {
    return false;
  }
}

/** A cheap check for the hot path: the four fields have their types and the percentage its range. Never throws. */
function isUsableConfig(config: unknown): config is MigrationConfig {
  if (typeof config !== 'object' || config === null) return false;
  try {
    const { shadowMode, newSystemEnabled, newSystemPercentage, fallbackEnabled } = config as Record<string, unknown>;
    return (
      typeof shadowMode === 'boolean' &&
      typeof newSystemEnabled === 'boolean' &&
      typeof fallbackEnabled === 'boolean' &&
      typeof newSystemPercentage === 'number' &&
      newSystemPercentage >= 0 &&
      newSystemPercentage <= 100
    );
  } catch {
    return false;
  }
}

function describeReason(reason: unknown): string {
  if (typeof reason === 'string' && reason !== '') return reason.length > 1_000 ? `${reason.slice(0, 1_000)}…` : reason;
  if (typeof reason === 'number' || typeof reason === 'boolean' || typeof reason === 'bigint') return String(reason);
  return reason === undefined || reason === '' ? 'no reason given' : `no reason given (got ${describeValue(reason)})`;
}
