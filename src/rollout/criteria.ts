import { z } from 'zod';
import { InvalidOptionError, describeValue } from '../errors.js';

/**
 * When the rollback guard rolls a migration back. Rates are fractions
 * (0.01 is 1 %), times are milliseconds.
 */
export interface RollbackCriteria {
  /** New's error rate above this trips. @default 0.01 */
  readonly maxErrorRate: number;
  /** New's error rate above the control's (old live, or old's baseline) plus this trips. @default 0.005 (0.5 points) */
  readonly maxErrorRateOverBaseline: number;
  /** New's P95 above this many times the control's P95 trips. @default 2 */
  readonly maxP95Ratio: number;
  /** The shadow mismatch rate above this trips. @default 0.001 */
  readonly maxMismatchRate: number;
  /** Calls (or comparisons) a side needs in the window before it is judged at all. @default 100 */
  readonly minSamples: number;
  /** The window judged; must equal the glue's `windowMs`. @default 300000 */
  readonly windowMs: number;
}

/** The workflow's criteria: error rate > 1 % or > baseline + 0.5 points, P95 > 2x, mismatches > 0.1 %, at least 100 samples. */
export const defaultRollbackCriteria: RollbackCriteria = Object.freeze({
  maxErrorRate: 0.01,
  maxErrorRateOverBaseline: 0.005,
  maxP95Ratio: 2,
  maxMismatchRate: 0.001,
  minSamples: 100,
  windowMs: 300_000,
});

const rate = z.number().finite().min(0).max(1);
const criteriaSchema = z.strictObject({
  maxErrorRate: rate.optional(),
  maxErrorRateOverBaseline: rate.optional(),
  maxP95Ratio: z.number().finite().min(1).optional(),
  maxMismatchRate: rate.optional(),
  minSamples: z.number().int().min(1).optional(),
  windowMs: z.number().finite().positive().optional(),
});

/**
 * Merges `criteria` over the defaults and validates them.
 * @throws InvalidOptionError naming the first bad criterion and the value received.
 */
export function resolveCriteria(criteria: Partial<RollbackCriteria> = {}): RollbackCriteria {
  const result = criteriaSchema.safeParse(criteria);
  if (!result.success) {
    const issue = result.error.issues[0];
    const path = issue?.path.map(String).join('.') ?? '';
    const received = path === '' ? criteria : (criteria as Record<string, unknown>)[path];
    const option = path === '' ? 'criteria' : `criteria.${path}`;
    throw new InvalidOptionError(option, `${issue?.message ?? 'is invalid'} (got ${describeValue(received)})`);
  }
  return Object.freeze({ ...defaultRollbackCriteria, ...stripUndefined(result.data) });
}

function stripUndefined<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}

/** A rate as people read it in reasons and reports: `0.0125` → `1.25 %`. */
export function percent(rate: number): string {
  return `${Number((rate * 100).toFixed(2))} %`;
}
