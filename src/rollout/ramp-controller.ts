import type { ConfigStore } from '../config/config-provider.js';
import { isConfigStore } from '../config/config-provider.js';
import type { MigrationConfig } from '../config/migration-config.js';
import { isRolledBack } from '../config/migration-config.js';
import { phases } from '../config/phases.js';
import { InvalidOptionError, describeValue } from '../errors.js';
import { optionalFunction, optionalPositiveNumber, resolveClock } from '../options.js';
import type { Clock } from '../observe/clock.js';
import type { Logger } from '../observe/logger.js';
import { safeLogger } from '../observe/logger.js';
import type { Notification, Notifier, NotifyFn } from '../observe/notifier.js';
import { toNotify } from '../observe/notifier.js';
import type { MigrationJournal } from './journal.js';
import type { RampStep } from './ramp-plan.js';
import { defaultRamp, validatePlan } from './ramp-plan.js';
import type { RollbackGuard } from './rollback-guard.js';

/** Why the ramp is not advancing right now; null when the next tick may advance. */
export type BlockedBy = 'hold' | 'approval' | 'guard' | 'samples' | 'rolledBack' | 'done' | null;

/** Where the ramp stands. */
export interface RampStatus {
  /** Index of the plan step in force; -1 before the first step. */
  readonly step: number;
  /** The percentage in force. */
  readonly percentage: number;
  /** Clock time the step in force was taken (or the controller started). */
  readonly since: number;
  /** Earliest clock time of the next step (or of completion, at the last step). */
  readonly nextAt: number;
  readonly blockedBy: BlockedBy;
  /** The guard's reasons when `blockedBy` is `guard`. */
  readonly reasons?: readonly string[];
}

/** Options of a RampController. */
export interface RampControllerOptions {
  /** Where the percentage is saved: every glue of the migration reads it. */
  readonly store: ConfigStore;
  /** @default defaultRamp */
  readonly plan?: readonly RampStep[];
  /** Consulted before each step: no step while it trips or lacks samples. @default none (no health gate) */
  readonly guard?: RollbackGuard;
  /** Asked before each step, with the step about to be taken; may be async. A throw counts as no. @default every step approved */
  readonly approve?: (step: RampStep) => boolean | Promise<boolean>;
  /** How long to wait for `approve` before taking it as no, in ms of real time. @default 60000 */
  readonly approvalTimeoutMs?: number;
  /** Records steps, approvals, completion and resumes. */
  readonly journal?: MigrationJournal;
  /** @default systemClock */
  readonly clock?: Clock;
  /** Told about every step, approval request, block by the guard, completion and resume. */
  readonly notifier?: Notifier;
  /** @default pino at `info` */
  readonly logger?: Logger;
  /** Names the migration in notifications and the journal. @default 'migration' */
  readonly name?: string;
  /**
   * Clock time the step in force was taken, when another source knows it
   * (a shared store's save time, a controller that took over).
   * @default the journal's last entry for that step, else now
   */
  readonly since?: number;
}

/**
 * Moves a migration's percentage along a ramp plan, one step per `tick()`
 * at most: only when the step in force has been held long enough, the guard
 * is healthy with enough samples, and `approve` said yes. A step's hold
 * counts from the moment it was taken. After a rollback the controller stays
 * put until `resume()`, which starts the ramp again from its first step.
 */
export class RampController {
  readonly plan: readonly RampStep[];
  readonly #store: ConfigStore;
  readonly #guard: RollbackGuard | undefined;
  readonly #approve: ((step: RampStep) => boolean | Promise<boolean>) | undefined;
  readonly #approvalTimeoutMs: number;
  readonly #journal: MigrationJournal | undefined;
  readonly #clock: Clock;
  readonly #notify: NotifyFn;
  readonly #logger: Logger;
  readonly #name: string;
  #step: number;
  #since: number;
  #rolledBack = false;
  #lastConfig: MigrationConfig;
  #completed = false;
  #lastBlock: { blockedBy: BlockedBy; reasons?: readonly string[] } = { blockedBy: null };
  #ticking: Promise<RampStatus> | undefined;
  #resuming: Promise<void> | undefined;
  #timer: ReturnType<typeof setInterval> | undefined;
  readonly #unsubscribe: () => void;

