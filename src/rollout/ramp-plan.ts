import { InvalidOptionError, describeValue } from '../errors.js';

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
 * (0, 100] in steps of 0.01, holds finite and >= 0.
 * @throws InvalidOptionError naming the bad step.
 */
export function validatePlan(plan: readonly RampStep[]): readonly RampStep[] {
  if (!Array.isArray(plan) || plan.length === 0) {
    throw new InvalidOptionError('plan', `must be a non-empty array of { percentage, holdMs }, got ${describeValue(plan)}`);
  }
  let previous = 0;
  plan.forEach((step, i) => {
    const where = `plan[${i}]`;
    if (typeof step !== 'object' || step === null) throw new InvalidOptionError(where, `must be { percentage, holdMs }, got ${describeValue(step)}`);
    const { percentage, holdMs } = step;
    if (typeof percentage !== 'number' || !Number.isFinite(percentage) || percentage <= 0 || percentage > 100) {
      throw new InvalidOptionError(`${where}.percentage`, `must be a number in (0, 100], got ${describeValue(percentage)}`);
    }
    if (Math.abs(percentage * 100 - Math.round(percentage * 100)) > 1e-7) {
      throw new InvalidOptionError(`${where}.percentage`, `must have at most two decimals, got ${percentage}`);
    }
    if (percentage <= previous) {
      throw new InvalidOptionError(`${where}.percentage`, `must be greater than the step before (${previous}), got ${percentage}`);
    }
    if (typeof holdMs !== 'number' || !Number.isFinite(holdMs) || holdMs < 0) {
      throw new InvalidOptionError(`${where}.holdMs`, `must be a finite number >= 0, got ${describeValue(holdMs)}`);
    }
    previous = percentage;
  });
  return Object.freeze(plan.map((step) => Object.freeze({ percentage: step.percentage, holdMs: step.holdMs })));
}
