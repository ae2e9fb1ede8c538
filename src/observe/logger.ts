import pino from 'pino';
import { z } from 'zod';
import { InvalidOptionError, describeValue, ignoreRejection } from '../errors.js';

/** A structured log method, as pino's: a context object first, then a message. */
export type LogMethod = (context: object, message?: string) => void;

/**
 * The logger the library writes to: pino-compatible, so a pino instance (or
 * a child of one) fits as is. We log decisions worth a human's attention
 * (rollback, fallback, config change, mismatch), never one line per call.
 */
export interface Logger {
  debug: LogMethod;
  info: LogMethod;
  warn: LogMethod;
  error: LogMethod;
}

/**
 * What the library's log lines carry of an error under `err`: never the
 * error's other enumerable properties (an HTTP client's request config with
 * its `Authorization` header, a card number), only these, each bounded.
 */
export interface ErrorSummary {
  /** The error's `name` (or its constructor's), or the type of a thrown non-object (`string`, `number`...). */
  readonly name: string;
  /** At most 1,000 characters. */
  readonly message: string;
  /** A string (at most 100 characters) or a finite number, when the error has one. */
  readonly code?: string | number;
  /** At most 20 lines and 4,000 characters. */
  readonly stack?: string;
  /** The same summary of `cause`, at most 3 levels deep. */
  readonly cause?: ErrorSummary;
}

const noop: LogMethod = () => {};

/** Why `target` is not a logger ("must be ..., got ..."), or undefined when it is one. */
function loggerProblem(target: unknown): string | undefined {
  if ((typeof target !== 'object' && typeof target !== 'function') || target === null) {
    return `must be a pino-compatible logger ({ debug, info, warn, error }), got ${describeValue(target)}`;
  }
  if (!levels.some((level) => typeof readProperty(target, level) === 'function')) {
    return `must be a pino-compatible logger with debug, info, warn and error methods, got ${describeValue(target)}`;
  }
  return undefined;
}

/**
 * The `logger` option of an options schema (see option-schema.ts): checked
 * like safeLogger, resolved to a logger whose methods never throw. When
 * absent: `'pino'` gives the default pino logger (what glues and the parts
 * that act on a migration use), `'silent'` gives silentLogger (what stores
 * and helpers use, so that a library default never writes to stdout).
 */
export function loggerOption(fallback: 'pino' | 'silent') {
  return z
    .custom<Logger>((value) => loggerProblem(value) === undefined, { error: (issue) => loggerProblem(issue.input) ?? 'must be a logger' })
    .optional()
    .transform((value): Logger => (value === undefined && fallback === 'silent' ? silentLogger : safeLogger(value)));
}
const levels = ['debug', 'info', 'warn', 'error'] as const;

/** A Logger that writes nothing. */
export const silentLogger: Logger = Object.freeze({ debug: noop, info: noop, warn: noop, error: noop });

/** The default logger: pino at `info`, named `migration-glue`, to stdout. */
export function defaultLogger(): Logger {
  return pino({ name: 'migration-glue', level: 'info' });
}

/**
 * Checks a user's logger once and returns one whose methods never throw.
 * A missing method is replaced by a no-op; a method that throws is
 * swallowed, since logging must never break the caller's request. The
 * default logger (`undefined`) is wrapped the same way. An error under the
 * context's `err` or `error` key is written as its ErrorSummary.
 * @throws InvalidOptionError naming `option` when `logger` is not an object with at least one of debug, info, warn, error.
 */
export function safeLogger(logger: Logger | undefined, option = 'logger'): Logger {
  const target: unknown = logger === undefined ? defaultLogger() : logger;
  const problem = loggerProblem(target);
  if (problem !== undefined) throw new InvalidOptionError(option, problem);
  const methods = levels.map((level) => readProperty(target as object, level));
  const wrap = (method: unknown): LogMethod => {
    if (typeof method !== 'function') return noop;
    return (context, message) => {
      try {
        ignoreRejection(method.call(target, safeContext(context), message));
      } catch {
        // a broken logger, or a value it cannot serialise, must not break the request
      }
    };
  };
  const [debug, info, warn, error] = methods.map(wrap) as [LogMethod, LogMethod, LogMethod, LogMethod];
  return { debug, info, warn, error };
}

/**
 * The one way the library turns a thrown value into something a log line
 * may carry: every read guarded (throwing getters, revoked Proxies), every
 * string bounded, no enumerable property beyond name, message, code, stack
 * and cause. Never throws.
 */
export function serializeError(value: unknown): ErrorSummary {
  return summarise(value, 0);
}

const maxMessage = 1_000;
const maxName = 100;
const maxStackChars = 4_000;
const maxStackLines = 20;
const maxCauseDepth = 3;

function summarise(value: unknown, depth: number): ErrorSummary {
  // A null prototype: pino's err serializer then takes `name` as the type instead of "Object".
  const summary = Object.create(null) as { -readonly [K in keyof ErrorSummary]: ErrorSummary[K] };
  if ((typeof value !== 'object' && typeof value !== 'function') || value === null) {
    summary.name = value === null ? 'null' : typeof value;
    summary.message = bounded(safeString(value), maxMessage);
    return summary;
  }
  const name = readProperty(value, 'name');
  summary.name = bounded(typeof name === 'string' && name !== '' ? name : constructorName(value), maxName);
  const message = readProperty(value, 'message');
  summary.message = typeof message === 'string' ? bounded(message, maxMessage) : '';
  const code = readProperty(value, 'code');
  if (typeof code === 'string') summary.code = bounded(code, maxName);
  else if (typeof code === 'number' && Number.isFinite(code)) summary.code = code;
  const stack = readProperty(value, 'stack');
  if (typeof stack === 'string') summary.stack = boundedStack(stack);
  if (depth < maxCauseDepth) {
    const cause = readProperty(value, 'cause');
    if (cause !== undefined && cause !== value) summary.cause = summarise(cause, depth + 1);
  }
  return summary;
}

/** Reads `object[key]`; undefined when the read throws (a getter, a revoked Proxy). */
export function readProperty(object: unknown, key: string): unknown {
  try {
    return (object as Record<string, unknown>)[key];
  } catch {
    return undefined;
  }
}

function constructorName(value: unknown): string {
  const ctor = readProperty(value, 'constructor');
  const name = typeof ctor === 'function' ? readProperty(ctor, 'name') : undefined;
  return typeof name === 'string' && name !== '' ? name : 'object';
}

function safeString(value: unknown): string {
  try {
    return String(value);
  } catch {
    return `(a ${typeof value})`;
  }
}

function bounded(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max)}…`;
}

function boundedStack(stack: string): string {
  const head = stack.length > maxStackChars ? stack.slice(0, maxStackChars) : stack;
  const lines = head.split('\n');
  if (lines.length <= maxStackLines && head === stack) return stack;
  return `${lines.slice(0, maxStackLines).join('\n')}\n    …`;
}

/** The context with `err` / `error` replaced by their ErrorSummary; the same object when it has neither. */
function safeContext(context: object): object {
  if (typeof context !== 'object' || context === null) return {};
  let copy: Record<string, unknown> | undefined;
  for (const key of ['err', 'error']) {
    if (Object.hasOwn(context, key)) {
      copy ??= { ...context };
      copy[key] = serializeError(copy[key]);
    }
  }
  return copy ?? context;
}