  /** @throws InvalidOptionError on a missing store, a bad plan or a bad option. */
  constructor(options: RampControllerOptions) {
    if (typeof options !== 'object' || options === null || !isConfigStore(options.store)) {
      throw new InvalidOptionError('store', `must be a ConfigStore (current, subscribe, save), got ${describeValue(options?.store)}`);
    }
    this.#store = options.store;
    this.plan = validatePlan(options.plan ?? defaultRamp);
    this.#guard = options.guard;
    this.#approve = optionalFunction(options.approve, 'approve');
    this.#approvalTimeoutMs = optionalPositiveNumber(options.approvalTimeoutMs, 'approvalTimeoutMs') ?? 60_000;
    this.#journal = options.journal;
    this.#clock = resolveClock(options.clock);
    this.#logger = safeLogger(options.logger);
    this.#notify = toNotify(options.notifier, this.#logger);
    this.#name = options.name ?? 'migration';
    const config = this.#store.current();
    this.#lastConfig = config;
    this.#step = this.#stepOf(config);
    if (options.since !== undefined && (typeof options.since !== 'number' || !Number.isFinite(options.since))) {
      throw new InvalidOptionError('since', `must be a clock time in ms, got ${describeValue(options.since)}`);
    }
    this.#since = options.since ?? this.#takenAt(this.#step) ?? this.#clock.now();
    this.#unsubscribe = this.#store.subscribe((next) => this.#onConfig(next));
  }

