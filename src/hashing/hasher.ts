import murmur from 'murmurhash3js-revisited';
import { describeValue } from '../errors.js';

/** Turns bytes into an unsigned 32-bit integer. Must be deterministic and cheap: it runs on every routed call. */
export interface Hasher {
  hash32(bytes: Uint8Array): number;
}

/**
 * MurmurHash3 x86 32-bit, seed 0, of `bytes[0 .. length)`: the same numbers as
 * murmurhash3js-revisited, with Math.imul and without its per-byte input
 * validation (a Uint8Array holds bytes by construction), several times faster.
 */
function murmur3(bytes: Uint8Array, length: number): number {
  let h = 0;
  const blocks = length & ~3;
  let i = 0;
  for (; i < blocks; i += 4) {
    let k = (bytes[i] as number) | ((bytes[i + 1] as number) << 8) | ((bytes[i + 2] as number) << 16) | ((bytes[i + 3] as number) << 24);
    k = Math.imul(k, 0xcc9e2d51);
    k = (k << 15) | (k >>> 17);
    h ^= Math.imul(k, 0x1b873593);
    h = (h << 13) | (h >>> 19);
    h = (Math.imul(h, 5) + 0xe6546b64) | 0;
  }
  const rest = length & 3;
  if (rest !== 0) {
    let k = bytes[i] as number;
    if (rest > 1) k |= (bytes[i + 1] as number) << 8;
    if (rest > 2) k |= (bytes[i + 2] as number) << 16;
    k = Math.imul(k, 0xcc9e2d51);
    k = (k << 15) | (k >>> 17);
    h ^= Math.imul(k, 0x1b873593);
  }
  h ^= length;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** MurmurHash3, x86 32-bit flavour, seed 0 (the numbers of murmurhash3js-revisited). */
export const murmur3Hasher: Hasher = Object.freeze({
  // Anything but a Uint8Array (a plain array of numbers, say) keeps the library's own checks and answers.
  hash32: (bytes: Uint8Array) => (bytes instanceof Uint8Array ? murmur3(bytes, bytes.length) : murmur.x86.hash32(bytes)),
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
  if (hasher === murmur3Hasher) {
    const length = asciiBytes(salt, text);
    if (length >= 0) return murmur3(scratch, length) % BUCKETS;
  }
  const input = `${salt}:${text}`;
  // The bytes below overwrite the cached salt prefix.
  prefixSalt = undefined;
  // UTF-8 needs at most 3 bytes per UTF-16 unit.
  if (input.length * 3 > scratch.length) scratch = new Uint8Array(input.length * 3);
  const { written } = encoder.encodeInto(input, scratch);
  return hasher.hash32(scratch.subarray(0, written)) % BUCKETS;
}

/** The salt whose `salt:` bytes start `scratch`, and their length. */
let prefixSalt: string | undefined;
let prefixLength = 0;

/**
 * Writes the bytes of `salt:text` to `scratch` when both are ASCII (their
 * UTF-8 is one byte per unit, no TextEncoder call, no string built) and
 * returns their length; -1 when a unit is not ASCII. The salt's bytes stay
 * in place from one call to the next: a glue always passes the same salt.
 */
function asciiBytes(salt: string, text: string): number {
  if (salt !== prefixSalt) {
    prefixSalt = undefined;
    if (salt.length + 1 > scratch.length) scratch = new Uint8Array((salt.length + 1) * 3);
    for (let i = 0; i < salt.length; i++) {
      const unit = salt.charCodeAt(i);
      if (unit >= 0x80) return -1;
      scratch[i] = unit;
    }
    scratch[salt.length] = 0x3a; // ':'
    prefixLength = salt.length + 1;
    prefixSalt = salt;
  }
  const length = prefixLength + text.length;
  if (length > scratch.length) grow(length * 3);
  const bytes = scratch;
  for (let i = 0, at = prefixLength; i < text.length; i++, at++) {
    const unit = text.charCodeAt(i);
    if (unit >= 0x80) return -1;
    bytes[at] = unit;
  }
  return length;
}

/** A larger scratch buffer that keeps the salt's bytes at its start. */
function grow(size: number): void {
  const larger = new Uint8Array(size);
  larger.set(scratch.subarray(0, prefixLength));
  scratch = larger;
}

/** True when `key` is usable for routing: a non-empty string or a finite number. */
export function isRoutingKey(key: unknown): key is RoutingKey {
  return (typeof key === 'string' && key.length > 0) || (typeof key === 'number' && Number.isFinite(key));
}

