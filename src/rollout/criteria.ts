import { z } from 'zod';
import { field, option, parseOptions } from '../option-schema.js';

/**
 * When the rollback guard rolls a migration back. Rates are fractions
 * (0.01 is 1 %), times are milliseconds. The limits are the effect sizes
 * the sequential judge guards against: it rolls back when the evidence
 * shows new beyond a limit, not when a noisy estimate crosses it.
 */
export interface RollbackCriteria {
  /** New's error rate shown to be above this fails the step. @default 0.01 */
  readonly maxErrorRate: number;
  /** New's error rate shown to be above the control's (old live, or old's baseline) plus this fails the step. @default 0.005 (0.5 points) */
  readonly maxErrorRateOverBaseline: number;
  /** New's P95 shown to be above this many times the control's P95 fails the step. @default 2 */
  readonly maxP95Ratio: number;
  /** The shadow value-mismatch rate shown to be above this (plus the A/A noise, when measured) fails the step. @default 0.001 */
  readonly maxMismatchRate: number;
  /** Calls (or comparisons) new needs in the step before it is judged at all. @default 100 */
  readonly minSamples: number;
  /** The glue's sliding window (its `stats().*.window`); must equal the glue's `windowMs`. The judge reads whole steps, not this window. @default 300000 */
  readonly windowMs: number;
  /**
   * The chance of rolling back a migration whose new is within every limit,
   * over the whole ramp (shared out over the tests of each step and
   * `rampSteps` steps). @default 0.01
   */
  readonly falseRollbackRate: number;
  /** Steps over which `falseRollbackRate` is shared: shadow and the default ramp's seven. @default 8 */
  readonly rampSteps: number;
  /** A step still inconclusive this long after it began notifies, then holds or rolls back (`onInconclusive`). @default 259200000 (3 days) */
  readonly maxInconclusiveMs: number;
  /** What a step inconclusive past `maxInconclusiveMs` does after notifying. @default 'hold' */
  readonly onInconclusive: 'hold' | 'rollback';
}

/** The workflow's criteria: error rate > 1 % or > baseline + 0.5 points, P95 > 2x, mismatches > 0.1 %, at least 100 samples. */
export const defaultRollbackCriteria: RollbackCriteria = Object.freeze({
  maxErrorRate: 0.01,
  maxErrorRateOverBaseline: 0.005,
  maxP95Ratio: 2,
  maxMismatchRate: 0.001,
  minSamples: 100,
  windowMs: 300_000,
  falseRollbackRate: 0.01,
  rampSteps: 8,
  maxInconclusiveMs: 3 * 24 * 60 * 60 * 1000,
  onInconclusive: 'hold',
});

const isFiniteNumber = (value: unknown): value is number => typeof value === 'number' && Number.isFinite(value);
const rate = () => option.range(0, 1).optional();
const d = defaultRollbackCriteria;

/** The criteria's schema: every field optional, defaults from defaultRollbackCriteria, unknown names refused. */
const criteriaSchema = z.strictObject({
  maxErrorRate: rate().default(d.maxErrorRate),
  maxErrorRateOverBaseline: rate().default(d.maxErrorRateOverBaseline),
  maxP95Ratio: field<number>((v) => isFiniteNumber(v) && v >= 1, 'a finite number of at least 1').default(d.maxP95Ratio),
  maxMismatchRate: rate().default(d.maxMismatchRate),
  minSamples: option.positiveInteger().default(d.minSamples),
  windowMs: option.positiveNumber().default(d.windowMs),
  falseRollbackRate: field<number>((v) => isFiniteNumber(v) && v > 0 && v < 1, 'a number above 0 and below 1').default(d.falseRollbackRate),
  rampSteps: option.range(1, 1000, true).default(d.rampSteps),
  maxInconclusiveMs: option.positiveNumber().default(d.maxInconclusiveMs),
  onInconclusive: field<'hold' | 'rollback'>((v) => v === 'hold' || v === 'rollback', "'hold' or 'rollback'").default(d.onInconclusive),
});
const wrapped = z.strictObject({ criteria: criteriaSchema });

/**
 * Merges `criteria` over the defaults and validates them; `what` names the
 * criteria's owner in messages.
 * @throws InvalidOptionError naming the first bad criterion (`criteria.<name>`)
 *   and the value received, or an unknown one with the nearest known name.
 */
export function resolveCriteria(criteria: Partial<RollbackCriteria> = {}, what = 'RollbackGuard'): RollbackCriteria {
  return Object.freeze(parseOptions(wrapped, { criteria }, what).criteria);
}

/** A rate as people read it in reasons and reports: `0.0125` → `1.25 %`. */
export function percent(rate: number): string {
  return `${Number((rate * 100).toFixed(2))} %`;
}
