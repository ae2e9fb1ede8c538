import { describe, expect, it } from 'vitest';
import { MigrationConfigError, parseMigrationConfig } from '../../src/index.js';
import { revokedProxy } from './arbitraries.js';

// parseMigrationConfig must refuse a value it cannot read with its own coded
// error, the original as `cause`, never the raw error of a trap or getter.

function caught(value: unknown): unknown {
  try {
    parseMigrationConfig(value);
  } catch (err) {
    return err;
  }
  throw new Error('parseMigrationConfig accepted an unreadable value');
}

describe('parseMigrationConfig given a value it cannot read', () => {
  const trapError = new Error('trap exploded');
  const boom = (): never => {
    throw trapError;
  };

  it('refuses a Proxy whose traps throw with ERR_INVALID_CONFIG, the trap error as cause', () => {
    const proxy = new Proxy({}, { get: boom, has: boom, ownKeys: boom, getOwnPropertyDescriptor: boom, getPrototypeOf: boom });
    const err = caught(proxy);
    expect(err).toBeInstanceOf(MigrationConfigError);
    expect(err).toMatchObject({ code: 'ERR_INVALID_CONFIG', cause: trapError });
    expect((err as MigrationConfigError).issues[0]?.path).toBe('(root)');
  });

  it('refuses a Proxy whose only throwing trap is get', () => {
    const proxy = new Proxy({ shadowMode: false, newSystemEnabled: false, newSystemPercentage: 0, fallbackEnabled: false }, { get: boom });
    expect(caught(proxy)).toMatchObject({ code: 'ERR_INVALID_CONFIG', cause: trapError });
  });

  it('refuses a revoked Proxy with ERR_INVALID_CONFIG, the TypeError as cause', () => {
    const err = caught(revokedProxy());
    expect(err).toBeInstanceOf(MigrationConfigError);
    expect((err as Error).cause).toBeInstanceOf(TypeError);
  });

  it('refuses an object whose field getter throws', () => {
    const value = { shadowMode: false, newSystemEnabled: false, fallbackEnabled: false };
    Object.defineProperty(value, 'newSystemPercentage', { enumerable: true, get: boom });
    expect(caught(value)).toMatchObject({ code: 'ERR_INVALID_CONFIG', cause: trapError });
  });

  it('still names every bad field of a readable value, without a cause', () => {
    const err = caught({ shadowMode: 'yes', newSystemEnabled: false, newSystemPercentage: 101, fallbackEnabled: false }) as MigrationConfigError;
    expect(err.issues.map((i) => i.path)).toEqual(['shadowMode', 'newSystemPercentage']);
    expect(err.cause).toBeUndefined();
  });

  it('reads a Proxy whose traps answer normally', () => {
    const config = { shadowMode: false, newSystemEnabled: true, newSystemPercentage: 5, fallbackEnabled: true };
    expect(parseMigrationConfig(new Proxy(config, {}))).toEqual(config);
  });
});
