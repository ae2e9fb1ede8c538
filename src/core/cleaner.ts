import { ignoreRejection } from '../errors.js';
import type { LogLimiter } from '../observe/log-limiter.js';
import { plainCopyOrSame } from './clone-input.js';
import type { ErrorSummary } from './error-shown.js';
import { maskText, maskedValues, summarizeError } from './error-shown.js';
import type { CleanHooks } from './shadow-options.js';

/** What a `clean` hook that failed leaves in place of the value. */
export const withheld = '[clean failed]';

/**
 * The `shadow.clean` rules, in one place: how an input, an output and an
 * error may be shown in events and logs. Used by the shadow's reports, the
 * glue's fallback and missing-key lines, and a glued service's dual writes.
 */
export class Cleaner<I, O> {
  readonly #name: string;
  readonly #log: LogLimiter;
  readonly #input: ((input: I) => I) | undefined;
  readonly #output: ((output: O) => O) | undefined;
  readonly #error: ((error: ErrorSummary) => unknown) | undefined;
  /** True when any hook is set: errors are then shown as cleaned copies, never as themselves. */
  readonly active: boolean;
  /** True when `clean.output` is set. */
  readonly cleansOutput: boolean;

  constructor(name: string, clean: CleanHooks<I, O>, log: LogLimiter) {
    this.#name = name;
    this.#log = log;
    this.#input = clean.input;
    this.#output = clean.output;
    this.#error = clean.error;
    this.active = clean.input !== undefined || clean.output !== undefined || clean.error !== undefined;
    this.cleansOutput = clean.output !== undefined;
  }

  /** The input as events may show it: the `clean.input` hook's answer on a copy (the caller's object is never handed to it). */
  input(input: I): I {
    return this.#input === undefined ? input : this.#run(this.#input, input, 'input');
  }

  /** The output as events may show it: the `clean.output` hook's answer on a copy. */
  output(output: O): O {
    return this.#output === undefined ? output : this.#run(this.#output, output, 'output');
  }

  /**
   * An error as events and logs may show it: the error itself when no clean
   * hook is set; else a `{ name, message, code? }` copy whose message has
   * the values `clean.input` masked in `input` masked too, or what
   * `clean.error` returns for that copy.
   */
  error(error: unknown, input: I | undefined): unknown {
    if (!this.active) return error;
    const summary = summarizeError(error);
    const secrets = input === undefined || this.#input === undefined ? [] : maskedValues(input, this.input(input));
    const shown = secrets.length === 0 ? summary : { ...summary, message: maskText(summary.message, secrets) };
    return this.#error === undefined ? shown : this.#run(this.#error, shown, 'error');
  }

  /**
   * Runs a `clean` hook on a copy of `value`. A hook that throws, or answers
   * with a promise (it must be synchronous; its rejection is handled, never
   * left unhandled), withholds the value as `'[clean failed]'`.
   */
  #run<T, R = T>(hook: (value: T) => R, value: T, what: 'input' | 'output' | 'error'): R {
    let answer: R;
    try {
      answer = hook(plainCopyOrSame(value));
    } catch (err) {
      // Only the error's name: a hook failing on a secret-bearing value may quote it in its message.
      this.#log.log('warn', `clean-${what}`, { errorName: errorName(err), migration: this.#name }, `shadow.clean.${what} threw; the ${what} is withheld`);
      return withheld as R;
    }
    if (!isThenable(answer)) return answer;
    ignoreRejection(answer);
    this.#log.log('warn', `clean-${what}`, { migration: this.#name }, `shadow.clean.${what} returned a promise (it must be synchronous); the ${what} is withheld`);
    return withheld as R;
  }
}

/** True when `value` has a callable `then`; false for anything else, a revoked Proxy included. Never throws. */
export function isThenable(value: unknown): boolean {
  if ((typeof value !== 'object' && typeof value !== 'function') || value === null) return false;
  try {
    return typeof (value as { then?: unknown }).then === 'function';
  } catch {
    return false;
  }
}

/** The constructor name of a thrown value, read without trusting it; never its message. */
function errorName(err: unknown): string {
  try {
    if (err instanceof Error) return typeof err.name === 'string' ? err.name.slice(0, 100) : 'Error';
  } catch {
    // a Proxy or a throwing getter
  }
  return typeof err;
}
