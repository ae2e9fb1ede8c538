import { describe, expect, it } from 'vitest';
import { KeyReader } from '../../src/core/key-reader.js';
import { defaultRoutingKey, inputFieldNames, safeRoutingKey } from '../../src/core/routing-key.js';
import type { RoutingKeyProblem } from '../../src/core/routing-key.js';
import type { Hasher, RoutingKey } from '../../src/hashing/hasher.js';
import { bucketOf } from '../../src/index.js';
import type { LogLimiter } from '../../src/observe/log-limiter.js';

// How a glue reads the routing key of an input (src/core/routing-key.ts) and
// its bucket, and says why a call had none (src/core/key-reader.ts).

describe('defaultRoutingKey', () => {
  it.each([
    ['a string input', 'abc', 'abc'],
    ['a number input', 7, 7],
    ['zero', 0, 0],
    ['an empty string input', '', undefined],
    ['NaN', Number.NaN, undefined],
    ['Infinity', Number.POSITIVE_INFINITY, undefined],
    ['null', null, undefined],
    ['undefined', undefined, undefined],
    ['a boolean', true, undefined],
    ['a function', () => 'k', undefined],
    ['userId', { userId: 'u1', requestId: 'r1' }, 'u1'],
    ['a userId of 0 (not skipped for requestId)', { userId: 0, requestId: 'r1' }, 0],
    ['an empty userId (not skipped for requestId)', { userId: '', requestId: 'r1' }, undefined],
    ['a null userId', { userId: null, requestId: 'r1' }, 'r1'],
    ['requestId', { requestId: 9 }, 9],
    ['an object userId', { userId: { id: 1 } }, undefined],
    ['neither', { id: 'x' }, undefined],
  ])('reads %s', (_, input, key) => {
    expect(defaultRoutingKey(input)).toBe(key);
  });

  it('reads no key from a function, even one with a userId', () => {
    expect(defaultRoutingKey(Object.assign(() => 'k', { userId: 'u1' }))).toBeUndefined();
  });

  it('reads no key from an input whose getter throws', () => {
    const input = {
      get userId(): string {
        throw new Error('getter broke');
      },
    };
    expect(defaultRoutingKey(input)).toBeUndefined();
  });
});

describe('safeRoutingKey', () => {
  const problems = (fn: (input: unknown) => unknown) => {
    const heard: [RoutingKeyProblem, unknown][] = [];
    const key = safeRoutingKey(fn as (input: unknown) => RoutingKey, 'input', (problem, error) => heard.push([problem, error]));
    return { key, heard };
  };

  it('returns a usable key and hears no problem', () => {
    expect(problems(() => 'k')).toEqual({ key: 'k', heard: [] });
    expect(problems(() => 0)).toEqual({ key: 0, heard: [] });
  });

  it('passes the input to the function', () => {
    expect(safeRoutingKey((input: { id: string }) => input.id, { id: 'from-input' })).toBe('from-input');
  });

  it('hears "threw" with the error', () => {
    const boom = new Error('boom');
    expect(
      problems(() => {
        throw boom;
      }),
    ).toEqual({ key: undefined, heard: [['threw', boom]] });
  });

  it.each([
    ['undefined', undefined, 'missing'],
    ['null', null, 'missing'],
    ['an empty string', '', 'missing'],
    ['NaN', Number.NaN, 'invalid'],
    ['Infinity', Number.POSITIVE_INFINITY, 'invalid'],
    ['a boolean', false, 'invalid'],
    ['a bigint', 1n, 'invalid'],
    ['a symbol', Symbol('k'), 'invalid'],
    ['a function', () => 'k', 'invalid'],
    ['an object', { id: 1 }, 'object'],
    ['an array', ['k'], 'object'],
    ['an object with a then that is not a function', { then: 1 }, 'object'],
  ])('hears the problem of %s', (_, returned, problem) => {
    expect(problems(() => returned)).toEqual({ key: undefined, heard: [[problem, undefined]] });
  });

  it('hears "promise" for a promise, and a rejection later kills nothing', async () => {
    let reject: ((err: Error) => void) | undefined;
    const promise = new Promise((_, r) => (reject = r));
    expect(problems(() => promise)).toEqual({ key: undefined, heard: [['promise', undefined]] });
    reject?.(new Error('late'));
    await new Promise((resolve) => setImmediate(resolve));
    expect(problems(() => ({ then: () => {} })).heard).toEqual([['promise', undefined]]);
    // a function with a then method is a thenable too
    expect(problems(() => Object.assign(() => {}, { then: () => {} })).heard).toEqual([['promise', undefined]]);
  });

  it('hears "object" for a revoked proxy or an object whose then getter throws', () => {
    const { proxy, revoke } = Proxy.revocable({}, {});
    revoke();
    expect(problems(() => proxy).heard).toEqual([['object', undefined]]);
    const hostile = {
      get then(): unknown {
        throw new Error('then broke');
      },
    };
    expect(problems(() => hostile).heard).toEqual([['object', undefined]]);
  });

  it('works without a listener', () => {
    expect(safeRoutingKey(() => ({}) as unknown as string, 'input')).toBeUndefined();
    expect(
      safeRoutingKey(() => {
        throw new Error('x');
      }, 'input'),
    ).toBeUndefined();
  });
});

