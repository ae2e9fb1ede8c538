import { InvalidOptionError, describeValue } from '../errors.js';
import type { Logger } from '../observe/logger.js';
import { safeLogger, silentLogger } from '../observe/logger.js';
import type { MigrationConfig } from './migration-config.js';

const levels = ['debug', 'info', 'warn', 'error'] as const;

/**
 * The `logger` option of a store, checked once: silent when undefined, else
 * an object with debug/info/warn/error methods (pino, console), wrapped so
 * that a method that throws is swallowed.
 * @throws InvalidOptionError naming `logger` and the value received.
 */
export function resolveStoreLogger(value: unknown): Logger {
  if (value === undefined) return silentLogger;
  const candidate = value as Partial<Record<(typeof levels)[number], unknown>> | null;
  let usable = false;
  try {
    usable =
      (typeof candidate === 'object' || typeof candidate === 'function') &&
      candidate !== null &&
      levels.every((level) => typeof candidate[level] === 'function');
  } catch {
    // a revoked Proxy, or a getter that throws: not a logger
  }
  if (!usable) {
    throw new InvalidOptionError('logger', `must have debug, info, warn and error methods (a pino logger or console), got ${describeSafely(value)}`);
  }
  return safeLogger(candidate as Logger);
}

/**
 * A listener given to `subscribe`, checked when subscribed rather than when a change arrives.
 * @throws InvalidOptionError naming `listener` and the value received.
 */
export function requireListener(value: unknown): (config: MigrationConfig) => void {
  if (typeof value !== 'function') throw new InvalidOptionError('listener', `must be a function (config) => void, got ${describeSafely(value)}`);
  return value as (config: MigrationConfig) => void;
}

/** describeValue, for a value that may be a revoked Proxy. */
export function describeSafely(value: unknown): string {
  try {
    return describeValue(value);
  } catch {
    return 'an unreadable object (a revoked Proxy?)';
  }
}
