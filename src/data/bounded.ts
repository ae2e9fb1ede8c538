import { describeValue, MigrationGlueError } from '../errors.js';
import type { Settled } from '../bounded.js';

/** The ERR_TIMEOUT error for a store call that did not answer in time. */
export function timeoutError(what: string, ms: number): MigrationGlueError {
  return new MigrationGlueError('ERR_TIMEOUT', `${what} timed out: no answer within ${ms} ms`);
}

/** The value, or throws the error (unchanged) or `onTimeout()`. */
export function unwrap<T>(outcome: Settled<T>, onTimeout: () => unknown): T {
  if (outcome.status === 'ok') return outcome.value;
  throw outcome.status === 'error' ? outcome.error : onTimeout();
}

/** One line describing any thrown value, for people and repair entries; never throws, whatever the value. */
export function errorText(error: unknown): string {
  try {
    if (error instanceof Error) return `${String(error.name)}: ${String(error.message)}`;
    if (typeof error === 'object' && error !== null) return describeValue(error);
    return typeof error === 'string' ? error : describeValue(error);
  } catch {
    return 'an unreadable value (a revoked Proxy or an object whose getters throw)';
  }
}

/**
 * `error` as a plain object a logger can serialise without running user code
 * (getters, Proxy traps): `{ type, message, stack }` read once, or
 * `{ message }` with `errorText` when reading fails.
 */
export function loggableError(error: unknown): { readonly type?: string; readonly message: string; readonly stack?: string } {
  try {
    if (error instanceof Error) {
      return { type: String(error.name), message: String(error.message), stack: String(error.stack) };
    }
  } catch {
    // fall through to the text
  }
  return { message: errorText(error) };
}
