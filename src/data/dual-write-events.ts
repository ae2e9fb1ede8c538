import type { Comparison } from '../compare/comparator.js';
import type { PhaseName } from '../config/phases.js';
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

/** The events of a DualWriteRepository, by name. */
export interface DualWriteEvents<E, K> {
  mismatch: DataMismatchEvent<E, K>;
  shadowError: ShadowReadErrorEvent<K>;
  fallback: ReadFallbackEvent<K>;
  secondaryFailure: SecondaryFailureEvent<K>;
}

/** Figures of a DualWriteRepository since it was made. */
export interface DualWriteStats {
  readonly migration: string;
  /** The phase of the config in force. */
  readonly phase: PhaseName;
  /** Reads served by each store, and reads that fell back from new to old. */
  readonly reads: { readonly old: number; readonly new: number; readonly fallbacks: number };
  /** Writes (saves and deletes) acknowledged to the caller, primary failures, secondary failures. */
  readonly writes: { readonly acknowledged: number; readonly primaryFailures: number; readonly secondaryFailures: number };
  /** Shadow reads: compared, mismatched (after the re-read), errors of new or of the comparator. */
  readonly shadow: { readonly compared: number; readonly mismatches: number; readonly errors: number };
  /** Repair log: entries recorded by this instance, replayed by `repair()`, replays that failed. */
  readonly repair: { readonly recorded: number; readonly replayed: number; readonly failed: number };
}

/** What `repair()` did. */
export interface RepairResult {
  /** Log entries replayed and removed. */
  readonly replayed: number;
  /** Distinct keys copied from the primary to the secondary. */
  readonly keys: number;
  /** Entries whose replay failed again; they stay in the log. */
  readonly failed: number;
  /** Entries left in the log when the replay finished (failed ones and any appended meanwhile). */
  readonly remaining: number;
}
