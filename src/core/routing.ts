import type { MigrationConfig } from '../config/migration-config.js';

// The phase rule, in one place: which phase a config is in, what share of
// routing keys new serves, and whether a key's bucket is in that share.
// Everything that routes, records or reports asks here.

/** The phase a config corresponds to, for routing, logs and reports. */
export type PhaseName = 'preparation' | 'shadow' | 'canary' | 'full';

/** Names the phase of the table that `config` belongs to. */
export function phaseOf(config: MigrationConfig): PhaseName {
  if (!config.newSystemEnabled || config.newSystemPercentage === 0) return 'preparation';
  if (config.shadowMode) return 'shadow';
  if (config.newSystemPercentage === 100) return 'full';
  return 'canary';
}

/** The percentage of routing keys whose answer new serves: 0 before canary (shadow answers come from old), 100 in full. */
export function newShare(config: MigrationConfig): number {
  const phase = phaseOf(config);
  return phase === 'canary' || phase === 'full' ? config.newSystemPercentage : 0;
}

/**
 * Buckets below this number (0..10000) go to new. Rounded: 0.07 * 100 is
 * 7.000000000000001 in floating point, which would admit bucket 7.
 */
export function newThreshold(config: MigrationConfig): number {
  return toThreshold(newShare(config));
}

/** The percentage of routing keys whose calls are also sent to new and compared: the configured share in shadow, else 0. */
export function shadowShare(config: MigrationConfig): number {
  return phaseOf(config) === 'shadow' ? config.newSystemPercentage : 0;
}

/** Buckets below this number (0..10000) are compared in shadow; rounded as newThreshold is. */
export function shadowThreshold(config: MigrationConfig): number {
  return toThreshold(shadowShare(config));
}

function toThreshold(percentage: number): number {
  return Math.round(percentage * 100);
}

/** True when a key in `bucket` (see bucketOf) is served by new under `config`. */
export function inNewShare(bucket: number, config: MigrationConfig): boolean {
  return bucket < newThreshold(config);
}

/** "shadow" or the share new serves, e.g. "25 %", for messages. */
export function describeShare(config: MigrationConfig): string {
  return phaseOf(config) === 'shadow' ? 'shadow' : `${newShare(config)} %`;
}
