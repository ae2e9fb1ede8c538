import type { RoutingKey } from '../hashing/hasher.js';
import { isRoutingKey } from '../hashing/hasher.js';

/** Extracts the routing key of an input; `undefined` when there is none. */
export type RoutingKeyFn<I> = (input: I) => RoutingKey | null | undefined;

/** The default routing key: `input.userId ?? input.requestId`; a string or number input is its own key. */
export function defaultRoutingKey(input: unknown): RoutingKey | undefined {
  if (typeof input === 'string' || typeof input === 'number') return input;
  if (typeof input !== 'object' || input === null) return undefined;
  const record = input as { userId?: unknown; requestId?: unknown };
  const key = record.userId ?? record.requestId;
  return isRoutingKey(key) ? key : undefined;
}

/**
 * Runs the user's routing-key function; anything unusable (undefined, null,
 * '', NaN, an object, a function that throws) becomes `undefined`, which
 * routes the call to old rather than failing it.
 */
export function safeRoutingKey<I>(fn: RoutingKeyFn<I>, input: I): RoutingKey | undefined {
  try {
    const key = fn(input);
    return isRoutingKey(key) ? key : undefined;
  } catch {
    return undefined;
  }
}
