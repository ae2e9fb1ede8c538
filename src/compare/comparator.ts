/** What one side did with an input: returned a value, or failed with an error. */
export type Outcome<O> =
  | { readonly ok: true; readonly value: O }
  | { readonly ok: false; readonly error: unknown };

/**
 * How two values differ at one place.
 * - `changed`: both present, different values;
 * - `missing`: present in old, absent in new;
 * - `extra`: absent in old, present in new;
 * - `type`: different types (e.g. number vs string, array vs object);
 * - `error`: one side failed and the other did not, or both failed differently.
 */
export type DiffKind = 'changed' | 'missing' | 'extra' | 'type' | 'error';

/** One difference: the path (`items[2].price`, `''` for the root), both values and its kind. */
export interface DiffEntry {
  readonly path: string;
  readonly kind: DiffKind;
  readonly old: unknown;
  readonly new: unknown;
}

/** The result of comparing two outcomes. */
export interface Comparison {
  readonly equal: boolean;
  /** Why they differ: `value` (both returned, values differ) or `error` (outcomes differ in failing). Absent when equal. */
  readonly kind?: 'value' | 'error';
  /** The differences, capped at the comparator's `maxDiffs`; empty when equal. */
  readonly diff: readonly DiffEntry[];
  /** True when there were more differences than `diff` holds. */
  readonly truncated: boolean;
}

/**
 * Compares old's and new's outcome for the same input. Called off the
 * caller's path (after old answered), once per shadowed call: it must not
 * mutate either value and should not throw (a comparator that throws is
 * counted as a shadow error, never reaches the caller).
 */
export interface Comparator<O> {
  compare(oldOutcome: Outcome<O>, newOutcome: Outcome<O>): Comparison;
}
