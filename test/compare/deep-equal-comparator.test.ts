import { serialize } from 'node:v8';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { MigrationGlueError } from '../../src/errors.js';
import type { Comparator, Comparison, Outcome } from '../../src/compare/comparator.js';
import { deepEqualComparator } from '../../src/compare/deep-equal-comparator.js';
import type { DeepEqualOptions } from '../../src/compare/deep-equal-comparator.js';
import { toComparator } from '../../src/compare/to-comparator.js';

const ok = <T>(value: T): Outcome<T> => ({ ok: true, value });
const fail = (error: unknown): Outcome<never> => ({ ok: false, error });

function compareValues(oldValue: unknown, newValue: unknown, options?: DeepEqualOptions): Comparison {
  return deepEqualComparator(options).compare(ok(oldValue), ok(newValue));
}

/** Forces the structural walk: an identity hook disables the fast-deep-equal path. */
const walkOnly: DeepEqualOptions = { normalize: { custom: (value) => value } };

const anything = fc.anything({
  withBigInt: true,
  withBoxedValues: true,
  withDate: true,
  withMap: true,
  withSet: true,
  withNullPrototype: true,
  withSparseArray: true,
  withTypedArray: true,
});

function deepFreeze<T>(value: T, seen = new Set<unknown>()): T {
  if (typeof value !== 'object' || value === null || seen.has(value)) return value;
  seen.add(value);
  // Typed arrays with elements cannot be frozen.
  if (ArrayBuffer.isView(value)) return value;
  for (const key of Reflect.ownKeys(value)) deepFreeze((value as Record<PropertyKey, unknown>)[key], seen);
  if (value instanceof Map) {
    for (const [k, v] of value) {
      deepFreeze(k, seen);
      deepFreeze(v, seen);
    }
  }
  if (value instanceof Set) for (const member of value) deepFreeze(member, seen);
  return Object.freeze(value);
}

