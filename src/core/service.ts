import { InvalidOptionError, describeValue } from '../errors.js';

/** A component being migrated: one async operation. A MigrationGlue is itself a Service, so glues nest. */
export interface Service<I, O> {
  process(input: I): Promise<O>;
}

/** A Service, or a plain function taking the input and returning (a promise of) the output. */
export type ServiceLike<I, O> = Service<I, O> | ((input: I) => Promise<O>);

/** A normalised service call: may still throw synchronously or return a non-promise; callers `await` it. */
export type ServiceCall<I, O> = (input: I) => Promise<O> | O;

/**
 * Normalises a Service or a function once, at construction.
 * @throws InvalidOptionError naming `option` when `service` is neither.
 */
export function toServiceCall<I, O>(service: ServiceLike<I, O>, option: string): ServiceCall<I, O> {
  if (typeof service === 'function') return service;
  let process: unknown;
  try {
    process = typeof service === 'object' && service !== null ? service.process : undefined;
  } catch {
    // a getter that throws or a revoked Proxy: not a Service
  }
  if (typeof process === 'function') return (input: I) => (service as Service<I, O>).process(input);
  throw new InvalidOptionError(option, `must be a Service ({ process(input) }) or an async function, got ${describeValue(service)}`);
}

/**
 * Calls `fn` so that whatever it does comes back as a promise: a synchronous
 * throw becomes a rejection with that very error, a non-promise value a
 * promise of it, a thenable is adopted; a native promise is returned as is.
 */
export function callAsPromise<A extends unknown[], O>(fn: (...args: A) => O | Promise<O>, ...args: A): Promise<O> {
  try {
    return Promise.resolve(fn(...args));
  } catch (err) {
    return Promise.reject(err);
  }
}
