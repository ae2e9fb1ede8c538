import { describe, expect, it } from 'vitest';
import { MigrationGlue, phases } from '../../src/index.js';
import { instrumentGlue } from '../../src/otel/index.js';
import { RedisConfigStore } from '../../src/redis/index.js';

/** A client whose every property read throws, as a revoked Proxy does. */
function revoked(): object {
  const { proxy, revoke } = Proxy.revocable({}, {});
  revoke();
  return proxy;
}

const getterThrows = Object.defineProperty({}, 'duplicate', {
  get() {
    throw new Error('no reading');
  },
});

function codeOf(run: () => unknown): string | undefined {
  try {
    run();
  } catch (err) {
    return (err as { code?: string }).code;
  }
  return 'nothing thrown';
}

describe('a client option that cannot be read is refused as a bad option, never a TypeError', () => {
  it.each([
    ['a revoked Proxy', revoked()],
    ['an object whose getter throws', getterThrows],
  ])('RedisConfigStore given %s as redis', (_what, redis) => {
    expect(codeOf(() => new RedisConfigStore({ redis: redis as never, key: 'k' }))).toBe('ERR_INVALID_OPTION');
  });

  it.each([
    ['a revoked Proxy', revoked()],
    ['an object whose getter throws', Object.defineProperty({}, 'createCounter', { get: () => { throw new Error('no'); } })],
  ])('instrumentGlue given %s as meter', (_what, meter) => {
    const glue = new MigrationGlue<number, number>({ name: 'm', oldService: async (n) => n, newService: async (n) => n, config: phases.preparation() });
    expect(codeOf(() => instrumentGlue(glue, { meter: meter as never }))).toBe('ERR_INVALID_OPTION');
  });
});
