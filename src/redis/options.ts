import type { Redis } from 'ioredis';
import { InvalidOptionError, describeValue } from '../errors.js';
import { field, hasMethods } from '../option-schema.js';

const redisExpected = 'an ioredis client (new Redis(url))';

const isRedis = (value: unknown): boolean => hasMethods(value, ['duplicate', 'eval', 'get']);

/** Checks that `value` looks like an ioredis client (has `duplicate`, `eval`, `get`). */
export function requireRedis(value: unknown, option = 'redis'): Redis {
  if (!isRedis(value)) throw new InvalidOptionError(option, `must be ${redisExpected}, got ${describeValue(value)}`);
  return value as Redis;
}

/** Schema fields of the redis module's options (see option-schema.ts); messages as the require* checks above. */
export const redisOption = {
  /** An ioredis client, kept as given (never closed by us). */
  client: () => field<Redis>(isRedis, redisExpected),
  /** A required non-empty string; `what` says what it names. */
  string: (what: string) => field<string>((value) => typeof value === 'string' && value.length > 0, `a non-empty string (${what})`),
  /** A finite number of milliseconds, at least `min`. */
  ms: (min: number) =>
    field<number>((value) => typeof value === 'number' && Number.isFinite(value) && value >= min, `a finite number of milliseconds, at least ${min}`),
};

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
