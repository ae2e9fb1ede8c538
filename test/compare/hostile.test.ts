import { describe, expect, it } from 'vitest';
import { deepEqualComparator } from '../../src/compare/deep-equal-comparator.js';
import { formatDiff } from '../../src/compare/format-diff.js';
import { describeFingerprint, fingerprintOf } from '../../src/compare/fingerprint.js';
import type { Comparison } from '../../src/compare/comparator.js';

const revoked = () => {
  const { proxy, revoke } = Proxy.revocable({ a: 1 }, {});
  revoke();
  return proxy;
};
const bomb = () => ({
  get lazy(): never {
    throw new Error('getter bomb');
  },
});

describe('formatDiff on hostile values', () => {
  it('shows a throwing getter or a revoked Proxy as [unreadable], never throwing', () => {
    expect(formatDiff([{ path: 'extra', kind: 'type', old: bomb(), new: 5 }], false)).toBe('extra: {"lazy":[unreadable]} → 5 (object → number)');
    expect(formatDiff([{ path: 'p', kind: 'changed', old: revoked(), new: [revoked()] }], false)).toBe('p: [unreadable] → [[unreadable]]');
    const hostileEntry = {
      get path(): never {
        throw new Error('x');
      },
      kind: 'changed',
      old: 1,
      new: 2,
    } as never;
    expect(formatDiff([hostileEntry, { path: 'b', kind: 'missing', old: 1, new: undefined }], false)).toBe('[unreadable]; b: missing in new');
  });

  it('reads only what the line shows of huge strings, arrays, Maps and buffers', () => {
    const huge = 'x'.repeat(10_000_000);
    const line = formatDiff(
      [
        { path: 's', kind: 'changed', old: huge, new: 1 },
        { path: 'm', kind: 'changed', old: new Map(Array.from({ length: 100_000 }, (_, i) => [i, i])), new: new Uint8Array(10_000_000) },
      ],
      false,
    );
    expect(line.length).toBeLessThan(200);
    expect(line).toContain('s: "xxxx');
    expect(line).toContain('Map(100000) {0 => 0,1 => 1');
  });
});

describe('fingerprintOf with ids in paths', () => {
  const differing = (...paths: string[]): Comparison => ({ equal: false, kind: 'value', diff: paths.map((path) => ({ path, kind: 'changed', old: 1, new: 2 })), truncated: false });

  it('folds numeric, hex, UUID, token and email keys, keeps field names', () => {
    expect(fingerprintOf(differing('users.12345.name'))).toBe('users[*].name:changed');
    expect(fingerprintOf(differing('items.8f3a9c0d1e2b.price'))).toBe('items[*].price:changed');
    expect(fingerprintOf(differing('s.3f2b1c4d-1a2b-4c3d-8e9f-0a1b2c3d4e5f'))).toBe('s[*]:changed');
    expect(fingerprintOf(differing('apiKeys.sk_live_4eC39HqLyjWDarjtT1zdp7dc'))).toBe('apiKeys[*]:changed');
    expect(fingerprintOf(differing('byEmail["ann@example.com"].ok'))).toBe('byEmail[*].ok:changed');
    expect(fingerprintOf(differing('address.line1', 'status', 'createdAt'))).toBe('address.line1:changed|createdAt:changed|status:changed');
  });

  it('stays bounded: at most 10 parts, paths cut at 200 characters, garbage entries tolerated', () => {
    const many = fingerprintOf(differing(...Array.from({ length: 1_000 }, (_, i) => `field${String.fromCharCode(97 + (i % 26))}${String.fromCharCode(97 + Math.floor(i / 26) % 26)}`)));
    expect(many.split('|')).toHaveLength(11);
    expect(many.endsWith('|…')).toBe(true);
    expect(fingerprintOf(differing(`a.${'b'.repeat(60)}.${'c'.repeat(60)}.${'d'.repeat(60)}.${'e'.repeat(60)}`)).length).toBeLessThanOrEqual(210);
    const garbage = { equal: false, kind: 'value', diff: [{ path: 42, kind: 'nonsense' }, null], truncated: false } as unknown as Comparison;
    expect(fingerprintOf(garbage)).toBe('[*]:changed');
    expect(describeFingerprint('users[*].name:changed')).toBe('`users[*].name`: changed');
  });
});

