import { describeValue } from '../errors.js';

/** How a bounded wait on user code ended. */
export type Settled<T> =
  | { readonly status: 'value'; readonly value: T }
  | { readonly status: 'error'; readonly error: unknown }
  | { readonly status: 'timeout' };

/**
 * Calls `work` (user code: it may throw, return garbage, or never settle)
 * and waits for it at most `ms` of real time. Never throws or rejects.
 * The timer is not unref'd: a caller awaiting the result keeps the process
 * alive until it settles, which is at most `ms`.
 */
export function settleWithin<T>(work: () => T | PromiseLike<T>, ms: number): Promise<Settled<T>> {
  return new Promise((resolve) => {
    let done = false;
    const finish = (outcome: Settled<T>) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      resolve(outcome);
    };
    const timer = setTimeout(() => finish({ status: 'timeout' }), ms);
    let result: T | PromiseLike<T>;
    try {
      result = work();
    } catch (error) {
      finish({ status: 'error', error });
      return;
    }
    // Promise.resolve turns a thenable whose `then` throws (or a revoked Proxy) into a rejection.
    Promise.resolve(result).then(
      (value) => finish({ status: 'value', value }),
      (error: unknown) => finish({ status: 'error', error }),
    );
  });
}

/** A finite reading of `clock.now()`, or undefined when it throws or returns anything else. */
export function readClock(clock: { now(): number }): number | undefined {
  try {
    const now: unknown = clock.now();
    return typeof now === 'number' && Number.isFinite(now) ? now : undefined;
  } catch {
    return undefined;
  }
}

/** A short, never-throwing description of an error for logs and reasons. */
export function errorText(err: unknown): string {
  try {
    if (err instanceof Error) return String(err.message).slice(0, 300);
    if (typeof err === 'string') return err.slice(0, 300);
    return describeValue(err);
  } catch {
    return 'an unreadable error';
  }
}
