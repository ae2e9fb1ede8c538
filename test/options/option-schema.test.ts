import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { InvalidOptionError, MigrationGlueError } from '../../src/errors.js';
import { systemClock } from '../../src/observe/clock.js';
import { maxTimerMs } from '../../src/options.js';
import { field, nearestName, option, parseOptions } from '../../src/option-schema.js';

// The one way options are checked (issue 17): a strict zod object of
// option.* fields, parsed once by parseOptions. Pinned here: an unknown
// option is refused with the nearest known name (top level and nested), each
// builder's accept/reject boundary and its "must be ..., got ..." message,
// defaults, and that nothing but InvalidOptionError (ERR_INVALID_OPTION)
// ever comes out, even from a throwing getter or a revoked Proxy.

/** The InvalidOptionError `run` throws; fails the test when it throws nothing or something else. */
function optionError(run: () => unknown): InvalidOptionError {
  let thrown: unknown;
  let threw = false;
  try {
    run();
  } catch (err) {
    thrown = err;
    threw = true;
  }
  expect(threw, 'expected an InvalidOptionError, nothing was thrown').toBe(true);
  expect(thrown).toBeInstanceOf(InvalidOptionError);
  expect(MigrationGlueError.is(thrown, 'ERR_INVALID_OPTION')).toBe(true);
  return thrown as InvalidOptionError;
}

/** Parses `{ value }` with a schema holding only `schema`, as an options type would. */
function one<T>(schema: z.ZodType<T>, value: unknown): T {
  return parseOptions(z.strictObject({ value: schema }), { value }, 'Thing').value;
}

/** The message a rejected `{ value }` gets, without the library prefix and option name. */
function rejection(schema: z.ZodType, value: unknown): string {
  const err = optionError(() => one(schema, value));
  expect(err.option).toBe('value');
  const prefix = '[migration-glue] option `value` ';
  expect(err.message.startsWith(prefix)).toBe(true);
  return err.message.slice(prefix.length);
}

/** The message the field alone gives `value`, without parseOptions. */
function issueOf(schema: z.ZodType, value: unknown): string | undefined {
  const result = z.strictObject({ value: schema }).safeParse({ value });
  return result.success ? undefined : result.error.issues[0]?.message;
}

function revokedProxy(): object {
  const { proxy, revoke } = Proxy.revocable({}, {});
  revoke();
  return proxy;
}

const throwingGetter = (name: string) =>
  Object.defineProperty({}, name, {
    enumerable: true,
    get() {
      throw new Error('getter threw');
    },
  });

