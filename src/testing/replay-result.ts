import type { Verdict } from '../rollout/judge.js';
import type { BlockedBy } from '../rollout/ramp-controller.js';

// What replayMigration tells: the steps, rollbacks and a tick-by-tick timeline.

/** A step the ramp took. */
export interface ReplayStep {
  /** Clock time, ms since the epoch. */
  readonly at: number;
  /** Ms since the replay's start. */
  readonly offsetMs: number;
  readonly percentage: number;
}

/** A rollback the guard made. */
export interface ReplayRollback {
  readonly at: number;
  readonly offsetMs: number;
  /** The percentage of keys new served when it rolled back (0 in shadow). */
  readonly percentage: number;
  /** The guard's reason: the metric, its estimate, its always-valid interval and the limit. */
  readonly reason: string;
}

/** The ramp's status and the judge's verdict after one tick, with the traffic of the interval before it. */
export interface ReplayTick {
  readonly at: number;
  readonly offsetMs: number;
  /** The percentage of keys on new after the tick (0 in shadow and after a rollback). */
  readonly percentage: number;
  readonly blockedBy: BlockedBy;
  /** The judge's verdict on the step in force after the tick. */
  readonly verdict: Verdict;
  /** What holds the ramp, when blocked by the guard or by samples: the judge's reasons (metric, estimate, interval, limit). */
  readonly reasons?: readonly string[];
  /** When blocked by samples: further calls (or comparisons) the judge needs, by estimate, if it can tell. */
  readonly needed?: number;
  /** Calls the traffic had since the tick before. */
  readonly calls: number;
  /** Calls actually driven through the glue for them (thinned to `maxCallsPerStep` per side and step). */
  readonly driven: number;
}

/** What replayMigration returns. */
export interface ReplayResult {
  /** Every step the ramp took, in order. */
  readonly steps: readonly ReplayStep[];
  /** Every rollback, in order. */
  readonly rollbacks: readonly ReplayRollback[];
  /** The percentage of keys on new at the end (0 after a rollback). */
  readonly finalPercentage: number;
  /** Why the ramp was not advancing at the end (`done` once the plan's last hold is over). */
  readonly blockedBy: BlockedBy;
  /** The judge's reasons at the end, when blocked by the guard or by samples. */
  readonly reasons?: readonly string[];
  /** One entry per tick. */
  readonly timeline: readonly ReplayTick[];
  /** Clock time the replay ended: the end of the traffic, or the rollback tick. */
  readonly endedAt: number;
}
