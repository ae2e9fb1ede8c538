import type { ConfigStore } from '../config/config-provider.js';
import type { MigrationConfig } from '../config/migration-config.js';
import { isRolledBack } from '../config/migration-config.js';
import { phases } from '../config/phases.js';
import type { RampPendingApproval, RampVerdict } from '../config/ramp-state.js';
import { newShare } from '../core/routing.js';
import type { Logger } from '../observe/logger.js';
import { safeLogger } from '../observe/logger.js';
import type { Notifier } from '../observe/notifier.js';
import { toNotify } from '../observe/notifier.js';
import { parseOptions } from '../option-schema.js';
import type { RampControllerOptions, RampRunOptions, RampStatus } from './ramp-options.js';
import { rampOptionsSchema, rampRunSchema } from './ramp-options.js';
import { readGuard } from './ramp-gates.js';
import type { RampReport } from './ramp-store-link.js';
import { RampStoreLink } from './ramp-store-link.js';
import { RampEffects } from './ramp-effects.js';
import { RampPosition } from './ramp-position.js';
import type { RampStep } from './ramp-plan.js';
import { defaultRamp, validatePlan } from './ramp-plan.js';
import type { RollbackGuard } from './rollback-guard.js';

export type { BlockedBy, RampControllerOptions, RampRunOptions, RampStatus } from './ramp-options.js';

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
 *
 * With a store that keeps the ramp's state (the built-in stores do), the
 * controller writes its status there (step, since, next step at, what blocks
 * it, the approval it waits for, the guard's verdict), and takes from there
 * what operators do from other processes: an approval of the next step, a
 * pause, a resume after a rollback.
 */
export class RampController {
  readonly plan: readonly RampStep[];
  readonly #store: ConfigStore;
  readonly #guard: Pick<RollbackGuard, 'check'> | undefined;
  readonly #approve: ((step: RampStep) => boolean | Promise<boolean>) | undefined;
  readonly #requireApproval: boolean;
  readonly #link: RampStoreLink;
  readonly #fx: RampEffects;
  readonly #approvalTimeoutMs: number;
  readonly #saveTimeoutMs: number;
  readonly #logger: Logger;
  readonly #name: string;
  readonly #at: RampPosition;
  #closed = false;
  #pending: RampPendingApproval | undefined;
  #verdict: RampVerdict | undefined;
  #ticking: Promise<RampStatus> | undefined;
  #resuming: Promise<void> | undefined;
  #timer: ReturnType<typeof setInterval> | undefined;
  readonly #unsubscribe: () => void;
  readonly #unsubscribeRamp: () => void;

  /** @throws InvalidOptionError on a missing store, a bad plan or a bad option. */
  constructor(given: RampControllerOptions) {
    const options = parseOptions(rampOptionsSchema, given, 'RampController');
    this.#store = options.store;
    this.plan = validatePlan((options.plan as readonly RampStep[] | undefined) ?? defaultRamp);
    this.#guard = options.guard;
    this.#approve = options.approve;
    this.#requireApproval = options.requireApproval;
    this.#approvalTimeoutMs = options.approvalTimeoutMs;
    this.#saveTimeoutMs = options.saveTimeoutMs;
    this.#logger = safeLogger(options.logger as Logger | undefined);
    this.#name = options.name;
    this.#fx = new RampEffects({
      store: this.#store,
      journal: options.journal,
      clock: options.clock,
      logger: this.#logger,
      notify: toNotify(options.notifier as Notifier | undefined, this.#logger),
      name: this.#name,
      notifyTimeoutMs: options.notifyTimeoutMs,
      saveTimeoutMs: this.#saveTimeoutMs,
    });
    this.#link = new RampStoreLink(this.#store, this.plan, this.#logger, this.#name, this.#saveTimeoutMs);
    this.#at = new RampPosition({ store: this.#store, plan: this.plan, link: this.#link, fx: this.#fx, logger: this.#logger, name: this.#name, since: options.since });
    this.#at.onRollback = (before) => {
      this.#pending = undefined;
      void this.#link.publish({ status: this.status(), rollback: { reason: this.#fx.lastRollbackReason(), percentage: newShare(before) } });
    };
    this.#unsubscribe = this.#store.subscribe((next) => this.#at.follow(next));
    this.#unsubscribeRamp = this.#link.subscribe(() => {
      if (this.#at.rolledBack && !this.#closed) this.#at.resumedOutside();
    });
  }

  /**
   * Where the ramp stands now; the guard and approval blocks are those the
   * last tick met. `since` is NaN while the clock has given no finite reading.
   */
  status(): RampStatus {
    return this.#at.status();
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
  run(given: RampRunOptions = {}): void {
    const options = parseOptions(rampRunSchema, given, 'RampController.run');
    const intervalMs = options.intervalMs;
    this.stop();
    if (this.#closed) return;
    this.#timer = setInterval(() => {
      this.tick().catch((err: unknown) => this.#logger.error({ err, migration: this.#name }, 'ramp tick failed'));
    }, intervalMs);
    if (!options.keepAlive) this.#timer.unref?.();
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
      this.#unsubscribeRamp();
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
    if (!this.#at.rolledBack) return this.#resuming ?? Promise.resolve();
    // The controller leaves the rolled-back state at once, so a tick right after resume() (awaited or not) waits for it, not refuses.
    this.#at.restart();
    const resuming = (async () => {
      try {
        await this.#save(phases.shadow(), 'resume');
      } catch (err) {
        this.#at.rolledBack = true;
        throw err;
      }
      this.#fx.record('resume', { migration: this.#name });
      await this.#link.publish({ status: this.status(), newStep: true });
      this.#at.markRollbackSeen();
      await this.#fx.send('resume', `${this.#name}: ramp resumed in shadow mode; next step ${this.plan[0]?.percentage} %`);
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
    const stepBefore = this.#at.step;
    const sinceBefore = this.#at.since;
    const status = await this.#advance();
    if (!this.#closed) {
      const report: RampReport = {
        status,
        ...(status.blockedBy === 'approval' && this.#pending !== undefined ? { pendingApproval: this.#pending } : {}),
        ...(this.#verdict === undefined ? {} : { verdict: this.#verdict }),
        ...(this.#at.step !== stepBefore || this.#at.since !== sinceBefore ? { newStep: true } : {}),
      };
      await this.#link.publish(report);
    }
    return status;
  }

  async #advance(): Promise<RampStatus> {
    if (this.#resuming !== undefined) await this.#resuming;
    this.#at.sync();
    if (this.#at.rolledBack || this.#at.completed || this.#closed) return this.status();
    if (this.#link.state()?.paused !== undefined) return this.#at.blocked('paused');
    const now = this.#fx.now();
    if (now === undefined) return this.#at.blocked('hold');
    if (!Number.isFinite(this.#at.since)) {
      // The first good reading after a broken clock: the hold starts now, it is not taken as over.
      this.#at.since = now;
      return this.#at.blocked(null);
    }
    const from = this.#at.step;
    // The gates below (guard, approval) judge what is served now; a rollback seen while they are read makes them stale.
    const rollbacksBefore = this.#at.rollbacksSeen;
    const current = from >= 0 ? this.plan[from] : undefined;
    if (current !== undefined && now < this.#at.since + current.holdMs) return this.#at.blocked(null);
    if (from === this.plan.length - 1) {
      this.#at.completed = true;
      this.#fx.record('complete', { migration: this.#name, percentage: current?.percentage });
      await this.#fx.send('complete', `${this.#name}: ramp complete, ${current?.percentage} % held for its grace period`);
      return this.status();
    }
    const next = this.plan[from + 1] as RampStep;
    if (this.#guard !== undefined) {
      const health = readGuard(this.#guard, this.#logger, this.#name);
      this.#verdict = { verdict: health.verdict, reasons: health.reasons, at: Date.now() };
      if (!health.ok) {
        if (this.#at.lastBlock.blockedBy !== 'guard') {
          await this.#fx.send('blocked', `${this.#name}: ramp held at ${this.#at.where()}: ${health.reasons.join('; ')}`);
        }
        return this.#at.blocked('guard', health.reasons);
      }
      if (!health.enough) return this.#at.blocked('samples', health.reasons.length > 0 ? health.reasons : undefined);
    }
    if (this.#pending?.percentage !== next.percentage) this.#pending = { step: from + 1, percentage: next.percentage, requestedAt: Date.now() };
    const gate = { link: this.#link, approve: this.#approve, required: this.#requireApproval, timeoutMs: this.#approvalTimeoutMs };
    if (!(await this.#fx.approved(next, this.#pending, this.status(), gate))) return this.#at.blocked('approval');
    this.#pending = undefined;
    // Re-read the store right before saving: a rollback (or another move) may have landed while we waited.
    const latest = this.#at.readStore();
    if (latest === undefined) return this.#at.blocked(null); // cannot tell whether it rolled back: no step
    if (this.#at.changed(latest)) this.#at.follow(latest);
    if (this.#at.rolledBack || this.#closed) return this.status();
    if (this.#at.step !== from) return this.status(); // someone else moved the ramp; the next tick decides from there
    // Rolled back and resumed while we waited: the guard and the approval were of the build rolled back; the next tick judges afresh.
    if (this.#at.rollbacksSeen !== rollbacksBefore || this.#resuming !== undefined) return this.status();
    const outcome = await this.#save(next.percentage === 100 ? phases.full() : phases.canary(next.percentage), 'step');
    this.#at.sync();
    if (this.#at.rollbacksSeen !== rollbacksBefore && !isRolledBack(this.#at.current())) {
      // A rollback landed in the store while our step was written, and our step landed after it: put the rollback back.
      await this.#restoreRollback();
      return this.status();
    }
    if (outcome === 'conflict' || this.#at.rolledBack) return this.status();
    // The store's listener may already have followed the save; both land on the same step.
    this.#at.moveTo(from + 1);
    this.#fx.record('step', { migration: this.#name, percentage: next.percentage });
    this.#logger.info({ migration: this.#name, percentage: next.percentage, step: this.#at.step }, 'ramp step taken');
    await this.#fx.send('step', `${this.#name}: ramp step ${this.#at.step + 1}/${this.plan.length}: ${next.percentage} % on new`);
    return this.status();
  }

  /** Saves within `saveTimeoutMs`; an `ERR_CONFLICT` refusal of a step leaves the ramp rolled back or following the store. */
  async #save(config: MigrationConfig, what: 'step' | 'resume'): Promise<SaveOutcome> {
    const outcome = await this.#fx.save(config, what);
    if (outcome === 'conflict') {
      this.#at.sync();
      // A store that refuses a forward step over its rollback: the ramp is rolled back.
      if (isRolledBack(this.#at.current())) this.#at.rolledBack = true;
      else this.#logger.warn({ migration: this.#name }, 'config changed during a ramp tick; the step was not taken');
    }
    return outcome;
  }

  async #restoreRollback(): Promise<void> {
    this.#at.rolledBack = true;
    this.#logger.error({ migration: this.#name }, 'a rollback landed while a ramp step was saved, and the step overwrote it; saving the rollback again');
    await this.#fx.save(phases.rolledBack(), 'rollback').catch((err: unknown) => {
      this.#logger.error({ err, migration: this.#name }, 'the rollback could not be saved again: roll back by hand');
    });
  }
}
