import type { ConfigStore } from '../config/config-provider.js';
import type { MigrationConfig } from '../config/migration-config.js';
import { isRolledBack, sameConfig } from '../config/migration-config.js';
import { describeShare, newShare, phaseOf } from '../core/routing.js';
import type { Logger } from '../observe/logger.js';
import type { RampEffects } from './ramp-effects.js';
import type { BlockedBy, RampStatus } from './ramp-options.js';
import type { RampStep } from './ramp-plan.js';
import type { RampStoreLink } from './ramp-store-link.js';

/** What a RampPosition reads and tells. */
export interface RampPositionOptions {
  readonly store: ConfigStore;
  readonly plan: readonly RampStep[];
  readonly link: RampStoreLink;
  readonly fx: RampEffects;
  readonly logger: Logger;
  readonly name: string;
  /** When the step in force was taken, if the caller knows it. */
  readonly since: number | undefined;
}

/**
 * Where a ramp stands: the plan step in force, since when, and whether it is
 * rolled back or complete. It follows the store: a rollback saved by anyone
 * rolls it back, a percentage set from outside moves it to that step, and a
 * move recorded in the ramp state after a rollback (an operator's resume)
 * lets it go on. RampController decides the moves; this keeps the position.
 */
export class RampPosition {
  readonly #o: RampPositionOptions;
  step: number;
  /** NaN until the clock has given a finite reading: the hold then starts at the first good one. */
  since: number;
  rolledBack = false;
  completed = false;
  /** Rollbacks seen in the store, to tell whether one landed while a step was being saved. */
  rollbacksSeen = 0;
  lastBlock: { blockedBy: BlockedBy; reasons?: readonly string[] } = { blockedBy: null };
  #lastConfig: MigrationConfig;
  /** The ramp state's stepRevision when the rollback was seen: a later one is a resume or a move from outside. */
  #rollbackRevision: number;
  /** Called when a rollback is seen in the store (after the position took it in). */
  onRollback: (before: MigrationConfig) => void = () => undefined;

  constructor(options: RampPositionOptions) {
    this.#o = options;
    const config = options.store.current();
    this.#lastConfig = config;
    this.step = this.stepOf(config);
    const stored = options.link.state();
    const storedSince = stored !== undefined && stored.step === this.step && this.step >= 0 ? stored.since : undefined;
    const taken = this.step >= 0 ? options.fx.takenAt(options.plan[this.step]?.percentage) : undefined;
    this.since = options.since ?? storedSince ?? taken ?? options.fx.now() ?? Number.NaN;
    this.#rollbackRevision = stored?.stepRevision ?? 0;
    if (isRolledBack(config) && (stored?.blockedBy === 'rolledBack' || stored?.rolledBack === true)) this.rolledBack = true;
  }

  /**
   * Where the ramp stands now; the guard and approval blocks are those the
   * last tick met. `since` is NaN while the clock has given no finite reading.
   */
  status(): RampStatus {
    const hold = this.step >= 0 ? (this.#o.plan[this.step]?.holdMs ?? 0) : 0;
    const nextAt = this.since + hold;
    const base = { step: this.step, percentage: this.current().newSystemPercentage, since: this.since, nextAt };
    if (this.rolledBack) return { ...base, blockedBy: 'rolledBack' };
    if (this.completed) return { ...base, blockedBy: 'done' };
    if (this.#o.link.state()?.paused !== undefined) return { ...base, blockedBy: 'paused' };
    const now = this.#o.fx.now();
    // A clock that gives no finite time, or a hold not yet started, holds: never a step taken early.
    if (now === undefined || !Number.isFinite(nextAt) || now < nextAt) return { ...base, blockedBy: 'hold' };
    return { ...base, ...this.lastBlock };
  }

  /** Records what blocks the ramp and returns the status. */
  blocked(blockedBy: BlockedBy, reasons?: readonly string[]): RampStatus {
    this.lastBlock = reasons === undefined ? { blockedBy } : { blockedBy, reasons };
    return this.status();
  }

  /** Takes `step` as the step in force, from now. */
  moveTo(step: number): void {
    this.step = step;
    this.since = this.#o.fx.now() ?? Number.NaN;
    this.lastBlock = { blockedBy: null };
  }

  /** After a rollback, the ramp starts again before its first step. */
  restart(): void {
    this.rolledBack = false;
    this.moveTo(-1);
  }

  /** Follows the store's config when it changed without (or before) its listener telling us. */
  sync(): void {
    const config = this.readStore();
    if (config !== undefined && !sameConfig(config, this.#lastConfig)) this.follow(config);
  }

  /** Takes in a config the store holds now. */
  follow(config: MigrationConfig): void {
    if (typeof config !== 'object' || config === null) return;
    const before = this.#lastConfig;
    this.#lastConfig = config;
    if (isRolledBack(config)) {
      // Preparation and a rollback look alike; a move into it from a config that used new is a rollback.
      if (!isRolledBack(before)) {
        this.rolledBack = true;
        this.rollbacksSeen += 1;
        this.markRollbackSeen();
        this.onRollback(before);
      }
      return;
    }
    if (this.rolledBack && this.resumedOutside()) return;
    const step = this.stepOf(config);
    if (step !== this.step && step !== -1) {
      // Someone else (an operator, another instance) moved the percentage: follow it.
      this.step = step;
      this.since = this.#o.fx.now() ?? Number.NaN;
    }
  }

  /** A later ramp-state revision than the one now in the store means a move from outside. */
  markRollbackSeen(): void {
    this.#rollbackRevision = this.#o.link.state()?.stepRevision ?? this.#rollbackRevision;
  }

  /** After a rollback: a move recorded in the ramp state since (an operator's resume or set) lets the ramp go on from where the store is. */
  resumedOutside(): boolean {
    const state = this.#o.link.state();
    const config = this.readStore();
    if (state === undefined || config === undefined || isRolledBack(config) || state.stepRevision <= this.#rollbackRevision) return false;
    this.rolledBack = false;
    this.completed = false;
    this.moveTo(this.stepOf(config));
    this.#lastConfig = config;
    this.#o.fx.record('resume', { migration: this.#o.name, reason: 'resumed from outside (the store)' });
    this.#o.logger.info({ migration: this.#o.name, config }, 'ramp resumed from outside');
    return true;
  }

  /** The store's config, or undefined when `current()` throws (logged). */
  readStore(): MigrationConfig | undefined {
    try {
      const config = this.#o.store.current();
      return typeof config === 'object' && config !== null ? config : undefined;
    } catch (err) {
      this.#o.logger.warn({ err, migration: this.#o.name }, 'config store current() threw; using the last config seen');
      return undefined;
    }
  }

  /** The store's config, or the last one seen when it cannot be read. */
  current(): MigrationConfig {
    return this.readStore() ?? this.#lastConfig;
  }

  /** Whether `config` differs from the last config taken in. */
  changed(config: MigrationConfig): boolean {
    return !sameConfig(config, this.#lastConfig);
  }

  /** The plan step whose percentage the config is at, or -1 (preparation, shadow, or off-plan). */
  stepOf(config: MigrationConfig): number {
    const phase = phaseOf(config);
    if (phase !== 'canary' && phase !== 'full') return -1;
    return this.#o.plan.findIndex((step) => step.percentage === newShare(config));
  }

  /** The config in force, in words. */
  where(): string {
    return describeShare(this.current());
  }
}
