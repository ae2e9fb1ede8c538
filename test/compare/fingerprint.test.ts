import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Comparison, DiffEntry, DiffKind } from '../../src/compare/comparator.js';
import { deepEqualComparator } from '../../src/compare/deep-equal-comparator.js';
import { describeFingerprint, fingerprintOf } from '../../src/compare/fingerprint.js';

const differing = (diff: DiffEntry[], truncated = false): Comparison => ({ equal: false, kind: 'value', diff, truncated });
const entry = (path: string, kind: DiffKind): DiffEntry => ({ path, kind, old: 1, new: 2 });

describe('fingerprintOf', () => {
  describe('when the comparison is equal', () => {
    it('is empty', () => {
      expect(fingerprintOf({ equal: true, diff: [], truncated: false })).toBe('');
    });
  });

  describe('when entries differ only by array index', () => {
    it('replaces indices by [*], dedupes and sorts', () => {
      const comparison = differing([
        entry('total', 'changed'),
        entry('items[3].sku', 'missing'),
        entry('items[0].sku', 'missing'),
        entry('items[12].lines[2].qty', 'changed'),
      ]);
      expect(fingerprintOf(comparison)).toBe('items[*].lines[*].qty:changed|items[*].sku:missing|total:changed');
    });

    it('is the same whatever the indices and the order of the entries', () => {
      const template = fc.array(fc.tuple(fc.constantFrom('items', 'lines', 'a.b'), fc.constantFrom<DiffKind>('changed', 'missing', 'extra', 'type')), {
        minLength: 1,
        maxLength: 6,
      });
      fc.assert(
        fc.property(template, fc.array(fc.nat(), { minLength: 6, maxLength: 6 }), fc.array(fc.nat(), { minLength: 6, maxLength: 6 }), (parts, first, second) => {
          const build = (indices: number[]) => parts.map(([path, kind], i) => entry(`${path}[${indices[i]}].x`, kind));
          const reversed = build(second).reverse();
          expect(fingerprintOf(differing(build(first)))).toBe(fingerprintOf(differing(reversed)));
          expect(fingerprintOf(differing(reversed))).not.toMatch(/\[\d+\]/);
        }),
      );
    });
  });

  describe('when keys are quoted or look like indices', () => {
    it('keeps quoted keys and only generalises real indices', () => {
      expect(fingerprintOf(differing([entry('m["[3]|x:y"][4]', 'extra')]))).toBe('m["[3]|x:y"][*]:extra');
    });
  });

  describe('when a comparison comes from the deep-equal comparator', () => {
    it('fingerprints error outcomes at the root', () => {
      const comparison = deepEqualComparator().compare({ ok: false, error: new Error('x') }, { ok: true, value: 1 });
      expect(fingerprintOf(comparison)).toBe(':error');
    });

    it('fingerprints a difference without entries by its kind', () => {
      const comparison = deepEqualComparator({ maxDiffs: 0 }).compare({ ok: true, value: 1 }, { ok: true, value: 2 });
      expect(fingerprintOf(comparison)).toBe(':changed');
    });
  });
});

describe('describeFingerprint', () => {
  describe('when given a fingerprint', () => {
    it('names each path and what happened to it', () => {
      expect(describeFingerprint('items[*].sku:missing|total:changed')).toBe('`items[*].sku`: missing in new; `total`: changed');
      expect(describeFingerprint(':error|a:extra|b:type')).toBe('`(root)`: outcomes differ (error); `a`: extra in new; `b`: type changed');
    });

    it('keeps | and : inside quoted keys', () => {
      expect(describeFingerprint(fingerprintOf(differing([entry('m["a|b:c"]', 'missing'), entry('z', 'changed')])))).toBe(
        '`m["a|b:c"]`: missing in new; `z`: changed',
      );
    });
  });

  describe('when the fingerprint is empty', () => {
    it('says there are no differences', () => {
      expect(describeFingerprint('')).toBe('no differences');
    });
  });
});
