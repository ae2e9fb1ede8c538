import { afterAll, beforeAll } from 'vitest';
import type { Expected } from './arbitraries.js';

// Plumbing of the hostile-input harness: bounded waits, a tracker of
// unhandled rejections and uncaught exceptions, a recording logger and a
// secret finder that survives any value.

/** The bound on every library wait the harness checks (real ms); library timeouts are set far below it. */
export const boundMs = 3_000;

/** A promise's outcome, once settled. */
export type Settled = { readonly kind: 'value'; readonly value: unknown } | { readonly kind: 'error'; readonly error: unknown };

/** A wait that did not settle within its bound. */
export class HangError extends Error {
  constructor(what: string, ms: number) {
    super(`${what} did not settle within ${ms} ms`);
    this.name = 'HangError';
  }
}

/**
 * Waits for `promise` at most `ms` of real time (the harness never blocks
 * the loop, so the timer fires); throws HangError naming `what` otherwise.
 * Resolves with the outcome, never rejects with the promise's error.
 */
export async function within(promise: unknown, what: string, ms = boundMs): Promise<Settled> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<'hang'>((resolve) => {
    timer = setTimeout(() => resolve('hang'), ms);
  });
  try {
    const outcome = await Promise.race([settle(promise), timeout]);
    if (outcome === 'hang') throw new HangError(what, ms);
    return outcome;
  } finally {
    clearTimeout(timer);
  }
}

/** The outcome of a promise (or a plain value), never rejecting. */
export function settle(promise: unknown): Promise<Settled> {
  return Promise.resolve(promise).then(
    (value: unknown) => ({ kind: 'value', value }) as const,
    (error: unknown) => ({ kind: 'error', error }) as const,
  );
}

/** Records whether a promise has settled, without waiting for it. */
export function observe(promise: Promise<unknown>): { readonly outcome: () => Settled | undefined } {
  let outcome: Settled | undefined;
  settle(promise).then((o) => {
    outcome = o;
  }, () => {});
  return { outcome: () => outcome };
}

/** Lets pending callbacks, timers of 0 ms and unhandled-rejection checks run. */
export async function flush(): Promise<void> {
  for (let i = 0; i < 3; i += 1) await new Promise((resolve) => setImmediate(resolve));
  await new Promise((resolve) => setTimeout(resolve, 0));
}

/** A short real sleep (nothing in the harness blocks the loop meanwhile). */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** True when `actual` is the outcome `expected` describes, by reference. */
export function sameOutcome(actual: Settled, expected: Expected): boolean {
  if (expected.kind === 'pending') return false;
  if (actual.kind !== expected.kind) return false;
  return actual.kind === 'value' ? Object.is(actual.value, (expected as { value: unknown }).value) : Object.is(actual.error, (expected as { error: unknown }).error);
}

/** Describes an outcome for a failure message without touching hostile values. */
export function show(outcome: Settled | Expected | undefined): string {
  if (outcome === undefined) return 'still pending';
  if (outcome.kind === 'pending') return 'pending';
  const inner = outcome.kind === 'value' ? outcome.value : outcome.error;
  return `${outcome.kind} ${describe(inner)}`;
}

function describe(value: unknown): string {
  try {
    if (value instanceof Error) return `${value.constructor.name}(${String(value.message).slice(0, 120)}) code=${String((value as { code?: unknown }).code)}`;
    if (typeof value === 'string') return `string(${value.length})`;
    if (typeof value === 'object' && value !== null) return `object(${Object.prototype.toString.call(value)})`;
    return typeof value === 'symbol' ? value.toString() : String(value);
  } catch {
    return 'an unprintable value';
  }
}

/** The code of a library error, or undefined; safe on any value. */
export function codeOf(value: unknown): unknown {
  try {
    return (value as { code?: unknown }).code;
  } catch {
    return undefined;
  }
}

/**
 * Collects unhandled rejections and uncaught exceptions while a test file
 * runs. `take()` returns and forgets what was seen; call it after `flush()`.
 */
export function trackProcessFaults(): { take(): string[] } {
  const seen: string[] = [];
  const onRejection = (reason: unknown): void => {
    seen.push(`unhandledRejection: ${describe(reason)}`);
  };
  const onException = (error: unknown): void => {
    seen.push(`uncaughtException: ${describe(error)}`);
  };
  beforeAll(() => {
    process.on('unhandledRejection', onRejection);
    process.on('uncaughtException', onException);
  });
  afterAll(() => {
    process.off('unhandledRejection', onRejection);
    process.off('uncaughtException', onException);
  });
  return {
    take() {
      return seen.splice(0, seen.length);
    },
  };
}

/** One call the library made to a logger. */
export interface LogCall {
  readonly level: string;
  readonly context: unknown;
  readonly message: unknown;
}

/** A pino-compatible logger that records every call. */
export function recordingLogger(): { readonly logger: { debug: Log; info: Log; warn: Log; error: Log }; readonly calls: LogCall[] } {
  const calls: LogCall[] = [];
  const at =
    (level: string): Log =>
    (context, message) => {
      calls.push({ level, context, message });
    };
  return { logger: { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') }, calls };
}

type Log = (context: object, message?: string) => void;

/**
 * Every string reachable from `value` (keys, values, an Error's message
 * and stack), as a serialiser would see it: own enumerable properties,
 * cycles visited once. Throwing getters and proxies are skipped, never
 * thrown; at most `limit` nodes are visited.
 */
export function stringsIn(value: unknown, limit = 200_000): string[] {
  const out: string[] = [];
  const seen = new Set<unknown>();
  const stack: unknown[] = [value];
  let visited = 0;
  while (stack.length > 0 && visited < limit) {
    const node = stack.pop();
    visited += 1;
    if (typeof node === 'string') {
      out.push(node);
      continue;
    }
    if (typeof node === 'symbol') {
      out.push(node.toString());
      continue;
    }
    if ((typeof node !== 'object' && typeof node !== 'function') || node === null || seen.has(node)) continue;
    seen.add(node);
    try {
      if (node instanceof Error) {
        stack.push(safeGet(node, 'message'), safeGet(node, 'stack'), safeGet(node, 'cause'));
      }
      if (node instanceof Map) {
        for (const [k, v] of node) stack.push(k, v);
      }
      if (node instanceof Set) {
        for (const v of node) stack.push(v);
      }
      for (const key of Reflect.ownKeys(node)) {
        const descriptor = Reflect.getOwnPropertyDescriptor(node, key);
        if (descriptor === undefined || !descriptor.enumerable) continue;
        out.push(typeof key === 'symbol' ? key.toString() : key);
        if ('value' in descriptor) stack.push(descriptor.value);
        else stack.push(safeGet(node, key));
      }
    } catch {
      // a revoked or trapping proxy: a serialiser would fail here too
    }
  }
  return out;
}

function safeGet(target: object, key: PropertyKey): unknown {
  try {
    return Reflect.get(target, key);
  } catch {
    return undefined;
  }
}

/** Where `secret` appears in `value`, as a list of the strings holding it. */
export function leaksOf(value: unknown, secret: string): string[] {
  return stringsIn(value).filter((s) => s.includes(secret));
}