describe('inputFieldNames', () => {
  it.each([
    [null, '(a null input)'],
    [undefined, '(a undefined input)'],
    [5, '(a number input)'],
    ['text', '(a string input)'],
  ])('describes %j without fields', (input, described) => {
    expect(inputFieldNames(input)).toBe(described);
  });

  it('names own fields only, never values', () => {
    const input = Object.assign(Object.create({ inherited: 1 }) as object, { a: 'secret', b: 2 });
    expect(inputFieldNames(input)).toEqual(['a', 'b']);
  });

  it('names at most 20 fields, then an ellipsis', () => {
    const fields = (n: number) => Object.fromEntries(Array.from({ length: n }, (_, i) => [`f${i}`, i]));
    expect(inputFieldNames(fields(20))).toEqual(Array.from({ length: 20 }, (_, i) => `f${i}`));
    expect(inputFieldNames(fields(21))).toEqual([...Array.from({ length: 20 }, (_, i) => `f${i}`), '…']);
  });

  it('cuts a name over 60 characters', () => {
    const sixty = 'n'.repeat(60);
    expect(inputFieldNames({ [sixty]: 1, [`${sixty}x`]: 2 })).toEqual([sixty, `${sixty}…`]);
  });

  it('says an input it cannot read is unreadable', () => {
    const input = new Proxy(
      {},
      {
        ownKeys() {
          throw new Error('no keys');
        },
      },
    );
    expect(inputFieldNames(input)).toBe('(unreadable input)');
  });
});

type LogCall = { level: string; kind: string; fields: Record<string, unknown>; message: string };

function reader(init: { hasher?: Hasher; routingKey?: (input: unknown) => RoutingKey | undefined } = {}) {
  const logged: LogCall[] = [];
  const log = {
    log: (level: string, kind: string, fields: Record<string, unknown> | (() => Record<string, unknown>), message: string) => {
      logged.push({ level, kind, fields: typeof fields === 'function' ? fields() : fields, message });
      return true;
    },
  } as unknown as LogLimiter;
  const keys = new KeyReader<unknown>({
    name: 'pricing',
    salt: 'pricing',
    hasher: init.hasher ?? { hash32: (bytes) => bytes.length },
    routingKey: init.routingKey,
    log,
    clean: (input) => (typeof input === 'object' && input !== null ? { ...input, cleaned: true } : input),
    cleanError: (error) => `cleaned ${String(error)}`,
  });
  return { keys, logged };
}

