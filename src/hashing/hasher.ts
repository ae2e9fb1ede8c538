import murmur from 'murmurhash3js-revisited';
import { describeValue } from '../errors.js';

/** Turns bytes into an unsigned 32-bit integer. Must be deterministic and cheap: it runs on every routed call. */
export interface Hasher {
  hash32(bytes: Uint8Array): number;
}

/** MurmurHash3, x86 32-bit flavour, seed 0 (murmurhash3js-revisited). */
export const murmur3Hasher: Hasher = Object.freeze({
  hash32: (bytes: Uint8Array) => murmur.x86.hash32(bytes),
});

/** Number of buckets: a bucket is a hundredth of a percent. */
export const BUCKETS = 10_000;

const encoder = new TextEncoder();
let scratch = new Uint8Array(256);

/** A routing key: a string or a finite number. */
export type RoutingKey = string | number;

/**
 * The bucket (0 to 9999) of `key` under `salt`: the hash of the UTF-8 bytes
 * of `salt + ':' + key`, modulo 10,000. A key goes to new when its bucket is
 * below `newSystemPercentage * 100`, which makes routing sticky (same key,
 * same bucket) and monotonic (raising the percentage only adds buckets).
 * @throws TypeError when `key` is neither a string nor a finite number.
 */
export function bucketOf(key: RoutingKey, salt: string, hasher: Hasher = murmur3Hasher): number {
  let text: string;
  if (typeof key === 'string') text = key;
  else if (typeof key === 'number' && Number.isFinite(key)) text = String(key);
  else {
    throw new TypeError(`[migration-glue] a routing key must be a string or a finite number, got ${describeValue(key)}`);
  }
  const input = `${salt}:${text}`;
  // UTF-8 needs at most 3 bytes per UTF-16 unit.
  if (input.length * 3 > scratch.length) scratch = new Uint8Array(input.length * 3);
  const { written } = encoder.encodeInto(input, scratch);
  return hasher.hash32(scratch.subarray(0, written)) % BUCKETS;
}

/** True when `key` is usable for routing: a non-empty string or a finite number. */
export function isRoutingKey(key: unknown): key is RoutingKey {
  return (typeof key === 'string' && key.length > 0) || (typeof key === 'number' && Number.isFinite(key));
}

