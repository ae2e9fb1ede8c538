import { MigrationGlueError } from '../errors.js';
import { abortedError } from './options.js';

/** The default bound on one call to user code from backfill and verify (a store, a checkpoint store, a hook), in ms. */
export const defaultCallTimeoutMs = 60_000;

/** Calls user code on behalf of one job, bounded: see boundedCaller. */
export type BoundedCall = <T>(what: string, fn: () => T | PromiseLike<T>) => Promise<T>;

/**
 * Returns a function that calls user code for `job` (e.g. `backfill`) and
 * settles with its result; or rejects with a MigrationGlueError ERR_TIMEOUT
 * naming `what` when the call has not settled within `timeoutMs`; or with
 * AbortedError as soon as `signal` aborts. A synchronous throw becomes a
 * rejection and a late settlement of a timed-out call is ignored. The timer
 * keeps the process alive while a call is pending, so a script awaiting the
 * job never exits half-way.
 */
export function boundedCaller(job: string, timeoutMs: number, signal: AbortSignal | undefined): BoundedCall {
  return <T>(what: string, fn: () => T | PromiseLike<T>): Promise<T> => {
    if (signal?.aborted === true) return Promise.reject(abortedError(signal, job));
    let pending: Promise<T>;
    try {
      pending = Promise.resolve(fn());
    } catch (err) {
      return Promise.reject(err as Error);
    }
    return new Promise<T>((resolve, reject) => {
      const settle = (): void => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
      };
      const onAbort = (): void => {
        settle();
        reject(abortedError(signal as AbortSignal, job));
      };
      const timer = setTimeout(() => {
        settle();
        reject(new MigrationGlueError('ERR_TIMEOUT', `${job}: ${what} did not settle within ${timeoutMs} ms (option \`timeoutMs\`)`));
      }, timeoutMs);
      signal?.addEventListener('abort', onAbort, { once: true });
      pending.then(
        (value) => {
          settle();
          resolve(value);
        },
        (err: unknown) => {
          settle();
          reject(err as Error);
        },
      );
    });
  };
}
