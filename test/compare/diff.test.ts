import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { DiffEntry } from '../../src/compare/comparator.js';
import { defaultDiffRules, diffValues } from '../../src/compare/diff.js';
import { formatDiff, previewValue } from '../../src/compare/format-diff.js';
import { formatPath, parsePath } from '../../src/compare/path.js';
import type { PathSegment } from '../../src/compare/path.js';

const segment: fc.Arbitrary<PathSegment> = fc.oneof(
  fc.record({ type: fc.constant('key' as const), key: fc.string({ minLength: 1 }) }),
  fc.record({ type: fc.constant('index' as const), index: fc.nat() }),
  fc.constant({ type: 'any' as const }),
);

describe('parsePath', () => {
  describe('when the path is well formed', () => {
    it('reads keys, indices, wildcards and quoted keys', () => {
      expect(parsePath('')).toEqual([]);
      expect(parsePath('a.b')).toEqual([{ type: 'key', key: 'a' }, { type: 'key', key: 'b' }]);
      expect(parsePath('items[*].updatedAt')).toEqual([{ type: 'key', key: 'items' }, { type: 'any' }, { type: 'key', key: 'updatedAt' }]);
      expect(parsePath('items[0].x')).toEqual([{ type: 'key', key: 'items' }, { type: 'index', index: 0 }, { type: 'key', key: 'x' }]);
      expect(parsePath('meta.*')).toEqual([{ type: 'key', key: 'meta' }, { type: 'any' }]);
      expect(parsePath('[2]["a.b"].my-key')).toEqual([{ type: 'index', index: 2 }, { type: 'key', key: 'a.b' }, { type: 'key', key: 'my-key' }]);
      expect(parsePath('a.b*')).toEqual([{ type: 'key', key: 'a' }, { type: 'key', key: 'b*' }]);
    });

    it('reads back whatever formatPath writes', () => {
      fc.assert(
        fc.property(fc.array(segment, { maxLength: 6 }), (segments) => {
          expect(parsePath(formatPath(segments))).toEqual(segments);
        }),
      );
    });
  });

  describe('when the path is malformed', () => {
    it.each(['.a', 'a.', 'a..b', 'a[', 'a[x]', 'a]', 'a.[0]', 'a[0]b', 'a["x]', '[-1]', 'a["\\q"]'])('throws a SyntaxError for %j', (path) => {
      expect(() => parsePath(path)).toThrow(SyntaxError);
    });
  });
});

describe('diffValues', () => {
  describe('when keys are not identifiers', () => {
    it('quotes them so the path parses back to the same key', () => {
      const { diff } = diffValues({ 'a.b': { '': 1, '*': 2 } }, { 'a.b': { '': 3, '*': 4 } });
      expect(diff.map((entry) => entry.path)).toEqual(['["a.b"][""]', '["a.b"]["*"]']);
      expect(parsePath(diff[1]!.path)).toEqual([{ type: 'key', key: 'a.b' }, { type: 'key', key: '*' }]);
    });
  });

  describe('when maxDiffs is reached', () => {
    it('stops and reports truncated, even with maxDiffs 0', () => {
      expect(diffValues([1, 2, 3], [4, 5, 6], defaultDiffRules, 2)).toEqual({
        diff: [
          { path: '[0]', kind: 'changed', old: 1, new: 4 },
          { path: '[1]', kind: 'changed', old: 2, new: 5 },
        ],
        truncated: true,
      });
      expect(diffValues(1, 2, defaultDiffRules, 0)).toEqual({ diff: [], truncated: true });
      expect(diffValues(1, 1, defaultDiffRules, 0)).toEqual({ diff: [], truncated: false });
    });
  });

  describe('when values are normalised', () => {
    it('reports the values as compared', () => {
      const rules = { ...defaultDiffRules, precision: 1 };
      expect(diffValues({ at: new Date(0), n: 1.04 }, { at: new Date(1000), n: 1.26 }, rules).diff).toEqual([
        { path: 'at', kind: 'changed', old: '1970-01-01T00:00:00.000Z', new: '1970-01-01T00:00:01.000Z' },
        { path: 'n', kind: 'changed', old: 1, new: 1.3 },
      ]);
    });
  });
});

