import type { MigrationConfig } from '../config/migration-config.js';
import type { PhaseName } from './routing.js';
import type { ArmFigures } from '../observe/arm-metrics.js';

/** One arm's figures since the glue started, plus the same figures over the sliding window. */
export interface ArmStats extends ArmFigures {
  readonly window: ArmFigures;
}

/** Mismatches grouped by cause: the differing paths and kinds. */
export interface FingerprintCount {
  readonly fingerprint: string;
  /** Human text, e.g. "`total`: changed". */
  readonly description: string;
  readonly count: number;
}

/** Shadow-mode figures since the glue started, with the window figures the rollback guard reads. */
export interface ShadowStats {
  /** Comparisons made (matched + mismatched + flaky). */
  readonly compared: number;
  readonly matched: number;
  /** Real mismatches (`value` and `error` kinds). Flaky ones are counted apart. */
  readonly mismatched: number;
  readonly mismatchesByKind: { readonly value: number; readonly error: number; readonly flaky: number };
  /** New failed in shadow while old did not (also counted as `error` mismatches), or the comparator threw. */
  readonly errors: number;
  /** New did not answer within `shadow.timeoutMs`. */
  readonly timeouts: number;
  /** Calls in shadow mode that were not shadowed, all reasons together. */
  readonly skipped: number;
  /** The same, by reason. */
  readonly skippedBy: {
    readonly sampledOut: number;
    readonly overCapacity: number;
    readonly missingKey: number;
    readonly outsidePercentage: number;
  };
  /** Shadow calls started and not yet compared or timed out. */
  readonly inFlight: number;
  /** Shadow calls whose input the new service mutated (with `isolateInput: 'clone'`). */
  readonly inputMutations: number;
  /** mismatched / compared, 0 when nothing was compared. */
  readonly mismatchRate: number;
  /** True in A/A mode (old shadowed against itself): mismatches are the comparator's noise, not new's. */
  readonly aa: boolean;
  readonly window: {
    readonly compared: number;
    readonly mismatched: number;
    readonly errors: number;
    readonly timeouts: number;
    readonly mismatchRate: number;
  };
  /** The most frequent mismatch causes, most frequent first (at most 20). */
  readonly fingerprints: readonly FingerprintCount[];
}

/** What `glue.stats()` returns. */
export interface MigrationStats {
  readonly migration: string;
  /** The config in force (a pending rollback included). */
  readonly config: MigrationConfig;
  /**
   * The phase of the config in force; `rolled-back` (rather than
   * `preparation`, whose config is the same) when this glue rolled back, saw
   * the config fall from one that used new to none, or its store says so.
   */
  readonly phase: PhaseName | 'rolled-back';
  readonly windowMs: number;
  readonly old: ArmStats;
  readonly new: ArmStats;
  readonly shadow: ShadowStats;
  /** Calls where new failed and old served, since the glue started. */
  readonly fallbacks: number;
  /** Effective rollbacks made by this glue. */
  readonly rollbacks: number;
  /**
   * Calls served by old because they had no usable routing key (none, or
   * not a non-empty string or finite number) where the phase needed one to
   * route (canary) or to shadow a share of keys. Set `routingKey` when this grows.
   */
  readonly missingKeys: number;
}
