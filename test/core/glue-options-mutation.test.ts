import { describe, expect, it } from 'vitest';
import { resolveGlueOptions, resolveHasher, resolveProvider } from '../../src/core/glue-options.js';
import type { MigrationGlueOptions } from '../../src/core/glue-options.js';
import { defaultShadowOptions } from '../../src/core/shadow-options.js';
import { murmur3Hasher } from '../../src/hashing/hasher.js';
import { InMemoryConfigStore, MigrationGlueError, phases, silentLogger } from '../../src/index.js';
import { defaultNotifierTimeoutMs } from '../../src/observe/notifier.js';

// src/core/glue-options.ts: a glue's options checked once, defaults
// resolved; `shadow` and `shadow.clean` read field by field.

type Options = MigrationGlueOptions<unknown, unknown>;

const base: Options = { name: 'pricing', oldService: async () => 1, newService: async () => 2, config: phases.preparation(), logger: silentLogger };

const resolve = (extra: Record<string, unknown> = {}) => resolveGlueOptions({ ...base, ...extra } as Options);

/** The message of the ERR_INVALID_OPTION `extra` is refused with, checking the option named. */
function refusal(extra: Record<string, unknown> | (() => unknown), option: string): string {
  let caught: unknown;
  try {
    if (typeof extra === 'function') resolveGlueOptions(extra() as Options);
    else resolve(extra);
  } catch (err) {
    caught = err;
  }
  expect(MigrationGlueError.is(caught, 'ERR_INVALID_OPTION')).toBe(true);
  expect(caught).toMatchObject({ option });
  return (caught as Error).message;
}

describe('resolveGlueOptions defaults', () => {
  it('salt defaults to the name, timeouts and window to their documented values, shadow to its defaults', () => {
    const resolved = resolve();
    expect(resolved.salt).toBe('pricing');
    expect(resolved.storeTimeoutMs).toBe(30_000);
    expect(resolved.notifierTimeoutMs).toBe(defaultNotifierTimeoutMs);
    expect(resolved.windowMs).toBe(300_000);
    expect(resolved.newTimeoutMs).toBeUndefined();
    expect(resolved.shadow).toEqual(defaultShadowOptions);
    expect(resolved.clock.now()).toEqual(expect.any(Number));
  });

  it('keeps a salt, timeouts and window given', () => {
    const resolved = resolve({ salt: 'shared', storeTimeoutMs: 5, notifierTimeoutMs: 6, windowMs: 7, newTimeoutMs: 8 });
    expect(resolved).toMatchObject({ salt: 'shared', storeTimeoutMs: 5, notifierTimeoutMs: 6, windowMs: 7, newTimeoutMs: 8 });
    expect(resolve({ salt: '' }).salt).toBe('');
  });

  it('a shadow option given is completed, with no clean hooks when it has none', () => {
    expect(resolve({ shadow: { sampleRate: 0.5 } }).shadow).toEqual({ ...defaultShadowOptions, sampleRate: 0.5, clean: {} });
    expect(resolve({ shadow: null }).shadow).toEqual(defaultShadowOptions);
    expect(resolve({ shadow: { clean: null } }).shadow.clean).toEqual({});
    const input = (value: unknown) => value;
    expect(resolve({ shadow: { clean: { input } } }).shadow.clean).toEqual({ input });
  });

  it('takes inherited options as the schema does, and the shadow read once', () => {
    const inherited = Object.create({ windowMs: 9, shadow: { timeoutMs: 7 } }) as Record<string, unknown>;
    Object.assign(inherited, base);
    const resolved = resolveGlueOptions(inherited as unknown as Options);
    expect(resolved.windowMs).toBe(9);
    expect(resolved.shadow.timeoutMs).toBe(7);
  });
});

