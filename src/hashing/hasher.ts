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

/**
 * The size of the one scratch buffer kept between calls, in bytes. Longer
 * keys are hashed in chunks (murmur3) or from a one-off buffer (a custom
 * hasher), so one huge routing key never pins memory after its call.
 */
const maxScratchBytes = 4_096;
/** UTF-16 units encoded per chunk of a long key: at most 3 bytes each, so a chunk fits the largest scratch. */
const chunkUnits = Math.floor(maxScratchBytes / 3);

const encoder = new TextEncoder();
const scratch = new Uint8Array(maxScratchBytes);

/** A routing key: a string or a finite number. */
export type RoutingKey = string | number;

/**
 * The bucket (0 to 9999) of `key` under `salt`: the hash of the UTF-8 bytes
 * of `salt + ':' + key`, modulo 10,000. A key goes to new when its bucket is
 * below `newSystemPercentage * 100`, which makes routing sticky (same key,
 * same bucket) and monotonic (raising the percentage only adds buckets).
 * Memory stays bounded whatever the key's size: a long key is hashed in
 * chunks, with the same result.
 * @throws TypeError when `key` is neither a string nor a finite number.
 */
export function bucketOf(key: RoutingKey, salt: string, hasher: Hasher = murmur3Hasher): number {
  let text: string;
  if (typeof key === 'string') text = key;
  else if (Number.isFinite(key)) text = String(key);
  else {
    throw new TypeError(`[migration-glue] a routing key must be a string or a finite number, got ${describeValue(key)}`);
  }
  const units = salt.length + 1 + text.length;
  // UTF-8 needs at most 3 bytes per UTF-16 unit.
  const fits = units * 3 <= maxScratchBytes;
  if (hasher === murmur3Hasher) {
    if (units <= maxScratchBytes) {
      const length = asciiBytes(salt, text);
      if (length >= 0) return murmur3(scratch, length) % BUCKETS;
    }
    if (!fits) return murmur3Chunked(salt, text) % BUCKETS;
  }
  const input = `${salt}:${text}`;
  // A one-off buffer for a long key with a custom hasher: dropped after the call.
  if (!fits) return hasher.hash32(encoder.encode(input)) % BUCKETS;
  // The bytes below overwrite the cached salt prefix.
  prefixSalt = undefined;
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
 * The caller keeps `salt:text` within `maxScratchBytes` units.
 */
function asciiBytes(salt: string, text: string): number {
  if (salt !== prefixSalt) {
    prefixSalt = undefined;
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
  for (let i = 0, at = prefixLength; i < text.length; i++, at++) {
    const unit = text.charCodeAt(i);
    if (unit >= 0x80) return -1;
    scratch[at] = unit;
  }
  return length;
}

/**
 * murmur3 of the UTF-8 bytes of `salt:text`, encoded a chunk at a time into a
 * buffer of at most `maxScratchBytes`: the numbers of `murmur3` on the whole.
 */
function murmur3Chunked(salt: string, text: string): number {
  prefixSalt = undefined;
  const state = { h: 0, tail: 0, tailLength: 0, total: 0 };
  feedString(state, salt);
  scratch[0] = 0x3a; // ':' (between two strings, it never completes a surrogate pair)
  feedBytes(state, scratch, 1);
  feedString(state, text);
  // The 0 to 3 bytes left; with none, the tail is 0 and mixing it changes nothing.
  let k = Math.imul(state.tail, 0xcc9e2d51);
  k = (k << 15) | (k >>> 17);
  let h = state.h ^ Math.imul(k, 0x1b873593);
  h ^= state.total;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** A murmur3 hash in progress: the running hash, 0 to 3 bytes not yet in a block, and the length so far. */
interface MurmurState {
  h: number;
  tail: number;
  tailLength: number;
  total: number;
}

/** Feeds the UTF-8 bytes of `text`, chunk by chunk, never splitting a surrogate pair. */
function feedString(state: MurmurState, text: string): void {
  for (let at = 0; at < text.length; ) {
    let end = Math.min(at + chunkUnits, text.length);
    // A high surrogate at the chunk's end goes with the next chunk, so its pair encodes as one character.
    const last = text.charCodeAt(end - 1);
    if (end < text.length && last >= 0xd800 && last <= 0xdbff) end -= 1;
    const { written } = encoder.encodeInto(text.slice(at, end), scratch);
    feedBytes(state, scratch, written);
    at = end;
  }
}

function feedBytes(state: MurmurState, bytes: Uint8Array, length: number): void {
  state.total += length;
  let i = 0;
  let h = state.h;
  // Complete the bytes left over by the last call first (with none left over, this takes the first block).
  while (state.tailLength < 4 && i < length) {
    state.tail |= (bytes[i++] as number) << (8 * state.tailLength);
    state.tailLength += 1;
  }
  if (state.tailLength < 4) return;
  h = mixBlock(h, state.tail);
  state.tail = 0;
  state.tailLength = 0;
  for (; i + 4 <= length; i += 4) {
    h = mixBlock(h, (bytes[i] as number) | ((bytes[i + 1] as number) << 8) | ((bytes[i + 2] as number) << 16) | ((bytes[i + 3] as number) << 24));
  }
  state.h = h;
  while (i < length) {
    state.tail |= (bytes[i++] as number) << (8 * state.tailLength);
    state.tailLength += 1;
  }
}

/** One 4-byte block of murmur3 x86 32-bit. */
function mixBlock(h: number, block: number): number {
  let k = Math.imul(block, 0xcc9e2d51);
  k = (k << 15) | (k >>> 17);
  h ^= Math.imul(k, 0x1b873593);
  h = (h << 13) | (h >>> 19);
  return (Math.imul(h, 5) + 0xe6546b64) | 0;
}

/** True when `key` is usable for routing: a non-empty string or a finite number. */
export function isRoutingKey(key: unknown): key is RoutingKey {
  return (typeof key === 'string' && key.length > 0) || Number.isFinite(key);
}

