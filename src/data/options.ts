import { describeValue, InvalidOptionError } from '../errors.js';
import type { Clock } from '../observe/clock.js';
import { systemClock } from '../observe/clock.js';
import { AbortedError } from './data-errors.js';
import type { Repository } from './repository.js';

/** Throws InvalidOptionError (`options`) unless `value` is an object. */
export function requireObject(value: unknown, what: string): void {
  if (typeof value !== 'object' || value === null) {
    throw new InvalidOptionError('options', `must be an object (${what}), got ${describeValue(value)}`);
  }
}

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

/** Returns `value` when it is a function; throws InvalidOptionError naming `option` otherwise. */
export function requireFunction<F>(value: F | undefined, option: string): F {
  if (typeof value !== 'function') throw new InvalidOptionError(option, `must be a function, got ${describeValue(value)}`);
  return value;
}

/** Like requireFunction, but undefined passes through. */
export function optionalFunction<F>(value: F | undefined, option: string): F | undefined {
  return value === undefined ? undefined : requireFunction(value, option);
}

/** `value` as an integer of at least 1, or `fallback` when undefined; throws InvalidOptionError otherwise. */
export function positiveInteger(value: unknown, option: string, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 1) {
    throw new InvalidOptionError(option, `must be an integer of at least 1, got ${describeValue(value)}`);
  }
  return value;
}

/** `value` as an integer of at least 0, or `fallback` when undefined; throws InvalidOptionError otherwise. */
export function nonNegativeInteger(value: unknown, option: string, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) {
    throw new InvalidOptionError(option, `must be an integer of at least 0, got ${describeValue(value)}`);
  }
  return value;
}

/** `value` as a positive finite number, or undefined; throws InvalidOptionError otherwise. */
export function optionalPositiveNumber(value: unknown, option: string): number | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) {
    throw new InvalidOptionError(option, `must be a positive finite number, got ${describeValue(value)}`);
  }
  return value;
}

/** `value` as a boolean, or `fallback` when undefined; throws InvalidOptionError otherwise. */
export function optionalBoolean(value: unknown, option: string, fallback: boolean): boolean {
  if (value === undefined) return fallback;
  if (typeof value !== 'boolean') throw new InvalidOptionError(option, `must be true or false, got ${describeValue(value)}`);
  return value;
}

/** The `clock` option, checked once; systemClock when undefined. */
export function resolveClock(value: Clock | undefined): Clock {
  if (value === undefined) return systemClock;
  if (typeof value !== 'object' || value === null || typeof value.now !== 'function') {
    throw new InvalidOptionError('clock', `must have a now() method, got ${describeValue(value)}`);
  }
  return value;
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
