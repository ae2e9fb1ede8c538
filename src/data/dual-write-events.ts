import type { Comparison } from '../compare/comparator.js';
import type { PhaseName } from '../core/routing.js';
import type { Side } from './repair-log.js';

/** Emitted when a shadow read found the two stores disagree on a key (after one re-read of both). */
export interface DataMismatchEvent<E, K> {
  readonly migration: string;
  readonly key: K;
  /** What old holds (undefined: no row). */
  readonly old: E | undefined;
  /** What new holds (undefined: no row). */
  readonly new: E | undefined;
  readonly comparison: Comparison;
  /** The differing paths and kinds, indices folded: groups mismatches by cause. */
  readonly fingerprint: string;
}

/** Emitted when new's shadow read failed or the comparator threw; the caller never sees it. */
export interface ShadowReadErrorEvent<K> {
  readonly migration: string;
  readonly key: K;
  readonly error: unknown;
}

/** Emitted when a read from new failed in canary or full and old served it (`fallbackEnabled`). */
export interface ReadFallbackEvent<K> {
  readonly migration: string;
  readonly key: K;
  readonly error: unknown;
}

/** Emitted when the secondary store failed a write; the entry is in the repair log when this fires. */
export interface SecondaryFailureEvent<K> {
  readonly migration: string;
  readonly key: K;
  readonly op: 'save' | 'delete';
  /** The store that failed. */
  readonly side: Side;
  readonly phase: PhaseName;
  /** The secondary's error, unchanged. */
  readonly error: unknown;
}

/**
 * Emitted when a secondary store missed a write and the repair log could not
 * record it (it threw, rejected or did not answer within `secondaryTimeoutMs`).
 * The caller's write resolved with the primary's outcome; the entry is kept in
 * memory for `repair()` when `kept`, and is lost when the process exits.
 */
export interface RepairLogFailureEvent<K> {
  readonly migration: string;
  readonly key: K;
  readonly op: 'save' | 'delete';
  /** The store that missed the write. */
  readonly side: Side;
  /** False when too many keys were pending to keep it in memory: only verify finds it now. */
  readonly kept: boolean;
  /** A RepairLogError (code ERR_REPAIR_LOG) whose `cause` is the repair log's error. */
  readonly error: Error;
}

/** The events of a DualWriteRepository, by name. */
export interface DualWriteEvents<E, K> {
  mismatch: DataMismatchEvent<E, K>;
  shadowError: ShadowReadErrorEvent<K>;
  fallback: ReadFallbackEvent<K>;
  secondaryFailure: SecondaryFailureEvent<K>;
  repairLogFailure: RepairLogFailureEvent<K>;
}

/** Figures of a DualWriteRepository since it was made. */
export interface DualWriteStats {
  readonly migration: string;
  /** The phase of the config in force. */
  readonly phase: PhaseName;
  /** Reads served by each store, and reads that fell back from new to old. */
  readonly reads: { readonly old: number; readonly new: number; readonly fallbacks: number };
  /**
   * Writes (saves and deletes) acknowledged to the caller; primary failures
   * (of which timeouts); timed-out primary writes that landed later
   * (`lateWrites`: the caller was told they failed); secondary failures (of
   * which timeouts).
   */
  readonly writes: {
    readonly acknowledged: number;
    readonly primaryFailures: number;
    readonly primaryTimeouts: number;
    readonly lateWrites: number;
    readonly secondaryFailures: number;
    readonly secondaryTimeouts: number;
  };
  /**
   * Shadow reads: compared, mismatched (after the re-read), errors (of new,
   * of a re-read, or of the comparator; timeouts included), timeouts, skipped
   * (over `shadow.maxInFlight`), comparisons in flight now.
   */
  readonly shadow: {
    readonly compared: number;
    readonly mismatches: number;
    readonly errors: number;
    readonly timeouts: number;
    readonly skipped: number;
    readonly inFlight: number;
  };
  /**
   * Repair log: entries recorded by this instance, replayed by `repair()`,
   * replays that failed; entries the log refused (`unrecorded`), of which
   * held in memory now (`pending`) and dropped because too many keys were
   * pending (`lost`).
   */
  readonly repair: {
    readonly recorded: number;
    readonly replayed: number;
    readonly failed: number;
    readonly unrecorded: number;
    readonly pending: number;
    readonly lost: number;
  };
}

/** What `repair()` did. */
export interface RepairResult {
  /** Log entries replayed and removed. */
  readonly replayed: number;
  /** Distinct keys copied from the store that acknowledged the write to the one that missed it. */
  readonly keys: number;
  /** Entries whose replay failed again; they stay in the log. */
  readonly failed: number;
  /** Entries left when the replay finished (failed ones, any appended meanwhile, and those only memory holds). */
  readonly remaining: number;
}
