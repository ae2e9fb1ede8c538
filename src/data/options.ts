import { describeValue, InvalidOptionError } from '../errors.js';
import { numberInRange } from '../options.js';
import { AbortedError } from './data-errors.js';
import type { BoundedCall } from './bounded-call.js';
import type { CompareKeys } from './keys.js';
import { compareKeys as defaultCompareKeys, keyId } from './keys.js';
import type { Repository } from './repository.js';

/** Returns `value` when it has the four Repository methods; throws InvalidOptionError naming `option` otherwise. */
export function requireRepository<E, K>(value: Repository<E, K> | undefined, option: string): Repository<E, K> {
  const candidate = value as Partial<Repository<E, K>> | undefined;
  if (
    typeof candidate !== 'object' ||
    candidate === null ||
    typeof candidate.get !== 'function' ||
    typeof candidate.save !== 'function' ||
    typeof candidate.delete !== 'function' ||
    typeof candidate.getBatch !== 'function'
  ) {
    throw new InvalidOptionError(option, `must be a Repository (get, save, delete, getBatch), got ${describeValue(value)}`);
  }
  return value as Repository<E, K>;
}

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

/** The `signal` option, checked once: an AbortSignal or undefined. */
export function optionalSignal(value: AbortSignal | undefined): AbortSignal | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'object' || value === null || typeof value.aborted !== 'boolean' || typeof value.addEventListener !== 'function') {
    throw new InvalidOptionError('signal', `must be an AbortSignal, got ${describeValue(value)}`);
  }
  return value;
}

/** Waits `ms` milliseconds of real time; rejects with AbortedError when `signal` aborts first. */
export type Sleep = (ms: number, signal?: AbortSignal) => Promise<void>;

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

/** The time and concurrency bounds of a DualWriteRepository, resolved once. */
export interface DualWriteLimits {
  readonly timeoutMs: number;
  readonly secondaryTimeoutMs: number;
  readonly shadowTimeoutMs: number;
  readonly shadowMaxInFlight: number;
}

const maxTimerMs = 2_147_483_647;

/** Checks and defaults `timeoutMs`, `secondaryTimeoutMs` and `shadow` of DualWriteRepository options. */
export function resolveDualWriteLimits(options: { timeoutMs?: unknown; secondaryTimeoutMs?: unknown; shadow?: unknown }): DualWriteLimits {
  const shadow = options.shadow ?? {};
  if (typeof shadow !== 'object' || shadow === null) {
    throw new InvalidOptionError('shadow', `must be an object ({ timeoutMs?, maxInFlight? }), got ${describeValue(options.shadow)}`);
  }
  const { timeoutMs, maxInFlight } = shadow as { timeoutMs?: unknown; maxInFlight?: unknown };
  return {
    timeoutMs: numberInRange(options.timeoutMs, 'timeoutMs', 30_000, 1, maxTimerMs),
    secondaryTimeoutMs: numberInRange(options.secondaryTimeoutMs, 'secondaryTimeoutMs', 5_000, 1, maxTimerMs),
    shadowTimeoutMs: numberInRange(timeoutMs, 'shadow.timeoutMs', 5_000, 1, maxTimerMs),
    shadowMaxInFlight: numberInRange(maxInFlight, 'shadow.maxInFlight', 1_000, 1, Number.MAX_SAFE_INTEGER, true),
  };
}
