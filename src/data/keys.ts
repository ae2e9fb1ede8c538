import { describeValue, MigrationGlueError } from '../errors.js';

/** Orders two keys: negative when `a` sorts first, 0 when equal, positive otherwise. */
export type CompareKeys<K> = (a: K, b: K) => number;

/**
 * The default key order: numbers and bigints numerically, strings by Unicode
 * code point (the order of their UTF-8 bytes, as PostgreSQL's `C` collation
 * sorts), and across types by type name. Stores compared with it (verify)
 * must return `getBatch` in this order.
 */
export function compareKeys(a: unknown, b: unknown): number {
  if ((typeof a === 'number' || typeof a === 'bigint') && (typeof b === 'number' || typeof b === 'bigint')) {
    return a < b ? -1 : a > b ? 1 : 0;
  }
  if (typeof a === 'string' && typeof b === 'string') return compareCodePoints(a, b);
  const ta = typeof a;
  const tb = typeof b;
  if (ta !== tb) return ta < tb ? -1 : 1;
  const sa = String(a);
  const sb = String(b);
  return sa < sb ? -1 : sa > sb ? 1 : 0;
}

/** Strings by Unicode code point: the order of their UTF-8 bytes (PostgreSQL's C collation). */
export function compareCodePoints(a: string, b: string): number {
  const length = Math.min(a.length, b.length);
  for (let i = 0; i < length; i++) {
    const ca = a.charCodeAt(i);
    const cb = b.charCodeAt(i);
    if (ca === cb) continue;
    // UTF-16 units order differently from code points only where a surrogate meets U+E000..U+FFFF.
    if (ca >= 0xd800 && ca <= 0xdfff && cb >= 0xe000) return 1;
    if (cb >= 0xd800 && cb <= 0xdfff && ca >= 0xe000) return -1;
    return ca - cb;
  }
  return a.length - b.length;
}

/**
 * Returns `key` when it is a usable key (a string, a finite number or a
 * bigint); rejects anything else with ERR_INVALID_KEY naming `what` produced it.
 */
export function requireKey<K>(key: K, what: string): K {
  if (typeof key === 'string' || typeof key === 'bigint' || (typeof key === 'number' && Number.isFinite(key))) return key;
  throw new MigrationGlueError('ERR_INVALID_KEY', `${what} must be a string, a finite number or a bigint, got ${safeDescribe(key)}`);
}

function safeDescribe(value: unknown): string {
  try {
    return describeValue(value);
  } catch {
    return 'a revoked Proxy';
  }
}

/** A string that identifies a key in a Map: `1` and `'1'` stay distinct. */
export function keyId(key: unknown): string {
  return `${typeof key}:${String(key)}`;
}

/**
 * Runs tasks one at a time per key, in call order, so that two writes of the
 * same key reach both stores in the same order. Different keys run freely.
 */
export class KeyedQueue {
  readonly #tails = new Map<string, Promise<void>>();

  /** Runs `task` after every task queued before it for `id`; resolves or rejects as `task` does. */
  run<T>(id: string, task: () => Promise<T>): Promise<T> {
    const previous = this.#tails.get(id);
    const result = previous === undefined ? task() : previous.then(task);
    const tail = result.then(noop, noop);
    this.#tails.set(id, tail);
    void tail.then(() => {
      if (this.#tails.get(id) === tail) this.#tails.delete(id);
    });
    return result;
  }
}

function noop(): void {}
