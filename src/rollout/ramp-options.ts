import { z } from 'zod';
import type { ConfigStore } from '../config/config-provider.js';
import { isConfigStore } from '../config/config-provider.js';
import type { RampBlock } from '../config/ramp-state.js';
import type { Clock } from '../observe/clock.js';
import type { Logger } from '../observe/logger.js';
import type { Notifier } from '../observe/notifier.js';
import { field, option } from '../option-schema.js';
import type { MigrationJournal } from './journal.js';
import type { RampStep } from './ramp-plan.js';
import type { RollbackGuard } from './rollback-guard.js';

/** Why the ramp is not advancing right now; null when the next tick may advance. `paused` when an operator paused it. */
export type BlockedBy = RampBlock;

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
  /**
   * Where the percentage is saved: every glue of the migration reads it. A
   * store that keeps the ramp's state (FileConfigStore, RedisConfigStore,
   * InMemoryConfigStore) also gets the ramp's status, pending approval and
   * verdict, and brings approvals, pauses and resumes from outside.
   */
  readonly store: ConfigStore;
  /** @default defaultRamp */
  readonly plan?: readonly RampStep[];
  /** Consulted before each step: no step while it trips, lacks samples, or throws. @default none (no health gate) */
  readonly guard?: Pick<RollbackGuard, 'check'>;
  /**
   * Asked before each step, with the step about to be taken; may be async.
   * Only `true` is a yes; a throw counts as no. An approval recorded in the
   * store (`migration-glue approve`) for that step is a yes too.
   * @default every step approved (unless `requireApproval`)
   */
  readonly approve?: (step: RampStep) => boolean | Promise<boolean>;
  /** Without `approve`, wait for an approval recorded in the store (`migration-glue approve`) before each step. @default false */
  readonly requireApproval?: boolean;
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
   * @default the store's ramp state for that step, else the journal's last entry for it, else now
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

const hasCheck = (value: unknown): boolean => {
  try {
    return typeof value === 'object' && value !== null && typeof (value as { check?: unknown }).check === 'function';
  } catch {
    return false;
  }
};

const isStore = (value: unknown): boolean => {
  try {
    return typeof value === 'object' && value !== null && typeof (value as ConfigStore).current === 'function' && isConfigStore(value as ConfigStore);
  } catch {
    return false;
  }
};

/** The schema RampController parses its options with. */
export const rampOptionsSchema = z.strictObject({
  store: field<ConfigStore>(isStore, 'a ConfigStore (current, subscribe, save)'),
  plan: z.unknown().optional(),
  guard: field<Pick<RollbackGuard, 'check'>>(hasCheck, 'a RollbackGuard (with check())').optional(),
  approve: option.fn<(step: RampStep) => boolean | Promise<boolean>>().optional(),
  requireApproval: option.boolean().default(false),
  approvalTimeoutMs: option.timerMs().default(60_000),
  notifyTimeoutMs: option.timerMs().default(10_000),
  saveTimeoutMs: option.timerMs().default(30_000),
  journal: option.withMethods<MigrationJournal>('record', 'entries').optional(),
  clock: option.clock(),
  notifier: z.unknown().optional(),
  logger: z.unknown().optional(),
  name: option.string().default('migration'),
  since: field<number>((value) => typeof value === 'number' && Number.isFinite(value), 'a clock time in ms').optional(),
});

/** The schema of `run()`'s options. */
export const rampRunSchema = z.strictObject({
  intervalMs: option.timerMs().default(60_000),
  keepAlive: option.boolean().default(false),
});