  /** Where the ramp stands now; the guard and approval blocks are those the last tick met. */
  status(): RampStatus {
    const hold = this.#step >= 0 ? (this.plan[this.#step]?.holdMs ?? 0) : 0;
    const nextAt = this.#since + hold;
    const base = { step: this.#step, percentage: this.#store.current().newSystemPercentage, since: this.#since, nextAt };
    if (this.#rolledBack) return { ...base, blockedBy: 'rolledBack' };
    if (this.#completed) return { ...base, blockedBy: 'done' };
    if (this.#clock.now() < nextAt) return { ...base, blockedBy: 'hold' };
    return { ...base, ...this.#lastBlock };
  }

  /**
   * Advances at most one step, when every gate is open. Concurrent calls
   * share one tick. Resolves with the status after the tick.
   */
  tick(): Promise<RampStatus> {
    this.#ticking ??= this.#tick().finally(() => {
      this.#ticking = undefined;
    });
    return this.#ticking;
  }

  /** Ticks every `intervalMs` of real time until `stop()`. The timer does not keep the process alive. */
  run(options: { intervalMs?: number } = {}): void {
    const intervalMs = optionalPositiveNumber(options.intervalMs, 'intervalMs') ?? 60_000;
    this.stop();
    this.#timer = setInterval(() => {
      this.tick().catch((err: unknown) => this.#logger.error({ err, migration: this.#name }, 'ramp tick failed'));
    }, intervalMs);
    this.#timer.unref?.();
  }

  /** Stops `run()`. */
  stop(): void {
    if (this.#timer !== undefined) clearInterval(this.#timer);
    this.#timer = undefined;
  }

  /** Stops the timer and stops following the store. */
  close(): void {
    this.stop();
    this.#unsubscribe();
  }

  /**
   * After a rollback, once new is fixed: saves shadow mode, so the fix is
   * compared before it serves anyone, and lets the ramp start again from its
   * first step (gated as usual: with a guard, only once shadow has enough
   * clean comparisons). Does nothing unless the ramp is rolled back.
   */
  resume(): Promise<void> {
    if (!this.#rolledBack) return this.#resuming ?? Promise.resolve();
    // The controller leaves the rolled-back state at once, so a tick right after resume() (awaited or not) waits for it, not refuses.
    this.#rolledBack = false;
    this.#step = -1;
    this.#since = this.#clock.now();
    this.#lastBlock = { blockedBy: null };
    const resuming = (async () => {
      try {
        await this.#store.save(phases.shadow());
      } catch (err) {
        this.#rolledBack = true;
        throw err;
      }
      this.#journal?.record('resume', { migration: this.#name });
      await this.#send('resume', `${this.#name}: ramp resumed in shadow mode; next step ${this.plan[0]?.percentage} %`);
    })();
    // What a tick waits for: settles when the resume does, and never rejects (the caller of resume() gets the error).
    const settled: Promise<void> = resuming.then(
      () => this.#resumed(settled),
      () => this.#resumed(settled),
    );
    this.#resuming = settled;
    return resuming;
  }

  #resumed(settled: Promise<void>): void {
    if (this.#resuming === settled) this.#resuming = undefined;
  }

  async #tick(): Promise<RampStatus> {
    if (this.#resuming !== undefined) await this.#resuming;
    if (this.#rolledBack || this.#completed) return this.status();
    const now = this.#clock.now();
    const current = this.#step >= 0 ? this.plan[this.#step] : undefined;
    if (current !== undefined && now < this.#since + current.holdMs) return this.#blocked(null);
    if (this.#step === this.plan.length - 1) {
      this.#completed = true;
      this.#journal?.record('complete', { migration: this.#name, percentage: current?.percentage });
      await this.#send('complete', `${this.#name}: ramp complete, ${current?.percentage} % held for its grace period`);
      return this.status();
    }
    const next = this.plan[this.#step + 1] as RampStep;
    if (this.#guard !== undefined) {
      const health = this.#guard.check();
      if (!health.ok) {
        if (this.#lastBlock.blockedBy !== 'guard') {
          await this.#send('blocked', `${this.#name}: ramp held at ${this.#where()}: ${health.reasons.join('; ')}`);
        }
        return this.#blocked('guard', health.reasons);
      }
      if (!health.enough) return this.#blocked('samples');
    }
    if (!(await this.#approved(next))) return this.#blocked('approval');
    // A rollback may have happened while we waited for approval.
    if (this.#rolledBack) return this.status();
    const index = this.#step + 1;
    await this.#store.save(next.percentage === 100 ? phases.full() : phases.canary(next.percentage));
    // The store's listener may already have followed the save; both land on the same step.
    this.#step = index;
    this.#since = this.#clock.now();
    this.#lastBlock = { blockedBy: null };
    this.#journal?.record('step', { migration: this.#name, percentage: next.percentage });
    this.#logger.info({ migration: this.#name, percentage: next.percentage, step: this.#step }, 'ramp step taken');
    await this.#send('step', `${this.#name}: ramp step ${this.#step + 1}/${this.plan.length}: ${next.percentage} % on new`);
    return this.status();
  }

  async #approved(step: RampStep): Promise<boolean> {
    if (this.#approve === undefined) return true;
    await this.#send('approval', `${this.#name}: approval requested for ${step.percentage} %`);
    let timer: ReturnType<typeof setTimeout> | undefined;
    let approved: boolean;
    try {
      approved =
        (await Promise.race([
          Promise.resolve().then(() => (this.#approve as (s: RampStep) => boolean | Promise<boolean>)(step)),
          new Promise<false>((resolve) => {
            timer = setTimeout(() => {
              this.#logger.warn({ migration: this.#name, percentage: step.percentage }, 'approval timed out; taken as no');
              resolve(false);
            }, this.#approvalTimeoutMs);
            timer.unref?.();
          }),
        ])) === true;
    } catch (err) {
      this.#logger.warn({ err, migration: this.#name, percentage: step.percentage }, 'approval gate threw; taken as no');
      approved = false;
    } finally {
      clearTimeout(timer);
    }
    this.#journal?.record('approval', { migration: this.#name, percentage: step.percentage, approved });
    return approved;
  }

  #blocked(blockedBy: BlockedBy, reasons?: readonly string[]): RampStatus {
    this.#lastBlock = reasons === undefined ? { blockedBy } : { blockedBy, reasons };
    return this.status();
  }

  #onConfig(config: MigrationConfig): void {
    const before = this.#lastConfig;
    this.#lastConfig = config;
    if (isRolledBack(config)) {
      // Preparation and a rollback look alike; a move into it from a config that used new is a rollback.
      if (!isRolledBack(before)) this.#rolledBack = true;
      return;
    }
    const step = this.#stepOf(config);
    if (step !== this.#step && step !== -1) {
      // Someone else (an operator, another instance) moved the percentage: follow it.
      this.#step = step;
      this.#since = this.#clock.now();
    }
  }

  /** The plan step whose percentage the config is at, or -1 (preparation, shadow, or off-plan). */
  #stepOf(config: MigrationConfig): number {
    if (!config.newSystemEnabled || config.shadowMode) return -1;
    return this.plan.findIndex((step) => step.percentage === config.newSystemPercentage);
  }

  /** When the journal says step `index` was last taken, to restore holds across restarts. */
  #takenAt(index: number): number | undefined {
    if (index < 0 || this.#journal === undefined) return undefined;
    const percentage = this.plan[index]?.percentage;
    const entries = this.#journal.entries();
    for (let i = entries.length - 1; i >= 0; i--) {
      const entry = entries[i];
      if (entry?.kind === 'step' && entry.percentage === percentage) return entry.at;
    }
    return undefined;
  }

  #where(): string {
    const config = this.#store.current();
    return config.shadowMode ? 'shadow' : `${config.newSystemEnabled ? config.newSystemPercentage : 0} %`;
  }

  #send(kind: Notification['kind'], message: string): Promise<void> {
    return this.#notify({ kind, migration: this.#name, message, at: this.#clock.now() });
  }
}
