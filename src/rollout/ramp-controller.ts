import type { ConfigStore } from '../config/config-provider.js';
import { isConfigStore } from '../config/config-provider.js';
import type { MigrationConfig } from '../config/migration-config.js';
import { isRolledBack } from '../config/migration-config.js';
import { sameConfig } from '../config/migration-config.js';
import { phases } from '../config/phases.js';
import { InvalidOptionError, MigrationGlueError, describeValue } from '../errors.js';
import { optionalFunction, resolveClock, timerMs } from '../options.js';
import type { Clock } from '../observe/clock.js';
import type { Logger } from '../observe/logger.js';
import { safeLogger } from '../observe/logger.js';
import type { Notification, Notifier, NotifyFn } from '../observe/notifier.js';
import { toNotify } from '../observe/notifier.js';
import { errorText, readClock } from './bounded.js';
import { settleWithin } from '../bounded.js';
import type { JournalEntry, JournalKind, MigrationJournal } from './journal.js';
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
  /** The guard's reasons when `blockedBy` is `guard`; when it is `samples`, what the judge still waits for and about how many more calls it needs. */
  readonly reasons?: readonly string[];
}

/** Options of a RampController. */
export interface RampControllerOptions {
  /** Where the percentage is saved: every glue of the migration reads it. */
  readonly store: ConfigStore;
  /** @default defaultRamp */
  readonly plan?: readonly RampStep[];
  /** Consulted before each step: no step while it trips, lacks samples, or throws. @default none (no health gate) */
  readonly guard?: Pick<RollbackGuard, 'check'>;
  /** Asked before each step, with the step about to be taken; may be async. Only `true` is a yes; a throw counts as no. @default every step approved */
  readonly approve?: (step: RampStep) => boolean | Promise<boolean>;
  /** How long to wait for `approve` before taking it as no (logged), in ms of real time. @default 60000 */
  readonly approvalTimeoutMs?: number;
  /** How long a tick waits for the notifier before it goes on (logged), in ms of real time. @default 10000 */
  readonly notifyTimeoutMs?: number;
  /**
   * How long a tick (or `resume()`) waits for `store.save` before it rejects
   * with `ERR_TIMEOUT`, in ms of real time. The step then counts as not
   * taken; if the save lands later, the controller follows the store.
   * @default 30000
   */
  readonly saveTimeoutMs?: number;
  /** Records steps, approvals, completion and resumes. A journal that throws is logged and never stops the ramp. */
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

/** Options of `RampController.run`. */
export interface RampRunOptions {
  /** Real time between ticks, in ms. @default 60000 */
  readonly intervalMs?: number;
  /** Whether the timer keeps the process alive (a script whose only job is the ramp). @default false */
  readonly keepAlive?: boolean;
}

type SaveOutcome = 'saved' | 'conflict';

/**
 * Moves a migration's percentage along a ramp plan, one step per `tick()`
 * at most: only when the step in force has been held long enough, the guard
 * is healthy with enough samples, and `approve` said yes. A step's hold
 * counts from the moment it was taken. After a rollback the controller stays
 * put until `resume()`, which starts the ramp again from its first step.
 *
 * Every wait on user code is bounded (`approvalTimeoutMs`,
 * `notifyTimeoutMs`, `saveTimeoutMs`), so a tick always settles. The store
 * is re-read right before a step is saved: a forward step is never saved
 * over a rollback, and a store that refuses it (`ERR_CONFLICT`) leaves the
 * ramp rolled back or following the store, never crashed.
 */
export class RampController {
  readonly plan: readonly RampStep[];
  readonly #store: ConfigStore;
  readonly #guard: Pick<RollbackGuard, 'check'> | undefined;
  readonly #approve: ((step: RampStep) => boolean | Promise<boolean>) | undefined;
  readonly #approvalTimeoutMs: number;
  readonly #notifyTimeoutMs: number;
  readonly #saveTimeoutMs: number;
  readonly #journal: MigrationJournal | undefined;
  readonly #clock: Clock;
  readonly #notify: NotifyFn;
  readonly #logger: Logger;
  readonly #name: string;
  #step: number;
  /** NaN until the clock has given a finite reading: the hold then starts at the first good one. */
  #since: number;
  #rolledBack = false;
  /** Rollbacks seen in the store, to tell whether one landed while a step was being saved. */
  #rollbacksSeen = 0;
  #closed = false;
  #lastConfig: MigrationConfig;
  #completed = false;
  #badClock = false;
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
    if (options.guard !== undefined && (typeof options.guard !== 'object' || options.guard === null || typeof options.guard.check !== 'function')) {
      throw new InvalidOptionError('guard', `must be a RollbackGuard (with check()), got ${describeValue(options.guard)}`);
    }
    this.#guard = options.guard;
    this.#approve = optionalFunction(options.approve, 'approve');
    this.#approvalTimeoutMs = timerMs(options.approvalTimeoutMs, 'approvalTimeoutMs', 60_000);
    this.#notifyTimeoutMs = timerMs(options.notifyTimeoutMs, 'notifyTimeoutMs', 10_000);
    this.#saveTimeoutMs = timerMs(options.saveTimeoutMs, 'saveTimeoutMs', 30_000);
    this.#journal = options.journal;
    this.#clock = resolveClock(options.clock);
    this.#logger = safeLogger(options.logger);
    this.#notify = toNotify(options.notifier, this.#logger);
    this.#name = options.name ?? 'migration';
    if (options.since !== undefined && (typeof options.since !== 'number' || !Number.isFinite(options.since))) {
      throw new InvalidOptionError('since', `must be a clock time in ms, got ${describeValue(options.since)}`);
    }
    const config = this.#store.current();
    this.#lastConfig = config;
    this.#step = this.#stepOf(config);
    this.#since = options.since ?? this.#takenAt(this.#step) ?? this.#now() ?? Number.NaN;
    this.#unsubscribe = this.#store.subscribe((next) => this.#onConfig(next));
  }

