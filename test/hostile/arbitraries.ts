import { appendFileSync } from 'node:fs';
import fc from 'fast-check';

// Hostile values and behaviours for the hostile-input harness. Every value is
// built fresh per run by a factory (`make`), so a shrunk counterexample
// replays exactly; each one prints as its label.

/** A hostile thing built on demand; prints as its label in counterexamples. */
export interface Named<T> {
  readonly label: string;
  readonly make: () => T;
}

function named<T>(label: string, make: () => T): Named<T> {
  return { label, make, [fc.toStringMethod]: () => label } as Named<T>;
}

/** A plain Error carrying `secret` in its message-free enumerable fields, as an HTTP client's error does. */
export function secretError(secret: string): Error {
  const err = new Error('request failed with status 502');
  Object.assign(err, {
    config: { headers: { Authorization: `Bearer ${secret}` }, data: { card: secret } },
    [secret]: true,
  });
  return err;
}

function cyclicObject(): unknown {
  const a: Record<string, unknown> = { name: 'a', list: [] as unknown[] };
  const b: Record<string, unknown> = { name: 'b', back: a };
  a.self = a;
  a.b = b;
  (a.list as unknown[]).push(a, b);
  return a;
}

function cyclicArray(): unknown {
  const arr: unknown[] = [1, 2];
  arr.push(arr, { arr });
  return arr;
}

/** An object nested `depth` levels deep; built iteratively so making it never overflows the stack. */
export function deepObject(depth: number): unknown {
  let value: unknown = { leaf: true };
  for (let i = 0; i < depth; i += 1) value = { child: value };
  return value;
}

function deepArray(depth: number): unknown {
  let value: unknown = [0];
  for (let i = 0; i < depth; i += 1) value = [value];
  return value;
}

function throwingGetter(): unknown {
  const value = { id: 1 };
  Object.defineProperty(value, 'lazy', {
    enumerable: true,
    get() {
      throw new Error('getter exploded');
    },
  });
  return { extra: value };
}

function throwingToJson(): unknown {
  return {
    toJSON() {
      throw new Error('toJSON exploded');
    },
    toString() {
      throw new Error('toString exploded');
    },
    [Symbol.toPrimitive]() {
      throw new Error('toPrimitive exploded');
    },
  };
}

/** A Proxy every trap of which throws (but `then` reads as undefined, so awaiting it is harmless). */
function trappingProxy(): unknown {
  const boom = (): never => {
    throw new Error('proxy trap exploded');
  };
  return new Proxy(
    {},
    {
      get: (_target, key) => (key === 'then' ? undefined : boom()),
      has: boom,
      ownKeys: boom,
      getOwnPropertyDescriptor: boom,
      getPrototypeOf: boom,
      set: boom,
      defineProperty: boom,
      deleteProperty: boom,
    },
  );
}

/** A revoked Proxy: every operation on it, even `typeof x.then`, throws TypeError. */
export function revokedProxy(): unknown {
  const { proxy, revoke } = Proxy.revocable({ a: 1 }, {});
  revoke();
  return proxy;
}

/** An Error whose `message`, `stack` and `name` getters throw. */
function errorWithThrowingGetters(): unknown {
  // Not `new Error`: redefining a real error's stack makes V8 format it, which reads the message getter.
  const err = Object.create(Error.prototype) as Error;
  for (const key of ['message', 'stack', 'name', 'cause']) {
    Object.defineProperty(err, key, {
      enumerable: key === 'cause',
      configurable: true,
      get() {
        throw new Error(`${key} getter exploded`);
      },
    });
  }
  return err;
}

function errorWithCyclicCause(): unknown {
  const err = new Error('cyclic cause') as Error & { cause?: unknown; self?: unknown };
  err.cause = err;
  err.self = { err };
  return err;
}

const hugeLength = 200_000;

/**
 * Values a service may return or a caller may pass: safe to `await`
 * (awaiting them gives them back unchanged), so the caller's result can be
 * compared by reference.
 */
export const hostileValues: readonly Named<unknown>[] = [
  named('undefined', () => undefined),
  named('null', () => null),
  named('NaN', () => Number.NaN),
  named('-0', () => -0),
  named('bigint', () => 10n ** 30n),
  named('symbol', () => Symbol('hostile')),
  named('function', () => () => 'fn'),
  named('empty string', () => ''),
  named('huge string', () => 'x'.repeat(hugeLength)),
  named('huge array', () => Array.from({ length: 20_000 }, (_, i) => i)),
  named('sparse array', () => {
    const arr: unknown[] = [];
    arr[100_000] = 1;
    return arr;
  }),
  named('cyclic object', cyclicObject),
  named('cyclic array', cyclicArray),
  named('deep object (10k)', () => deepObject(10_000)),
  named('deep array (10k)', () => deepArray(10_000)),
  named('throwing getter', throwingGetter),
  named('throwing toJSON/toString', throwingToJson),
  named('trapping proxy', trappingProxy),
  named('null-prototype object', () => Object.assign(Object.create(null) as object, { a: 1 })),
  named('frozen nested', () => Object.freeze({ a: Object.freeze([1, 2]) })),
  named('Map and Set', () => ({ m: new Map([[{}, 1]]), s: new Set([1, {}]) })),
  named('Date invalid', () => new Date(Number.NaN)),
  named('typed array', () => new Uint8Array(1024)),
  named('error as value', () => new Error('returned, not thrown')),
  named('revoked proxy inside', () => ({ inner: revokedProxy() })),
];

