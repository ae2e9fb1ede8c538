import { z } from 'zod';
import { InvalidOptionError, describeValue } from '../errors.js';
import { field, parseOptions } from '../option-schema.js';
import type { Random } from './random.js';
import { normalFrom } from './random.js';

// A fake service's script: its shape, its checks (one strict zod schema)
// and how one call is decided from it.

/**
 * How long a fake call takes, in ms: a fixed number, a seeded distribution
 * (samples below 0 count as 0), or a function of the input and call index.
 * A distribution whose largest draw would overflow to Infinity is refused
 * (exponential `mean` above about 4.9e306, normal `mean + 9 * sd` not finite),
 * so every draw is a finite number of ms >= 0.
 */
export type LatencyScript<I> =
  | number
  | { readonly kind: 'normal'; readonly mean: number; readonly sd: number }
  | { readonly kind: 'uniform'; readonly min: number; readonly max: number }
  | { readonly kind: 'exponential'; readonly mean: number }
  | ((input: I, callIndex: number) => number);

/** Which calls of a fake fail or hang: a list of call indices (0-based), or a predicate. */
export type CallSelector<I> = readonly number[] | ((input: I, callIndex: number) => boolean);

/**
 * What a fake service does. Everything but `output` is optional; a fake
 * without latency, failures or hangs answers at once. For each call, in this
 * order: a hang wins over a failure, a failure over an output.
 */
export interface FakeScript<I, O> {
  /**
   * The answer: a function of the input and the call index (0-based, counted
   * over the fake's life), or a list. A list gives its items in order, then
   * repeats its last item for ever (`outputs: 'cycle'` starts over instead).
   * A function may throw or return a promise: the call then fails or settles
   * with it, after the latency.
   */
  readonly output: ((input: I, callIndex: number) => O | Promise<O>) | readonly O[];
  /** What a list of outputs does once exhausted. @default 'repeat-last' */
  readonly outputs?: 'repeat-last' | 'cycle';
  /** @default 0 (answers without waiting) */
  readonly latency?: LatencyScript<I>;
  /** Share of calls that fail, 0 to 1, drawn under the seed. @default 0 */
  readonly failRate?: number;
  /** Calls that fail whatever `failRate` says. @default none */
  readonly failOn?: CallSelector<I>;
  /**
   * What a failing call rejects with: any value, or, when a function, a
   * factory called with the input and the call index.
   * @default an Error "fake service failed on call N"
   */
  readonly error?: unknown;
  /** Calls that never settle: `true` for all of them, or a selector. @default false */
  readonly hang?: boolean | CallSelector<I>;
  /** Share of calls that never settle, 0 to 1, drawn under the seed. @default 0 */
  readonly hangRate?: number;
}

const isMs = (value: unknown): value is number => typeof value === 'number' && Number.isFinite(value) && value >= 0;
const isRate = (value: unknown): boolean => typeof value === 'number' && value >= 0 && value <= 1;
const isSelector = (value: unknown): boolean =>
  typeof value === 'function' || (Array.isArray(value) && value.every((index) => Number.isInteger(index) && index >= 0));
const selector = () => field<CallSelector<never>>(isSelector, 'a list of call indices (integers >= 0) or a function');
const rate = () => field<number>(isRate, 'a number from 0 to 1');

// A uniform draw u is below 1, so 1 - u >= 2^-53: -ln(1 - u) <= 53 ln 2 < 37 and a Box-Muller
// factor sqrt(-2 ln(1 - u)) cos(...) lies within ±sqrt(106 ln 2) < 9. Parameters whose extreme draw
// overflows to Infinity are refused; no draw of an accepted one can then leave the finite numbers.
const expFactor = 37;
const normalFactor = 9;
const maxExpMean = Number.MAX_VALUE / expFactor;

