import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { maskText, maskedValues, summarizeError } from '../../src/core/error-shown.js';

/** A clean hook that masks every string and number leaf. */
function maskAll(value: unknown): unknown {
  if (typeof value === 'string' || typeof value === 'number' || typeof value === 'bigint') return '***';
  if (Array.isArray(value)) return value.map(maskAll);
  if (typeof value === 'object' && value !== null) return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, maskAll(v)]));
  return value;
}

function leaves(value: unknown, depth = 0): string[] {
  if (typeof value === 'string' || typeof value === 'number' || typeof value === 'bigint') return [String(value)];
  if (typeof value !== 'object' || value === null || depth >= 8) return [];
  return Object.values(value).flatMap((v) => leaves(v, depth + 1));
}

describe('maskedValues and maskText', () => {
  it('a message built from any masked values shows none of them (every value of 4+ characters)', () => {
    fc.assert(
      fc.property(fc.object({ maxDepth: 4, values: [fc.string(), fc.integer(), fc.double(), fc.boolean(), fc.constant(null)] }), (input) => {
        const secrets = leaves(input).filter((text) => text.length >= 4 && text !== '***' && !'[redacted]'.includes(text));
        const message = `failed on ${secrets.join(' and ')}`;
        const shown = maskText(message, maskedValues(input, maskAll(input)));
        for (const secret of secrets) expect(shown).not.toContain(secret);
      }),
      { numRuns: 500 },
    );
  });

  it('masks nothing the hook left as it was, and leaves short values alone', () => {
    const input = { user: 'alice-1', card: '4111-SECRET', pin: '12', nested: { token: 'tok-SECRET', keep: 'plain-text' } };
    const cleaned = { ...input, card: '***', pin: '**', nested: { ...input.nested, token: undefined } };
    expect(maskedValues(input, cleaned)).toEqual(['4111-SECRET', 'tok-SECRET']);
    expect(maskText('alice-1 pin 12 card 4111-SECRET token tok-SECRET', maskedValues(input, cleaned))).toBe('alice-1 pin 12 card [redacted] token [redacted]');
  });

  it('a hook answer that is not an object masks every value; a bare string input is masked when changed', () => {
    expect(maskedValues({ a: 'first', b: ['second', 12345] }, '[clean failed]')).toEqual(['second', 'first', '12345']);
    expect(maskedValues('whole-secret', '***')).toEqual(['whole-secret']);
    expect(maskedValues('whole-secret', 'whole-secret')).toEqual([]);
  });

  it('survives cycles, throwing getters, revoked Proxies and huge inputs, and stays bounded', () => {
    const cyclic: Record<string, unknown> = { name: 'cyclic-SECRET' };
    cyclic['self'] = cyclic;
    expect(maskedValues(cyclic, {})).toContain('cyclic-SECRET');
    const getter = Object.defineProperty({ ok: 'value-one' }, 'bad', {
      enumerable: true,
      get() {
        throw new Error('no');
      },
    });
    expect(maskedValues(getter, {})).toEqual(['value-one']);
    const revocable = Proxy.revocable({ a: 'x' }, {});
    revocable.revoke();
    expect(maskedValues(revocable.proxy, {})).toEqual([]);
    expect(maskedValues({ inner: revocable.proxy, kept: 'kept-value' }, {})).toEqual(['kept-value']);
    const huge = Object.fromEntries(Array.from({ length: 50_000 }, (_, i) => [`k${i}`, `value-${i}`]));
    expect(maskedValues(huge, {}).length).toBeLessThanOrEqual(100);
  });
});

describe('summarizeError', () => {
  it('keeps name, message and a string or number code; nothing else', () => {
    const error = Object.assign(new RangeError('out of range'), { code: 'E_RANGE', config: { auth: 'SECRET' } });
    expect(summarizeError(error)).toEqual({ name: 'RangeError', message: 'out of range', code: 'E_RANGE' });
    expect(summarizeError(Object.assign(new Error('x'), { code: { nested: 1 } }))).toEqual({ name: 'Error', message: 'x' });
  });

  it('reads thrown non-errors and hostile errors without throwing', () => {
    expect(summarizeError('plain string')).toEqual({ name: 'string', message: 'plain string' });
    expect(summarizeError(42)).toEqual({ name: 'number', message: '42' });
    const hostile = new Error('m');
    Object.defineProperty(hostile, 'message', {
      get() {
        throw new Error('no');
      },
    });
    expect(summarizeError(hostile)).toEqual({ name: 'Error', message: '' });
    expect(summarizeError(new Error('y'.repeat(20_000))).message.length).toBeLessThanOrEqual(1_001);
    const withCause = new Error('outer', { cause: new Error('inner SECRET') });
    expect(JSON.stringify(summarizeError(withCause))).not.toContain('SECRET');
  });
});
