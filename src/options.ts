import { InvalidOptionError, describeValue, ignoreRejection } from './errors.js';
import type { Clock } from './observe/clock.js';
import { systemClock } from './observe/clock.js';

// Option checks shared by every module: each runs once, in a constructor or
// factory, and throws InvalidOptionError naming the option and the value received.

/** Throws InvalidOptionError (`options`) unless `value` is an object. */
export function requireObject(value: unknown, what: string): void {
  if (typeof value !== 'object' || value === null) {
    throw new InvalidOptionError('options', `must be an object (${what}), got ${describeValue(value)}`);
  }
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

/**
 * The `clock` option, checked once; systemClock when undefined. A user's
 * clock is wrapped so that a reading that throws or is not a finite number
 * never reaches the library: the last good reading stands in (the system
 * clock before the first one).
 */
export function resolveClock(value: Clock | undefined): Clock {
  if (value === undefined) return systemClock;
  let now: unknown;
  try {
    now = (value as Partial<Clock> | null)?.now;
  } catch {
    now = undefined;
  }
  if (typeof value !== 'object' || value === null || typeof now !== 'function') {
    throw new InvalidOptionError('clock', `must have a now() method, got ${describeValue(value)}`);
  }
  return safeClock(value, now as () => unknown);
}

function safeClock(clock: Clock, now: () => unknown): Clock {
  let last: number | undefined;
  return {
    now() {
      try {
        const reading = now.call(clock);
        if (typeof reading === 'number' && Number.isFinite(reading)) {
          last = reading;
          return reading;
        }
        ignoreRejection(reading);
      } catch {
        // a broken clock must not break the request
      }
      return last ?? systemClock.now();
    },
  };
}

/** The longest delay a Node timer holds (about 24.8 days); longer ones fire at once. */
export const maxTimerMs = 2_147_483_647;

/** `value` as a timer delay in ms (more than 0, at most maxTimerMs), or `fallback` when undefined; throws InvalidOptionError otherwise. */
export function timerMs<F extends number | undefined>(value: unknown, option: string, fallback: F): number | F {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0 || value > maxTimerMs) {
    throw new InvalidOptionError(option, `must be a number of ms above 0 and at most ${maxTimerMs}, got ${describeValue(value)}`);
  }
  return value;
}

/** `value` as a finite number within `min..max` (an integer when `integer`), or `fallback` when undefined. */
export function numberInRange(value: unknown, option: string, fallback: number, min: number, max: number, integer = false): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isFinite(value) || value < min || value > max || (integer && !Number.isInteger(value))) {
    throw new InvalidOptionError(option, `must be ${integer ? 'an integer' : 'a number'} from ${min} to ${max}, got ${describeValue(value)}`);
  }
  return value;
}