/** Why `latency` is not a LatencyScript ("must ..., got ..."), or undefined when it is one. */
function latencyProblem(latency: unknown): string | undefined {
  if (latency === undefined || typeof latency === 'function') return undefined;
  if (typeof latency === 'number') return isMs(latency) ? undefined : `must be a finite number of ms >= 0, got ${describeValue(latency)}`;
  if (typeof latency !== 'object' || latency === null) return `must be a number, a distribution or a function, got ${describeValue(latency)}`;
  const l = latency as { kind?: unknown; min?: unknown; max?: unknown; mean?: unknown; sd?: unknown };
  switch (l.kind) {
    case 'uniform':
      return isMs(l.min) && isMs(l.max) && l.max >= l.min
        ? undefined
        : `uniform needs 0 <= min <= max, got min ${describeValue(l.min)}, max ${describeValue(l.max)}`;
    case 'normal':
      return isMs(l.mean) && isMs(l.sd) && Number.isFinite(l.mean + l.sd * normalFactor)
        ? undefined
        : `normal needs mean >= 0 and sd >= 0 with mean + ${normalFactor} * sd finite (larger draws overflow to Infinity), got mean ${describeValue(l.mean)}, sd ${describeValue(l.sd)}`;
    case 'exponential':
      return isMs(l.mean) && l.mean <= maxExpMean
        ? undefined
        : `exponential needs 0 <= mean <= ${maxExpMean.toPrecision(4)} (larger draws overflow to Infinity), got ${describeValue(l.mean)}`;
    default:
      return `kind must be 'normal', 'uniform' or 'exponential', got ${describeValue(l.kind)}`;
  }
}

/** The fields of a FakeScript, as schema fields; fakeService's options add theirs. */
export const scriptShape = {
  output: field<FakeScript<never, unknown>['output']>(
    (value) => typeof value === 'function' || (Array.isArray(value) && value.length > 0),
    'a function or a non-empty array',
  ),
  outputs: field<'repeat-last' | 'cycle'>((value) => value === 'repeat-last' || value === 'cycle', "'repeat-last' or 'cycle'").optional(),
  latency: z
    .custom<LatencyScript<never>>((value) => latencyProblem(value) === undefined, { error: (issue) => latencyProblem(issue.input) ?? 'is invalid' })
    .optional(),
  failRate: rate().optional(),
  failOn: selector().optional(),
  error: z.unknown().optional(),
  hang: field<boolean | CallSelector<never>>(
    (value) => typeof value === 'boolean' || isSelector(value),
    'true, false, a list of call indices (integers >= 0) or a function',
  ).optional(),
  hangRate: rate().optional(),
};

const scriptSchema = z.strictObject(scriptShape);

/**
 * Checks a script once (an unknown field is refused, with the nearest
 * known name); returns it frozen.
 * @throws InvalidOptionError naming the bad field and the value received.
 */
export function checkScript<I, O>(script: FakeScript<I, O>): FakeScript<I, O> {
  parseOptions(scriptSchema, script, 'a fake script');
  return Object.freeze({ ...script });
}

/** True when call `index` is selected by `selector`. */
export function selected<I>(selector: boolean | CallSelector<I> | undefined, input: I, index: number): boolean {
  if (selector === undefined || selector === false) return false;
  if (selector === true) return true;
  if (typeof selector === 'function') return selector(input, index);
  return selector.includes(index);
}

/** The scripted answer of call `index`. */
export function outputOf<I, O>(script: FakeScript<I, O>, input: I, index: number): O | Promise<O> {
  const output = script.output;
  if (typeof output === 'function') return output(input, index);
  const position = script.outputs === 'cycle' ? index % output.length : Math.min(index, output.length - 1);
  return output[position] as O;
}

/** What a failing call rejects with. */
export function makeError(error: unknown, input: unknown, index: number, name: string): unknown {
  if (error === undefined) return new Error(`${name} failed on call ${index}`);
  if (typeof error === 'function') return (error as (input: unknown, index: number) => unknown)(input, index);
  return error;
}

/** The latency of one call, in ms; two draws of `random` whatever the script. @throws InvalidOptionError when a latency function returns no valid ms. */
export function latencyOf<I>(latency: LatencyScript<I> | undefined, input: I, index: number, random: Random): number {
  // Two draws per call for every distribution keeps the stream aligned when the distribution changes.
  const u = random();
  const v = random();
  if (latency === undefined) return 0;
  if (typeof latency === 'number') return latency;
  if (typeof latency === 'function') {
    const ms = latency(input, index);
    if (typeof ms !== 'number' || !Number.isFinite(ms) || ms < 0) {
      throw new InvalidOptionError('latency', `function must return a finite number of ms >= 0, got ${describeValue(ms)}`);
    }
    return ms;
  }
  switch (latency.kind) {
    case 'uniform':
      return finiteMs(latency.min + (latency.max - latency.min) * u);
    case 'normal':
      return finiteMs(normalFrom(u, v, latency.mean, latency.sd));
    case 'exponential':
      return finiteMs(-latency.mean * Math.log(1 - u));
  }
}

/** A draw as ms a clock can wait: below 0 (or -0) counts as 0; past the largest finite number (never, for checked parameters) as that number. */
function finiteMs(draw: number): number {
  if (Number.isNaN(draw)) return 0;
  return Math.min(Math.max(0, draw), Number.MAX_VALUE);
}
