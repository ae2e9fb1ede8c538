import { describeValue, InvalidOptionError } from '../errors.js';
import type { Comparator } from './comparator.js';
import { deepEqualComparator } from './deep-equal-comparator.js';

/** What an option that takes a comparator accepts: a Comparator, an equality function, or nothing. */
export type ComparatorLike<O> = Comparator<O> | ((oldValue: O, newValue: O) => boolean) | undefined;

/**
 * Normalises a comparator option once: undefined gives `deepEqualComparator()`,
 * a function `(old, new) => boolean` gives `deepEqualComparator({ equals: fn })`,
 * a Comparator is returned as is.
 * @throws InvalidOptionError (`comparator`) for anything else.
 */
export function toComparator<O>(comparator: ComparatorLike<O>): Comparator<O> {
  if (comparator === undefined) return deepEqualComparator<O>();
  if (typeof comparator === 'function') return deepEqualComparator<O>({ equals: comparator });
  let compare: unknown;
  try {
    compare = typeof comparator === 'object' && comparator !== null ? (comparator as { compare?: unknown }).compare : undefined;
  } catch {
    throw new InvalidOptionError('comparator', 'cannot be read (a getter that throws, or a revoked Proxy)');
  }
  if (typeof compare === 'function') return comparator as Comparator<O>;
  throw new InvalidOptionError(
    'comparator',
    `must be a Comparator ({ compare(old, new) }), a function (old, new) => boolean, or undefined; got ${describeValue(comparator)}`,
  );
}
