import { describe, expect, it } from 'vitest';
import { checkInput } from '../../src/core/input-check.js';

// src/core/input-check.ts: whether new changed its copy of the input, told
// by comparing it with a pristine copy taken beside it.

/** Two fresh copies of the same value, as the shadow takes them. */
function twins<T>(make: () => T): [T, T] {
  return [make(), make()];
}

describe('checkInput: same', () => {
  it('finds equal copies of plain data, maps, sets, dates, boxed values, regexps, bytes and errors the same', () => {
    const make = () => ({
      n: 1,
      nan: Number.NaN,
      s: 'x',
      list: [1, { a: [2, 3] }],
      map: new Map<unknown, unknown>([
        ['k', { v: 1 }],
        [2, 'two'],
      ]),
      set: new Set([1, 'a']),
      at: new Date(5),
      boxed: [Object(1) as unknown, Object('s') as unknown, Object(true) as unknown],
      re: /a+/gi,
      bytes: new Uint8Array([1, 2, 3]),
      buffer: new Uint8Array([4, 5]).buffer,
      error: Object.assign(new TypeError('m'), { code: 'E' }),
    });
    const [a, b] = twins(make);
    expect(checkInput(a, b)).toBe('same');
  });

  it('the same object on both sides, and equal primitives, are the same', () => {
    const value = { x: 1 };
    expect(checkInput(value, value)).toBe('same');
    expect(checkInput(1, 1)).toBe('same');
    expect(checkInput(Number.NaN, Number.NaN)).toBe('same');
  });

  it('follows cycles and shared references once per pair', () => {
    const make = () => {
      const node: Record<string, unknown> = { name: 'n' };
      node['self'] = node;
      const leaf = { v: 1 };
      return { node, left: leaf, right: leaf };
    };
    const [a, b] = twins(make);
    expect(checkInput(a, b)).toBe('same');
    (b.node['self'] as Record<string, unknown>)['name'] = 'changed';
    expect(checkInput(a, b)).toBe('mutated');
  });

  it('walks a 20,000-level list without recursing', () => {
    const make = () => {
      let list: unknown = null;
      for (let i = 0; i < 20_000; i++) list = { i, next: list };
      return list;
    };
    const [a, b] = twins(make);
    expect(checkInput(a, b)).toBe('same');
  });
});

