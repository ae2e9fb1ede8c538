import { describe, expect, it } from 'vitest';
import type { MigrationGlueOptions } from '../../src/index.js';
import { MigrationGlue, phases, silentLogger } from '../../src/index.js';
import { revokedProxy } from './arbitraries.js';

// The glue's `shadow` options (and `shadow.clean`) are read once, in the
// constructor; one that cannot be read is refused with ERR_INVALID_OPTION
// naming it, never with the raw error of a trap or getter.

function construct(shadow: unknown): unknown {
  const options: MigrationGlueOptions<unknown, unknown> = {
    name: 'options',
    config: phases.shadow(),
    logger: silentLogger,
    oldService: async () => 1,
    newService: async () => 1,
    shadow: shadow as never,
  };
  try {
    return new MigrationGlue(options);
  } catch (err) {
    return err;
  }
}

const boom = (): never => {
  throw new Error('trap exploded');
};
const trapping = () => new Proxy({}, { get: boom, has: boom, ownKeys: boom, getOwnPropertyDescriptor: boom });

describe('shadow options that cannot be read', () => {
  it.each([
    ['a revoked Proxy', 'shadow', revokedProxy],
    ['a Proxy whose traps throw', 'shadow', trapping],
    ['an object whose timeoutMs getter throws', 'shadow', () => Object.defineProperty({}, 'timeoutMs', { enumerable: true, get: boom })],
    ['clean: a revoked Proxy', 'shadow.clean', () => ({ clean: revokedProxy() })],
    ['clean: a Proxy whose traps throw', 'shadow.clean', () => ({ clean: trapping() })],
    ['clean: an object whose input getter throws', 'shadow.clean', () => ({ clean: Object.defineProperty({}, 'input', { enumerable: true, get: boom }) })],
  ])('%s: ERR_INVALID_OPTION naming `%s`', (_label, option, make) => {
    expect(construct(make())).toMatchObject({ code: 'ERR_INVALID_OPTION', option });
  });

  it('still accepts readable options, clean: null included', async () => {
    const glue = construct({ timeoutMs: 50, clean: null });
    expect(glue).toBeInstanceOf(MigrationGlue);
    await (glue as MigrationGlue<unknown, unknown>).close();
  });
});
