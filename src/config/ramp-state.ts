import { z } from 'zod';
import type { ConfigStore } from './config-provider.js';
import type { MigrationConfig } from './migration-config.js';

// The ramp's state as it is stored beside the config, so that any process
// can read and steer the ramp: plain JSON, validated on every read.

/** Why the ramp is not advancing; null when the next tick may advance. */
export type RampBlock = 'hold' | 'approval' | 'guard' | 'samples' | 'paused' | 'rolledBack' | 'done' | null;

/** One step of the plan as stored: the percentage and how long it is held (ms). */
export interface StoredRampStep {
  readonly percentage: number;
  readonly holdMs: number;
}

/** A yes to one step, given in process (`approve` callback) or from outside (the command line, the dashboard). */
export interface RampApproval {
  /** The percentage approved. */
  readonly percentage: number;
  /** Who approved (a user name, `approve callback`). */
  readonly by: string;
  /** Wall-clock time of the approval (ms since the epoch). */
  readonly at: number;
  readonly comment?: string;
  /** The state's `revision` when the approval was recorded: it counts only for the step in force then. */
  readonly revision: number;
}

/** The approval a controller waits for. */
export interface RampPendingApproval {
  /** Index in the plan of the step waiting for approval. */
  readonly step: number;
  readonly percentage: number;
  /** Wall-clock time the approval was first asked for (ms since the epoch). */
  readonly requestedAt: number;
}

/** A pause asked for from outside: no step is taken while it stands. */
export interface RampPause {
  readonly by: string;
  readonly at: number;
  readonly reason?: string;
}

/** The last rollback, as recorded by whoever made it. */
export interface RampRollback {
  readonly at: number;
  readonly by: string;
  readonly reason: string;
  /** The percentage new served when it rolled back. */
  readonly percentage: number;
  /** The state's revision when it was recorded: a rollback recorded before the step in force (`stepRevision`) is an older one. */
  readonly revision?: number;
}

/** The rollback guard's last verdict, as the ramp controller met it. */
export interface RampVerdict {
  readonly verdict: 'pass' | 'fail' | 'inconclusive';
  readonly reasons: readonly string[];
  readonly at: number;
}

/** The ramp's state, stored with the config. */
export interface RampState {
  /** +1 per change of this state. */
  readonly revision: number;
  /** The revision at which the step in force was taken (or the ramp rolled back or resumed): approvals recorded before it no longer count. */
  readonly stepRevision: number;
  /** The controller's plan, when one has run. */
  readonly plan?: readonly StoredRampStep[];
  /** Index of the plan step in force; -1 before the first step (or unknown). */
  readonly step: number;
  /** When the step in force was taken (the controller's clock, ms). */
  readonly since?: number;
  /** Earliest time of the next step (the controller's clock, ms). */
  readonly nextAt?: number;
  readonly blockedBy: RampBlock;
  /** What the guard or the judge said when `blockedBy` is `guard` or `samples`. */
  readonly reasons?: readonly string[];
  readonly pendingApproval?: RampPendingApproval;
  /** Approvals, oldest first (the latest 50). */
  readonly approvals: readonly RampApproval[];
  readonly paused?: RampPause;
  readonly lastRollback?: RampRollback;
  /** True while the config in force came from a rollback (kept by stores that have no other place for it). */
  readonly rolledBack?: boolean;
  readonly verdict?: RampVerdict;
  /** Wall-clock time of the last change (ms since the epoch). */
  readonly updatedAt: number;
}

/** The most approvals kept. */
export const maxApprovals = 50;

/** The state of a ramp that never ran. */
export function emptyRampState(): RampState {
  return { revision: 0, stepRevision: 0, step: -1, blockedBy: null, approvals: [], updatedAt: 0 };
}

const time = z.number().finite();
const text = z.string().max(2_000);
const stepSchema = z.object({ percentage: z.number().min(0).max(100), holdMs: z.number().min(0) });