describe('parseOptions', () => {
  const schema = z.strictObject({
    timeoutMs: option.timerMs().default(1_000),
    maxRetries: option.nonNegativeInteger().optional(),
    retry: z
      .strictObject({
        limit: option.positiveInteger().default(3),
        onRetry: option.fn<() => void>().optional(),
      })
      .optional(),
  });

  it('returns the options with defaults resolved and optional ones left out', () => {
    expect(parseOptions(schema, {}, 'Thing')).toEqual({ timeoutMs: 1_000 });
    expect(parseOptions(schema, { timeoutMs: 5, maxRetries: 0 }, 'Thing')).toEqual({ timeoutMs: 5, maxRetries: 0 });
    expect(parseOptions(schema, { retry: {} }, 'Thing')).toEqual({ timeoutMs: 1_000, retry: { limit: 3 } });
    expect(parseOptions(schema, { retry: { limit: 7 } }, 'Thing').retry).toEqual({ limit: 7 });
  });

  it('refuses an unknown option, suggesting the nearest known name and listing them all', () => {
    const err = optionError(() => parseOptions(schema, { timeoutMS: 5 }, 'Thing'));
    expect(err.option).toBe('timeoutMS');
    expect(err.message).toBe(
      '[migration-glue] option `timeoutMS` is not an option of Thing; did you mean `timeoutMs`? (known: timeoutMs, maxRetries, retry)',
    );
  });

  it('refuses an unknown option without a suggestion when no known name is close', () => {
    const err = optionError(() => parseOptions(schema, { colour: 'red' }, 'Thing'));
    expect(err.option).toBe('colour');
    expect(err.message).toBe('[migration-glue] option `colour` is not an option of Thing (known: timeoutMs, maxRetries, retry)');
  });

  it('refuses an unknown nested option with its full path and the nested names', () => {
    const err = optionError(() => parseOptions(schema, { retry: { limt: 2 } }, 'Thing'));
    expect(err.option).toBe('retry.limt');
    expect(err.message).toBe(
      '[migration-glue] option `retry.limt` is not an option of Thing; did you mean `retry.limit`? (known: limit, onRetry)',
    );
  });

  it('finds the nested names through .default() and .transform() wrappers', () => {
    const wrapped = z.strictObject({
      pool: z
        .strictObject({ size: option.positiveInteger() })
        .default({ size: 1 })
        .transform((pool) => ({ ...pool, shared: true })),
      store: z.strictObject({ table: option.string() }).optional().default({ table: 't' }),
    });
    expect(parseOptions(wrapped, {}, 'Pool')).toEqual({ pool: { size: 1, shared: true }, store: { table: 't' } });
    const pool = optionError(() => parseOptions(wrapped, { pool: { size: 1, sise: 2 } }, 'Pool'));
    expect(pool.message).toBe('[migration-glue] option `pool.sise` is not an option of Pool; did you mean `pool.size`? (known: size)');
    const store = optionError(() => parseOptions(wrapped, { store: { table: 't', tabel: 'x' } }, 'Pool'));
    expect(store.message).toBe('[migration-glue] option `store.tabel` is not an option of Pool; did you mean `store.table`? (known: table)');
  });

  it('names no known option where the unknown one sits inside an array', () => {
    const listed = z.strictObject({ items: z.array(z.strictObject({ id: option.string() })) });
    const err = optionError(() => parseOptions(listed, { items: [{ id: 'a', ib: 'b' }] }, 'List'));
    expect(err.option).toBe('items.0.ib');
    expect(err.message).toBe('[migration-glue] option `items.0.ib` is not an option of List (known: )');
  });

  it('names the first unknown option when there are several', () => {
    const err = optionError(() => parseOptions(schema, { timeoutMs: 5, first: 1, second: 2 }, 'Thing'));
    expect(err.option).toBe('first');
  });

  it('names a bad field by its path and keeps the builder message', () => {
    expect(optionError(() => parseOptions(schema, { timeoutMs: 0 }, 'Thing')).message).toBe(
      `[migration-glue] option \`timeoutMs\` must be a number of ms above 0 and at most ${maxTimerMs}, got 0`,
    );
    const nested = optionError(() => parseOptions(schema, { retry: { limit: 0 } }, 'Thing'));
    expect(nested.option).toBe('retry.limit');
    expect(nested.message).toBe('[migration-glue] option `retry.limit` must be an integer of at least 1, got 0');
  });

  it('lowercases the first letter of a plain zod message, and names the options themselves for a root issue', () => {
    const plain = z.strictObject({ count: z.number() });
    const err = optionError(() => parseOptions(plain, { count: 'x' }, 'Plain'));
    expect(err.option).toBe('count');
    expect(err.message).toBe('[migration-glue] option `count` invalid input: expected number, received string');
    const root = optionError(() => parseOptions(z.strictObject({}), [], 'Plain'));
    expect(root.option).toBe('options');
    expect(root.message).toBe('[migration-glue] option `options` invalid input: expected object, received array');
  });

  it('keeps the message of a custom check (a refine) as written', () => {
    const refined = z.strictObject({ min: z.number(), max: z.number() }).refine((o) => o.min <= o.max, 'Min above max');
    const err = optionError(() => parseOptions(refined, { min: 2, max: 1 }, 'Range'));
    expect(err.option).toBe('options');
    expect(err.message).toBe('[migration-glue] option `options` Min above max');
  });

  it.each([
    [null, 'null'],
    [undefined, 'undefined'],
    [42, '42'],
    ['opts', '"opts"'],
    [true, 'true'],
    [() => {}, 'a function'],
  ])('refuses %o as the options object', (value, shown) => {
    const err = optionError(() => parseOptions(schema, value, 'Thing'));
    expect(err.option).toBe('options');
    expect(err.message).toBe(`[migration-glue] option \`options\` must be an object (Thing), got ${shown}`);
  });

  it('reports a getter that throws as unreadable options, never the raw error', () => {
    const err = optionError(() => parseOptions(schema, throwingGetter('timeoutMs'), 'Thing'));
    expect(err.option).toBe('options');
    expect(err.message).toBe('[migration-glue] option `options` could not be read (Thing): an object');
  });

  it('reports a revoked Proxy, or one whose traps throw, as unreadable options', () => {
    expect(optionError(() => parseOptions(schema, revokedProxy(), 'Thing')).message).toMatch(/^\[migration-glue\] option `options` could not be read \(Thing\)/);
    const trapping = new Proxy(
      {},
      {
        ownKeys() {
          throw new Error('ownKeys trap');
        },
        get() {
          throw new Error('get trap');
        },
      },
    );
    expect(optionError(() => parseOptions(schema, trapping, 'Thing')).option).toBe('options');
  });

  it('reports a nested revoked Proxy as unreadable too', () => {
    expect(optionError(() => parseOptions(schema, { retry: revokedProxy() }, 'Thing')).option).toBe('options');
  });

  it('never throws anything but InvalidOptionError, whatever it is given', () => {
    fc.assert(
      fc.property(fc.anything(), (value) => {
        try {
          parseOptions(schema, value, 'Thing');
        } catch (err) {
          expect(err).toBeInstanceOf(InvalidOptionError);
        }
      }),
    );
  });

  it('refuses an own __proto__ key (JSON.parse makes them), at the top and nested', () => {
    const top = optionError(() => parseOptions(schema, JSON.parse('{"timeoutMs": 5, "__proto__": {"x": 1}}'), 'Thing'));
    expect(top.option).toBe('__proto__');
    expect(top.message).toBe('[migration-glue] option `__proto__` is not an option of Thing');
    const nested = optionError(() => parseOptions(schema, JSON.parse('{"retry": {"__proto__": {}}}'), 'Thing'));
    expect(nested.option).toBe('retry.__proto__');
    expect(nested.message).toBe('[migration-glue] option `retry.__proto__` is not an option of Thing');
    // found under a later option, after earlier ones held nothing
    const later = optionError(() => parseOptions(schema, JSON.parse('{"timeoutMs": 5, "maxRetries": 1, "retry": {"__proto__": {}}}'), 'Thing'));
    expect(later.message).toBe('[migration-glue] option `retry.__proto__` is not an option of Thing');
    // an inherited __proto__ (every object has one) is no option at all
    expect(parseOptions(schema, { timeoutMs: 5 }, 'Thing')).toEqual({ timeoutMs: 5 });
    expect(parseOptions(schema, JSON.parse('{"retry": {"limit": 2}}'), 'Thing')).toEqual({ timeoutMs: 1_000, retry: { limit: 2 } });
  });

  it('does not read a getter twice while looking for __proto__ keys', () => {
    let reads = 0;
    const value = Object.defineProperty({}, 'retry', {
      enumerable: true,
      get() {
        reads++;
        return { limit: 2 };
      },
    });
    expect(parseOptions(schema, value, 'Thing').retry).toEqual({ limit: 2 });
    expect(reads).toBe(1);
  });

  // The __proto__ scan must skip what it cannot read: the option is still named.
  it('names the option holding a revoked Proxy', () => {
    const withStore = z.strictObject({ store: option.withMethods('get') });
    expect(optionError(() => parseOptions(withStore, { store: revokedProxy() }, 'Thing')).option).toBe('store');
  });

  it('says the options are invalid when a schema fails without naming an issue', () => {
    const silent = { safeParse: () => ({ success: false, error: { issues: [] } }) } as unknown as z.ZodType;
    const err = optionError(() => parseOptions(silent, {}, 'Odd'));
    expect(err.option).toBe('options');
    expect(err.message).toBe('[migration-glue] option `options` are invalid (Odd)');
  });
});