/** Values a service may reject with or throw. */
export const hostileErrors: readonly Named<unknown>[] = [
  named('undefined', () => undefined),
  named('null', () => null),
  named('0', () => 0),
  named('string', () => 'plain string'),
  named('symbol', () => Symbol('rejected')),
  named('plain Error', () => new Error('boom')),
  named('TypeError', () => new TypeError('type boom')),
  named('error with throwing getters', errorWithThrowingGetters),
  named('error with cyclic cause', errorWithCyclicCause),
  named('revoked proxy', revokedProxy),
  named('trapping proxy', trappingProxy),
  named('throwing toJSON/toString', throwingToJson),
  named('frozen error', () => Object.freeze(new Error('frozen'))),
  named('AggregateError', () => new AggregateError([new Error('a'), revokedProxy()], 'many')),
  named('null-prototype object', () => Object.create(null) as object),
];

/** Hostile values to pass as input (anything, the revoked proxy included). */
export const hostileInputs: readonly Named<unknown>[] = [...hostileValues, named('revoked proxy', revokedProxy)];

export const valueArb = fc.constantFrom(...hostileValues);
export const errorArb = fc.constantFrom(...hostileErrors);
export const inputArb = fc.constantFrom(...hostileInputs);

/** What a side did, as the harness expects the caller to see it. */
export type Expected = { readonly kind: 'value'; readonly value: unknown } | { readonly kind: 'error'; readonly error: unknown } | { readonly kind: 'pending' };

/** A service behaviour: a description plus a factory for the call and its expected outcome. */
export interface Behaviour {
  readonly label: string;
  /** A fresh implementation and the outcome it gives (same references). */
  readonly make: () => { readonly call: (input: unknown) => unknown; readonly expected: Expected };
}

/** Late answers wait at most this long (real ms): well under every library timeout the harness sets. */
export const lateMs = 15;

function behaviour(label: string, make: Behaviour['make']): Behaviour {
  return { label, make, [fc.toStringMethod]: () => label } as Behaviour;
}

/** Every way a service (or repository method) may behave, over hostile values and errors. */
export function behaviourArb(options: { readonly hang?: boolean } = {}): fc.Arbitrary<Behaviour> {
  const hang = options.hang ?? true;
  const resolves = valueArb.map((v) =>
    behaviour(`resolves ${v.label}`, () => {
      const value = v.make();
      return { call: () => Promise.resolve().then(() => value), expected: { kind: 'value', value } };
    }),
  );
  const plain = valueArb.map((v) =>
    behaviour(`returns non-promise ${v.label}`, () => {
      const value = v.make();
      return { call: () => value, expected: { kind: 'value', value } };
    }),
  );
  const late = valueArb.map((v) =>
    behaviour(`resolves late ${v.label}`, () => {
      const value = v.make();
      return { call: () => new Promise((resolve) => setTimeout(() => resolve(value), lateMs)), expected: { kind: 'value', value } };
    }),
  );
  const twice = fc.tuple(valueArb, valueArb).map(([a, b]) =>
    behaviour(`thenable resolving twice ${a.label}, ${b.label}`, () => {
      const first = a.make();
      const second = b.make();
      const thenable = {
        then(resolve: (v: unknown) => void, reject: (e: unknown) => void) {
          resolve(first);
          resolve(second);
          reject(new Error('rejected after resolving'));
        },
      };
      return { call: () => thenable, expected: { kind: 'value', value: first } };
    }),
  );
  const syncThrow = errorArb.map((e) =>
    behaviour(`throws synchronously ${e.label}`, () => {
      const error = e.make();
      return {
        call: () => {
          throw error;
        },
        expected: { kind: 'error', error },
      };
    }),
  );
  const rejects = errorArb.map((e) =>
    behaviour(`rejects ${e.label}`, () => {
      const error = e.make();
      return { call: () => Promise.reject(error), expected: { kind: 'error', error } };
    }),
  );
  const rejectsLate = errorArb.map((e) =>
    behaviour(`rejects late ${e.label}`, () => {
      const error = e.make();
      return { call: () => new Promise((_, reject) => setTimeout(() => reject(error), lateMs)), expected: { kind: 'error', error } };
    }),
  );
  const hangs = fc.constant(behaviour('hangs (never settles)', () => ({ call: () => new Promise(() => {}), expected: { kind: 'pending' } })));
  const all: fc.Arbitrary<Behaviour>[] = [resolves, plain, late, twice, syncThrow, rejects, rejectsLate];
  if (hang) all.push(hangs);
  return fc.oneof(...all);
}

