import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { compareDecimal, keyComparator } from '../../src/sql/sql-key-order.js';

const sign = (n: number): number => Math.sign(n);

describe('compareDecimal (bigint and numeric keys)', () => {
  it('orders integers given as strings, numbers or bigints by value, beyond 2^53', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: -(2n ** 70n), max: 2n ** 70n }), fc.bigInt({ min: -(2n ** 70n), max: 2n ** 70n }), (a, b) => {
        const expected = a < b ? -1 : a > b ? 1 : 0;
        expect(sign(compareDecimal(String(a), String(b)))).toBe(expected);
        expect(sign(compareDecimal(a, String(b)))).toBe(expected);
      }),
    );
    expect(compareDecimal('10', '9')).toBeGreaterThan(0);
    expect(compareDecimal(10, '9')).toBeGreaterThan(0);
    expect(compareDecimal('9007199254740993', 9007199254740992)).toBeGreaterThan(0);
    // Equal negative values: 0, not -0 (a sort is indifferent, an Object.is check is not).
    expect(compareDecimal('-20', -20n)).toBe(0);
    expect(compareDecimal('-1.50', '-1.5')).toBe(0);
  });

  it('orders decimals by value whatever their zeros, and puts -Infinity first, then Infinity, NaN last', () => {
    fc.assert(
      fc.property(fc.integer(), fc.integer({ min: 0, max: 12 }), fc.integer(), fc.integer({ min: 0, max: 12 }), (ia, sa, ib, sb) => {
        // a = ia / 10^sa written with its decimal point; compared against exact rational order.
        const text = (i: number, s: number): string => {
          const digits = Math.abs(i).toString().padStart(s + 1, '0');
          return `${i < 0 ? '-' : ''}${digits.slice(0, digits.length - s)}${s > 0 ? `.${digits.slice(digits.length - s)}00` : ''}`;
        };
        const left = BigInt(ia) * 10n ** BigInt(sb);
        const right = BigInt(ib) * 10n ** BigInt(sa);
        expect(sign(compareDecimal(text(ia, sa), text(ib, sb)))).toBe(left < right ? -1 : left > right ? 1 : 0);
      }),
    );
    expect(compareDecimal('0.0000000001', '-0.0000000001')).toBeGreaterThan(0);
    expect(compareDecimal('-0', '0.000')).toBe(0);
    expect(compareDecimal('1e3', '999.9999')).toBeGreaterThan(0);
    const ordered = ['-Infinity', '-1e400', '-1', '0', '1e-30', '1', '1e131071', 'Infinity', 'NaN'];
    for (let i = 1; i < ordered.length; i++) expect(compareDecimal(ordered[i], ordered[i - 1])).toBeGreaterThan(0);
  });

  it('refuses what is not a number with ERR_INVALID_KEY', () => {
    expect(() => compareDecimal('abc', '1')).toThrow(expect.objectContaining({ code: 'ERR_INVALID_KEY' }));
    expect(() => compareDecimal({}, '1')).toThrow(/numeric column/);
    expect(() => compareDecimal('1e999999999', '1')).toThrow(/out of range/);
  });
});

describe('keyComparator', () => {
  it('knows integer, numeric, uuid, bytea, boolean and text under a code point collation, and nothing else', () => {
    expect(keyComparator({ oid: 20, codePoint: false })?.('10', '9')).toBeGreaterThan(0);
    expect(keyComparator({ oid: 23, codePoint: false })?.(10, 9)).toBeGreaterThan(0);
    expect(keyComparator({ oid: 2950, codePoint: false })?.('B0000000-0000-4000-8000-000000000000', 'a0000000-0000-4000-8000-000000000000')).toBeGreaterThan(0);
    expect(keyComparator({ oid: 17, codePoint: false })?.('\\x00ff', '\\x01')).toBeLessThan(0);
    expect(keyComparator({ oid: 25, codePoint: true })?.('a', 'B')).toBeGreaterThan(0);
    expect(keyComparator({ oid: 25, codePoint: true })?.('\u{1F600}', '\uffff')).toBeGreaterThan(0);
    expect(keyComparator({ oid: 25, codePoint: false })).toBeUndefined();
    expect(keyComparator({ oid: 1184, codePoint: false })).toBeUndefined();
  });
});
