/**
 * Bounded waits on user code, shared by every module that calls it: a
 * service, a store, a hook or a notifier may throw synchronously, return a
 * non-promise, or never answer.
 */

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
