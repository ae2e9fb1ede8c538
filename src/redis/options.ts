import type { Redis } from 'ioredis';
import { InvalidOptionError, describeValue } from '../errors.js';

/** Checks that `value` looks like an ioredis client (has `duplicate`, `eval`, `get`). */
export function requireRedis(value: unknown, option = 'redis'): Redis {
  const candidate = value as Partial<Record<'duplicate' | 'eval' | 'get', unknown>> | null | undefined;
  if (
    typeof candidate !== 'object' ||
    candidate === null ||
    typeof candidate.duplicate !== 'function' ||
    typeof candidate.eval !== 'function' ||
    typeof candidate.get !== 'function'
  ) {
    throw new InvalidOptionError(option, `must be an ioredis client (new Redis(url)), got ${describeValue(value)}`);
  }
  return value as Redis;
}

/** Checks a required, non-empty string option. */
export function requireString(value: unknown, option: string, what: string): string {
  if (typeof value !== 'string' || value.length === 0) {
    throw new InvalidOptionError(option, `must be a non-empty string (${what}), got ${describeValue(value)}`);
  }
  return value;
}

/** Checks an optional number of milliseconds, at least `min`; returns the default when absent. */
export function optionalMs(value: unknown, option: string, fallback: number, min = 1): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isFinite(value) || value < min) {
    throw new InvalidOptionError(option, `must be a finite number of milliseconds, at least ${min}, got ${describeValue(value)}`);
  }
  return value;
}