describe('formatDiff', () => {
  const entries: DiffEntry[] = [
    { path: 'total', kind: 'changed', old: 10.5, new: 10.51 },
    { path: 'items[1].sku', kind: 'missing', old: 'A1', new: undefined },
    { path: 'items[2]', kind: 'extra', old: undefined, new: { sku: 'B' } },
    { path: 'count', kind: 'type', old: 1, new: '1' },
    { path: 'tags', kind: 'changed', old: new Set(['a']), new: new Map([['a', 1n]]) },
  ];

  describe('when the diff is longer than the entries shown', () => {
    it('writes one line and counts the rest', () => {
      expect(formatDiff(entries, false, { maxEntries: 2 })).toBe('total: 10.5 → 10.51; items[1].sku: missing in new; +3 more');
    });

    it('says the count is a lower bound when the diff was truncated', () => {
      expect(formatDiff(entries, true, { maxEntries: 2 })).toBe('total: 10.5 → 10.51; items[1].sku: missing in new; + at least 4 more');
    });
  });

  describe('when every kind of entry is shown', () => {
    it('renders values JSON-like, types for a type change and the root as (root)', () => {
      expect(formatDiff(entries, false)).toBe(
        'total: 10.5 → 10.51; items[1].sku: missing in new; items[2]: extra in new; count: 1 → "1" (number → string); ' +
          'tags: Set(1) {"a"} → Map(1) {"a" => 1n}',
      );
      expect(formatDiff([{ path: '', kind: 'error', old: { name: 'TypeError', message: 'boom' }, new: 5 }], false)).toBe(
        '(root): threw TypeError: boom → 5',
      );
    });
  });

  describe('when there is nothing to show', () => {
    it('says so', () => {
      expect(formatDiff([], false)).toBe('no differences');
      expect(formatDiff([], true)).toBe('different (no entries collected)');
    });
  });

  describe('when values are long', () => {
    it('shortens each to about 60 characters', () => {
      const line = formatDiff([{ path: 'a', kind: 'changed', old: 'x'.repeat(500), new: { list: Array.from({ length: 100 }, (_, i) => i) } }], false);
      const [oldText, newText] = line.slice('a: '.length).split(' → ');
      expect(oldText!.length).toBeLessThanOrEqual(60);
      expect(oldText!.endsWith('…')).toBe(true);
      expect(newText!.length).toBeLessThanOrEqual(60);
    });
  });

  describe('when given any values', () => {
    it('never throws and names every shown path', () => {
      const anything = fc.anything({ withBigInt: true, withDate: true, withMap: true, withSet: true, withNullPrototype: true, withTypedArray: true, withBoxedValues: true });
      const entry = fc.record({
        path: fc.string(),
        kind: fc.constantFrom('changed', 'missing', 'extra', 'type', 'error' as const),
        old: anything,
        new: anything,
      });
      fc.assert(
        fc.property(fc.array(entry, { maxLength: 8 }), fc.boolean(), (diff, truncated) => {
          const line = formatDiff(diff as DiffEntry[], truncated);
          for (const shown of diff.slice(0, 5)) expect(line).toContain(shown.path === '' ? '(root)' : shown.path);
        }),
      );
    });
  });
});

describe('previewValue', () => {
  describe('when the value is cyclic or exotic', () => {
    it('renders it without throwing', () => {
      const cyclic: Record<string, unknown> = { a: 1 };
      cyclic.self = cyclic;
      expect(previewValue(cyclic)).toBe('{"a":1,"self":[Circular]}');
      expect(previewValue(undefined)).toBe('undefined');
      expect(previewValue(-0)).toBe('-0');
      expect(previewValue(new Date(0))).toBe('1970-01-01T00:00:00.000Z');
      expect(previewValue(new Uint8Array([1, 2]))).toBe('Uint8Array(2) [1,2]');
      expect(previewValue(Object.create(null))).toBe('{}');
      expect(previewValue(Symbol('s'))).toBe('Symbol(s)');
      expect(previewValue(function named() {})).toBe('[Function named]');
    });
  });
});