describe('deepEqualComparator on hostile values', () => {
  const comparator = deepEqualComparator();
  const ok = (value: unknown) => ({ ok: true as const, value });

  it('throws ERR_COMPARE_LIMIT for a revoked Proxy or a throwing getter it must read', () => {
    expect(() => comparator.compare(ok({ p: revoked() }), ok({ p: { a: 1 } }))).toThrow(expect.objectContaining({ code: 'ERR_COMPARE_LIMIT' }));
    expect(() => comparator.compare(ok({ x: bomb() }), ok({ x: { lazy: 1 } }))).toThrow(expect.objectContaining({ code: 'ERR_COMPARE_LIMIT' }));
  });

  it('throws ERR_COMPARE_LIMIT past its work and depth limits instead of hanging or overflowing', () => {
    const dag = () => {
      let node: Record<string, unknown> = { leaf: 1 };
      for (let i = 0; i < 40; i++) node = { left: node, right: node };
      return node;
    };
    expect(() => comparator.compare(ok(dag()), ok(dag()))).toThrow(expect.objectContaining({ code: 'ERR_COMPARE_LIMIT' }));
    const deep = (end: number) => {
      let node: Record<string, unknown> = { end };
      for (let i = 0; i < 20_000; i++) node = { next: node };
      return node;
    };
    expect(() => comparator.compare(ok(deep(1)), ok(deep(2)))).toThrow(expect.objectContaining({ code: 'ERR_COMPARE_LIMIT' }));
  });

  it('still compares cycles, and deep values within the limit', () => {
    const cyclic = (n: number) => {
      const value: Record<string, unknown> = { n };
      value['self'] = value;
      return value;
    };
    expect(comparator.compare(ok(cyclic(1)), ok(cyclic(1))).equal).toBe(true);
    expect(comparator.compare(ok(cyclic(1)), ok(cyclic(2))).diff).toEqual([{ path: 'n', kind: 'changed', old: 1, new: 2 }]);
    const deep = (end: number) => {
      let node: Record<string, unknown> = { end };
      for (let i = 0; i < 500; i++) node = { next: node };
      return node;
    };
    expect(comparator.compare(ok(deep(1)), ok(deep(2))).diff[0]?.path).toMatch(/^next(\.next)+\.end$/);
  });

  it('refuses an equals or compareErrors answering anything but a boolean', () => {
    const asyncEquals = deepEqualComparator({ equals: (async () => false) as never });
    expect(() => asyncEquals.compare(ok(1), ok(2))).toThrow(expect.objectContaining({ code: 'ERR_COMPARE_LIMIT', message: expect.stringContaining('promise') }));
    const sloppy = deepEqualComparator({ compareErrors: (() => 'same') as never });
    expect(() => sloppy.compare({ ok: false, error: 1 }, { ok: false, error: 2 })).toThrow(expect.objectContaining({ code: 'ERR_COMPARE_LIMIT' }));
  });

  it('an error whose message getter throws, or a revoked Proxy thrown, is still an error mismatch', () => {
    const hostile = new Error('x');
    Object.defineProperty(hostile, 'message', {
      get(): never {
        throw new Error('message bomb');
      },
    });
    const first = comparator.compare(ok(1), { ok: false, error: hostile });
    expect(first).toMatchObject({ equal: false, kind: 'error' });
    expect(first.diff[0]?.new).toEqual({ name: 'Error', message: '[unreadable]' });
    expect(comparator.compare(ok(1), { ok: false, error: revoked() })).toMatchObject({ equal: false, kind: 'error' });
  });
});
