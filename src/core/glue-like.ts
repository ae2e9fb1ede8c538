import type { ConfigChangeEvent, FallbackEvent, MismatchKind, RollbackEvent, SettledEvent, ShadowErrorEvent } from './events.js';
import type { MigrationStats } from './stats.js';

/**
 * What a mismatch listener of a GlueLike may rely on. A MigrationGlue gives
 * the full MismatchEvent (with `kind`); FleetStats also tells
 * `{ migration, fleet: true }` when the fleet's mismatch count grew.
 */
export interface GlueLikeMismatch {
  readonly migration: string;
  /** Present on a MigrationGlue's own mismatch events. */
  readonly kind?: MismatchKind;
  /** True on FleetStats' "the fleet's count grew" event. */
  readonly fleet?: true;
}

/**
 * What the rollback guard, the journal, instrumentGlue and FleetStats need
 * of a glue: any MigrationGlue fits, whatever its input and output types,
 * and so does FleetStats (the fleet's figures shaped like a glue).
 *
 * Listeners are called synchronously after the call or change they tell;
 * they must not block, and one that throws is logged by the glue, never
 * reaching the call.
 */
export interface GlueLike {
  /** The migration's name, as in every event's `migration`. */
  readonly name: string;
  /** Figures of both arms, the shadow comparison and the config in force. Called often (after calls, on timers): no I/O. */
  stats(): MigrationStats;
  /** Sends every key to old and saves that to the config store; resolves true when it took effect. */
  rollback(reason: string): Promise<boolean>;
  /** After each served call was recorded in `stats()`. */
  on(event: 'settled', listener: (event: SettledEvent) => void): () => void;
  /** New failed in canary and old served. */
  on(event: 'fallback', listener: (event: Pick<FallbackEvent<unknown>, 'migration' | 'key'>) => void): () => void;
  /** A shadow comparison found old and new disagree. */
  on(event: 'mismatch', listener: (event: GlueLikeMismatch) => void): () => void;
  /** The shadow call of new failed, timed out, or could not be compared. */
  on(event: 'shadowError', listener: (event: Pick<ShadowErrorEvent<unknown>, 'migration' | 'key' | 'reason'>) => void): () => void;
  /** The config in force now routes differently. */
  on(event: 'configChange', listener: (event: ConfigChangeEvent) => void): () => void;
  /** An effective rollback. */
  on(event: 'rollback', listener: (event: RollbackEvent) => void): () => void;
}
