import { z } from 'zod';
import { InvalidOptionError, describeValue } from './errors.js';
import type { Clock } from './observe/clock.js';
import { maxTimerMs, resolveClock } from './options.js';

// One way to check options: each options type is a strict zod object built
// from the fields below, parsed once in its constructor with parseOptions().
// A field's message keeps the wording users already know ("must be ..., got
// <value>"); an unknown option is refused with the nearest known name.

/** A field that passes `test`, else fails with "must be <expected>, got <value>". */
export function field<T>(test: (value: unknown) => boolean, expected: string): z.ZodType<T> {
  return z.custom<T>((value) => test(value), { error: (issue) => `must be ${expected}, got ${describeValue(issue.input)}` });
}

const isFunction = (value: unknown) => typeof value === 'function';
const isInteger = (min: number) => (value: unknown) => typeof value === 'number' && Number.isSafeInteger(value) && value >= min;

/** The field builders every options schema uses. */
export const option = {
  /** Any function; a caller's own signature via the type parameter. */
  fn: <F>() => field<F>(isFunction, 'a function'),
  boolean: () => field<boolean>((value) => typeof value === 'boolean', 'true or false'),
  string: () => field<string>((value) => typeof value === 'string' && value.length > 0, 'a non-empty string'),
  positiveInteger: () => field<number>(isInteger(1), 'an integer of at least 1'),
  nonNegativeInteger: () => field<number>(isInteger(0), 'an integer of at least 0'),
  positiveNumber: () =>
    field<number>((value) => typeof value === 'number' && Number.isFinite(value) && value > 0, 'a positive finite number'),
  /** A timer delay in ms: above 0 and at most what a Node timer holds. */
  timerMs: () =>
    field<number>(
      (value) => typeof value === 'number' && Number.isFinite(value) && value > 0 && value <= maxTimerMs,
      `a number of ms above 0 and at most ${maxTimerMs}`,
    ),
  /** A finite number within `min..max`, an integer when `integer`. */
  range: (min: number, max: number, integer = false) =>
    field<number>(
      (value) =>
        typeof value === 'number' && Number.isFinite(value) && value >= min && value <= max && (!integer || Number.isInteger(value)),
      `${integer ? 'an integer' : 'a number'} from ${min} to ${max}`,
    ),
  /** An object with the named methods (a logger, a store, a client): kept as given, never copied. */
  withMethods: <T>(...methods: string[]) =>
    field<T>((value) => hasMethods(value, methods), `an object with ${methods.map((m) => `${m}()`).join(', ')}`),
  /** A nested options object, strict like the top level: an unknown key is refused with the nearest name. */
  object: <S extends z.core.$ZodLooseShape>(shape: S) =>
    z.strictObject(shape, {
      error: (issue) => (issue.code === 'invalid_type' ? `must be an object, got ${describeValue(issue.input)}` : undefined),
    }),
  /** The `clock` option: resolved to a guarded clock (systemClock when undefined). */
  clock: () =>
    field<Clock>((value) => hasMethods(value, ['now']), 'an object with a now() method')
      .optional()
      .transform((value) => resolveClock(value)),
};

/** True when `value` is an object (or function) with each of these methods; false for a throwing getter or a revoked Proxy. Never throws. */
export function hasMethods(value: unknown, methods: readonly string[]): boolean {
  if ((typeof value !== 'object' && typeof value !== 'function') || value === null) return false;
  try {
    return methods.every((method) => typeof (value as Record<string, unknown>)[method] === 'function');
  } catch {
    return false; // a throwing getter or a revoked Proxy
  }
}

/**
 * Parses `value` with `schema` (build it with z.strictObject so an unknown
 * option is refused): returns the options with defaults resolved, or throws
 * InvalidOptionError naming the first bad option. `what` names the options'
 * owner in messages, e.g. "MigrationGlue". Never throws anything else: a
 * getter that throws or a revoked Proxy is reported as an unreadable option.
 */
