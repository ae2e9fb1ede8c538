import { z } from 'zod';
import { describeValue } from '../errors.js';
import { maxTimerMs } from '../options.js';
import { field, option } from '../option-schema.js';
import type { ErrorSummary } from './error-shown.js';

/**
 * When the shadow call runs relative to old's.
 * - `parallel` (default): both start together; the caller waits for old only. No added latency.
 * - `old-first`: new starts once old has answered. No added latency; for a new
 *   system that must see old's writes first.
 * - `new-first`: new runs before old starts; old starts when new has settled
 *   or `timeoutMs` has passed, whichever comes first. Adds new's latency, at
 *   most `timeoutMs`, to every shadowed call: use it only when the order matters.
 * - `random`: `old-first` or `new-first` at random per call, as Scientist does,
 *   to expose order dependence. Adds new's latency (at most `timeoutMs`) to half the calls.
 */
export type ShadowOrder = 'parallel' | 'old-first' | 'new-first' | 'random';

/** Shadow mode settings of a MigrationGlue. */
export interface ShadowOptions<I, O> {
  /**
   * How long to wait for new's shadow answer, in ms of real time. Also the
   * longest a caller waits for new with `new-first` or `random`, and the
   * longest `drain()` and `close()` wait for a hung new.
   * @default 5000
   */
  readonly timeoutMs?: number;
  /** At most this many shadow calls at once; more are skipped and counted. @default 1000 */
  readonly maxInFlight?: number;
  /** Share of routing keys shadowed, 0 to 1, by key (a sampled user is always compared). @default 1 */
  readonly sampleRate?: number;
  /** @default 'parallel' */
  readonly order?: ShadowOrder;
  /**
   * `clone` (default) gives new a structured clone of the input, so new can
   * never change what old sees, and reports a new service that mutates its
   * input. `none` passes the same object (cheaper; for immutable inputs).
   */
  readonly isolateInput?: 'clone' | 'none';
  /** A/A mode: old is shadowed against itself to measure the comparison's noise floor. @default false */
  readonly aa?: boolean;
  /** On a mismatch, call old once more: if old disagrees with itself, the mismatch is `flaky`. @default false */
  readonly rerunOldOnMismatch?: boolean;
  /**
   * Redaction for everything that leaves the glue (events, logs,
   * fingerprints, stats): return a copy with secrets masked (in values or in
   * keys). The comparator runs once, on the real values; what is shown (the
   * diff, the fingerprint) is computed from the cleaned ones. Each hook gets
   * a copy of plain data, never the caller's object. A hook that throws
   * withholds the value (`'[clean failed]'`).
   *
   * With any hook set, an error (a failed call's, a comparator's, a
   * routing key's) is shown as a `{ name, message, code? }` copy, the values
   * `input` masked in the input masked in its message too; `error`, when
   * given, gets that copy and returns what to show instead.
   */
  readonly clean?: CleanHooks<I, O>;
  /** Mismatches logged in full per fingerprint per minute; the rest are counted. @default 10 */
  readonly logPerMinute?: number;
  /** Mismatch lines logged per minute over all fingerprints together; the rest are counted. @default 100 */
  readonly logTotalPerMinute?: number;
}

/** The `shadow.clean` hooks. */
export interface CleanHooks<I, O> {
  readonly input?: (input: I) => I;
  readonly output?: (output: O) => O;
  readonly error?: (error: ErrorSummary) => unknown;
}

const orders: readonly unknown[] = ['parallel', 'old-first', 'new-first', 'random'];

/** A strict object whose wrong type reads "must be an object, got ...". */
function objectOf<S extends z.core.$ZodLooseShape>(shape: S, expected: string) {
  return z.strictObject(shape, {
    error: (issue) => (issue.code === 'invalid_type' ? `must be ${expected}, got ${describeValue(issue.input)}` : undefined),
  });
}

const cleanSchema = objectOf(
  {
    input: option.fn<(input: unknown) => unknown>().optional(),
    output: option.fn<(output: unknown) => unknown>().optional(),
    error: option.fn<(error: ErrorSummary) => unknown>().optional(),
  },
  'an object { input?, output? }',
);

/** The schema of the `shadow` option (its fields are reported as `shadow.<name>`). */
export const shadowSchema = objectOf(
  {
    timeoutMs: option.range(1, maxTimerMs).default(5_000),
    maxInFlight: option.range(1, Number.MAX_SAFE_INTEGER, true).default(1_000),
    sampleRate: option.range(0, 1).default(1),
    order: field<ShadowOrder>((value) => orders.includes(value), "'parallel', 'old-first', 'new-first' or 'random'").default('parallel'),
    isolateInput: field<'clone' | 'none'>((value) => value === 'clone' || value === 'none', "'clone' or 'none'").default('clone'),
    aa: option.boolean().default(false),
    rerunOldOnMismatch: option.boolean().default(false),
    // null is accepted as "no hooks", as it always was.
    clean: cleanSchema.nullable().optional(),
    logPerMinute: option.range(0, Number.MAX_SAFE_INTEGER, true).default(10),
    logTotalPerMinute: option.range(0, Number.MAX_SAFE_INTEGER, true).default(100),
  },
  'an object',
);

/** ShadowOptions with every default resolved. */
export type ResolvedShadowOptions<I, O> = Omit<Required<ShadowOptions<I, O>>, 'clean'> & {
  readonly clean: CleanHooks<I, O>;
};

/** The defaults, for a glue given no `shadow` option. */
export const defaultShadowOptions: ResolvedShadowOptions<never, never> = Object.freeze({ ...shadowSchema.parse({}), clean: {} });
