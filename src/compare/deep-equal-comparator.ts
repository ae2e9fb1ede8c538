import { z } from 'zod';
import { describeValue, ignoreRejection } from '../errors.js';
import { field, option, parseOptions } from '../option-schema.js';
import { boundedEqual } from './bounded-equal.js';
import type { Comparator, Comparison, DiffEntry, Outcome } from './comparator.js';
import { diffValues } from './diff.js';
import { parsePath } from './path.js';
import type { DiffResult, DiffRules } from './diff.js';
import type { ParsedPath } from './path.js';
import { CompareLimitError } from './limits.js';

/** How values are normalised before they are compared. */
export interface NormalizeOptions {
  /**
   * Compare Dates as their ISO strings, so a Date equals the ISO string of the
   * same instant (a service that now returns JSON). When false, Dates compare
   * as Dates, by time, and a Date never equals a string.
   * @default true
   */
  readonly dates?: boolean;
  /**
   * Round every number to this many decimals (an integer from 0 to 20) before
   * comparing: with 2, `10.504` equals `10.5` but not `10.51`.
   * @default undefined (numbers compare exactly; NaN equals NaN, -0 equals 0)
   * @example { precision: 2 }
   */
  readonly precision?: number;
  /**
   * Paths (same syntax as `ignore`) whose arrays compare as multisets: same
   * elements, same counts, any order. Elements of a Set always do.
   * @default []
   * @example ['tags', 'orders[*].lines']
   */
  readonly unorderedArrays?: readonly string[];
  /**
   * Called on the nodes of both values, root first, with the node's path
   * (`''` for the root), before the built-in normalisations; what it returns
   * is compared instead. Nodes where both sides are the very same value or
   * reference are equal without a call. Must be deterministic and must not
   * mutate the value it receives. Setting it turns off the fast-deep-equal
   * shortcut, so every comparison walks both values.
   * @default undefined
   * @example (value, path) => path.endsWith('.email') && typeof value === 'string' ? value.toLowerCase() : value
   */
  readonly custom?: (value: unknown, path: string) => unknown;
}

/** Options of `deepEqualComparator`. All are checked once, when the comparator is built. */
export interface DeepEqualOptions<O = unknown> {
  /**
   * Paths whose differences, at or under them, are not reported, e.g.
   * `meta.requestId`, `items[*].updatedAt`, `items[0].x`, `meta.*`. Paths are
   * relative to the root; `*` or `[*]` stands for any one key or index.
   * @default []
   */
  readonly ignore?: readonly string[];
  /**
   * How values are normalised before they are compared.
   * @default { dates: true }
   */
  readonly normalize?: NormalizeOptions;
  /**
   * Decides whether two thrown errors count as the same outcome.
   * @default same constructor name and same message for Error objects; other thrown values by deep equality
   */
  readonly compareErrors?: (oldError: unknown, newError: unknown) => boolean;
  /**
   * Decides whether two returned values are equal, instead of deep equality.
   * When it says they differ, the diff is still computed structurally for the
   * report (one root entry of kind `changed` if the structure shows none).
   * @default undefined (deep equality with the rules above)
   */
  readonly equals?: (oldValue: O, newValue: O) => boolean;
  /**
   * At most this many diff entries per comparison (a non-negative integer or
   * Infinity); `truncated` tells when there were more.
   * @default 20
   */
  readonly maxDiffs?: number;
}

interface Resolved<O> {
  readonly rules: DiffRules;
  readonly compareErrors: (oldError: unknown, newError: unknown) => boolean;
  readonly equals: ((oldValue: O, newValue: O) => boolean) | undefined;
  readonly maxDiffs: number;
  /** fast-deep-equal's "equal" may stand: ignore, precision and unorderedArrays only ever hide differences. */
  readonly fastPath: boolean;
}

const EQUAL: Comparison = Object.freeze({ equal: true, diff: Object.freeze([]), truncated: false });
const MAX_PRECISION = 20;

