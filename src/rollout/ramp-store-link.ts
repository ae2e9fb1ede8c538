import type { ConfigStore } from '../config/config-provider.js';
import type { MigrationConfig } from '../config/migration-config.js';
import { isRolledBack } from '../config/migration-config.js';
import type { RampApproval, RampPendingApproval, RampState, RampStateStore, RampVerdict } from '../config/ramp-state.js';
import { canonicalJson, isRampStateStore } from '../config/ramp-state.js';
import type { Logger } from '../observe/logger.js';
import { settleWithin } from '../bounded.js';
import type { RampStep } from './ramp-plan.js';
import type { RampStatus } from './ramp-options.js';

/** What a controller publishes about itself into the store's ramp state. */
export interface RampReport {
  readonly status: RampStatus;
  readonly pendingApproval?: RampPendingApproval;
  readonly verdict?: RampVerdict;
  /** A step was taken (or the ramp resumed): approvals given before no longer count. */
  readonly newStep?: boolean;
  /** The ramp was seen rolled back: recorded when whoever rolled back did not. */
  readonly rollback?: { readonly reason: string; readonly percentage: number };
}

/**
 * A RampController's link to the ramp state its store keeps (when the store
 * keeps one): what it reads (approvals, pause, resumes from outside) and
 * what it writes (its status). Writes are serialised, bounded by
 * `timeoutMs`, and never throw: a store that cannot take them is logged and
 * the ramp goes on.
 */
export class RampStoreLink {
  readonly #store: RampStateStore | undefined;
  readonly #plan: readonly RampStep[];
  readonly #logger: Logger;
  readonly #name: string;
  readonly #timeoutMs: number;
  #queue: Promise<void> = Promise.resolve();

  constructor(store: ConfigStore, plan: readonly RampStep[], logger: Logger, name: string, timeoutMs: number) {
    this.#store = isRampStateStore(store) ? store : undefined;
    this.#plan = plan;
    this.#logger = logger;
    this.#name = name;
    this.#timeoutMs = timeoutMs;
  }

  /** The stored ramp state, or undefined when the store keeps none (or cannot be read). */
  state(): RampState | undefined {
    try {
      return this.#store?.rampState();
    } catch (err) {
      this.#logger.warn({ err, migration: this.#name }, 'ramp state could not be read');
      return undefined;
    }
  }

  /** The approval recorded in the store for `percentage` since the step in force was taken, if any. */
  approvalFor(percentage: number): RampApproval | undefined {
    const state = this.state();
    return state?.approvals.findLast((a) => a.percentage === percentage && a.revision > state.stepRevision);
  }

  /** Calls `listener` on each change of the stored ramp state; returns a function that stops it. */
  subscribe(listener: (state: RampState) => void): () => void {
    if (this.#store === undefined) return () => {};
    try {
      return this.#store.subscribeRamp(listener);
    } catch (err) {
      this.#logger.warn({ err, migration: this.#name }, 'ramp state cannot be followed');
      return () => {};
    }
  }

  /** Resolves true as soon as an approval for `percentage` is recorded in the store; `stop` ends the wait (false). */
  waitForApproval(percentage: number): { readonly approved: Promise<boolean>; readonly stop: () => void } {
    let stop = () => {};
    const approved = new Promise<boolean>((resolve) => {
      const unsubscribe = this.subscribe(() => {
        if (this.approvalFor(percentage) !== undefined) finish(true);
      });
      const finish = (value: boolean) => {
        unsubscribe();
        resolve(value);
      };
      stop = () => finish(false);
      if (this.approvalFor(percentage) !== undefined) finish(true);
    });
    return { approved, stop };
  }

  /** Writes the controller's status into the stored ramp state when it changed. Resolves when written (or given up). */
  publish(report: RampReport): Promise<void> {
    const store = this.#store;
    if (store === undefined) return Promise.resolve();
    const run = this.#queue.then(async () => {
      const outcome = await settleWithin(() => store.updateRamp((state, config) => this.#merge(state, config, report)), this.#timeoutMs);
      if (outcome.status === 'error') this.#logger.warn({ err: outcome.error, migration: this.#name }, 'ramp state could not be saved; the ramp goes on');
      if (outcome.status === 'timeout') this.#logger.warn({ migration: this.#name, timeoutMs: this.#timeoutMs }, 'ramp state save timed out; the ramp goes on');
    });
    this.#queue = run;
    return run;
  }

  #merge(state: RampState, config: MigrationConfig, report: RampReport): { ramp: RampState } | undefined {
    const { status } = report;
    const { pendingApproval: _pending, reasons: _reasons, since: _since, nextAt: _nextAt, verdict: _verdict, ...rest } = state;
    const finite = (value: number) => (Number.isFinite(value) ? value : undefined);
    const since = finite(status.since);
    const nextAt = finite(status.nextAt);
    const verdict = report.verdict ?? state.verdict;
    // Recorded already by whoever rolled back, unless that record is older than the step in force.
    const seenRollback = report.rollback !== undefined && (state.lastRollback === undefined || (state.lastRollback.revision ?? 0) < state.stepRevision);
    // A report decided before a rollback reached this controller must not hide the rollback.
    const stale = isRolledBack(config) && state.blockedBy === 'rolledBack';
    const blockedBy = stale ? 'rolledBack' : state.paused !== undefined && status.blockedBy !== 'rolledBack' && status.blockedBy !== 'done' ? 'paused' : status.blockedBy;
    const next: RampState = {
      ...rest,
      plan: this.#plan.map((step) => ({ percentage: step.percentage, holdMs: step.holdMs })),
      step: status.step,
      blockedBy,
      ...(since === undefined ? {} : { since }),
      ...(nextAt === undefined ? {} : { nextAt }),
      ...(status.reasons === undefined ? {} : { reasons: status.reasons }),
      ...(report.pendingApproval === undefined || stale ? {} : { pendingApproval: report.pendingApproval }),
      ...(verdict === undefined ? {} : { verdict }),
      // A step reported after the store rolled back is not a move out of the rollback.
      ...(report.newStep === true && !isRolledBack(config) ? { stepRevision: state.revision + 1 } : {}),
      ...(seenRollback && report.rollback !== undefined
        ? { lastRollback: { at: Date.now(), by: `ramp ${this.#name}`, reason: report.rollback.reason, percentage: report.rollback.percentage, revision: state.revision + 1 } }
        : {}),
    };
    return sameReport(state, next) ? undefined : { ramp: next };
  }
}

/** True when writing `next` over `state` would change nothing an operator reads (times of the verdict aside). */
function sameReport(state: RampState, next: RampState): boolean {
  const strip = ({ revision: _r, updatedAt: _u, verdict, ...rest }: RampState) => ({ ...rest, verdict: verdict && { verdict: verdict.verdict, reasons: verdict.reasons } });
  return canonicalJson(strip(state)) === canonicalJson(strip(next));
}