describe('deepEqualComparator', () => {
  describe('when both sides return the same value', () => {
    it('finds any value equal to its structured clone', () => {
      const comparator = deepEqualComparator();
      const walking = deepEqualComparator(walkOnly);
      fc.assert(
        fc.property(anything, (value) => {
          const clone: unknown = structuredClone(value);
          expect(comparator.compare(ok(value), ok(clone))).toEqual({ equal: true, diff: [], truncated: false });
          expect(walking.compare(ok(value), ok(clone)).equal).toBe(true);
        }),
        { numRuns: 300 },
      );
    });

    it('agrees with the structural walk whatever the fast path decides', () => {
      const comparator = deepEqualComparator({ maxDiffs: Infinity });
      const walking = deepEqualComparator({ ...walkOnly, maxDiffs: Infinity });
      fc.assert(
        fc.property(anything, anything, (a, b) => {
          expect(comparator.compare(ok(a), ok(b))).toEqual(walking.compare(ok(a), ok(b)));
        }),
        { numRuns: 300 },
      );
    });

    it('treats NaN as NaN, -0 as 0 and a Date as its ISO string', () => {
      expect(compareValues({ a: NaN, b: -0 }, { a: NaN, b: 0 }).equal).toBe(true);
      expect(compareValues(new Float64Array([NaN, -0]), new Float64Array([NaN, 0])).equal).toBe(true);
      expect(compareValues({ at: new Date(0) }, { at: '1970-01-01T00:00:00.000Z' }).equal).toBe(true);
      expect(compareValues(new Date(Number.NaN), new Date(Number.NaN)).equal).toBe(true);
    });

    it('ignores prototypes: a class instance equals a plain object with the same keys', () => {
      class Order {
        constructor(readonly id: number) {}
      }
      expect(compareValues(new Order(1), { id: 1 }).equal).toBe(true);
      expect(compareValues(Object.assign(Object.create(null) as object, { id: 1 }), { id: 1 }).equal).toBe(true);
    });

    it('compares an object with its own toString or valueOf by it, as fast-deep-equal does', () => {
      expect(compareValues(new URL('https://a.test/x'), new URL('https://a.test/x')).equal).toBe(true);
      expect(compareValues({ u: new URL('https://a.test/x') }, { u: new URL('https://a.test/y') }).diff).toEqual([
        { path: 'u', kind: 'changed', old: 'https://a.test/x', new: 'https://a.test/y' },
      ]);
      expect(compareValues(Object(5), Object(5)).equal).toBe(true);
    });
  });

  describe('when both sides return different values', () => {
    it('reports a changed leaf with its path and both values', () => {
      expect(compareValues({ total: 10.5, items: [{ sku: 'a' }] }, { total: 10.51, items: [{ sku: 'b' }] })).toEqual({
        equal: false,
        kind: 'value',
        diff: [
          { path: 'total', kind: 'changed', old: 10.5, new: 10.51 },
          { path: 'items[0].sku', kind: 'changed', old: 'a', new: 'b' },
        ],
        truncated: false,
      });
    });

    it('reports an undefined-valued key against an absent one as missing or extra', () => {
      expect(compareValues({ a: undefined }, {}).diff).toEqual([{ path: 'a', kind: 'missing', old: undefined, new: undefined }]);
      expect(compareValues({}, { b: undefined }).diff).toEqual([{ path: 'b', kind: 'extra', old: undefined, new: undefined }]);
      expect(compareValues([1, 2, 3], [1]).diff.map((entry) => [entry.path, entry.kind])).toEqual([
        ['[1]', 'missing'],
        ['[2]', 'missing'],
      ]);
    });

    it('reports differing types as kind type, without looking inside', () => {
      const kinds = (a: unknown, b: unknown) => compareValues({ x: a }, { x: b }).diff.map((entry) => entry.kind);
      expect(kinds([1], { 0: 1 })).toEqual(['type']);
      expect(kinds(1, '1')).toEqual(['type']);
      expect(kinds(null, {})).toEqual(['type']);
      expect(kinds(new Uint8Array([1]), new Int8Array([1]))).toEqual(['type']);
      expect(kinds(new Date(0), 0)).toEqual(['type']);
    });

    it('compares Maps by key and Sets as sets', () => {
      expect(compareValues(new Map([['a', 1], ['b', 2]]), new Map([['b', 2], ['a', 1]])).equal).toBe(true);
      expect(compareValues(new Map([[{ id: 1 }, 'x']]), new Map([[{ id: 1 }, 'x']])).equal).toBe(true);
      expect(compareValues(new Map([['a', 1]]), new Map([['a', 2], ['c', 3]])).diff).toEqual([
        { path: 'a', kind: 'changed', old: 1, new: 2 },
        { path: 'c', kind: 'extra', old: undefined, new: 3 },
      ]);
      expect(compareValues({ m: new Map([['a', 1], ['b', 2]]) }, { m: new Map([['a', 9], ['b', 2]]) }, { ignore: ['m.a'] }).equal).toBe(true);
      expect(compareValues(new Set([{ a: 1 }, 2]), new Set([2, { a: 1 }])).equal).toBe(true);
      expect(compareValues(new Set([{ id: 1, at: 1 }]), new Set([{ id: 1, at: 2 }]), { ignore: ['[*].at'] }).equal).toBe(true);
      expect(compareValues(new Set([1, 2]), new Set([2, 3])).diff).toEqual([
        { path: '[0]', kind: 'missing', old: 1, new: undefined },
        { path: '[1]', kind: 'extra', old: undefined, new: 3 },
      ]);
    });

    it('compares typed arrays, buffers and RegExps by content', () => {
      expect(compareValues(new Uint8Array([1, 2]), new Uint8Array([1, 3])).diff).toEqual([{ path: '[1]', kind: 'changed', old: 2, new: 3 }]);
      expect(compareValues(new Uint8Array([1, 2]).buffer, new Uint8Array([1, 3]).buffer, walkOnly).diff).toHaveLength(1);
      expect(compareValues(/a/g, /a/g).equal).toBe(true);
      expect(compareValues({ re: /a/g }, { re: /a/i }).diff).toEqual([{ path: 're', kind: 'changed', old: '/a/g', new: '/a/i' }]);
    });

    it('compares Dates as Dates when dates normalisation is off', () => {
      const options = { normalize: { dates: false } };
      expect(compareValues(new Date(0), new Date(0), options).equal).toBe(true);
      expect(compareValues(new Date(0), '1970-01-01T00:00:00.000Z', options).diff[0]?.kind).toBe('type');
      expect(compareValues({ at: new Date(0) }, { at: new Date(1) }, options).diff[0]?.kind).toBe('changed');
    });
  });

  describe('when a path is ignored', () => {
    const key = fc.stringMatching(/^[a-z]{1,4}$/);
    const leaf = fc.oneof(fc.integer(), fc.boolean(), fc.string({ maxLength: 4 }));
    const { tree } = fc.letrec<{ tree: unknown; object: Record<string, unknown>; array: unknown[] }>((tie) => ({
      tree: fc.oneof({ depthSize: 'small' }, leaf, tie('object'), tie('array')),
      object: fc.dictionary(key, tie('tree'), { maxKeys: 4 }),
      array: fc.array(tie('tree'), { maxLength: 4 }),
    }));
    type Segments = readonly (string | number)[];

    function leafPaths(value: unknown, at: Segments = []): Segments[] {
      if (Array.isArray(value)) return value.flatMap((item, index) => leafPaths(item, [...at, index]));
      if (typeof value === 'object' && value !== null) return Object.entries(value).flatMap(([k, v]) => leafPaths(v, [...at, k]));
      return [at];
    }
    const pathText = (segments: Segments) =>
      segments.map((s, i) => (typeof s === 'number' ? `[${s}]` : i === 0 ? s : `.${s}`)).join('');
    function setAt(root: unknown, segments: Segments, value: unknown): void {
      let node = root as Record<string | number, unknown>;
      for (const segment of segments.slice(0, -1)) node = node[segment] as Record<string | number, unknown>;
      node[segments[segments.length - 1]!] = value;
    }

    it('hides exactly the difference at that path and reports the other one', () => {
      fc.assert(
        fc.property(fc.dictionary(key, tree, { minKeys: 1, maxKeys: 5 }), fc.nat(), fc.nat(), (old, i, j) => {
          const leaves = leafPaths(old);
          fc.pre(leaves.length >= 2 && i % leaves.length !== j % leaves.length);
          const ignored = leaves[i % leaves.length]!;
          const reported = leaves[j % leaves.length]!;
          const changed = structuredClone(old);
          setAt(changed, ignored, '\u0000changed');
          setAt(changed, reported, '\u0000changed');
          const { diff } = compareValues(old, changed, { ignore: [pathText(ignored)] });
          expect(diff.map((entry) => entry.path)).toEqual([pathText(reported)]);
        }),
        { numRuns: 300 },
      );
    });

    it('removes from the diff exactly the entries at or under the ignored patterns, wildcards included', () => {
      const k = fc.constantFrom('a', 'b', 'c');
      const small = fc.letrec<{ node: unknown }>((tie) => ({
        node: fc.oneof(
          { depthSize: 'small' },
          fc.constantFrom(0, 1, 'x', true),
          fc.dictionary(k, tie('node'), { maxKeys: 3 }),
          fc.array(tie('node'), { maxLength: 3 }),
        ),
      })).node;
      const pattern = fc.array(fc.oneof(k, fc.nat(2), fc.constant('*' as const)), { minLength: 1, maxLength: 3 });
      const patternText = (segments: readonly (string | number)[]) =>
        segments.map((s, i) => (typeof s === 'number' ? `[${s}]` : s === '*' && i > 0 && i % 2 === 0 ? '[*]' : i === 0 ? s : `.${s}`)).join('');
      function toRegExp(segments: readonly (string | number)[]): RegExp {
        const parts = segments.map((s, i) => {
          if (typeof s === 'number') return `\\[${s}\\]`;
          if (s === '*') return i === 0 ? '(?:[a-z]+|\\[\\d+\\])' : '(?:\\.[a-z]+|\\[\\d+\\])';
          return i === 0 ? s : `\\.${s}`;
        });
        return new RegExp(`^${parts.join('')}(?=$|[.[])`);
      }
      fc.assert(
        fc.property(small, small, fc.array(pattern, { maxLength: 3 }), (a, b, patterns) => {
          const full = compareValues(a, b, { maxDiffs: Infinity });
          const filtered = compareValues(a, b, { maxDiffs: Infinity, ignore: patterns.map(patternText) });
          const regexps = patterns.map(toRegExp);
          expect(filtered.diff).toEqual(full.diff.filter((entry) => !regexps.some((re) => re.test(entry.path))));
          expect(filtered.equal).toBe(filtered.diff.length === 0);
        }),
        { numRuns: 500 },
      );
    });

    it('understands [*], * and a fixed index', () => {
      const old = { items: [{ x: 1, at: 1 }, { x: 2, at: 2 }], meta: { id: 1, host: 'a' } };
      const changed = { items: [{ x: 9, at: 3 }, { x: 8, at: 4 }], meta: { id: 2, host: 'b' } };
      const paths = (ignore: string[]) => compareValues(old, changed, { ignore }).diff.map((entry) => entry.path);
      expect(paths(['items[*].at', 'meta.*'])).toEqual(['items[0].x', 'items[1].x']);
      expect(paths(['items[0]', 'meta'])).toEqual(['items[1].x', 'items[1].at']);
      expect(paths(['items[1].x', 'items.*.at', 'meta.host'])).toEqual(['items[0].x', 'meta.id']);
      expect(compareValues(old, changed, { ignore: [''] }).equal).toBe(true);
    });

    it('does not report a missing or extra key under an ignored path', () => {
      expect(compareValues({ a: 1, t: 1 }, { a: 1 }, { ignore: ['t'] }).equal).toBe(true);
      expect(compareValues({ a: 1 }, { a: 1, t: 1 }, { ignore: ['*'] }).equal).toBe(true);
    });
  });

  describe('when numbers are rounded (normalize.precision)', () => {
    it('equals numbers that round to the same decimals and tells apart those that do not', () => {
      fc.assert(
        fc.property(
          fc.integer({ min: -1_000_000, max: 1_000_000 }),
          fc.integer({ min: 0, max: 6 }),
          fc.double({ min: -0.4, max: 0.4, noNaN: true }),
          (units, digits, jitter) => {
            const scale = 10 ** digits;
            const options = { normalize: { precision: digits } };
            expect(compareValues({ n: (units + jitter) / scale }, { n: units / scale }, options).equal).toBe(true);
            expect(compareValues({ n: units / scale }, { n: (units + 1) / scale }, options).equal).toBe(false);
          },
        ),
      );
    });

    it('keeps huge numbers apart instead of rounding them to Infinity', () => {
      expect(compareValues(1e307, 2e307, { normalize: { precision: 20 } }).equal).toBe(false);
    });
  });

  describe('when arrays are unordered (normalize.unorderedArrays)', () => {
    const element = fc.jsonValue({ maxDepth: 2 });
    const options = { normalize: { unorderedArrays: ['items'] } };

    it('equals any permutation of the same elements', () => {
      fc.assert(
        fc.property(fc.array(fc.tuple(element, fc.nat())), (tagged) => {
          const items = tagged.map(([value]) => value);
          const shuffled = [...tagged].sort((x, y) => x[1] - y[1]).map(([value]) => value);
          expect(compareValues({ items }, { items: shuffled }, options).equal).toBe(true);
        }),
      );
    });

    it('counts duplicates: removing one element reports it missing, once', () => {
      fc.assert(
        fc.property(fc.array(element, { minLength: 1, maxLength: 8 }), fc.nat(), (items, at) => {
          const index = at % items.length;
          const removed = items[index];
          const fewer = items.filter((_, i) => i !== index).reverse();
          const result = compareValues({ items }, { items: fewer }, options);
          expect(result.diff).toHaveLength(1);
          expect(result.diff[0]?.kind).toBe('missing');
          expect(compareValues(result.diff[0]?.old, removed).equal).toBe(true);
        }),
      );
      expect(compareValues({ items: [1, 1, 2] }, { items: [1, 2, 2] }, options).diff).toEqual([
        { path: 'items[1]', kind: 'missing', old: 1, new: undefined },
        { path: 'items[2]', kind: 'extra', old: undefined, new: 2 },
      ]);
    });

    it('applies ignore rules inside the elements and leaves other arrays ordered', () => {
      const old = { items: [{ id: 1, at: 1 }, { id: 2, at: 2 }], other: [1, 2] };
      const changed = { items: [{ id: 2, at: 5 }, { id: 1, at: 6 }], other: [2, 1] };
      const result = compareValues(old, changed, { ignore: ['items[*].at'], ...options });
      expect(result.diff.map((entry) => entry.path)).toEqual(['other[0]', 'other[1]']);
      expect(compareValues([3, 1, 2], [1, 2, 3], { normalize: { unorderedArrays: [''] } }).equal).toBe(true);
    });
  });

  describe('when a custom normalize hook is given', () => {
    it('calls it on every node that differs by reference, with its path, and compares what it returns', () => {
      const seen: string[] = [];
      const custom = (value: unknown, path: string) => {
        seen.push(path);
        return typeof value === 'string' ? value.toLowerCase() : value;
      };
      const result = compareValues({ user: { email: 'A@X.io', tags: ['B'] } }, { user: { email: 'a@x.io', tags: ['b'] } }, { normalize: { custom } });
      expect(result.equal).toBe(true);
      expect(new Set(seen)).toEqual(new Set(['', 'user', 'user.email', 'user.tags', 'user.tags[0]']));
    });
  });

  describe('when a side fails', () => {
    class QuotaError extends Error {}
    const errorClass = fc.constantFrom(Error, TypeError, RangeError, QuotaError);

    it('equals two errors of the same class and message', () => {
      fc.assert(
        fc.property(errorClass, fc.string(), (ErrorClass, message) => {
          expect(deepEqualComparator().compare(fail(new ErrorClass(message)), fail(new ErrorClass(message)))).toEqual({
            equal: true,
            diff: [],
            truncated: false,
          });
        }),
      );
    });

    it('reports kind error with both summaries when the messages or classes differ', () => {
      fc.assert(
        fc.property(errorClass, errorClass, fc.string(), fc.string(), (OldClass, NewClass, a, b) => {
          fc.pre(OldClass !== NewClass || a !== b);
          const result = deepEqualComparator().compare(fail(new OldClass(a)), fail(new NewClass(b)));
          expect(result).toEqual({
            equal: false,
            kind: 'error',
            diff: [{ path: '', kind: 'error', old: { name: new OldClass(a).name, message: a }, new: { name: new NewClass(b).name, message: b } }],
            truncated: false,
          });
        }),
      );
    });

    it('reports kind error when only one side fails', () => {
      fc.assert(
        fc.property(anything, fc.string(), (value, message) => {
          const comparator = deepEqualComparator();
          const oldFailed = comparator.compare(fail(new TypeError(message)), ok(value));
          expect(oldFailed).toMatchObject({ equal: false, kind: 'error', truncated: false });
          expect(oldFailed.diff).toEqual([{ path: '', kind: 'error', old: { name: 'TypeError', message }, new: value }]);
          const newFailed = comparator.compare(ok(value), fail(new TypeError(message)));
          expect(newFailed.diff).toEqual([{ path: '', kind: 'error', old: value, new: { name: 'TypeError', message } }]);
        }),
      );
    });

    it('compares thrown non-Error values by deep equality, never equal to an Error', () => {
      const comparator = deepEqualComparator();
      expect(comparator.compare(fail({ code: 42 }), fail({ code: 42 })).equal).toBe(true);
      expect(comparator.compare(fail('boom'), fail('bang')).diff).toEqual([{ path: '', kind: 'error', old: 'boom', new: 'bang' }]);
      expect(comparator.compare(fail('boom'), fail(new Error('boom'))).kind).toBe('error');
    });

    it('lets compareErrors decide', () => {
      const byCode = deepEqualComparator({ compareErrors: (a, b) => (a as { code?: unknown }).code === (b as { code?: unknown }).code });
      const withCode = (message: string, code: string) => Object.assign(new Error(message), { code });
      expect(byCode.compare(fail(withCode('a', 'E1')), fail(withCode('b', 'E1'))).equal).toBe(true);
      expect(byCode.compare(fail(withCode('a', 'E1')), fail(withCode('a', 'E2'))).kind).toBe('error');
    });
  });

  describe('when an equals function is given', () => {
    const byId = (a: { id: number }, b: { id: number }) => a.id === b.id;

    it('lets it decide equality', () => {
      const comparator = deepEqualComparator({ equals: byId });
      expect(comparator.compare(ok({ id: 1, name: 'a' }), ok({ id: 1, name: 'b' })).equal).toBe(true);
    });

    it('reports the structural diff when it says different', () => {
      const comparator = deepEqualComparator({ equals: byId });
      expect(comparator.compare(ok({ id: 1 }), ok({ id: 2 })).diff).toEqual([{ path: 'id', kind: 'changed', old: 1, new: 2 }]);
    });

    it('reports one root entry when the structure shows no difference', () => {
      const never = deepEqualComparator<number>({ equals: () => false });
      expect(never.compare(ok(1), ok(1))).toEqual({
        equal: false,
        kind: 'value',
        diff: [{ path: '', kind: 'changed', old: 1, new: 1 }],
        truncated: false,
      });
    });
  });

  describe('when there are more differences than maxDiffs', () => {
    it('keeps maxDiffs entries and sets truncated exactly when some were left out', () => {
      fc.assert(
        fc.property(fc.integer({ min: 1, max: 40 }), fc.integer({ min: 0, max: 40 }), (count, maxDiffs) => {
          const keys = Array.from({ length: count }, (_, i) => `k${i}`);
          const old = Object.fromEntries(keys.map((k) => [k, 0]));
          const changed = Object.fromEntries(keys.map((k) => [k, 1]));
          const result = compareValues(old, changed, { maxDiffs });
          expect(result.equal).toBe(false);
          expect(result.diff).toHaveLength(Math.min(count, maxDiffs));
          expect(result.truncated).toBe(count > maxDiffs);
        }),
      );
    });

    it('caps at 20 by default', () => {
      const result = compareValues(Array.from({ length: 25 }, () => 0), Array.from({ length: 25 }, () => 1));
      expect(result.diff).toHaveLength(20);
      expect(result.truncated).toBe(true);
    });

    it('still reports an error outcome as different with maxDiffs 0', () => {
      expect(deepEqualComparator({ maxDiffs: 0 }).compare(fail(new Error('x')), ok(1))).toEqual({ equal: false, kind: 'error', diff: [], truncated: true });
    });
  });

  describe('when values contain cycles', () => {
    function cyclic(x: number): Record<string, unknown> {
      const node: Record<string, unknown> = { x, list: [] as unknown[], map: new Map<string, unknown>(), set: new Set<unknown>() };
      (node.list as unknown[]).push(node);
      (node.map as Map<string, unknown>).set('self', node);
      (node.set as Set<unknown>).add(node);
      node.self = node;
      return node;
    }
    const optionSets: DeepEqualOptions[] = [{}, walkOnly, { normalize: { unorderedArrays: ['list', 'list[*].list'] } }, { ignore: ['y'] }];

    it('terminates and finds equal cycles equal', () => {
      for (const options of optionSets) expect(compareValues(cyclic(1), cyclic(1), options).equal).toBe(true);
    });

    it('terminates and reports the difference inside a cycle', () => {
      for (const options of optionSets) {
        const result = compareValues(cyclic(1), cyclic(2), options);
        expect(result.equal).toBe(false);
        expect(result.diff[0]).toEqual({ path: 'x', kind: 'changed', old: 1, new: 2 });
      }
    });

    it('terminates on mutual cycles and on a cycle against a finite chain', () => {
      const a: Record<string, unknown> = { v: 1 };
      const b: Record<string, unknown> = { v: 1, next: a };
      a.next = b;
      const c: Record<string, unknown> = { v: 1 };
      c.next = c;
      expect(compareValues(a, c).equal).toBe(true);
      expect(compareValues(a, { v: 1, next: { v: 1, next: null } }).diff).toEqual([{ path: 'next.next', kind: 'type', old: a, new: null }]);
    });
  });

  describe('when inputs are frozen', () => {
    const optionSets: DeepEqualOptions[] = [
      {},
      { ...walkOnly, ignore: ['a', '[*].b'], normalize: { precision: 2, unorderedArrays: ['', 'a'], custom: (value) => value } },
    ];
    const plain = fc.anything({ withBigInt: true, withDate: true, withMap: true, withSet: true, withSparseArray: true, withTypedArray: true, withBoxedValues: true });

    it('compares without mutating either side', () => {
      fc.assert(
        fc.property(plain, plain, (a, b) => {
          deepFreeze(a);
          deepFreeze(b);
          // The structured-clone bytes see every key, element, entry and member, in order.
          const [snapshotA, snapshotB] = [serialize(a), serialize(b)];
          for (const options of optionSets) {
            compareValues(a, b, options);
            compareValues(a, structuredClone(a), options);
          }
          expect(serialize(a).equals(snapshotA)).toBe(true);
          expect(serialize(b).equals(snapshotB)).toBe(true);
        }),
        { numRuns: 200 },
      );
    });
  });

  describe('when options are invalid', () => {
    const cases: [DeepEqualOptions | unknown, string, string][] = [
      [42, 'options', '42'],
      [{ ignore: 'a.b' }, 'ignore', '"a.b"'],
      [{ ignore: [1] }, 'ignore', '1'],
      [{ ignore: ['items[x]'] }, 'ignore', '"items[x]"'],
      [{ ignore: ['a..b'] }, 'ignore', '"a..b"'],
      [{ ignore: ['a.'] }, 'ignore', '"a."'],
      [{ normalize: 'yes' }, 'normalize', '"yes"'],
      [{ normalize: { dates: 'yes' } }, 'normalize.dates', '"yes"'],
      [{ normalize: { precision: -1 } }, 'normalize.precision', '-1'],
      [{ normalize: { precision: 1.5 } }, 'normalize.precision', '1.5'],
      [{ normalize: { precision: 21 } }, 'normalize.precision', '21'],
      [{ normalize: { unorderedArrays: ['x]'] } }, 'normalize.unorderedArrays', '"x]"'],
      [{ normalize: { custom: 'lower' } }, 'normalize.custom', '"lower"'],
      [{ compareErrors: true }, 'compareErrors', 'true'],
      [{ equals: {} }, 'equals', 'an object'],
      [{ maxDiffs: -1 }, 'maxDiffs', '-1'],
      [{ maxDiffs: NaN }, 'maxDiffs', 'NaN'],
      [{ maxDiffs: '5' }, 'maxDiffs', '"5"'],
    ];

    it.each(cases)('throws ERR_INVALID_OPTION for %j naming %s and the value', (options, option, received) => {
      let thrown: unknown;
      try {
        deepEqualComparator(options as DeepEqualOptions);
      } catch (err) {
        thrown = err;
      }
      expect(MigrationGlueError.is(thrown, 'ERR_INVALID_OPTION')).toBe(true);
      expect((thrown as { option: string }).option).toBe(option);
      expect((thrown as Error).message).toContain(received);
    });

    it('accepts every valid path form and Infinity for maxDiffs', () => {
      expect(() =>
        deepEqualComparator({ ignore: ['a.b', 'items[*].updatedAt', 'items[0].x', 'meta.*', '[*].id', 'a["x.y"]', ''], maxDiffs: Infinity }),
      ).not.toThrow();
    });
  });
});

