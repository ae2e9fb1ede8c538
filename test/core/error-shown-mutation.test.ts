import { describe, expect, it } from 'vitest';
import { maskText, maskedValues, summarizeError } from '../../src/core/error-shown.js';

// src/core/error-shown.ts: which values of an input clean.input masked, how
// they are masked in an error's message, and the { name, message, code? }
// copy an error is shown as. The bounds (4 characters, depth 8, 100 values,
// 1,000 nodes) are pinned at their edges.

/** `value` wrapped in `levels` objects: { a: { a: … value } }. */
function nested(levels: number, value: unknown): unknown {
  let out = value;
  for (let i = 0; i < levels; i++) out = { a: out };
  return out;
}

describe('maskedValues bounds', () => {
  it('masks values of exactly 4 characters, never of 3', () => {
    expect(maskedValues({ a: 'abcd', b: 'xyz', c: 1234, d: 123 }, {})).toEqual(['abcd', '1234']);
  });

  it('reads values down to depth 8 and no deeper', () => {
    expect(maskedValues(nested(8, 'deep-secret'), {})).toEqual(['deep-secret']);
    expect(maskedValues(nested(9, 'deep-secret'), {})).toEqual([]);
    expect(maskedValues(nested(8, 'deep-secret'), nested(8, 'deep-secret'))).toEqual([]);
  });

  it('finds at most 100 values', () => {
    const input = Object.fromEntries(Array.from({ length: 101 }, (_, i) => [`k${i}`, `value-${1000 + i}`]));
    const found = maskedValues(input, {});
    expect(found).toHaveLength(100);
    expect(found).not.toContain('value-1100');
  });

  it('visits at most 1,000 nodes, the root included', () => {
    const filler = (n: number) => Object.fromEntries(Array.from({ length: n }, (_, i) => [`k${i}`, 'ab']));
    // root + 998 fillers + the secret = 1,000 nodes: read
    expect(maskedValues({ ...filler(998), last: 'last-secret' }, {})).toEqual(['last-secret']);
    // one filler more: the secret is node 1,001, never read
    expect(maskedValues({ ...filler(999), last: 'last-secret' }, {})).toEqual([]);
  });
});

describe('maskedValues comparison', () => {
  it('a value the hook turned into another type is masked, though it reads the same', () => {
    expect(maskedValues({ pin: '123456' }, { pin: 123456 })).toEqual(['123456']);
    expect(maskedValues({ pin: 123456 }, { pin: '123456' })).toEqual(['123456']);
    expect(maskedValues({ pin: 123456 }, { pin: 123456 })).toEqual([]);
  });

  it('reads bigints as their digits', () => {
    expect(maskedValues({ id: 123456789n }, { id: 0n })).toEqual(['123456789']);
    expect(maskedValues({ id: 123456789n }, { id: 123456789n })).toEqual([]);
  });

  it('masks every value under a place the hook replaced by something that is not an object', () => {
    expect(maskedValues({ card: { number: '4111-SECRET' } }, { card: '4111-SECRET' })).toEqual(['4111-SECRET']);
    const fn = Object.assign(() => undefined, { number: '4111-SECRET' });
    expect(maskedValues({ card: { number: '4111-SECRET' } }, { card: fn })).toEqual(['4111-SECRET']);
    expect(maskedValues({ card: { number: '4111-SECRET' } }, { card: null })).toEqual(['4111-SECRET']);
  });

  it('reads only objects: the properties of a function in the input are not values', () => {
    const fn = Object.assign(() => undefined, { token: 'fn-token' });
    expect(maskedValues({ callback: fn, flag: true, none: undefined, nil: null }, {})).toEqual([]);
  });

  it('returns the longest values first, so that a value holding another is masked whole', () => {
    const input = { short: 'abcd', long: 'abcd-efgh', mid: 'abcd-e' };
    const found = maskedValues(input, {});
    expect(found).toEqual(['abcd-efgh', 'abcd-e', 'abcd']);
    expect(maskText('id abcd-efgh then abcd', found)).toBe('id [redacted] then [redacted]');
  });
});

describe('maskText', () => {
  it('replaces every occurrence of each value with [redacted] and leaves the rest', () => {
    expect(maskText('a SECRET b SECRET c', ['SECRET'])).toBe('a [redacted] b [redacted] c');
    expect(maskText('nothing here', ['SECRET'])).toBe('nothing here');
    expect(maskText('nothing here', [])).toBe('nothing here');
  });
});

describe('summarizeError', () => {
  it('has no code key at all when the error has no code', () => {
    const summary = summarizeError(new Error('x'));
    expect(Object.keys(summary)).toEqual(['name', 'message']);
    expect(Object.keys(summarizeError(Object.assign(new Error('x'), { code: 7 })))).toEqual(['name', 'message', 'code']);
  });
});