  /**
   * Where the ramp stands now; the guard and approval blocks are those the
   * last tick met. `since` is NaN while the clock has given no finite reading.
   */
  status(): RampStatus {
    const hold = this.#step >= 0 ? (this.plan[this.#step]?.holdMs ?? 0) : 0;
    const nextAt = this.#since + hold;
    const base = { step: this.#step, percentage: this.#current().newSystemPercentage, since: this.#since, nextAt };
    if (this.#rolledBack) return { ...base, blockedBy: 'rolledBack' };
    if (this.#completed) return { ...base, blockedBy: 'done' };
    const now = this.#now();
    // A clock that gives no finite time, or a hold not yet started, holds: never a step taken early.
    if (now === undefined || !Number.isFinite(nextAt) || now < nextAt) return { ...base, blockedBy: 'hold' };
    return { ...base, ...this.#lastBlock };
  }

  /**
   * Advances at most one step, when every gate is open. Concurrent calls
   * (including one made from a hook during the tick) share one tick.
   * Resolves with the status after the tick; settles within the sum of the
   * timeouts. Rejects when the store's save fails or times out (`ERR_TIMEOUT`).
   */
  tick(): Promise<RampStatus> {
    // Started on a microtask, so that a hook calling tick() during this tick's first synchronous part finds it already set.
    this.#ticking ??= Promise.resolve()
      .then(() => this.#tick())
      .finally(() => {
        this.#ticking = undefined;
      });
    return this.#ticking;
  }

  /**
   * Ticks every `intervalMs` of real time until `stop()`; a second call
   * replaces the first. The timer does not keep the process alive unless
   * `keepAlive` is set. A failed tick is logged.
   * @throws InvalidOptionError on an `intervalMs` a timer cannot hold.
   */
  run(options: RampRunOptions = {}): void {
    const intervalMs = timerMs(options.intervalMs, 'intervalMs', 60_000);
    this.stop();
    if (this.#closed) return;
    this.#timer = setInterval(() => {
      this.tick().catch((err: unknown) => this.#logger.error({ err, migration: this.#name }, 'ramp tick failed'));
    }, intervalMs);
    if (options.keepAlive !== true) this.#timer.unref?.();
  }

  /** Stops `run()`. Idempotent. */
  stop(): void {
    if (this.#timer !== undefined) clearInterval(this.#timer);
    this.#timer = undefined;
  }

  /** Stops the timer and stops following the store; later ticks take no step. Idempotent. */
  close(): void {
    this.stop();
    if (this.#closed) return;
    this.#closed = true;
    try {
      this.#unsubscribe();
    } catch (err) {
      this.#logger.warn({ err, migration: this.#name }, 'store unsubscribe threw');
    }
  }

  /**
   * After a rollback, once new is fixed: saves shadow mode, so the fix is
   * compared before it serves anyone, and lets the ramp start again from its
   * first step (gated as usual: with a guard, only once shadow has enough
   * clean comparisons). Does nothing unless the ramp is rolled back.
   * @throws the store's error, or `ERR_TIMEOUT` after `saveTimeoutMs` (the ramp then stays rolled back).
   */
  resume(): Promise<void> {
    if (!this.#rolledBack) return this.#resuming ?? Promise.resolve();
    // The controller leaves the rolled-back state at once, so a tick right after resume() (awaited or not) waits for it, not refuses.
    this.#rolledBack = false;
    this.#step = -1;
    this.#since = this.#now() ?? Number.NaN;
    this.#lastBlock = { blockedBy: null };
    const resuming = (async () => {
      try {
        await this.#save(phases.shadow(), 'resume');
      } catch (err) {
        this.#rolledBack = true;
        throw err;
      }
      this.#record('resume', { migration: this.#name });
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
    this.#sync();
    if (this.#rolledBack || this.#completed || this.#closed) return this.status();
    const now = this.#now();
    if (now === undefined) return this.#blocked('hold');
    if (!Number.isFinite(this.#since)) {
      // The first good reading after a broken clock: the hold starts now, it is not taken as over.
      this.#since = now;
      return this.#blocked(null);
    }
    const from = this.#step;
    const current = from >= 0 ? this.plan[from] : undefined;
    if (current !== undefined && now < this.#since + current.holdMs) return this.#blocked(null);
    if (from === this.plan.length - 1) {
      this.#completed = true;
      this.#record('complete', { migration: this.#name, percentage: current?.percentage });
      await this.#send('complete', `${this.#name}: ramp complete, ${current?.percentage} % held for its grace period`);
      return this.status();
    }
    const next = this.plan[from + 1] as RampStep;
    if (this.#guard !== undefined) {
      const health = this.#health();
      if (!health.ok) {
        if (this.#lastBlock.blockedBy !== 'guard') {
          await this.#send('blocked', `${this.#name}: ramp held at ${this.#where()}: ${health.reasons.join('; ')}`);
        }
        return this.#blocked('guard', health.reasons);
      }
      if (!health.enough) return this.#blocked('samples', health.reasons.length > 0 ? health.reasons : undefined);
    }
    if (!(await this.#approved(next))) return this.#blocked('approval');
    // Re-read the store right before saving: a rollback (or another move) may have landed while we waited.
    const latest = this.#readStore();
    if (latest === undefined) return this.#blocked(null); // cannot tell whether it rolled back: no step
    if (!sameConfig(latest, this.#lastConfig)) this.#onConfig(latest);
    if (this.#rolledBack || this.#closed) return this.status();
    if (this.#step !== from) return this.status(); // someone else moved the ramp; the next tick decides from there
    const rollbacksBefore = this.#rollbacksSeen;
    const outcome = await this.#save(next.percentage === 100 ? phases.full() : phases.canary(next.percentage), 'step');
    this.#sync();
    if (this.#rollbacksSeen !== rollbacksBefore && !isRolledBack(this.#current())) {
      // A rollback landed in the store while our step was written, and our step landed after it: put the rollback back.
      await this.#restoreRollback();
      return this.status();
    }
    if (outcome === 'conflict' || this.#rolledBack) return this.status();
    // The store's listener may already have followed the save; both land on the same step.
    this.#step = from + 1;
    this.#since = this.#now() ?? Number.NaN;
    this.#lastBlock = { blockedBy: null };
    this.#record('step', { migration: this.#name, percentage: next.percentage });
    this.#logger.info({ migration: this.#name, percentage: next.percentage, step: this.#step }, 'ramp step taken');
    await this.#send('step', `${this.#name}: ramp step ${this.#step + 1}/${this.plan.length}: ${next.percentage} % on new`);
    return this.status();
  }

  /** The guard's verdict; a guard that throws or answers garbage holds the ramp. */
  #health(): { ok: boolean; enough: boolean; reasons: readonly string[] } {
    try {
      const health: unknown = (this.#guard as Pick<RollbackGuard, 'check'>).check();
      if (typeof health !== 'object' || health === null) throw new TypeError(`guard.check() returned ${describeValue(health)}`);
      const { ok, enough, reasons, needed } = health as Record<string, unknown>;
      const list = Array.isArray(reasons) ? reasons.slice(0, 20).map((r) => (typeof r === 'string' ? r : describeValue(r))) : [];
      if (ok === true) {
        // Inconclusive: what the judge still waits for, and how many more calls it needs by estimate.
        const more = typeof needed === 'number' && Number.isFinite(needed) ? [`about ${Math.ceil(needed)} more calls needed`] : [];
        return { ok: true, enough: enough === true, reasons: enough === true ? [] : [...list, ...more] };
      }
      return { ok: false, enough: false, reasons: list.length > 0 ? list : ['the guard did not say ok'] };
    } catch (err) {
      this.#logger.warn({ err, migration: this.#name }, 'rollback guard check threw; ramp held');
      return { ok: false, enough: false, reasons: [`guard check threw: ${errorText(err)}`] };
    }
  }

  async #approved(step: RampStep): Promise<boolean> {
    if (this.#approve === undefined) return true;
    await this.#send('approval', `${this.#name}: approval requested for ${step.percentage} %`);
    const approve = this.#approve;
    const outcome = await settleWithin(() => approve(step), this.#approvalTimeoutMs);
    let approved = false;
    if (outcome.status === 'timeout') {
      this.#logger.warn({ migration: this.#name, percentage: step.percentage, timeoutMs: this.#approvalTimeoutMs }, 'approval timed out; taken as no');
    } else if (outcome.status === 'error') {
      this.#logger.warn({ err: outcome.error, migration: this.#name, percentage: step.percentage }, 'approval gate threw; taken as no');
    } else approved = outcome.value === true;
    this.#record('approval', { migration: this.#name, percentage: step.percentage, approved });
    return approved;
  }

  /** Saves to the store within `saveTimeoutMs`; an `ERR_CONFLICT` refusal is an outcome, other failures throw. */
  async #save(config: MigrationConfig, what: 'step' | 'resume'): Promise<SaveOutcome> {
    const outcome = await settleWithin(() => this.#store.save(config), this.#saveTimeoutMs);
    if (outcome.status === 'ok') return 'saved';
    if (outcome.status === 'timeout') {
      this.#logger.error({ migration: this.#name, timeoutMs: this.#saveTimeoutMs, what }, 'config store did not answer in time');
      throw new MigrationGlueError(
        'ERR_TIMEOUT',
        `the config store did not answer a ${what} save within ${this.#saveTimeoutMs} ms; the ${what} was not counted (if the save lands later, the ramp follows the store)`,
      );
    }
    if (what === 'step' && MigrationGlueError.is(outcome.error, 'ERR_CONFLICT')) {
      this.#sync();
      // A store that refuses a forward step over its rollback: the ramp is rolled back.
      if (isRolledBack(this.#current())) this.#rolledBack = true;
      else this.#logger.warn({ err: outcome.error, migration: this.#name }, 'config changed during a ramp tick; the step was not taken');
      return 'conflict';
    }
    throw outcome.error;
  }

  async #restoreRollback(): Promise<void> {
    this.#rolledBack = true;
    this.#logger.error({ migration: this.#name }, 'a rollback landed while a ramp step was saved, and the step overwrote it; saving the rollback again');
    const outcome = await settleWithin(() => this.#store.save(phases.rolledBack()), this.#saveTimeoutMs);
    if (outcome.status !== 'ok') {
      this.#logger.error(
        { err: outcome.status === 'error' ? outcome.error : undefined, migration: this.#name },
        'the rollback could not be saved again: roll back by hand',
      );
    }
  }

  #blocked(blockedBy: BlockedBy, reasons?: readonly string[]): RampStatus {
    this.#lastBlock = reasons === undefined ? { blockedBy } : { blockedBy, reasons };
    return this.status();
  }

  /** Follows the store's config when it changed without (or before) its listener telling us. */
  #sync(): void {
    const config = this.#readStore();
    if (config !== undefined && !sameConfig(config, this.#lastConfig)) this.#onConfig(config);
  }

  #onConfig(config: MigrationConfig): void {
    if (typeof config !== 'object' || config === null) return;
    const before = this.#lastConfig;
    this.#lastConfig = config;
    if (isRolledBack(config)) {
      // Preparation and a rollback look alike; a move into it from a config that used new is a rollback.
      if (!isRolledBack(before)) {
        this.#rolledBack = true;
        this.#rollbacksSeen += 1;
      }
      return;
    }
    const step = this.#stepOf(config);
    if (step !== this.#step && step !== -1) {
      // Someone else (an operator, another instance) moved the percentage: follow it.
      this.#step = step;
      this.#since = this.#now() ?? Number.NaN;
    }
  }

  /** The store's config, or undefined when `current()` throws (logged). */
  #readStore(): MigrationConfig | undefined {
    try {
      const config = this.#store.current();
      return typeof config === 'object' && config !== null ? config : undefined;
    } catch (err) {
      this.#logger.warn({ err, migration: this.#name }, 'config store current() threw; using the last config seen');
      return undefined;
    }
  }

  #current(): MigrationConfig {
    return this.#readStore() ?? this.#lastConfig;
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
    let entries: readonly JournalEntry[];
    try {
      entries = this.#journal.entries();
      if (!Array.isArray(entries)) return undefined;
    } catch (err) {
      this.#logger.warn({ err, migration: this.#name }, 'journal could not be read; the hold counts from now');
      return undefined;
    }
    for (let i = entries.length - 1; i >= 0; i--) {
      const entry = entries[i];
      if (entry?.kind === 'step' && entry.percentage === percentage && Number.isFinite(entry.at)) return entry.at;
    }
    return undefined;
  }

  /** A finite clock reading, or undefined (logged once per stretch of bad readings). */
  #now(): number | undefined {
    const now = readClock(this.#clock);
    if (now === undefined && !this.#badClock) {
      this.#logger.error({ migration: this.#name }, 'clock gave no finite time; the ramp holds until it does');
    }
    this.#badClock = now === undefined;
    return now;
  }

  #record(kind: JournalKind, fields: Omit<JournalEntry, 'at' | 'kind'>): void {
    if (this.#journal === undefined) return;
    try {
      this.#journal.record(kind, fields);
    } catch (err) {
      this.#logger.error({ err, migration: this.#name, kind }, 'journal could not record; going on');
    }
  }

  #where(): string {
    const config = this.#current();
    return config.shadowMode ? 'shadow' : `${config.newSystemEnabled ? config.newSystemPercentage : 0} %`;
  }

  /** Notifies, waiting at most `notifyTimeoutMs`; never throws. */
  async #send(kind: Notification['kind'], message: string): Promise<void> {
    const notification = { kind, migration: this.#name, message, at: this.#now() ?? Date.now() };
    const outcome = await settleWithin(() => this.#notify(notification), this.#notifyTimeoutMs);
    if (outcome.status === 'timeout') {
      this.#logger.warn({ migration: this.#name, notification: kind, timeoutMs: this.#notifyTimeoutMs }, 'notifier did not answer in time; going on');
    }
  }
}
