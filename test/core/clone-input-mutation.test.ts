import { describe, expect, it } from 'vitest';
import { cloneInput, plainCopyOrSame } from '../../src/core/clone-input.js';

// src/core/clone-input.ts: plain data is copied in JavaScript, which copies a
// shared object once per place it appears; anything else goes to
// structuredClone, which keeps it shared. Which path a value took is told by
// a shared object: two copies (plain path) or one (structuredClone).

const shared = { tag: 'shared' };

/** True when the copy of `{ a: shared, b: shared, ...rest }` kept `a` and `b` one object: structuredClone copied it. */
function wentToStructuredClone(rest: Record<string, unknown>, copy: (value: unknown) => unknown = cloneInput): boolean {
  const out = copy({ a: shared, b: shared, ...rest }) as { a: unknown; b: unknown };
  expect(out.a).toEqual(shared);
  expect(out.a).not.toBe(shared);
  return out.a === out.b;
}

/** `levels` nested objects: { n: { n: … {} } }, the innermost at depth `levels` below the one holding it. */
function chain(levels: number): unknown {
  let out: unknown = {};
  for (let i = 1; i < levels; i++) out = { n: out };
  return out;
}

describe('cloneInput: plain data', () => {
  it('copies plain objects, arrays and primitives in JavaScript', () => {
    expect(wentToStructuredClone({ list: [1, 'x', null, undefined, true, { deep: [2] }] })).toBe(false);
    const value = { list: [1, 'x', null, undefined, true, { deep: [2] }], n: 0 };
    const copy = cloneInput(value);
    expect(copy).toEqual(value);
    expect(copy.list).toHaveLength(6);
    expect(copy.list).not.toBe(value.list);
  });

  it('copies an object of null prototype as plain data', () => {
    const bare = Object.assign(Object.create(null) as Record<string, unknown>, { x: 1 });
    expect(wentToStructuredClone({ bare })).toBe(false);
  });

  it('hands a class instance, a function or a symbol to structuredClone', () => {
    class Point {
      constructor(readonly x: number) {}
    }
    expect(wentToStructuredClone({ p: new Point(1) })).toBe(true);
    expect(() => cloneInput({ a: shared, b: shared, f: () => 1 })).toThrow(/could not be cloned/);
    expect(() => cloneInput({ s: Symbol('x') })).toThrow(/could not be cloned/);
    expect(() => cloneInput([Symbol('x')])).toThrow(/could not be cloned/);
  });

  it('copies objects nested down to depth 64 in JavaScript, deeper ones by structuredClone', () => {
    // the root is at depth 0: a chain of 64 under it reaches depth 64
    expect(wentToStructuredClone({ deep: chain(64) })).toBe(false);
    expect(wentToStructuredClone({ deep: chain(65) })).toBe(true);
  });

  it('counts the depth of nested arrays too', () => {
    const arrays = (levels: number): unknown => {
      let out: unknown = [];
      for (let i = 1; i < levels; i++) out = [out];
      return out;
    };
    expect(wentToStructuredClone({ deep: arrays(64) })).toBe(false);
    expect(wentToStructuredClone({ deep: arrays(65) })).toBe(true);
  });

  it('copies up to 10,000 objects in JavaScript, more by structuredClone', () => {
    const items = (n: number) => Array.from({ length: n }, () => ({}));
    // root, a, b, the list: 4 objects, plus the items
    expect(wentToStructuredClone({ list: items(9_996) })).toBe(false);
    expect(wentToStructuredClone({ list: items(9_997) })).toBe(true);
  });

  it('keeps an own __proto__ key a key, not the prototype of the copy', () => {
    const value = JSON.parse('{"__proto__": {"polluted": true}, "x": 1}') as Record<string, unknown>;
    const copy = cloneInput(value);
    expect(Object.getPrototypeOf(copy)).toBe(Object.prototype);
    expect(Object.prototype.hasOwnProperty.call(copy, '__proto__')).toBe(true);
    expect(Object.keys(copy)).toEqual(['__proto__', 'x']);
    expect((copy as { polluted?: unknown }).polluted).toBeUndefined();
    const own = Object.getOwnPropertyDescriptor(copy, '__proto__');
    expect(own).toEqual({ value: { polluted: true }, enumerable: true, writable: true, configurable: true });
  });

  it('a getter that throws throws its own error, read once', () => {
    let reads = 0;
    const value = Object.defineProperty({}, 'bad', {
      enumerable: true,
      get() {
        reads += 1;
        throw new RangeError('getter broke');
      },
    });
    expect(() => cloneInput(value)).toThrow(RangeError);
    expect(reads).toBe(1);
  });
});

describe('plainCopyOrSame', () => {
  it('copies small plain data', () => {
    expect(wentToStructuredClone({}, plainCopyOrSame)).toBe(false);
  });

  it('gives anything else back as itself, never throwing', () => {
    class Point {
      constructor(readonly x: number) {}
    }
    const instance = { p: new Point(1) };
    expect(plainCopyOrSame(instance)).toBe(instance);
    const withFunction = { f: () => 1 };
    expect(plainCopyOrSame(withFunction)).toBe(withFunction);
    const throwing = Object.defineProperty({}, 'bad', {
      enumerable: true,
      get() {
        throw new Error('no');
      },
    });
    expect(plainCopyOrSame(throwing)).toBe(throwing);
    expect(plainCopyOrSame('text')).toBe('text');
  });
});
