import { describeValue, MigrationGlueError } from '../errors.js';

/** How a bounded call ended: its value, its error (unchanged), or no answer in time. */
export type Settled<T> =
  | { readonly status: 'ok'; readonly value: T }
  | { readonly status: 'error'; readonly error: unknown }
  | { readonly status: 'timeout' };

/** Calls user code so that a synchronous throw becomes a rejection and a non-promise a resolved value. */
export function invoke<T>(call: () => T | PromiseLike<T>): Promise<T> {
  try {
    // Promise.resolve also turns a thenable whose `then` getter throws (or a revoked Proxy) into a rejection.
    return Promise.resolve(call());
  } catch (error) {
    return Promise.reject(error);
  }
}

/**
 * Calls user code and settles within `ms` of real time. An answer that comes
 * later goes to `onLate` (if given) and is otherwise dropped: the pending call
 * keeps only a small cell alive, never what the waiter holds. The timer is
 * not unref'd, so a script awaiting the call is not cut short; it is cleared
 * as soon as the call answers.
 */
export function settleWithin<T>(call: () => T | PromiseLike<T>, ms: number, onLate?: (late: Settled<T>) => void): Promise<Settled<T>> {
  return new Promise<Settled<T>>((resolve) => {
    const cell: { finish: ((outcome: Settled<T>) => void) | undefined } = { finish: resolve };
    const timer = setTimeout(() => {
      cell.finish = undefined;
      resolve({ status: 'timeout' });
    }, ms);
    const answer = (outcome: Settled<T>): void => {
      const finish = cell.finish;
      if (finish !== undefined) {
        cell.finish = undefined;
        clearTimeout(timer);
        finish(outcome);
      } else if (onLate !== undefined) {
        try {
          onLate(outcome);
        } catch {
          // onLate only logs and counts; it must never surface as an unhandled rejection
        }
      }
    };
    invoke(call).then(
      (value) => answer({ status: 'ok', value }),
      (error: unknown) => answer({ status: 'error', error }),
    );
  });
}

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