describe('KeyReader.bucketOf', () => {
  it.each([
    [0, 0],
    [9_999, 9_999],
    [10_000, 0],
    [4_294_967_295, 7_295],
  ])('takes a hash of %i as bucket %i', (hash, bucket) => {
    const { keys, logged } = reader({ hasher: { hash32: () => hash } });
    expect(keys.bucketOf('k')).toBe(bucket);
    expect(logged).toEqual([]);
  });

  it('hashes salt:key with the hasher it was given', () => {
    const { keys } = reader({ hasher: { hash32: (bytes) => bytes.length } });
    expect(keys.bucketOf('abc')).toBe('pricing:abc'.length);
    expect(reader({ hasher: undefined }).keys.bucketOf('abc')).toBe('pricing:abc'.length);
    const real = new KeyReader<unknown>({
      name: 'n',
      salt: 'pricing',
      hasher: { hash32: (bytes) => Number(bytes.length * 1_000 + 3) },
      routingKey: undefined,
      log: { log: () => true } as unknown as LogLimiter,
      clean: (input) => input,
      cleanError: (error) => error,
    });
    expect(real.bucketOf('u')).toBe(bucketOf('u', 'pricing', { hash32: (bytes) => bytes.length * 1_000 + 3 }));
  });

  it.each([
    ['a negative number', -1],
    ['a fraction', 1.5],
    ['NaN', Number.NaN],
    ['Infinity', Number.POSITIVE_INFINITY],
  ])('refuses a hash that is %s, and logs it', (_, hash) => {
    const { keys, logged } = reader({ hasher: { hash32: () => hash as number } });
    expect(keys.bucketOf('k')).toBeUndefined();
    expect(logged).toHaveLength(1);
    expect(logged[0]).toMatchObject({ level: 'error', kind: 'hasher', fields: { migration: 'pricing' } });
    expect(logged[0]?.message).toMatch(/returned something other than an unsigned 32-bit integer/);
  });

  it('refuses a hasher that throws, logging the cleaned error', () => {
    const { keys, logged } = reader({
      hasher: {
        hash32: () => {
          throw new Error('hasher down');
        },
      },
    });
    expect(keys.bucketOf('k')).toBeUndefined();
    expect(logged).toEqual([{ level: 'error', kind: 'hasher', fields: { migration: 'pricing', err: 'cleaned Error: hasher down' }, message: 'the hasher threw; old served the call' }]);
  });
});

describe('KeyReader.missing', () => {
  it('counts each call and logs why, with the field names of the cleaned input', () => {
    const { keys, logged } = reader();
    const input = { id: 'x' };
    expect(keys.keyOf(input, true)).toBeUndefined();
    keys.missing(input);
    expect(keys.missingKeys).toBe(1);
    expect(logged).toHaveLength(1);
    expect(logged[0]).toMatchObject({ level: 'warn', kind: 'missing-key:missing', fields: { migration: 'pricing', missingKeys: 1, inputFields: ['id', 'cleaned'] } });
    expect(logged[0]?.fields).not.toHaveProperty('err');
    expect(logged[0]?.message).toMatch(/^call without a routing key: old served it, and no call without a key reaches new\. The default routing key reads input\.userId/);
    keys.missing(input);
    expect(keys.missingKeys).toBe(2);
    expect(logged[1]?.fields).toMatchObject({ missingKeys: 2 });
  });

  it.each([
    ['threw', (): unknown => {
      throw new Error('bad key');
    }, /The `routingKey` option threw for this input/],
    ['promise', (): unknown => Promise.resolve('k'), /returned a promise/],
    ['object', (): unknown => ({ id: 1 }), /returned an object/],
    ['invalid', (): unknown => Number.NaN, /returned a value that is not a key/],
    ['missing', (): unknown => undefined, /The `routingKey` option returned no key/],
  ] as const)('says what to do when a custom routingKey gives "%s", then forgets it', (problem, routingKey, advice) => {
    const { keys, logged } = reader({ routingKey: routingKey as (input: unknown) => RoutingKey | undefined });
    keys.keyOf({ id: 1 }, true);
    keys.missing({ id: 1 });
    expect(logged[0]?.kind).toBe(`missing-key:${problem}`);
    expect(logged[0]?.message).toMatch(advice);
    if (problem === 'threw') expect(logged[0]?.fields).toMatchObject({ err: 'cleaned Error: bad key' });
    else expect(logged[0]?.fields).not.toHaveProperty('err');
    // the next call read without diagnosing says "missing", not the problem before
    keys.missing({ id: 2 });
    expect(logged[1]?.kind).toBe('missing-key:missing');
    expect(logged[1]?.fields).not.toHaveProperty('err');
  });

  it('keeps no problem when the key is read without diagnosing', () => {
    const { keys, logged } = reader({
      routingKey: () => {
        throw new Error('x');
      },
    });
    expect(keys.keyOf({}, false)).toBeUndefined();
    expect(keys.keyOf({})).toBeUndefined();
    keys.missing({});
    expect(logged[0]?.kind).toBe('missing-key:missing');
  });
});
