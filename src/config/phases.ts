import type { MigrationConfig } from './migration-config.js';
import { parseMigrationConfig } from './migration-config.js';

/** The configs of the phase table. Each call returns a new frozen object. */
export const phases = {
  /** 100 % old, new never called; the baseline is measured. */
  preparation(): MigrationConfig {
    return Object.freeze({ shadowMode: false, newSystemEnabled: false, newSystemPercentage: 0, fallbackEnabled: false });
  },
  /** Old serves; new is called with the same input, compared and discarded. */
  shadow(): MigrationConfig {
    return Object.freeze({ shadowMode: true, newSystemEnabled: true, newSystemPercentage: 100, fallbackEnabled: false });
  },
  /**
   * `percentage` % of routing keys (sticky) go to new; a failing new call falls back to old.
   * @throws MigrationConfigError when the percentage is outside 0..100 or has more than two decimals.
   */
  canary(percentage: number): MigrationConfig {
    return parseMigrationConfig({ shadowMode: false, newSystemEnabled: true, newSystemPercentage: percentage, fallbackEnabled: true });
  },
  /** 100 % new, no fallback; old stays available for rollback. */
  full(): MigrationConfig {
    return Object.freeze({ shadowMode: false, newSystemEnabled: true, newSystemPercentage: 100, fallbackEnabled: false });
  },
  /** What rollback saves: new disabled, 0 %. */
  rolledBack(): MigrationConfig {
    return Object.freeze({ shadowMode: false, newSystemEnabled: false, newSystemPercentage: 0, fallbackEnabled: false });
  },
} as const;