/**
 * A Comparator by deep equality, with ignored paths, normalisation and
 * structured diffs. Values compare structurally: own enumerable keys (not
 * prototypes), arrays and typed arrays by index, Maps by key, Sets as sets;
 * NaN equals NaN, -0 equals 0; an undefined-valued key differs from an absent
 * one; an object with its own `valueOf` or `toString` compares by it.
 * Outcomes: both returned, compare the values (kind `value`); one failed,
 * different (kind `error`); both failed, `compareErrors` decides (kind `error`).
 * Never mutates what it compares; a cycle revisited counts as equal.
 * `compare` does bounded work (`MAX_NODES` nodes, `MAX_DEPTH` levels) and
 * throws a CompareLimitError (code `ERR_COMPARE_LIMIT`) for values beyond
 * that, for values it cannot read (a throwing getter, a revoked Proxy), and
 * when `equals` or `compareErrors` return anything but a boolean.
 * @throws InvalidOptionError (code `ERR_INVALID_OPTION`) naming a bad option and the value received.
 */
export function deepEqualComparator<O = unknown>(options?: DeepEqualOptions<O>): Comparator<O> {
  const resolved = resolveOptions(options);
  const comparator: Comparator<O> = {
    compare(oldOutcome: Outcome<O>, newOutcome: Outcome<O>): Comparison {
      if (oldOutcome.ok && newOutcome.ok) return compareValues(oldOutcome.value, newOutcome.value, resolved);
      if (!oldOutcome.ok && !newOutcome.ok) {
        if (verdict('compareErrors', resolved.compareErrors, oldOutcome.error, newOutcome.error)) return EQUAL;
        return errorDifference(errorSummary(oldOutcome.error), errorSummary(newOutcome.error), resolved.maxDiffs);
      }
      const oldSide = oldOutcome.ok ? oldOutcome.value : errorSummary(oldOutcome.error);
      const newSide = newOutcome.ok ? newOutcome.value : errorSummary(newOutcome.error);
      return errorDifference(oldSide, newSide, resolved.maxDiffs);
    },
  };
  rulesByComparator.set(comparator, { rules: resolved.rules, maxDiffs: resolved.maxDiffs });
  return comparator;
}

const rulesByComparator = new WeakMap<object, { readonly rules: DiffRules; readonly maxDiffs: number }>();

/**
 * The diff rules and `maxDiffs` of a comparator built by deepEqualComparator,
 * so a redacted diff can be computed under the same rules; undefined for any
 * other comparator.
 */
export function rulesOf(comparator: object): { readonly rules: DiffRules; readonly maxDiffs: number } | undefined {
  return rulesByComparator.get(comparator);
}

/** Calls a user's `equals` or `compareErrors`; anything but a boolean is a CompareLimitError, not a silent verdict. */
function verdict(option: string, decide: (a: never, b: never) => unknown, a: unknown, b: unknown): boolean {
  const answer = decide(a as never, b as never);
  if (typeof answer === 'boolean') return answer;
  ignoreRejection(answer);
  throw new CompareLimitError(`\`${option}\` returned ${describeValue(answer)}${isThenable(answer) ? ' (a promise: it must decide synchronously)' : ''}, not a boolean`);
}

function isThenable(value: unknown): boolean {
  try {
    return typeof value === 'object' && value !== null && typeof (value as { then?: unknown }).then === 'function';
  } catch {
    return false;
  }
}

function compareValues<O>(oldValue: O, newValue: O, resolved: Resolved<O>): Comparison {
  if (resolved.equals !== undefined) {
    if (verdict('equals', resolved.equals, oldValue, newValue)) return EQUAL;
    const found = diffValues(oldValue, newValue, resolved.rules, resolved.maxDiffs);
    if (isEmpty(found)) return difference('value', cap([{ path: '', kind: 'changed', old: oldValue, new: newValue }], resolved.maxDiffs));
    return difference('value', found);
  }
  if (resolved.fastPath && boundedEqual(oldValue, newValue)) return EQUAL;
  const found = diffValues(oldValue, newValue, resolved.rules, resolved.maxDiffs);
  return isEmpty(found) ? EQUAL : difference('value', found);
}

function isEmpty(found: DiffResult): boolean {
  return found.diff.length === 0 && !found.truncated;
}

function difference(kind: 'value' | 'error', found: DiffResult): Comparison {
  return { equal: false, kind, diff: found.diff, truncated: found.truncated };
}

function errorDifference(oldSide: unknown, newSide: unknown, maxDiffs: number): Comparison {
  return difference('error', cap([{ path: '', kind: 'error', old: oldSide, new: newSide }], maxDiffs));
}