describe('toComparator', () => {
  it('gives the deep-equal comparator for undefined', () => {
    const comparator = toComparator<unknown>(undefined);
    expect(comparator.compare(ok({ a: [1] }), ok({ a: [1] })).equal).toBe(true);
    expect(comparator.compare(ok({ a: [1] }), ok({ a: [2] })).diff).toEqual([{ path: 'a[0]', kind: 'changed', old: 1, new: 2 }]);
  });

  it('uses a function as the equals of a deep-equal comparator', () => {
    const comparator = toComparator<{ id: number; v: number }>((a, b) => a.id === b.id);
    expect(comparator.compare(ok({ id: 1, v: 1 }), ok({ id: 1, v: 2 })).equal).toBe(true);
    expect(comparator.compare(ok({ id: 1, v: 1 }), ok({ id: 2, v: 1 })).diff).toEqual([{ path: 'id', kind: 'changed', old: 1, new: 2 }]);
  });

  it('returns a Comparator as it is', () => {
    const custom: Comparator<number> = { compare: () => ({ equal: true, diff: [], truncated: false }) };
    expect(toComparator(custom)).toBe(custom);
  });

  it('throws ERR_INVALID_OPTION for anything else', () => {
    expect(() => toComparator(42 as unknown as Comparator<number>)).toThrow(expect.objectContaining({ code: 'ERR_INVALID_OPTION', option: 'comparator' }));
  });
});