/** The zod schema of a stored RampState (unknown fields dropped, so newer writers do not break older readers). */
export const rampStateSchema = z.object({
  revision: z.number().int().min(0),
  stepRevision: z.number().int().min(0),
  plan: z.array(stepSchema).max(1_000).optional(),
  step: z.number().int().min(-1),
  since: time.optional(),
  nextAt: time.optional(),
  blockedBy: z.enum(['hold', 'approval', 'guard', 'samples', 'paused', 'rolledBack', 'done']).nullable(),
  reasons: z.array(text).max(50).optional(),
  pendingApproval: z.object({ step: z.number().int(), percentage: z.number(), requestedAt: time }).optional(),
  approvals: z
    .array(z.object({ percentage: z.number(), by: text, at: time, comment: text.optional(), revision: z.number().int().min(0) }))
    .max(1_000),
  paused: z.object({ by: text, at: time, reason: text.optional() }).optional(),
  lastRollback: z.object({ at: time, by: text, reason: text, percentage: z.number(), revision: z.number().int().min(0).optional() }).optional(),
  rolledBack: z.boolean().optional(),
  verdict: z.object({ verdict: z.enum(['pass', 'fail', 'inconclusive']), reasons: z.array(text).max(50), at: time }).optional(),
  updatedAt: time,
});

/** A stored ramp state, validated; undefined when `value` is not one (it is then ignored, never blocking the config). */
export function parseRampState(value: unknown): RampState | undefined {
  const result = rampStateSchema.safeParse(value);
  return result.success ? (result.data as RampState) : undefined;
}

/** What `updateRamp` writes: the new ramp state, and a config when it changes too (atomically). */
export interface RampChange {
  readonly ramp: RampState;
  readonly config?: MigrationConfig;
}

/**
 * A ConfigStore that also keeps the ramp's state, in the same record as the
 * config: FileConfigStore, RedisConfigStore and InMemoryConfigStore.
 */
export interface RampStateStore extends ConfigStore {
  /** The ramp state stored with the config, from memory (emptyRampState() before any was written). */
  rampState(): RampState;
  /** True when the config in force came from a rollback (as opposed to a migration that never used new). */
  rolledBack(): boolean;
  /**
   * Reads the latest stored config and ramp state, calls `change` with them
   * and writes what it returns, atomically (retrying from the newer record
   * when another process wrote meanwhile). `change` may run more than once;
   * returning undefined writes nothing. The written ramp's `revision` is set
   * to the stored one + 1. A change whose config is a rollback is never
   * refused; a stale write never replaces a rollback it did not see, since
   * `change` always decides from the latest record.
   * Resolves with the state written (or the latest, when nothing was).
   */
  updateRamp(change: (ramp: RampState, config: MigrationConfig) => RampChange | undefined): Promise<RampState>;
  /** Calls `listener` after each change of the ramp state (saved here or elsewhere); returns a function that stops it. */
  subscribeRamp(listener: (ramp: RampState) => void): () => void;
}

/** True when `store` keeps the ramp's state (has rampState, updateRamp, subscribeRamp). */
export function isRampStateStore(store: unknown): store is RampStateStore {
  if (typeof store !== 'object' || store === null) return false;
  try {
    const candidate = store as Partial<RampStateStore>;
    return typeof candidate.rampState === 'function' && typeof candidate.rolledBack === 'function' && typeof candidate.updateRamp === 'function' && typeof candidate.subscribeRamp === 'function';
  } catch {
    return false;
  }
}

/** `ramp` with `revision` set to `after.revision + 1` and `updatedAt` to `now` (ms since the epoch). */
export function nextRevision(ramp: RampState, after: RampState, now = Date.now()): RampState {
  return { ...ramp, revision: after.revision + 1, updatedAt: now };
}

/** True when both states say the same (revision and updatedAt aside). */
export function sameRampState(a: RampState, b: RampState): boolean {
  const strip = ({ revision: _r, updatedAt: _u, ...rest }: RampState) => rest;
  return canonicalJson(strip(a)) === canonicalJson(strip(b));
}

/** JSON with object keys sorted and undefined members left out, to compare two values by content. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_key, member: unknown) =>
    typeof member === 'object' && member !== null && !Array.isArray(member)
      ? Object.fromEntries(Object.entries(member).filter(([, v]) => v !== undefined).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
      : member,
  );
}

/** Whether a rollback config saved over `before` leaves a rolled-back record: yes when `before` used new or was itself a rollback. */
export function rollbackFlag(incoming: MigrationConfig, before: MigrationConfig, beforeRolledBack: boolean): boolean {
  const off = (c: MigrationConfig) => !c.newSystemEnabled && c.newSystemPercentage === 0;
  return off(incoming) && (!off(before) || beforeRolledBack);
}
