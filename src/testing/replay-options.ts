import { z } from 'zod';
import type { MigrationConfig } from '../config/migration-config.js';
import { InvalidOptionError } from '../errors.js';
import { field, option, parseOptions } from '../option-schema.js';
import type { RollbackCriteria } from '../rollout/criteria.js';
import { resolveCriteria } from '../rollout/criteria.js';
import type { RampStep } from '../rollout/ramp-plan.js';
import { defaultRamp, validatePlan } from '../rollout/ramp-plan.js';
import type { RollbackGuardOptions } from '../rollout/rollback-guard.js';
import type { ReplayTraffic } from './replay-traffic.js';

const hour = 3_600_000;

/** Options of replayMigration. */
export interface ReplayMigrationOptions {
  /** The history to replay. */
  readonly traffic: ReplayTraffic;
  /** @default defaultRamp */
  readonly plan?: readonly RampStep[];
  /** The criteria under test, merged over the defaults. @default defaultRollbackCriteria */
  readonly criteria?: Partial<RollbackCriteria>;
  /** Clock time of the replay's start (ms since the epoch or a Date). @default the first recorded call, or 2026-01-01T00:00:00Z */
  readonly start?: number | Date;
  /** How long to replay, in ms. @default to the end of the last segment or recorded call; required with a function */
  readonly durationMs?: number;
  /** The ramp ticks this often, in ms of simulated time. @default 3600000 (1 hour) */
  readonly tickEveryMs?: number;
  /** Asked before each step, with the step and the clock time; may be async. @default every step approved */
  readonly approve?: (step: RampStep, at: number) => boolean | Promise<boolean>;
  /** The config the replay starts in. The ramp takes its first step once the judge passes shadow. @default phases.shadow() */
  readonly config?: MigrationConfig;
  /** Old's figures before new took traffic. @default captured by the guard while new serves nothing */
  readonly baseline?: RollbackGuardOptions['baseline'];
  /**
   * Calls driven per side and step, at most (comparisons, in shadow mode).
   * A side with more calls than this in a step's hold (one tick in shadow
   * mode; the rest of the replay while new serves nothing) has them thinned
   * by one factor for the whole step, so that the judge weighs every part
   * of the step as production would, on fewer calls: its verdicts come
   * later than production's. The default covers the ~22,000 clean
   * comparisons shadow mode needs under the default criteria.
   * At least `criteria.minSamples`. @default 25000
   */
  readonly maxCallsPerStep?: number;
  /**
   * How failures (and mismatches) fall among the calls: `spread` gives each
   * side exactly its rate, evenly; `random` draws each call under the seed,
   * with the noise of the calls driven. @default 'spread'
   */
  readonly errors?: 'spread' | 'random';
  /** After a rollback, resume the ramp (in shadow mode, from its first step) this long after. @default never: the replay stops at the rollback */
  readonly resumeAfterMs?: number;
  /** Seed of every draw. @default 1 */
  readonly seed?: number;
}

const ms = (expected: string, test: (value: number) => boolean) =>
  field<number>((value) => typeof value === 'number' && Number.isFinite(value) && test(value), `a finite number of ms ${expected}`);

// The traffic, plan, criteria, start, config and baseline are checked by
// their own parsers (which name the entry at fault), so the schema passes them on.
const schema = z.strictObject({
  traffic: z.custom<ReplayTraffic>(() => true),
  plan: z.custom<readonly RampStep[]>(() => true).optional(),
  criteria: z.custom<Partial<RollbackCriteria>>(() => true).optional(),
  start: z.custom<number | Date>(() => true).optional(),
  durationMs: ms('> 0', (v) => v > 0).optional(),
  tickEveryMs: ms('> 0', (v) => v > 0).default(hour),
  approve: field<(step: RampStep, at: number) => boolean | Promise<boolean>>(
    (value) => typeof value === 'function',
    'a function (step, at) => boolean | Promise<boolean>',
  ).optional(),
  config: z.custom<MigrationConfig>(() => true).optional(),
  baseline: z.custom<RollbackGuardOptions['baseline']>(() => true).optional(),
  maxCallsPerStep: option.positiveInteger().default(25_000),
  errors: field<'spread' | 'random'>((value) => value === 'spread' || value === 'random', "'spread' or 'random'").default('spread'),
  resumeAfterMs: ms('>= 0', (v) => v >= 0).optional(),
  seed: field<number>((value) => typeof value === 'number' && Number.isInteger(value), 'an integer').default(1),
});

/** ReplayMigrationOptions with defaults resolved, criteria merged and the plan checked. */
export type ResolvedReplayOptions = Omit<z.output<typeof schema>, 'criteria' | 'plan'> & {
  readonly criteria: RollbackCriteria;
  readonly plan: readonly RampStep[];
};

/**
 * Checks replayMigration's options once and resolves their defaults (the
 * traffic is checked by resolveTraffic).
 * @throws InvalidOptionError naming the bad or unknown option and the value received.
 */
export function resolveReplayOptions(options: ReplayMigrationOptions): ResolvedReplayOptions {
  if (typeof options === 'object' && options !== null && 'maxCallsPerWindow' in options) {
    throw new InvalidOptionError('maxCallsPerWindow', 'was replaced by maxCallsPerStep: the judge weighs whole steps, not windows');
  }
  const parsed = parseOptions(schema, options, 'replayMigration');
  const criteria = resolveCriteria(parsed.criteria, 'replayMigration');
  const plan = validatePlan(parsed.plan ?? defaultRamp);
  if (parsed.maxCallsPerStep < criteria.minSamples) {
    throw new InvalidOptionError('maxCallsPerStep', `must be an integer >= criteria.minSamples (${criteria.minSamples}), got ${parsed.maxCallsPerStep}`);
  }
  return { ...parsed, criteria, plan };
}
