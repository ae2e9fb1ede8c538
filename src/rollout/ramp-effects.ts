import type { ConfigStore } from '../config/config-provider.js';
import type { MigrationConfig } from '../config/migration-config.js';
import type { RampPendingApproval } from '../config/ramp-state.js';
import { MigrationGlueError } from '../errors.js';
import type { Clock } from '../observe/clock.js';
import type { Logger } from '../observe/logger.js';
import type { Notification, NotifyFn } from '../observe/notifier.js';
import { settleWithin } from '../bounded.js';
import { readClock } from './bounded.js';
import type { JournalEntry, JournalKind, MigrationJournal } from './journal.js';
import type { RampStep } from './ramp-plan.js';
import type { RampStatus } from './ramp-options.js';
import type { RampStoreLink } from './ramp-store-link.js';

/** What a RampController's side effects need. */
export interface RampEffectsOptions {
  readonly store: ConfigStore;
  readonly journal: MigrationJournal | undefined;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly notify: NotifyFn;
  readonly name: string;
  readonly notifyTimeoutMs: number;
  readonly saveTimeoutMs: number;
}

/**
 * A RampController's dealings with the world, each bounded and none able to
 * stop the ramp: the clock, the journal, the notifier, the store's saves.
 */
export class RampEffects {
  readonly #o: RampEffectsOptions;
  #badClock = false;

  constructor(options: RampEffectsOptions) {
    this.#o = options;
  }

  /** A finite clock reading, or undefined (logged once per stretch of bad readings). */
  now(): number | undefined {
    const now = readClock(this.#o.clock);
    if (now === undefined && !this.#badClock) {
      this.#o.logger.error({ migration: this.#o.name }, 'clock gave no finite time; the ramp holds until it does');
    }
    this.#badClock = now === undefined;
    return now;
  }

  /** Appends to the journal; a journal that throws is logged. */
  record(kind: JournalKind, fields: Omit<JournalEntry, 'at' | 'kind'>): void {
    if (this.#o.journal === undefined) return;
    try {
      this.#o.journal.record(kind, fields);
    } catch (err) {
      this.#o.logger.error({ err, migration: this.#o.name, kind }, 'journal could not record; going on');
    }
  }

  /** Notifies, waiting at most `notifyTimeoutMs`; never throws. */
  async send(kind: Notification['kind'], message: string): Promise<void> {
    const notification = { kind, migration: this.#o.name, message, at: this.now() ?? Date.now() };
    const outcome = await settleWithin(() => this.#o.notify(notification), this.#o.notifyTimeoutMs);
    if (outcome.status === 'timeout') {
      this.#o.logger.warn({ migration: this.#o.name, notification: kind, timeoutMs: this.#o.notifyTimeoutMs }, 'notifier did not answer in time; going on');
    }
  }

  /** When the journal says a step at `percentage` was last taken, to restore holds across restarts. */
  takenAt(percentage: number | undefined): number | undefined {
    const entries = this.#entries('the hold counts from now');
    for (let i = entries.length - 1; i >= 0 && percentage !== undefined; i--) {
      const entry = entries[i];
      if (entry?.kind === 'step' && entry.percentage === percentage && Number.isFinite(entry.at)) return entry.at;
    }
    return undefined;
  }

  /** The reason of the journal's last rollback, for the ramp state when whoever rolled back did not record one. */
  lastRollbackReason(): string {
    const entries = this.#entries('the rollback reason is not known');
    for (let i = entries.length - 1; i >= 0; i--) {
      const entry = entries[i];
      if (entry?.kind === 'rollback' && typeof entry.reason === 'string') return entry.reason;
    }
    return 'rolled back (no reason recorded)';
  }

  /**
   * Saves within `saveTimeoutMs`. Resolves 'conflict' when the store refused
   * a step with `ERR_CONFLICT`; rejects with `ERR_TIMEOUT`, or the store's error.
   */
  async save(config: MigrationConfig, what: 'step' | 'resume' | 'rollback'): Promise<'saved' | 'conflict'> {
    const { saveTimeoutMs, name, logger } = this.#o;
    const outcome = await settleWithin(() => this.#o.store.save(config), saveTimeoutMs);
    if (outcome.status === 'ok') return 'saved';
    if (outcome.status === 'timeout') {
      logger.error({ migration: name, timeoutMs: saveTimeoutMs, what }, 'config store did not answer in time');
      throw new MigrationGlueError(
        'ERR_TIMEOUT',
        `the config store did not answer a ${what} save within ${saveTimeoutMs} ms; the ${what} was not counted (if the save lands later, the ramp follows the store)`,
      );
    }
    if (what === 'step' && MigrationGlueError.is(outcome.error, 'ERR_CONFLICT')) return 'conflict';
    throw outcome.error;
  }

  /**
   * Asks whether `step` may be taken: an approval recorded in the store, else
   * `approve` (raced with an approval arriving in the store, within
   * `timeoutMs`). Without `approve`, only the store can say yes when
   * `required`. Records the answer in the journal.
   */
  async approved(
    step: RampStep,
    pending: RampPendingApproval,
    status: RampStatus,
    gate: { readonly link: RampStoreLink; readonly approve: ((step: RampStep) => boolean | Promise<boolean>) | undefined; readonly required: boolean; readonly timeoutMs: number },
  ): Promise<boolean> {
    const { link, approve, timeoutMs } = gate;
    const { name, logger } = this.#o;
    const recorded = link.approvalFor(step.percentage);
    if (recorded !== undefined) {
      const data = { by: recorded.by, ...(recorded.comment === undefined ? {} : { comment: recorded.comment }) };
      this.record('approval', { migration: name, percentage: step.percentage, approved: true, data });
      return true;
    }
    if (approve === undefined && !gate.required) return true;
    await this.send('approval', `${name}: approval requested for ${step.percentage} %`);
    // Without a callback the pending request is published at the end of the tick; a later tick finds the answer.
    if (approve === undefined) return false;
    await link.publish({ status: { ...status, blockedBy: 'approval' }, pendingApproval: pending });
    const fromStore = link.waitForApproval(step.percentage);
    const outcome = await settleWithin(() => Promise.race([approve(step), fromStore.approved]), timeoutMs);
    fromStore.stop();
    let approved = false;
    if (outcome.status === 'timeout') {
      logger.warn({ migration: name, percentage: step.percentage, timeoutMs }, 'approval timed out; taken as no');
    } else if (outcome.status === 'error') {
      logger.warn({ err: outcome.error, migration: name, percentage: step.percentage }, 'approval gate threw; taken as no');
    } else approved = outcome.value === true;
    const by = link.approvalFor(step.percentage);
    this.record('approval', { migration: name, percentage: step.percentage, approved, ...(by === undefined ? {} : { data: { by: by.by } }) });
    return approved;
  }

  #entries(otherwise: string): readonly JournalEntry[] {
    if (this.#o.journal === undefined) return [];
    try {
      const entries = this.#o.journal.entries();
      return Array.isArray(entries) ? entries : [];
    } catch (err) {
      this.#o.logger.warn({ err, migration: this.#o.name }, `journal could not be read; ${otherwise}`);
      return [];
    }
  }
}
