import { describeValue, InvalidOptionError } from '../errors.js';
import { field, option } from '../option-schema.js';
import { AbortedError } from './data-errors.js';
import type { BoundedCall } from './bounded-call.js';
import type { CheckpointStore } from './checkpoint-store.js';
import type { CompareKeys } from './keys.js';
import { compareKeys as defaultCompareKeys, keyId } from './keys.js';
import type { Repository } from './repository.js';

/** Waits `ms` milliseconds of real time; rejects with AbortedError when `signal` aborts first. */
export type Sleep = (ms: number, signal?: AbortSignal) => Promise<void>;

function isSignal(value: unknown): boolean {
  return typeof value === 'object' && value !== null && typeof (value as AbortSignal).aborted === 'boolean' && typeof (value as AbortSignal).addEventListener === 'function';
}

/** The option fields backfill, verify and the dual-write repository share (see option-schema.ts). */
export const dataOption = {
  /** A Repository: an object with get, save, delete and getBatch. */
  repository: <E, K>() => option.withMethods<Repository<E, K>>('get', 'save', 'delete', 'getBatch'),
  /** A CheckpointStore, optional. */
  checkpoint: () => option.withMethods<CheckpointStore>('load', 'save').optional(),
  /** An AbortSignal, optional. */
  signal: () => field<AbortSignal>(isSignal, 'an AbortSignal').optional(),
  /** The injectable sleep; the real timer when absent. */
  sleep: () =>
    option
      .fn<Sleep>()
      .optional()
      .transform((value): Sleep => value ?? realSleep),
};

/**
 * The key order a job reads `store` in: the caller's `compareKeys`, else the
 * store's own `keyOrder()`, else JavaScript's (numbers numerically, strings
 * by code point). `trust` (backfill) accepts a store that cannot say: its
 * order is then trusted, and only a repeated key is refused; a merge of two
 * stores (verify) needs a real order and falls back to JavaScript's.
 */
export async function resolveKeyOrder<E, K>(
  given: CompareKeys<K> | undefined,
  store: Repository<E, K>,
  option: string,
  call: BoundedCall,
  trust: boolean,
): Promise<CompareKeys<K>> {
  if (given !== undefined) return given;
  if (typeof store.keyOrder !== 'function') return defaultCompareKeys as CompareKeys<K>;
  const order: unknown = await call(`${option}.keyOrder`, () => (store.keyOrder as () => Promise<CompareKeys<K> | undefined>).call(store));
  if (typeof order === 'function') return order as CompareKeys<K>;
  if (order !== undefined) throw new InvalidOptionError(option, `keyOrder() must resolve with a function or undefined, got ${describeValue(order)}`);
  return trust ? (a, b) => (keyId(a) === keyId(b) ? 0 : 1) : (defaultCompareKeys as CompareKeys<K>);
}

/** The default sleep: a real timer, cleared on abort. */
export const realSleep: Sleep = (ms, signal) =>
  new Promise<void>((resolve, reject) => {
    if (signal?.aborted === true) {
      reject(abortedError(signal, 'aborted'));
      return;
    }
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(abortedError(signal as AbortSignal, 'aborted'));
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });

/** The AbortedError for `signal`, its reason as the cause. */
export function abortedError(signal: AbortSignal, what: string): AbortedError {
  return new AbortedError(`${what} was aborted`, { cause: signal.reason });
}

/** Throws AbortedError when `signal` has aborted. */
export function throwIfAborted(signal: AbortSignal | undefined, what: string): void {
  if (signal?.aborted === true) throw abortedError(signal, what);
}

/**
 * Calls a progress listener without awaiting it: a throw or a rejection is
 * logged as a warning (`<job> onProgress threw` / `rejected`), never
 * reaching the job.
 */
export function notifyProgress<T>(listener: (value: T) => void, value: T, warn: (err: unknown, message: string) => void, job: string): void {
  try {
    const result: unknown = listener(value);
    // An async listener: its rejection must not become an unhandled one.
    if (typeof (result as PromiseLike<unknown> | undefined)?.then === 'function') {
      Promise.resolve(result).catch((err: unknown) => warn(err, `${job} onProgress rejected`));
    }
  } catch (err) {
    warn(err, `${job} onProgress threw`);
  }
}