describe('field', () => {
  it('passes the value through when the test accepts it, else says what was expected and what came', () => {
    const even = field<number>((value) => typeof value === 'number' && value % 2 === 0, 'an even number');
    expect(one(even, 4)).toBe(4);
    expect(rejection(even, 3)).toBe('must be an even number, got 3');
    expect(rejection(even, 'four')).toBe('must be an even number, got "four"');
  });
});

describe('option builders', () => {
  it('fn: any function, kept as given', () => {
    const f = () => 1;
    expect(one(option.fn(), f)).toBe(f);
    expect(typeof one(option.fn(), async () => {})).toBe('function');
    expect(typeof one(option.fn(), class {})).toBe('function');
    expect(rejection(option.fn(), 42)).toBe('must be a function, got 42');
    expect(rejection(option.fn(), {})).toBe('must be a function, got an object');
    expect(rejection(option.fn(), undefined)).toBe('must be a function, got undefined');
  });

  it('boolean: true or false, nothing truthy or falsy', () => {
    expect(one(option.boolean(), true)).toBe(true);
    expect(one(option.boolean(), false)).toBe(false);
    expect(rejection(option.boolean(), 'true')).toBe('must be true or false, got "true"');
    expect(rejection(option.boolean(), 0)).toBe('must be true or false, got 0');
    expect(rejection(option.boolean(), null)).toBe('must be true or false, got null');
  });

  it('string: a non-empty string', () => {
    expect(one(option.string(), 'a')).toBe('a');
    expect(rejection(option.string(), '')).toBe('must be a non-empty string, got ""');
    expect(rejection(option.string(), 1)).toBe('must be a non-empty string, got 1');
    expect(rejection(option.string(), ['a'])).toBe('must be a non-empty string, got an array');
  });

  it('positiveInteger: a safe integer of at least 1', () => {
    expect(one(option.positiveInteger(), 1)).toBe(1);
    expect(one(option.positiveInteger(), Number.MAX_SAFE_INTEGER)).toBe(Number.MAX_SAFE_INTEGER);
    for (const bad of [0, -1, 1.5, Number.MAX_SAFE_INTEGER + 1, Number.NaN, Infinity, '1']) {
      expect(rejection(option.positiveInteger(), bad)).toMatch(/^must be an integer of at least 1, got /);
    }
    expect(rejection(option.positiveInteger(), 0)).toBe('must be an integer of at least 1, got 0');
    // A bigint is shown with its n, or "got 5" would read as a valid value.
    expect(rejection(option.positiveInteger(), 5n)).toBe('must be an integer of at least 1, got 5n');
  });

  it('nonNegativeInteger: a safe integer of at least 0', () => {
    expect(one(option.nonNegativeInteger(), 0)).toBe(0);
    expect(one(option.nonNegativeInteger(), 7)).toBe(7);
    for (const bad of [-1, 0.5, Number.MAX_SAFE_INTEGER + 1, Number.NaN, '0', null]) {
      expect(rejection(option.nonNegativeInteger(), bad)).toMatch(/^must be an integer of at least 0, got /);
    }
    expect(rejection(option.nonNegativeInteger(), -1)).toBe('must be an integer of at least 0, got -1');
  });

  it('positiveNumber: finite and above 0', () => {
    expect(one(option.positiveNumber(), Number.MIN_VALUE)).toBe(Number.MIN_VALUE);
    expect(one(option.positiveNumber(), 0.5)).toBe(0.5);
    expect(one(option.positiveNumber(), Number.MAX_VALUE)).toBe(Number.MAX_VALUE);
    for (const bad of [0, -0.5, Infinity, Number.NaN, '1']) {
      expect(rejection(option.positiveNumber(), bad)).toMatch(/^must be a positive finite number, got /);
    }
    expect(rejection(option.positiveNumber(), 0)).toBe('must be a positive finite number, got 0');
  });

  it('timerMs: above 0 and at most what a Node timer holds', () => {
    expect(one(option.timerMs(), maxTimerMs)).toBe(maxTimerMs);
    expect(one(option.timerMs(), 0.5)).toBe(0.5);
    expect(one(option.timerMs(), 1)).toBe(1);
    for (const bad of [0, -1, maxTimerMs + 1, Infinity, Number.NaN, '10']) {
      expect(rejection(option.timerMs(), bad)).toBe(
        `must be a number of ms above 0 and at most ${maxTimerMs}, got ${typeof bad === 'string' ? `"${bad}"` : String(bad)}`,
      );
    }
  });

  it('range: within min..max, both ends included', () => {
    const ratio = option.range(0, 1);
    expect(one(ratio, 0)).toBe(0);
    expect(one(ratio, 1)).toBe(1);
    expect(one(ratio, 0.25)).toBe(0.25);
    expect(rejection(ratio, -0.001)).toBe('must be a number from 0 to 1, got -0.001');
    expect(rejection(ratio, 1.001)).toBe('must be a number from 0 to 1, got 1.001');
    expect(rejection(ratio, Number.NaN)).toBe('must be a number from 0 to 1, got NaN');
    expect(rejection(ratio, '0.5')).toBe('must be a number from 0 to 1, got "0.5"');
    const open = option.range(-Infinity, Infinity);
    expect(one(open, -5)).toBe(-5);
    expect(rejection(open, Infinity)).toBe('must be a number from -Infinity to Infinity, got Infinity');
  });

  it('range with integer: whole numbers only, and says so', () => {
    const count = option.range(1, 10, true);
    expect(one(count, 1)).toBe(1);
    expect(one(count, 10)).toBe(10);
    expect(rejection(count, 1.5)).toBe('must be an integer from 1 to 10, got 1.5');
    expect(rejection(count, 0)).toBe('must be an integer from 1 to 10, got 0');
    expect(rejection(count, 11)).toBe('must be an integer from 1 to 10, got 11');
    expect(one(option.range(1, 10, false), 1.5)).toBe(1.5);
  });

  it('range accepts exactly the finite numbers within its bounds', () => {
    fc.assert(
      fc.property(fc.double(), fc.double({ noNaN: true }), fc.double({ noNaN: true }), fc.boolean(), (value, a, b, integer) => {
        const [min, max] = a <= b ? [a, b] : [b, a];
        const ok = Number.isFinite(value) && value >= min && value <= max && (!integer || Number.isInteger(value));
        const result = z.strictObject({ value: option.range(min, max, integer) }).safeParse({ value });
        expect(result.success).toBe(ok);
      }),
    );
  });

  it('withMethods: an object or function with every named method, kept as given', () => {
    const store = { get() {}, set() {} };
    expect(one(option.withMethods('get', 'set'), store)).toBe(store);
    const callable = Object.assign(() => {}, { get() {}, set() {} });
    expect(one(option.withMethods('get', 'set'), callable)).toBe(callable);
    class Store {
      get() {}
      set() {}
    }
    const instance = new Store();
    expect(one(option.withMethods('get', 'set'), instance)).toBe(instance);
    expect(rejection(option.withMethods('get', 'set'), { get() {} })).toBe('must be an object with get(), set(), got an object');
    expect(rejection(option.withMethods('get', 'set'), { get() {}, set: 1 })).toBe('must be an object with get(), set(), got an object');
    expect(rejection(option.withMethods('get'), null)).toBe('must be an object with get(), got null');
    expect(rejection(option.withMethods('get'), 'get')).toBe('must be an object with get(), got "get"');
    expect(rejection(option.withMethods('get'), () => {})).toBe('must be an object with get(), got a function');
  });

  it('withMethods: a primitive is refused even when its prototype has the methods', () => {
    expect(rejection(option.withMethods('toFixed'), 42)).toBe('must be an object with toFixed(), got 42');
    expect(rejection(option.withMethods('trim', 'slice'), 'text')).toBe('must be an object with trim(), slice(), got "text"');
    expect(rejection(option.withMethods('toString'), true)).toBe('must be an object with toString(), got true');
    expect(rejection(option.withMethods('toString'), 10n)).toBe('must be an object with toString(), got 10n');
    expect(rejection(option.withMethods('toString'), Symbol('s'))).toBe('must be an object with toString(), got a symbol');
    expect(one(option.withMethods('toString'), Object(42))).toEqual(Object(42)); // a boxed number is an object
  });

  it('object: a nested strict object, refused with "must be an object" when it is not one', () => {
    const schema = z.strictObject({ pool: option.object({ size: option.positiveInteger(), name: option.string().optional() }).optional() });
    expect(parseOptions(schema, { pool: { size: 2 } }, 'Pool')).toEqual({ pool: { size: 2 } });
    expect(parseOptions(schema, {}, 'Pool')).toEqual({});
    for (const [value, shown] of [
      [5, '5'],
      [null, 'null'],
      ['big', '"big"'],
      [[], 'an array'],
    ] as const) {
      const err = optionError(() => parseOptions(schema, { pool: value }, 'Pool'));
      expect(err.option).toBe('pool');
      expect(err.message).toBe(`[migration-glue] option \`pool\` must be an object, got ${shown}`);
    }
    const field = optionError(() => parseOptions(schema, { pool: { size: 0 } }, 'Pool'));
    expect(field.message).toBe('[migration-glue] option `pool.size` must be an integer of at least 1, got 0');
    const unknown = optionError(() => parseOptions(schema, { pool: { size: 1, sise: 1 } }, 'Pool'));
    expect(unknown.message).toBe('[migration-glue] option `pool.sise` is not an option of Pool; did you mean `pool.size`? (known: size, name)');
  });

  it('withMethods: a getter that throws or a revoked Proxy is refused, not thrown', () => {
    expect(rejection(option.withMethods('get'), throwingGetter('get'))).toBe('must be an object with get(), got an object');
    // through the field itself, without parseOptions
    expect(issueOf(option.withMethods('get'), revokedProxy())).toBe('must be an object with get(), got a revoked Proxy');
  });

  it('clock: systemClock when left out, a guarded clock when given, refused without now()', () => {
    const schema = z.strictObject({ clock: option.clock() });
    expect(parseOptions(schema, {}, 'Clocked').clock).toBe(systemClock);
    const clock = parseOptions(schema, { clock: { now: () => 42 } }, 'Clocked').clock;
    expect(clock.now()).toBe(42);
    expect(rejection(option.clock(), { now: 1 })).toBe('must be an object with a now() method, got an object');
    expect(rejection(option.clock(), null)).toBe('must be an object with a now() method, got null');
    expect(issueOf(option.clock(), revokedProxy())).toBe('must be an object with a now() method, got a revoked Proxy');
  });

  it('.default() fills a left-out option and .optional() leaves it out', () => {
    const schema = z.strictObject({
      limit: option.positiveInteger().default(5),
      name: option.string().optional(),
    });
    expect(parseOptions(schema, {}, 'Defaults')).toEqual({ limit: 5 });
    expect(parseOptions(schema, { limit: undefined }, 'Defaults')).toEqual({ limit: 5 });
    expect(parseOptions(schema, { limit: 2, name: 'n' }, 'Defaults')).toEqual({ limit: 2, name: 'n' });
    expect(optionError(() => parseOptions(schema, { name: '' }, 'Defaults')).option).toBe('name');
  });
});