/** A hook: what it does when called, by label. */
export type HookBehaviour = Named<(...args: unknown[]) => unknown>;

/** Behaviours for a hook that should return nothing useful (listeners, notifiers, loggers' methods). */
export const voidHookArb: fc.Arbitrary<HookBehaviour> = fc.constantFrom(
  named('returns undefined', () => () => undefined),
  named('throws', () => () => {
    throw new Error('hook threw');
  }),
  named('throws a revoked proxy', () => () => {
    throw revokedProxy();
  }),
  named('throws undefined', () => () => {
    throw undefined;
  }),
  named('returns a rejected promise', () => () => Promise.reject(new Error('async hook rejected'))),
  named('returns a promise rejecting with a revoked proxy', () => () => Promise.reject(revokedProxy())),
  named('hangs', () => () => new Promise(() => {})),
  named('resolves late', () => () => new Promise((resolve) => setTimeout(resolve, lateMs))),
  named('returns garbage', () => () => revokedProxy()),
  named('returns a thenable that throws', () => () => ({
    then() {
      throw new Error('thenable threw');
    },
  })),
);

/** Behaviours for a hook whose answer is used (comparator, clean, routingKey, approve). */
export const answerHookArb = (good: () => (...args: unknown[]) => unknown): fc.Arbitrary<HookBehaviour> =>
  fc.constantFrom(
    named('well-behaved', good),
    named('throws', () => () => {
      throw new Error('hook threw');
    }),
    named('throws a revoked proxy', () => () => {
      throw revokedProxy();
    }),
    named('returns undefined', () => () => undefined),
    named('returns a revoked proxy', () => () => revokedProxy()),
    named('returns a trapping proxy', () => () => trappingProxy()),
    named('returns a cyclic object', () => () => cyclicObject()),
    named('returns a string', () => () => 'yes'),
    named('returns NaN', () => () => Number.NaN),
    named('returns a rejected promise', () => () => Promise.reject(new Error('async hook rejected'))),
    named('returns a hanging promise', () => () => new Promise(() => {})),
  );

/** Clocks that misbehave. */
export const clockArb: fc.Arbitrary<Named<{ now(): number }>> = fc.constantFrom(
  named('real clock', () => ({ now: () => Date.now() })),
  named('frozen clock', () => ({ now: () => 1_000 })),
  named('clock going backwards', () => {
    let t = 1e12;
    return { now: () => (t -= 1000) };
  }),
  named('clock returning NaN', () => ({ now: () => Number.NaN })),
  named('clock returning a string', () => ({ now: () => 'soon' as unknown as number })),
  named('clock that throws every third read', () => {
    let n = 0;
    return {
      now: () => {
        n += 1;
        if (n % 3 === 0) throw new Error('clock exploded');
        return Date.now();
      },
    };
  }),
);

/** Settings read from the environment: `HOSTILE_RUNS` runs per property (long mode), `HOSTILE_SEED`. */
export const hostileRuns = Number(process.env.HOSTILE_RUNS ?? '0');
export const longMode = hostileRuns > 0;
export const seed = Number(process.env.HOSTILE_SEED ?? '20240613');
/** When set, each property appends the number of cases it ran to this file (the long run sums them). */
const countFile = process.env.HOSTILE_COUNT_FILE;

/**
 * fast-check parameters: the fixed seed and `fastRuns` runs in `npm test`;
 * in long mode `HOSTILE_RUNS` runs, times `longShare` for a property whose
 * cases are much dearer than the others'.
 */
export function params(fastRuns: number, longShare = 1): fc.Parameters<unknown> {
  // No shrinking in `npm test` (a hang costs the whole bound per step); the long run shrinks.
  return {
    seed,
    numRuns: longMode ? Math.max(1, Math.round(hostileRuns * longShare)) : fastRuns,
    endOnFailure: !longMode,
    interruptAfterTimeLimit: longMode ? undefined : 25_000,
    reporter: report,
  };
}

/** fast-check's own report, plus the count of cases run. */
function report(details: fc.RunDetails<unknown>): void {
  if (countFile !== undefined && countFile !== '') appendFileSync(countFile, `${details.numRuns}\n`);
  if (details.failed) throw new Error(fc.defaultReportMessage(details), { cause: details.errorInstance });
}

/** The vitest timeout of one property: generous in `npm test`, unbounded in long mode. */
export const propertyTimeoutMs = longMode ? 24 * 3600_000 : 60_000;
