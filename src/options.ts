import { InvalidOptionError, describeValue, ignoreRejection } from './errors.js';
import type { Clock } from './observe/clock.js';
import { systemClock } from './observe/clock.js';

// What option parsing (src/option-schema.ts) shares with the rest: the
// longest timer delay, and the guarded clock.

/** The longest delay a Node timer holds (about 24.8 days); longer ones fire at once. */
export const maxTimerMs = 2_147_483_647;

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

