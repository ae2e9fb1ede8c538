import { describeValue } from '../errors.js';
import type { Hasher, RoutingKey } from '../hashing/hasher.js';
import { BUCKETS, bucketOf } from '../hashing/hasher.js';
import type { LogLimiter } from '../observe/log-limiter.js';
import type { RoutingKeyFn, RoutingKeyProblem } from './routing-key.js';
import { defaultRoutingKey, inputFieldNames, safeRoutingKey } from './routing-key.js';

/**
 * A glue's routing keys and buckets: reads the key of an input and its
 * bucket, never throwing, and says (counted, logged rate-limited) why a call
 * had no usable key and what to do about it.
 */
export class KeyReader<I> {
  readonly #name: string;
  readonly #salt: string;
  readonly #hasher: Hasher;
  readonly #routingKey: RoutingKeyFn<I>;
  readonly #customKey: boolean;
  readonly #log: LogLimiter;
  readonly #clean: (input: I) => I;
  readonly #cleanError: (error: unknown, input: I | undefined) => unknown;
  readonly #onProblem: (problem: RoutingKeyProblem, error?: unknown) => void;
  #problem: RoutingKeyProblem = 'missing';
  #error: unknown;
  #missing = 0;

  constructor(init: {
    name: string;
    salt: string;
    hasher: Hasher;
    routingKey: RoutingKeyFn<I> | undefined;
    log: LogLimiter;
    /** The input as logs may show it (the `shadow.clean.input` hook). */
    clean: (input: I) => I;
    /** An error as logs may show it (the `shadow.clean.error` rule). */
    cleanError: (error: unknown, input: I | undefined) => unknown;
  }) {
    this.#name = init.name;
    this.#salt = init.salt;
    this.#hasher = init.hasher;
    this.#customKey = init.routingKey !== undefined;
    this.#routingKey = init.routingKey ?? (defaultRoutingKey as RoutingKeyFn<I>);
    this.#log = init.log;
    this.#clean = init.clean;
    this.#cleanError = init.cleanError;
    this.#onProblem = (problem, error) => {
      this.#problem = problem;
      this.#error = error;
    };
  }

  /** Calls without a usable key so far. */
  get missingKeys(): number {
    return this.#missing;
  }

  /** The routing key; with `diagnose`, why there is none is kept for `missing()`. */
  keyOf(input: I, diagnose = false): RoutingKey | undefined {
    return safeRoutingKey(this.#routingKey, input, diagnose ? this.#onProblem : undefined);
  }

  /** The key's bucket, or undefined (logged) when the hasher throws or returns something that is not a bucket. */
  bucketOf(key: RoutingKey): number | undefined {
    let bucket: number;
    try {
      bucket = bucketOf(key, this.#salt, this.#hasher);
    } catch (err) {
      this.#log.log('error', 'hasher', { migration: this.#name, err: this.#cleanError(err, undefined) }, 'the hasher threw; old served the call');
      return undefined;
    }
    if (Number.isInteger(bucket) && bucket >= 0 && bucket < BUCKETS) return bucket;
    this.#log.log(
      'error',
      'hasher',
      { migration: this.#name, bucket: describeValue(bucket) },
      'the hasher returned something other than an unsigned 32-bit integer; old served the call',
    );
    return undefined;
  }

  /** Counts a call without a usable key (read with `diagnose`) and says, rate-limited, why and what to do. */
  missing(input: I): void {
    this.#missing += 1;
    const problem = this.#problem;
    const error = this.#error;
    this.#problem = 'missing';
    this.#error = undefined;
    this.#log.log(
      'warn',
      `missing-key:${problem}`,
      () => ({
        migration: this.#name,
        missingKeys: this.#missing,
        inputFields: inputFieldNames(this.#clean(input)),
        ...(problem === 'threw' ? { err: this.#cleanError(error, input) } : {}),
      }),
      `call without a routing key: old served it, and no call without a key reaches new. ${this.#advice(problem)}`,
    );
  }

  #advice(problem: RoutingKeyProblem): string {
    switch (problem) {
      case 'threw':
        return 'The `routingKey` option threw for this input: make it return a key (a string or a number) for every input.';
      case 'promise':
        return 'The `routingKey` option returned a promise: it must return the key synchronously (a string or a number).';
      case 'object':
        return 'The `routingKey` option returned an object: it must return a string or a number (e.g. `input => input.accountId`).';
      case 'invalid':
        return 'The `routingKey` option returned a value that is not a key (NaN, Infinity, a boolean...): return a non-empty string or a finite number.';
      case 'missing':
        return this.#customKey
          ? 'The `routingKey` option returned no key (undefined, null or an empty string) for this input.'
          : 'The default routing key reads input.userId, then input.requestId: set the `routingKey` option to the field that identifies a user in these inputs (see inputFields).';
    }
  }
}