describe('checkInput: mutated', () => {
  it('a changed, added or removed field', () => {
    expect(checkInput({ a: 1 }, { a: 2 })).toBe('mutated');
    expect(checkInput({ a: 1 }, { a: 1, b: 2 })).toBe('mutated');
    expect(checkInput({ a: 1, b: 2 }, { a: 1 })).toBe('mutated');
    expect(checkInput({ a: 1, b: 2 }, { a: 1, c: 2 })).toBe('mutated');
    expect(checkInput({ a: 1 }, { a: undefined })).toBe('mutated');
  });

  it('a value replaced by another type, or by null', () => {
    expect(checkInput({ a: { x: 1 } }, { a: 1 })).toBe('mutated');
    expect(checkInput({ a: 1 }, { a: { x: 1 } })).toBe('mutated');
    expect(checkInput({ a: { x: 1 } }, { a: null })).toBe('mutated');
    expect(checkInput({ a: null }, { a: { x: 1 } })).toBe('mutated');
    expect(checkInput({ a: '1' }, { a: 1 })).toBe('mutated');
    expect(checkInput({ a: 0 }, { a: -0 })).toBe('mutated');
  });

  it('an object given another prototype or tag', () => {
    class Point {
      x = 1;
    }
    expect(checkInput({ x: 1 }, new Point())).toBe('mutated');
    expect(checkInput([], {})).toBe('mutated');
    const fakeDate = Object.setPrototypeOf({}, Date.prototype) as object;
    expect(checkInput(new Date(0), fakeDate)).toBe('mutated');
  });

  it('an array of another length, or with a changed item', () => {
    expect(checkInput([1, 2], [1, 2, 3])).toBe('mutated');
    expect(checkInput([1, 2], [1, 3])).toBe('mutated');
    expect(checkInput([[1]], [[2]])).toBe('mutated');
  });

  it('changed bytes, a typed array of another length, an ArrayBuffer changed', () => {
    expect(checkInput(new Uint8Array([1, 2]), new Uint8Array([1, 3]))).toBe('mutated');
    expect(checkInput(new Uint8Array([1, 2]), new Uint8Array([1, 2, 0]))).toBe('mutated');
    expect(checkInput(new Uint8Array([1, 2]).buffer, new Uint8Array([9, 2]).buffer)).toBe('mutated');
    const big = new Uint8Array([1, 2, 3, 4]);
    expect(checkInput(big.subarray(1, 3), new Uint8Array([2, 3]))).toBe('same');
    expect(checkInput(big.subarray(1, 3), new Uint8Array([1, 2]))).toBe('mutated');
    expect(checkInput(new Uint16Array([1]), new Uint16Array([256]))).toBe('mutated');
  });

  it('a map of another size, order, key or value', () => {
    expect(checkInput(new Map([[1, 'a']]), new Map([[1, 'b']]))).toBe('mutated');
    expect(checkInput(new Map([[1, 'a']]), new Map([[2, 'a']]))).toBe('mutated');
    expect(
      checkInput(
        new Map([[1, 'a']]),
        new Map([
          [1, 'a'],
          [2, 'b'],
        ]),
      ),
    ).toBe('mutated');
    expect(
      checkInput(
        new Map([
          [1, 'a'],
          [2, 'b'],
        ]),
        new Map([
          [2, 'b'],
          [1, 'a'],
        ]),
      ),
    ).toBe('mutated');
    expect(checkInput(Object.assign(new Map(), { extra: 1 }), new Map())).toBe('mutated');
  });

  it('a map that loses entries while read is mutated, not a crash', () => {
    const a = new Map([
      [1, 'a'],
      [2, 'b'],
    ]);
    const b = new Map([
      [1, 'a'],
      [2, 'b'],
    ]);
    let reads = 0;
    const shrinking = new Proxy(b, {
      get(target, key) {
        if (key === 'entries')
          return () => {
            const inner = target.entries();
            return { next: () => (reads++ === 0 ? inner.next() : { done: true, value: undefined }) };
          };
        const value: unknown = Reflect.get(target, key, target);
        return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value;
      },
    });
    expect(checkInput(a, shrinking)).toBe('mutated');
  });

  it('a set of another size or item', () => {
    expect(checkInput(new Set([1]), new Set([2]))).toBe('mutated');
    expect(checkInput(new Set([1]), new Set([1, 2]))).toBe('mutated');
  });

  it('a changed date, boxed value or regexp', () => {
    expect(checkInput(new Date(1), new Date(2))).toBe('mutated');
    expect(checkInput(Object(1), Object(2))).toBe('mutated');
    expect(checkInput(Object('a'), Object('b'))).toBe('mutated');
    expect(checkInput(Object(true), Object(false))).toBe('mutated');
    expect(checkInput(/a/g, /b/g)).toBe('mutated');
    expect(checkInput(/a/g, /a/i)).toBe('mutated');
  });

  it('an error whose message or name changed', () => {
    expect(checkInput(new Error('a'), new Error('b'))).toBe('mutated');
    const renamed = new Error('a');
    renamed.name = 'Other';
    expect(checkInput(new Error('a'), renamed)).toBe('mutated');
  });
});

describe('checkInput: unchecked', () => {
  it('a copy new made unreadable', () => {
    const revocable = Proxy.revocable({}, {});
    revocable.revoke();
    expect(checkInput({ a: {} }, { a: revocable.proxy })).toBe('unchecked');
    const getter = Object.defineProperty({}, 'a', {
      enumerable: true,
      get() {
        throw new Error('no');
      },
    });
    expect(checkInput({ a: 1 }, getter)).toBe('unchecked');
  });
});