/** The rule nearestName documents, written independently: for the properties below. */
function levenshtein(a: string, b: string): number {
  const d = Array.from({ length: a.length + 1 }, (_, i) => Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)));
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      d[i]![j] = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
  }
  return d[a.length]![b.length]!;
}

function expectedNearest(name: string, known: readonly string[]): string | undefined {
  const lower = name.toLowerCase();
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const candidate of known) {
    const c = candidate.toLowerCase();
    const contained = c.includes(lower) || lower.includes(c);
    const distance = contained ? Math.abs(candidate.length - name.length) / 2 : lower.length > 64 || c.length > 64 ? Infinity : levenshtein(lower, c);
    if (distance < bestDistance) [best, bestDistance] = [candidate, distance];
  }
  return bestDistance <= Math.max(2, Math.floor(name.length / 3)) ? best : undefined;
}

describe('nearestName', () => {
  const identifier = fc.stringMatching(/^[a-zA-Z][a-zA-Z0-9]{0,11}$/);

  it('suggests the name a slip came from', () => {
    expect(nearestName('timeoutMS', ['timeoutMs', 'maxRetries'])).toBe('timeoutMs');
    expect(nearestName('maxRetires', ['timeoutMs', 'maxRetries'])).toBe('maxRetries');
    expect(nearestName('timeout', ['timeoutMs'])).toBe('timeoutMs');
    expect(nearestName('colour', ['timeoutMs', 'maxRetries'])).toBeUndefined();
    expect(nearestName('anything', [])).toBeUndefined();
  });

  it('counts a name inside another (or around it) as half its length difference', () => {
    // 'retry' is 3 edits from 'maxRetry', but inside it: 1.5.
    expect(nearestName('retry', ['maxRetry'])).toBe('maxRetry');
    // 10 edits, but 'retries' is inside: 5, within 17 / 3.
    expect(nearestName('defaultMaxRetries', ['retries'])).toBe('retries');
    // inside, but 10 characters shorter than the 11 it is in: 5 > 2
    expect(nearestName('a', ['abcdefghijk'])).toBeUndefined();
    // the closer of two: 'retro' is 1 edit, 'maxRetry' 1.5
    expect(nearestName('retry', ['maxRetry', 'retro'])).toBe('retro');
    expect(nearestName('retry', ['retro', 'maxRetry'])).toBe('retro');
  });

  it('allows 2 edits for a short name and a third of the length for a long one, no more', () => {
    expect(nearestName('abcdxy', ['abcdef'])).toBe('abcdef'); // 2 edits of 6
    expect(nearestName('abcxyz', ['abcdef'])).toBeUndefined(); // 3 edits of 6
    expect(nearestName('abcdefxyz', ['abcdefghi'])).toBe('abcdefghi'); // 3 edits of 9
    expect(nearestName('abcdexyzw', ['abcdefghi'])).toBeUndefined(); // 4 edits of 9
    expect(nearestName('abcdefghxyzw', ['abcdefghijkl'])).toBe('abcdefghijkl'); // 4 edits of 12
    expect(nearestName('abcdefgwxyzv', ['abcdefghijkl'])).toBeUndefined(); // 5 edits of 12
  });

  it('counts insertions, deletions and substitutions alike', () => {
    expect(nearestName('abXcdefgh', ['abcdefgh'])).toBe('abcdefgh');
    expect(nearestName('abdefgh', ['abcdefgh'])).toBe('abcdefgh');
    expect(nearestName('abcXefgh', ['abcdefgh'])).toBe('abcdefgh');
    expect(nearestName('bacdefgh', ['abcdefgh'])).toBe('abcdefgh'); // a swap is 2 edits
    expect(nearestName('xyzdefgh', ['abcdefgh'])).toBeUndefined();
    expect(nearestName('abcdefxyz', ['abcdef', 'xyzabc'])).toBe('abcdef');
  });

  it('keeps the first of two equally near names', () => {
    expect(nearestName('abcd', ['abcx', 'abcy'])).toBe('abcx');
    expect(nearestName('abcd', ['abcy', 'abcx'])).toBe('abcy');
  });

  it('compares names of up to 64 characters, and never longer ones', () => {
    const long = 'a'.repeat(63);
    expect(nearestName(`b${long}`, [`c${long}`])).toBe(`c${long}`); // 64 and 64, 1 edit
    expect(nearestName(`bb${long}`, [`cc${long}`])).toBeUndefined(); // 65: not compared
    expect(nearestName(`b${'a'.repeat(64)}`, [`c${long}`])).toBeUndefined(); // 65 and 64
    expect(nearestName(`c${long}`, [`b${'a'.repeat(64)}`])).toBeUndefined(); // 64 and 65
  });

  it('follows the documented rule for any names', () => {
    fc.assert(
      fc.property(identifier, fc.array(identifier, { maxLength: 6 }), (name, known) => {
        expect(nearestName(name, known)).toBe(expectedNearest(name, known));
      }),
      { numRuns: 500 },
    );
  });

  it('suggests the very name (up to case) when it is known', () => {
    fc.assert(
      fc.property(fc.uniqueArray(identifier, { minLength: 1, maxLength: 6, selector: (s) => s.toLowerCase() }), fc.nat(), (known, pick) => {
        const name = known[pick % known.length]!;
        expect(nearestName(name, known)).toBe(name);
        const flipped = name === name.toUpperCase() ? name.toLowerCase() : name.toUpperCase();
        expect(nearestName(flipped, known)).toBe(name);
      }),
    );
  });

  it('suggests a known name (or none), and one for every single-character slip of a known name', () => {
    fc.assert(
      fc.property(fc.array(identifier, { minLength: 1, maxLength: 6 }), fc.nat(), fc.nat(), fc.constantFrom('a', 'Z', '9'), (known, pick, at, char) => {
        const target = known[pick % known.length]!;
        const i = at % target.length;
        const slip = `${target.slice(0, i)}${char}${target.slice(i + 1)}`;
        const suggestion = nearestName(slip, known);
        expect(suggestion).toBeDefined();
        expect(known).toContain(suggestion);
      }),
    );
  });

  it('ignores case', () => {
    fc.assert(
      fc.property(identifier, fc.array(identifier, { maxLength: 6 }), (name, known) => {
        expect(nearestName(name.toUpperCase(), known)).toBe(nearestName(name.toLowerCase(), known));
      }),
    );
  });
});