export function parseOptions<S extends z.ZodType>(schema: S, value: unknown, what: string): z.output<S> {
  if (typeof value !== 'object' || value === null) {
    throw new InvalidOptionError('options', `must be an object (${what}), got ${describeValue(value)}`);
  }
  let proto: string[] | undefined;
  let result: ReturnType<S['safeParse']>;
  try {
    proto = ownProtoKey(value, schema, []);
    result = schema.safeParse(value) as ReturnType<S['safeParse']>;
  } catch (err) {
    throw new InvalidOptionError('options', `could not be read (${what}): ${describeValue(err)}`);
  }
  if (proto !== undefined) throw new InvalidOptionError([...proto, '__proto__'].join('.'), `is not an option of ${what}`);
  if (result.success) return result.data as z.output<S>;
  // A misspelt option also shows as a missing one: name the misspelling, it says more.
  const issues = result.error.issues;
  throw toOptionError(issues.find((issue) => issue.code === 'unrecognized_keys') ?? issues[0], schema, what);
}

/**
 * The path of an object holding an own `__proto__` key (JSON.parse makes
 * them), which zod's strict check lets through; undefined when none.
 */
function ownProtoKey(value: unknown, schema: unknown, path: readonly string[]): string[] | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const shape = (unwrap(schema) as { shape?: Record<string, unknown> } | undefined)?.shape;
  try {
    if (Object.hasOwn(value, '__proto__')) return [...path];
    if (shape === undefined || path.length > 8) return undefined;
    for (const key of Object.keys(shape)) {
      const inner = Object.getOwnPropertyDescriptor(value, key);
      if (inner === undefined || !('value' in inner)) continue; // a getter is read once, by zod
      const found = ownProtoKey(inner.value, shape[key], [...path, key]);
      if (found !== undefined) return found;
    }
  } catch {
    // a revoked Proxy or a throwing trap: the schema reports it under its own name
  }
  return undefined;
}

function toOptionError(issue: z.core.$ZodIssue | undefined, schema: z.ZodType, what: string): InvalidOptionError {
  if (issue === undefined) return new InvalidOptionError('options', `are invalid (${what})`);
  const path = issue.path.map(String);
  if (issue.code === 'unrecognized_keys') {
    const name = issue.keys[0] ?? '';
    const known = knownNames(schema, path);
    const near = nearestName(name, known);
    const hint = near === undefined ? '' : `; did you mean \`${[...path, near].join('.')}\`?`;
    return new InvalidOptionError([...path, name].join('.'), `is not an option of ${what}${hint} (known: ${known.join(', ')})`);
  }
  const option = path.length === 0 ? 'options' : path.join('.');
  const message = issue.code === 'custom' ? issue.message : `${issue.message.charAt(0).toLowerCase()}${issue.message.slice(1)}`;
  return new InvalidOptionError(option, message);
}

/** The option names the object schema at `path` knows, in declaration order. */
function knownNames(schema: z.ZodType, path: readonly string[]): string[] {
  let current: unknown = schema;
  for (const segment of [...path, '']) {
    current = unwrap(current);
    const shape = (current as { shape?: Record<string, unknown> }).shape;
    if (shape === undefined) return [];
    if (segment === '') return Object.keys(shape);
    current = shape[segment];
  }
  return [];
}

function unwrap(schema: unknown): unknown {
  let current = schema as { unwrap?: () => unknown; def?: { innerType?: unknown; in?: unknown } } | undefined;
  for (let i = 0; i < 10 && current !== undefined; i++) {
    const inner = current.def?.innerType ?? current.def?.in;
    if (inner === undefined) break;
    current = inner as typeof current;
  }
  return current;
}

/** The known name closest to `name` (edit distance, case-insensitive), when close enough to be a slip. */
export function nearestName(name: string, known: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = Infinity;
  const lower = name.toLowerCase();
  for (const candidate of known) {
    const candidateLower = candidate.toLowerCase();
    const distance =
      candidateLower.includes(lower) || lower.includes(candidateLower) ? Math.abs(candidate.length - name.length) / 2 : editDistance(lower, candidateLower);
    if (distance < bestDistance) {
      best = candidate;
      bestDistance = distance;
    }
  }
  return bestDistance <= Math.max(2, Math.floor(name.length / 3)) ? best : undefined;
}

function editDistance(a: string, b: string): number {
  if (a.length > 64 || b.length > 64) return Infinity;
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) {
      row[j] = Math.min(previous[j]! + 1, row[j - 1]! + 1, previous[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    previous = row;
  }
  return previous[b.length]!;
}
