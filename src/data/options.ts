import { describeValue, InvalidOptionError } from '../errors.js';
import { AbortedError } from './data-errors.js';
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
