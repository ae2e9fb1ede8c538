import type { RoutingKey } from '../hashing/hasher.js';
import { ignoreRejection } from '../errors.js';
import { isRoutingKey } from '../hashing/hasher.js';

/** Extracts the routing key of an input; `undefined` when there is none. */
export type RoutingKeyFn<I> = (input: I) => RoutingKey | null | undefined;

/**
 * Why a routing-key function gave no usable key: it returned nothing
 * (undefined, null, ''), threw, returned a promise (it must be synchronous),
 * an object, or another unusable value (NaN, Infinity, a boolean...).
 */
export type RoutingKeyProblem = 'missing' | 'threw' | 'promise' | 'object' | 'invalid';

/** The default routing key: `input.userId ?? input.requestId`; a string or number input is its own key. */
export function defaultRoutingKey(input: unknown): RoutingKey | undefined {
  if (typeof input === 'string' || typeof input === 'number') return isRoutingKey(input) ? input : undefined;
  if (typeof input !== 'object' || input === null) return undefined;
  try {
    const record = input as { userId?: unknown; requestId?: unknown };
    const key = record.userId ?? record.requestId;
    return isRoutingKey(key) ? key : undefined;
  } catch {
    // a getter that throws or a revoked Proxy: no key
    return undefined;
  }
}

/**
 * Runs the user's routing-key function; anything unusable (undefined, null,
 * '', NaN, an object, a function that throws) becomes `undefined`, which
 * routes the call to old rather than failing it. `onProblem`, when given,
 * hears why.
 */
export function safeRoutingKey<I>(
  fn: RoutingKeyFn<I>,
  input: I,
  onProblem?: (problem: RoutingKeyProblem, error?: unknown) => void,
): RoutingKey | undefined {
  let key: unknown;
  try {
    key = fn(input);
  } catch (err) {
    onProblem?.('threw', err);
    return undefined;
  }
  if (isRoutingKey(key)) return key;
  // An async routingKey: its promise may reject later, and must not kill the process.
  ignoreRejection(key);
  onProblem?.(problemOf(key));
  return undefined;
}

function problemOf(key: unknown): RoutingKeyProblem {
  if (key === undefined || key === null || key === '') return 'missing';
  if (typeof key !== 'object' && typeof key !== 'function') return 'invalid';
  try {
    if (typeof (key as { then?: unknown }).then === 'function') return 'promise';
  } catch {
    // a revoked Proxy: an object all the same
  }
  return typeof key === 'function' ? 'invalid' : 'object';
}

/**
 * The top-level field names of an input (never its values), for a log line
 * saying why it has no key: at most 20 names of at most 60 characters.
 * Never throws.
 */
export function inputFieldNames(input: unknown): readonly string[] | string {
  if (typeof input !== 'object' || input === null) return `(a ${input === null ? 'null' : typeof input} input)`;
  try {
    const names: string[] = [];
    for (const name in input) {
      if (!Object.hasOwn(input, name)) continue;
      if (names.length === 20) {
        names.push('…');
        break;
      }
      names.push(name.length > 60 ? `${name.slice(0, 60)}…` : name);
    }
    return names;
  } catch {
    return '(unreadable input)';
  }
}
