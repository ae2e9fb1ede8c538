import { describe, expect, it } from 'vitest';
import { isConfigProvider, isConfigStore, staticConfig } from '../../src/config/config-provider.js';
import type { ConfigProvider } from '../../src/config/config-provider.js';
import { MigrationConfigError } from '../../src/config/migration-config.js';
import type { MigrationConfig } from '../../src/config/migration-config.js';
import { phases } from '../../src/config/phases.js';

// The provider helpers, rule by rule: each case is one a mutant of
// src/config/config-provider.ts would otherwise pass.

describe('staticConfig', () => {
  it('serves the config parsed once: the same frozen copy, unknown fields dropped', () => {
    const given = { ...phases.canary(7), extra: true } as MigrationConfig;
    const provider = staticConfig(given);
    expect(provider.current()).toEqual(phases.canary(7));
    expect(provider.current()).toBe(provider.current());
    expect(provider.current()).not.toBe(given);
    expect(Object.isFrozen(provider.current())).toBe(true);
  });

  it('is frozen itself, and its subscribe never calls the listener and returns a stop that does nothing', () => {
    const provider = staticConfig(phases.shadow());
    expect(Object.isFrozen(provider)).toBe(true);
    let called = false;
    const stop = provider.subscribe(() => {
      called = true;
    });
    expect(stop()).toBeUndefined();
    expect(called).toBe(false);
    expect(provider.close).toBeUndefined();
  });

  it('refuses a bad config at once', () => {
    expect(() => staticConfig({ ...phases.full(), newSystemPercentage: 101 })).toThrow(MigrationConfigError);
  });
});

describe('isConfigProvider', () => {
  it('is true only for an object with current and subscribe functions', () => {
    expect(isConfigProvider({ current: () => phases.shadow(), subscribe: () => () => {} })).toBe(true);
    expect(isConfigProvider({ current: () => phases.shadow() })).toBe(false);
    expect(isConfigProvider({ subscribe: () => () => {} })).toBe(false);
    expect(isConfigProvider({ current: phases.shadow(), subscribe: () => () => {} })).toBe(false);
    expect(isConfigProvider(phases.shadow())).toBe(false);
  });

  it('is false for null, a primitive, a function, and an object whose getters throw or a revoked Proxy', () => {
    expect(isConfigProvider(null)).toBe(false);
    expect(isConfigProvider(undefined)).toBe(false);
    expect(isConfigProvider('provider')).toBe(false);
    expect(isConfigProvider(Object.assign(() => {}, { current: () => phases.shadow(), subscribe: () => () => {} }))).toBe(false);
    const trapped = new Proxy(
      {},
      {
        get() {
          throw new Error('trap');
        },
      },
    );
    expect(isConfigProvider(trapped)).toBe(false);
    const revocable = Proxy.revocable({}, {});
    revocable.revoke();
    expect(isConfigProvider(revocable.proxy)).toBe(false);
  });
});

describe('isConfigStore', () => {
  it('is true only when the provider has a save function', () => {
    const provider: ConfigProvider = { current: () => phases.shadow(), subscribe: () => () => {} };
    expect(isConfigStore(provider)).toBe(false);
    expect(isConfigStore({ ...provider, save: async () => {} } as ConfigProvider)).toBe(true);
    expect(isConfigStore({ ...provider, save: 'yes' } as ConfigProvider)).toBe(false);
  });
});
