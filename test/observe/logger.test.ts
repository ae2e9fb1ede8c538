import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { MigrationGlueError } from '../../src/index.js';
import { safeLogger, serializeError } from '../../src/observe/logger.js';

const revokedMarker = Symbol('revoked Proxy');

function build(value: unknown): unknown {
  if (value !== revokedMarker) return value;
  const { proxy, revoke } = Proxy.revocable(new Error('x'), {});
  revoke();
  return proxy;
}

/** Values a hostile service may throw. */
function hostileValue(): fc.Arbitrary<unknown> {
  const getterThrows = fc.constantFrom('message', 'stack', 'name', 'code', 'cause').map((key) => {
    const err = new Error('e');
    Object.defineProperty(err, key, {
      get() {
        throw new Error(`${key} getter`);
      },
    });
    return err;
  });
  // fast-check cannot hold a revoked Proxy as a generated value: build it in the property.
  const revoked = fc.constant(revokedMarker);
  const cyclicCause = fc.constant(null).map(() => {
    const a = new Error('a');
    const b = new Error('b', { cause: a });
    (a as { cause?: unknown }).cause = b;
    return a as unknown;
  });
  const huge = fc.constant(null).map(() => Object.assign(new Error('m'.repeat(100_000)), { code: 'c'.repeat(10_000), stack: 's\n'.repeat(100_000) }));
  return fc.oneof(fc.anything(), getterThrows, revoked, cyclicCause, huge, fc.string().map((s) => Object.assign(new Error(s), { secret: s })));
}

describe('serializeError', () => {
  it('never throws, keeps only name, message, code, stack and cause, and bounds every string', () => {
    fc.assert(
      fc.property(hostileValue(), (value) => {
        const check = (summary: ReturnType<typeof serializeError>, depth: number): void => {
          expect(Object.keys(summary).every((key) => ['name', 'message', 'code', 'stack', 'cause'].includes(key))).toBe(true);
          expect(typeof summary.name).toBe('string');
          expect(summary.name.length).toBeLessThanOrEqual(101);
          expect(summary.message.length).toBeLessThanOrEqual(1_001);
          if (typeof summary.code === 'string') expect(summary.code.length).toBeLessThanOrEqual(101);
          if (summary.stack !== undefined) {
            expect(summary.stack.length).toBeLessThanOrEqual(4_010);
            expect(summary.stack.split('\n').length).toBeLessThanOrEqual(21);
          }
          expect(depth).toBeLessThanOrEqual(3);
          if (summary.cause !== undefined) check(summary.cause, depth + 1);
        };
        check(serializeError(build(value)), 0);
      }),
    );
  });

  it('keeps name, message and code, and drops other enumerable properties', () => {
    const err = Object.assign(new TypeError('bad request'), { code: 'E_BAD', config: { headers: { Authorization: 'Bearer t0ken' } } });
    const summary = serializeError(err);
    expect(summary).toMatchObject({ name: 'TypeError', message: 'bad request', code: 'E_BAD' });
    expect(JSON.stringify(summary)).not.toContain('t0ken');
    expect(serializeError('plain')).toMatchObject({ name: 'string', message: 'plain' });
    expect(serializeError({ status: 500 })).toMatchObject({ name: 'Object', message: '' });
  });
});

describe('safeLogger', () => {
  it('passes the summary, not the error, under err and error', () => {
    const seen: object[] = [];
    const logger = safeLogger({ debug() {}, info() {}, warn: (context: object) => void seen.push(context), error() {} });
    const err = Object.assign(new Error('boom'), { password: 'hunter2' });
    logger.warn({ err, error: err, other: 1 }, 'line');
    expect(JSON.stringify(seen)).not.toContain('hunter2');
    expect(seen[0]).toMatchObject({ err: { message: 'boom' }, error: { message: 'boom' }, other: 1 });
  });

  it('swallows a logger method that throws, and a context it cannot read', () => {
    const logger = safeLogger({
      debug() {},
      info() {},
      warn() {
        throw new Error('logger broke');
      },
      error() {},
    });
    const { proxy, revoke } = Proxy.revocable({}, {});
    revoke();
    expect(() => logger.warn({ err: new Error('x') }, 'line')).not.toThrow();
    expect(() => logger.info(proxy, 'line')).not.toThrow();
  });

  it.each([null, 'x', 3, {}, { log() {} }])('refuses %o with ERR_INVALID_OPTION naming the option', (value) => {
    expect(() => safeLogger(value as never, 'logger')).toThrow(expect.toSatisfy((err) => MigrationGlueError.is(err, 'ERR_INVALID_OPTION') && String((err as Error).message).includes('`logger`')));
  });
});