describe('resolveGlueOptions refusals', () => {
  it('name: a non-empty string', () => {
    expect(refusal({ name: ' ' }, 'name')).toBe('[migration-glue] option `name` must be a non-empty string, got " "');
    refusal({ name: 7 }, 'name');
  });

  it('services: a function or an object with process()', () => {
    expect(refusal({ oldService: {} }, 'oldService')).toBe('[migration-glue] option `oldService` must be a Service ({ process(input) }) or an async function, got an object');
    refusal({ newService: { process: 'no' } }, 'newService');
    refusal({ newService: null }, 'newService');
    expect(resolve({ oldService: { process: async () => 1 } }).oldService).toBeDefined();
    const hostile = new Proxy(
      {},
      {
        get() {
          throw new Error('no');
        },
      },
    );
    refusal({ oldService: hostile }, 'oldService');
  });

  it('config: an object', () => {
    expect(refusal({ config: 'full' }, 'config')).toBe('[migration-glue] option `config` must be a MigrationConfig or a ConfigProvider, got "full"');
    refusal({ config: null }, 'config');
  });

  it('hasher: an object with hash32()', () => {
    expect(refusal({ hasher: { hash: () => 1 } }, 'hasher')).toBe('[migration-glue] option `hasher` must be an object with a hash32(bytes) method, got an object');
    expect(resolve({ hasher: { hash32: () => 1 } }).hasher).toBeDefined();
  });

  it('comparator: a function or an object with compare()', () => {
    expect(refusal({ comparator: { equals: () => true } }, 'comparator')).toBe(
      '[migration-glue] option `comparator` must be a Comparator ({ compare(old, new) }) or a function (old, new) => boolean, got an object',
    );
    expect(typeof resolve({ comparator: () => true }).comparator).toBe('function');
    expect(resolve({ comparator: { compare: () => ({ equal: true, diff: [], truncated: false }) } }).comparator).toBeDefined();
  });

  it('salt: a string', () => {
    expect(refusal({ salt: 7 }, 'salt')).toBe('[migration-glue] option `salt` must be a string, got 7');
  });

  it('windowMs: a positive number', () => {
    refusal({ windowMs: 0 }, 'windowMs');
  });

  it('a shadow or shadow.clean that cannot be read is refused under its own name', () => {
    const unreadable = new Proxy(
      {},
      {
        ownKeys() {
          throw new Error('no');
        },
      },
    );
    expect(refusal({ shadow: unreadable }, 'shadow')).toBe(
      '[migration-glue] option `shadow` cannot be read (a getter or a Proxy trap threw, or the Proxy is revoked)',
    );
    expect(refusal({ shadow: { clean: unreadable } }, 'shadow.clean')).toBe(
      '[migration-glue] option `shadow.clean` cannot be read (a getter or a Proxy trap threw, or the Proxy is revoked)',
    );
    const getter = Object.defineProperty({}, 'timeoutMs', {
      enumerable: true,
      get() {
        throw new Error('no');
      },
    });
    refusal({ shadow: getter }, 'shadow');
  });

  it('an own __proto__ key in shadow or shadow.clean is refused, not taken as a prototype', () => {
    refusal({ shadow: JSON.parse('{"__proto__": {"timeoutMs": 1}}') as unknown }, 'shadow.__proto__');
    refusal({ shadow: { clean: JSON.parse('{"__proto__": {"input": 1}}') as unknown } }, 'shadow.clean.__proto__');
  });

  it('a shadow that is not an object is left to the schema', () => {
    expect(refusal({ shadow: 'fast' }, 'shadow')).toMatch(/must be an object, got "fast"/);
  });

  it('options whose other getters throw are refused as options', () => {
    const options = Object.defineProperty({ ...base, shadow: {} }, 'windowMs', {
      enumerable: true,
      get() {
        throw new Error('getter exploded');
      },
    });
    const message = refusal(() => options, 'options');
    expect(message).not.toContain('getter exploded');
    expect(message).toMatch(/^\[migration-glue\] option `options` could not be read \(MigrationGlue\)/);
  });

  it('an unknown option is refused as not an option of MigrationGlue', () => {
    expect(refusal({ timeout: 1 }, 'timeout')).toMatch(/^\[migration-glue\] option `timeout` is not an option of MigrationGlue/);
  });

  it('accepts a hasher or a service that is a function with the method needed', () => {
    const hasher = Object.assign(() => 0, { hash32: () => 1 });
    expect(resolve({ hasher }).hasher).toBe(hasher);
    const comparator = Object.assign(() => true, { compare: () => ({ equal: true, diff: [], truncated: false }) });
    expect(resolve({ comparator }).comparator).toBe(comparator);
  });

  it('options that are not an object are refused as options', () => {
    refusal(() => null, 'options');
  });
});

describe('resolveProvider', () => {
  it('a provider as it is, a plain config validated once', () => {
    const store = new InMemoryConfigStore(phases.shadow());
    expect(resolveProvider(store)).toBe(store);
    const provider = resolveProvider(phases.canary(5));
    expect(provider.current()).toEqual(phases.canary(5));
    expect(() => resolveProvider({ ...phases.canary(5), newSystemPercentage: 101 })).toThrow();
  });
});

describe('resolveHasher', () => {
  it('murmur3 by default', () => {
    expect(resolveHasher(undefined)).toBe(murmur3Hasher);
  });

  it('passes a user hasher\'s numbers through, called on the hasher', () => {
    const user = {
      factor: 3,
      hash32(this: { factor: number }, bytes: Uint8Array) {
        return bytes.length * this.factor;
      },
    };
    expect(resolveHasher(user).hash32(new Uint8Array(4))).toBe(12);
    expect(resolveHasher({ hash32: () => -1.5 }).hash32(new Uint8Array(1))).toBe(-1.5);
  });

  it('an answer that is not a number is NaN, and a promise\'s rejection is handled', () => {
    expect(resolveHasher({ hash32: () => '12' as unknown as number }).hash32(new Uint8Array(1))).toBeNaN();
    let handled = 0;
    const thenable = {
      then(_ok: unknown, reject: unknown) {
        if (typeof reject === 'function') handled += 1;
      },
    };
    expect(resolveHasher({ hash32: () => thenable as unknown as number }).hash32(new Uint8Array(1))).toBeNaN();
    expect(handled).toBe(1);
  });
});