function cap(entries: readonly DiffEntry[], maxDiffs: number): DiffResult {
  return entries.length > maxDiffs ? { diff: entries.slice(0, maxDiffs), truncated: true } : { diff: entries, truncated: false };
}

function isError(value: unknown): value is Error {
  // Errors from another realm (vm, worker-transferred) fail instanceof; a revoked Proxy throws on both.
  try {
    return value instanceof Error || Object.prototype.toString.call(value) === '[object Error]';
  } catch {
    return false;
  }
}

/** `error[key]`, or `[unreadable]` when the getter throws. */
function read(error: object, key: 'name' | 'message'): unknown {
  try {
    return (error as Record<string, unknown>)[key];
  } catch {
    return '[unreadable]';
  }
}

function constructorName(error: Error): unknown {
  try {
    const name = (error as { constructor?: { name?: unknown } }).constructor?.name;
    if (typeof name === 'string' && name !== '') return name;
  } catch {
    // fall back on the name
  }
  return read(error, 'name');
}

/**
 * The default `compareErrors`: two Errors are the same outcome when they have
 * the same constructor name and the same message; other thrown values compare
 * by deep equality; an Error never equals a non-Error.
 */
function sameError(oldError: unknown, newError: unknown): boolean {
  const oldIsError = isError(oldError);
  const newIsError = isError(newError);
  if (oldIsError && newIsError) return constructorName(oldError) === constructorName(newError) && read(oldError, 'message') === read(newError, 'message');
  if (oldIsError || newIsError) return false;
  return Object.is(oldError, newError) || boundedEqual(oldError, newError);
}

/** What a diff shows of a thrown value: `{ name, message }` for an Error (loggable), the value itself otherwise. */
export function errorSummary(error: unknown): unknown {
  return isError(error) ? { name: read(error, 'name'), message: read(error, 'message') } : error;
}

// ---------------------------------------------------------------- options

/** A list of path strings, parsed once; a bad path names the option and the path. */
const paths = () =>
  z
    .custom<readonly string[]>((value) => Array.isArray(value), {
      error: (issue) => `must be an array of path strings, got ${describeValue(issue.input)}`,
    })
    .transform((value, context): readonly ParsedPath[] => {
      const parsed: ParsedPath[] = [];
      for (const [index, path] of (value as readonly unknown[]).entries()) {
        if (typeof path !== 'string') {
          context.addIssue({ code: 'custom', message: `must hold path strings, got ${describeValue(path)} at index ${index}` });
          return z.NEVER;
        }
        try {
          parsed.push(parsePath(path));
        } catch (err) {
          context.addIssue({ code: 'custom', message: `has an unparsable path ${describeValue(path)}: ${(err as Error).message}` });
          return z.NEVER;
        }
      }
      return parsed;
    });

const optionsSchema = z.strictObject({
  ignore: paths().default([]),
  normalize: option
    .object({
      dates: option.boolean().default(true),
      precision: option.range(0, MAX_PRECISION, true).optional(),
      unorderedArrays: paths().default([]),
      custom: option.fn<(value: unknown, path: string) => unknown>().optional(),
    })
    .default({ dates: true, unorderedArrays: [] }),
  compareErrors: option.fn<(oldError: unknown, newError: unknown) => boolean>().optional(),
  equals: option.fn<(oldValue: unknown, newValue: unknown) => boolean>().optional(),
  maxDiffs: field<number>(
    (value) => typeof value === 'number' && (Number.isInteger(value) || value === Infinity) && value >= 0,
    'a non-negative integer or Infinity',
  ).default(20),
});

function resolveOptions<O>(options: DeepEqualOptions<O> | undefined): Resolved<O> {
  const parsed = parseOptions(optionsSchema, options ?? {}, 'deepEqualComparator');
  const custom = parsed.normalize.custom;
  const rules: DiffRules = {
    ignore: parsed.ignore,
    unorderedArrays: parsed.normalize.unorderedArrays,
    dates: parsed.normalize.dates,
    precision: parsed.normalize.precision,
    custom,
  };
  return {
    rules,
    compareErrors: (parsed.compareErrors as Resolved<O>['compareErrors'] | undefined) ?? sameError,
    equals: parsed.equals as Resolved<O>['equals'],
    maxDiffs: parsed.maxDiffs,
    // A custom hook may tell apart values fast-deep-equal finds equal; `equals` replaces the decision.
    fastPath: custom === undefined && parsed.equals === undefined,
  };
}
