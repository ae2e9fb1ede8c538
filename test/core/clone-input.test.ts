import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { cloneInput } from '../../src/core/clone-input.js';

describe('cloneInput', () => {
  it('copies any JSON value deeply: equal, and sharing no object with the original', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (value) => {
        const copy = cloneInput(value);
        expect(copy).toEqual(value);
        const objects = (v: unknown, seen: Set<unknown> = new Set()): Set<unknown> => {
          if (typeof v === 'object' && v !== null) {
            seen.add(v);
            for (const child of Object.values(v)) objects(child, seen);
          }
          return seen;
        };
        const shared = [...objects(copy)].filter((o) => objects(value).has(o));
        expect(shared).toEqual([]);
      }),
    );
  });

  it('gives what structuredClone gives for dates, maps, class instances and cycles', () => {
    class Point {
      constructor(readonly x: number) {}
    }
    const cyclic: { self?: unknown; n: number } = { n: 1 };
    cyclic.self = cyclic;
    for (const value of [{ at: new Date(0) }, new Map([[1, 2]]), { p: new Point(3) }, cyclic, { deep: JSON.parse('['.repeat(100) + ']'.repeat(100)) as unknown }]) {
      expect(cloneInput(value)).toEqual(structuredClone(value));
    }
  });

  it('throws like structuredClone for what cannot be cloned', () => {
    expect(() => cloneInput({ callback: () => 1 })).toThrow();
    expect(() => cloneInput({ s: Symbol('x') })).toThrow();
  });
});
