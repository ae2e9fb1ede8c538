import { describe, expect, it } from 'vitest';
import { MigrationConfigError, parseMigrationConfig } from '../../src/config/migration-config.js';
import { MigrationGlueError } from '../../src/errors.js';

// A config that cannot even be read (a getter that throws, a Proxy whose
// traps throw, a revoked Proxy) is refused as one root issue, with what
// reading it threw as `cause`: never the raw error, never a partial parse.

const unreadableMessage = 'cannot be read (a getter or a Proxy trap threw, or the Proxy is revoked)';

function refusal(value: unknown): MigrationConfigError {
  let thrown: unknown;
  try {
    parseMigrationConfig(value);
  } catch (err) {
    thrown = err;
  }
  expect(thrown).toBeInstanceOf(MigrationConfigError);
  expect(MigrationGlueError.is(thrown, 'ERR_INVALID_CONFIG')).toBe(true);
  return thrown as MigrationConfigError;
}

describe('parseMigrationConfig on a config that cannot be read', () => {
  it('reports a throwing getter as one root issue, keeping the thrown error as cause', () => {
    const boom = new Error('getter threw');
    const value = {
      shadowMode: false,
      newSystemEnabled: true,
      get newSystemPercentage(): number {
        throw boom;
      },
      fallbackEnabled: true,
    };
    const err = refusal(value);
    expect(err.issues).toEqual([{ path: '(root)', message: unreadableMessage }]);
    expect(err.cause).toBe(boom);
    expect(err.message).toBe(`[migration-glue] invalid config: \`(root)\` ${unreadableMessage}`);
  });

  it('reports a revoked Proxy and a Proxy whose traps throw the same way', () => {
    const { proxy, revoke } = Proxy.revocable({}, {});
    revoke();
    const revoked = refusal(proxy);
    expect(revoked.issues).toEqual([{ path: '(root)', message: unreadableMessage }]);
    expect(revoked.cause).toBeInstanceOf(TypeError);
    const trap = new Error('get trap');
    const trapping = refusal(
      new Proxy(
        {},
        {
          get() {
            throw trap;
          },
        },
      ),
    );
    expect(trapping.issues).toEqual([{ path: '(root)', message: unreadableMessage }]);
    expect(trapping.cause).toBe(trap);
  });

  it('keeps its own refusal of a non-object as it is, without a cause', () => {
    const err = refusal(null);
    expect(err.issues).toEqual([{ path: '(root)', message: 'must be an object with the four config fields, got null' }]);
    expect(err.cause).toBeUndefined();
    expect(refusal([]).issues[0]?.message).toBe('must be an object with the four config fields, got an array');
    expect(refusal(7).issues[0]?.message).toBe('must be an object with the four config fields, got number');
  });
});
