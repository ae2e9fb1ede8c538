import type { MigrationConfig } from '../config/migration-config.js';
import type { RampState, RampVerdict } from '../config/ramp-state.js';
import type { PhaseName } from '../core/routing.js';

// The operator's view of a migration and what it can do to it: what the
// command line and the dashboard both use. Everything here is plain JSON.

/** The phase as an operator sees it: a rollback is told apart from a migration that never used new. */
export type OperatorPhase = PhaseName | 'rolled-back';

/** One arm's figures over the fleet's sliding window. */
export interface OperatorArmFigures {
  readonly calls: number;
  readonly errors: number;
  /** errors / calls, 0 without calls. */
  readonly errorRate: number;
  /** ms; 0 without calls. */
  readonly p95: number;
}

/** The fleet's figures, summed over every instance that published them (Redis, with FleetStats). */
export interface OperatorFleet {
  /** Instances whose figures were summed. */
  readonly instances: number;
  /** Length of the sliding window the figures cover, in ms. */
  readonly windowMs: number;
  readonly old: OperatorArmFigures;
  readonly new: OperatorArmFigures;
  /** Shadow comparisons in the window. */
  readonly shadow: {
    readonly compared: number;
    readonly mismatched: number;
    readonly mismatchRate: number;
    /** The most frequent mismatch fingerprints, lifetime counts, most frequent first. */
    readonly fingerprints: readonly { readonly fingerprint: string; readonly description: string; readonly count: number }[];
  };
  /** Wall-clock time of the read (ms since the epoch). */
  readonly at: number;
}

/** Everything `status` shows; JSON-serialisable (`--json` prints exactly this). */
export interface OperatorStatus {
  /** The store, as a URL without credentials: `file:/abs/path` or `redis://host:port?key=KEY`. */
  readonly store: string;
  readonly phase: OperatorPhase;
  /** Share of routing keys whose answer new serves (0 in preparation, shadow and after a rollback). */
  readonly percentage: number;
  readonly config: MigrationConfig;
  /** The ramp's state as stored (step, since, nextAt, blockedBy, pending approval, approvals, pause, last rollback). */
  readonly ramp: RampState;
  /** Progress along the ramp's plan, when a controller stored its plan. */
  readonly progress?: {
    /** Plan steps taken (0..steps). */
    readonly taken: number;
    readonly steps: number;
    /** The percentage of the next step, absent at the end. */
    readonly next?: number;
  };
  /** The guard's last verdict, from the ramp state. */
  readonly verdict?: RampVerdict;
  /** The fleet's figures, where they exist (Redis with FleetStats publishing). */
  readonly fleet?: OperatorFleet;
}

/** A manual move of `set`. */
export type OperatorTarget =
  | { readonly phase: 'preparation' }
  | { readonly phase: 'shadow' }
  | { readonly phase: 'canary'; readonly percentage: number }
  | { readonly phase: 'full' };

/** Steers one migration through its config store; opened with `openOperator`. */
export interface Operator {
  /** Where the migration stands now (reads the fleet's figures when there are any). */
  status(): Promise<OperatorStatus>;
  /**
   * A manual move, validated (canary: 0 < N < 100, steps of 0.01).
   * Also taken after a rollback (a deliberate move).
   * @throws InvalidOptionError on a bad target.
   */
  set(target: OperatorTarget, by?: string): Promise<void>;
  /**
   * Approves the step the ramp waits for (the pending approval), or else the
   * plan's next step after the percentage in force.
   * @throws MigrationGlueError `ERR_NOTHING_TO_APPROVE` when neither is known.
   */
  approve(options?: { readonly by?: string; readonly comment?: string }): Promise<void>;
  /** Pauses the ramp: controllers take no step until `resume`. Idempotent. */
  pause(options?: { readonly by?: string; readonly reason?: string }): Promise<void>;
  /** Lifts a pause; after a rollback, also saves shadow mode so the ramp starts again (from its first step). */
  resume(options?: { readonly by?: string }): Promise<void>;
  /**
   * Rolls back: saves the rollback config with the reason, never refused,
   * winning over any concurrent save. Resolves with how long it took until
   * the store held it (ms).
   */
  rollback(reason: string, by?: string): Promise<{ readonly storedMs: number }>;
  /** Calls `listener` when the store changed (config or ramp state, from any process); returns a function that stops it. */
  subscribe(listener: () => void): () => void;
  /** Closes the store and connections it opened. Idempotent. */
  close(): Promise<void>;
}

/** Options of `openOperator`. */
export interface OperatorOptions {
  /** Who acts, when a call does not say: recorded with approvals, pauses and rollbacks. @default `$USER@host` */
  readonly by?: string;
  /** How long to wait for Redis before failing, in ms. @default 5000 */
  readonly connectTimeoutMs?: number;
  /** The fleet figures' key prefix in Redis (FleetStats `key`); also `?fleet=` in the URL. @default `${key}:fleet` */
  readonly fleetKey?: string;
}
