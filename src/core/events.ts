import type { Comparison, Outcome } from '../compare/comparator.js';
import type { MigrationConfig } from '../config/migration-config.js';
import type { RoutingKey } from '../hashing/hasher.js';

/** A side of the migration. */
export type Arm = 'old' | 'new';

/**
 * Why a call went where it went.
 * - `disabled`: new is disabled or at 0 %;
 * - `missing-key`: no usable routing key, so old serves;
 * - `bucket`: the key's bucket decided (canary);
 * - `full`: 100 %, every key to new;
 * - `shadow`: shadow mode, old serves;
 * - `rolled-back`: this glue rolled back and its store has not confirmed it yet;
 * - `hash-failed`: the hasher threw or returned something that is not a bucket, so old serves.
 */
export type RouteReason = 'disabled' | 'missing-key' | 'bucket' | 'full' | 'shadow' | 'rolled-back' | 'hash-failed';

/** Emitted once per call: which side serves it and why. */
export interface RouteEvent {
  readonly migration: string;
  readonly key: RoutingKey | undefined;
  readonly arm: Arm;
  readonly reason: RouteReason;
}

/**
 * Emitted after each served call has been recorded in the stats: what the
 * rollback guard listens to, so it judges a call before the next one is routed.
 */
export interface SettledEvent {
  readonly migration: string;
  readonly key: RoutingKey | undefined;
  readonly arm: Arm;
  /** False when the serving side failed (its error went to the caller, or fallback followed). */
  readonly ok: boolean;
  readonly durationMs: number;
}

/** Emitted when new failed (or timed out) in canary and old served instead. */
export interface FallbackEvent<I> {
  readonly migration: string;
  readonly key: RoutingKey | undefined;
  readonly input: I;
  /** New's error, unchanged (or an ERR_TIMEOUT MigrationGlueError when it exceeded `newTimeoutMs`). */
  readonly error: unknown;
}

/** What kind of mismatch: values differ, one side failed (`error`), or old disagreed with itself (`flaky`). */
export type MismatchKind = 'value' | 'error' | 'flaky';

/** Emitted when a shadow comparison finds old and new disagree. Input and outcomes pass the `clean` hook first. */
export interface MismatchEvent<I, O> {
  readonly migration: string;
  readonly key: RoutingKey | undefined;
  readonly input: I;
  readonly old: Outcome<O>;
  readonly new: Outcome<O>;
  readonly oldDurationMs: number;
  readonly newDurationMs: number;
  readonly kind: MismatchKind;
  readonly comparison: Comparison;
  /** The differing paths and kinds, indices folded: groups mismatches by cause. */
  readonly fingerprint: string;
}

/** Emitted when the shadow call of new failed, timed out, or the comparator threw. */
export interface ShadowErrorEvent<I> {
  readonly migration: string;
  readonly key: RoutingKey | undefined;
  readonly input: I;
  readonly reason: 'error' | 'timeout' | 'comparator' | 'input-mutated';
  readonly error: unknown;
}

/** Emitted when a call in shadow mode was not shadowed. */
export interface ShadowSkippedEvent {
  readonly migration: string;
  readonly key: RoutingKey | undefined;
  readonly reason: 'sampled-out' | 'over-capacity' | 'missing-key' | 'outside-percentage';
}

/** Emitted once per effective rollback. */
export interface RollbackEvent {
  readonly migration: string;
  readonly reason: string;
  readonly before: MigrationConfig;
  readonly after: MigrationConfig;
  /** Clock time of the rollback, in ms. */
  readonly at: number;
}

/** Emitted when the provider reports a config that routes differently. */
export interface ConfigChangeEvent {
  readonly migration: string;
  readonly before: MigrationConfig;
  readonly after: MigrationConfig;
  readonly at: number;
}

/** The events of a MigrationGlue, by name. */
export interface GlueEvents<I, O> {
  route: RouteEvent;
  settled: SettledEvent;
  fallback: FallbackEvent<I>;
  mismatch: MismatchEvent<I, O>;
  shadowError: ShadowErrorEvent<I>;
  shadowSkipped: ShadowSkippedEvent;
  rollback: RollbackEvent;
  configChange: ConfigChangeEvent;
}

/** The name of a glue event. */
export type GlueEventName = keyof GlueEvents<unknown, unknown>;
