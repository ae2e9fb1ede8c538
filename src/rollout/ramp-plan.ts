import { InvalidOptionError, describeValue } from '../errors.js';
import { errorText } from './bounded.js';

const day = 24 * 60 * 60 * 1000;

/** One step of a ramp: the percentage of keys on new, held at least `holdMs` before the next step. */
export interface RampStep {
  readonly percentage: number;
  readonly holdMs: number;
}

/** The workflow's ramp: 1 % for a day, 5 % for two, 10 % for four, 25, 50 and 90 % for a week each, then 100 % with a 14-day grace. */
export const defaultRamp: readonly RampStep[] = Object.freeze([
  { percentage: 1, holdMs: day },
  { percentage: 5, holdMs: 2 * day },
  { percentage: 10, holdMs: 4 * day },
  { percentage: 25, holdMs: 7 * day },
  { percentage: 50, holdMs: 7 * day },
  { percentage: 90, holdMs: 7 * day },
  { percentage: 100, holdMs: 14 * day },
].map((step) => Object.freeze(step)));

/**
 * Checks a plan: at least one step, percentages strictly increasing within
 * (0, 100] in steps of 0.01, holds finite and >= 0. Returns a frozen copy,
 * percentages rounded to their two decimals (so `0.1 + 0.2` is 0.3).
 * @throws InvalidOptionError naming the bad step, also for a plan that
 *   cannot be read (a hole, a getter that throws, a revoked Proxy).
 */
export function validatePlan(plan: readonly RampStep[]): readonly RampStep[] {
  try {
    return checkPlan(plan);
  } catch (err) {
    if (err instanceof InvalidOptionError) throw err;
    throw new InvalidOptionError('plan', `could not be read: ${errorText(err)}`);
  }
}

function checkPlan(plan: readonly RampStep[]): readonly RampStep[] {
  if (!Array.isArray(plan) || plan.length === 0) {
    throw new InvalidOptionError('plan', `must be a non-empty array of { percentage, holdMs }, got ${describeValue(plan)}`);
  }
  const steps: RampStep[] = [];
  let previous = 0;
  // An index loop, not forEach: a hole in a sparse array is a bad step, not a skipped one.
  for (let i = 0; i < plan.length; i++) {
    const where = `plan[${i}]`;
    const step: unknown = plan[i];
    if (typeof step !== 'object' || step === null) throw new InvalidOptionError(where, `must be { percentage, holdMs }, got ${describeValue(step)}`);
    const { percentage, holdMs } = step as Record<string, unknown>;
    if (typeof percentage !== 'number' || !Number.isFinite(percentage) || percentage <= 0 || percentage > 100) {
      throw new InvalidOptionError(`${where}.percentage`, `must be a number in (0, 100], got ${describeValue(percentage)}`);
    }
    if (Math.abs(percentage * 100 - Math.round(percentage * 100)) > 1e-7) {
      throw new InvalidOptionError(`${where}.percentage`, `must have at most two decimals, got ${percentage}`);
    }
    const rounded = Math.round(percentage * 100) / 100;
    if (rounded <= previous) {
      throw new InvalidOptionError(`${where}.percentage`, `must be greater than the step before (${previous}), got ${percentage}`);
    }
    if (typeof holdMs !== 'number' || !Number.isFinite(holdMs) || holdMs < 0) {
      throw new InvalidOptionError(`${where}.holdMs`, `must be a finite number >= 0, got ${describeValue(holdMs)}`);
    }
    previous = rounded;
    steps.push(Object.freeze({ percentage: rounded, holdMs }));
  }
  return Object.freeze(steps);
}
