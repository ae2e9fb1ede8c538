import { z } from 'zod';
import { MigrationGlueError } from '../errors.js';

/** One problem found in a config: the field's path and what is wrong with it. */
export interface ConfigIssue {
  readonly path: string;
  readonly message: string;
}

/** Thrown by parseMigrationConfig and every ConfigStore's save; names every bad field. */
export class MigrationConfigError extends MigrationGlueError {
  readonly issues: readonly ConfigIssue[];

  /** `options.cause`: what reading the value threw, when it could not be read at all. */
  constructor(issues: readonly ConfigIssue[], options?: ErrorOptions) {
    super('ERR_INVALID_CONFIG', `invalid config: ${issues.map((i) => `\`${i.path}\` ${i.message}`).join('; ')}`, options);
    this.issues = issues;
  }
}

function hasAtMostTwoDecimals(value: number): boolean {
  const scaled = value * 100;
  return Math.abs(scaled - Math.round(scaled)) < 1e-7;
}

const flag = (field: string) =>
  z.boolean({
    error: (issue) =>
      issue.input === undefined ? 'is required (true or false)' : `must be true or false, got ${typeof issue.input}`,
  }).describe(field);

/**
 * The zod schema of a MigrationConfig. Unknown fields are dropped, so a newer
 * writer sharing a store with an older reader does not break it.
 */
export const migrationConfigSchema = z.object({
  shadowMode: flag('shadowMode'),
  newSystemEnabled: flag('newSystemEnabled'),
  newSystemPercentage: z
    .number({
      error: (issue) =>
        issue.input === undefined
          ? 'is required (a number from 0 to 100)'
          : typeof issue.input === 'number'
            ? `must be a finite number from 0 to 100, got ${String(issue.input)}`
            : `must be a number from 0 to 100, got ${typeof issue.input}`,
    })
    .min(0, { error: (issue) => `must be at least 0, got ${String(issue.input)}` })
    .max(100, { error: (issue) => `must be at most 100, got ${String(issue.input)}` })
    .refine(hasAtMostTwoDecimals, { error: (issue) => `must have at most two decimals (steps of 0.01), got ${String(issue.input)}` }),
  fallbackEnabled: flag('fallbackEnabled'),
});

/**
 * Where traffic goes. Exactly the four fields of the migration workflow.
 *
 * - `shadowMode`: old serves every call; new is also called (for the keys
 *   inside `newSystemPercentage`) and its answer compared, then discarded.
 *   A percentage below 100 in shadow mode limits shadowing to that share of
 *   keys, which is how to shadow a fraction of heavy traffic.
 * - `newSystemEnabled`: the kill switch. When false new is never called,
 *   whatever the other fields say.
 * - `newSystemPercentage`: 0 to 100 in steps of 0.01: the share of routing
 *   keys sent to new (or shadowed, in shadow mode).
 * - `fallbackEnabled`: a failing new call is retried on old.
 */
export interface MigrationConfig {
  readonly shadowMode: boolean;
  readonly newSystemEnabled: boolean;
  readonly newSystemPercentage: number;
  readonly fallbackEnabled: boolean;
}

/**
 * Validates `value` and returns a fresh, frozen MigrationConfig.
 * @throws MigrationConfigError naming every bad field and why; also when
 *   `value` cannot be read (a getter that throws, a Proxy whose traps throw,
 *   a revoked Proxy), with what reading it threw as `cause`.
 */
export function parseMigrationConfig(value: unknown): MigrationConfig {
  let result: ReturnType<typeof migrationConfigSchema.safeParse>;
  try {
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
      throw new MigrationConfigError([
        { path: '(root)', message: `must be an object with the four config fields, got ${value === null ? 'null' : Array.isArray(value) ? 'an array' : typeof value}` },
      ]);
    }
    result = migrationConfigSchema.safeParse(value);
  } catch (err) {
    if (err instanceof MigrationConfigError) throw err;
    throw new MigrationConfigError([{ path: '(root)', message: 'cannot be read (a getter or a Proxy trap threw, or the Proxy is revoked)' }], { cause: err });
  }
  if (!result.success) {
    // One issue per field: the first check that failed says the most.
    const byPath = new Map<string, string>();
    for (const issue of result.error.issues) {
      const path = issue.path.length === 0 ? '(root)' : issue.path.map(String).join('.');
      if (!byPath.has(path)) byPath.set(path, issue.message);
    }
    throw new MigrationConfigError([...byPath].map(([path, message]) => ({ path, message })));
  }
  return Object.freeze(result.data);
}

/** True when both configs route identically. */
export function sameConfig(a: MigrationConfig, b: MigrationConfig): boolean {
  return (
    a.shadowMode === b.shadowMode &&
    a.newSystemEnabled === b.newSystemEnabled &&
    a.newSystemPercentage === b.newSystemPercentage &&
    a.fallbackEnabled === b.fallbackEnabled
  );
}

/** True when the config sends nothing to new: what rollback leaves behind. */
export function isRolledBack(config: MigrationConfig): boolean {
  return !config.newSystemEnabled && config.newSystemPercentage === 0;
}
