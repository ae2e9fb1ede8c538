import { InMemoryProvider, OpenFeature } from '@openfeature/server-sdk';
import type { Client } from '@openfeature/server-sdk';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { InvalidOptionError, MigrationGlue, phases, silentLogger } from '../../src/index.js';
import type { MigrationConfig } from '../../src/index.js';
import { openFeatureConfigProvider } from '../../src/openfeature/index.js';
import { recordingLogger } from '../helpers.js';

/** A flag configuration whose only flag, `flagKey`, holds `value`. */
function flags(value: unknown, flagKey = 'checkout-migration') {
  return { [flagKey]: { variants: { current: value as MigrationConfig }, defaultVariant: 'current', disabled: false } } as never;
}

async function until(check: () => boolean, timeoutMs = 2000): Promise<void> {
  const start = Date.now();
  while (!check()) {
    if (Date.now() - start > timeoutMs) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
}

let domain = 0;
/** A client on a provider of its own domain, so tests do not share flags. */
async function setup(value: unknown): Promise<{ provider: InMemoryProvider; client: Client }> {
  const provider = new InMemoryProvider(flags(value));
  const name = `mg-test-${++domain}`;
  await OpenFeature.setProviderAndWait(name, provider);
  return { provider, client: OpenFeature.getClient(name) };
}

afterEach(async () => {
  await OpenFeature.clearProviders();
});

describe('openFeatureConfigProvider', () => {
  describe('options', () => {
    it('names a missing client or flag key and the value received', () => {
      expect(() => openFeatureConfigProvider({ client: undefined as never, flagKey: 'f' })).toThrow(InvalidOptionError);
      expect(() => openFeatureConfigProvider({ client: {} as never, flagKey: 'f' })).toThrow(/option `client`/);
      expect(() => openFeatureConfigProvider({ client: OpenFeature.getClient(), flagKey: '' })).toThrow(/option `flagKey` .*got ""/);
    });
  });

  describe('when the flag holds a valid config', () => {
    it('serves the initial config synchronously, then the flag once ready', async () => {
      const { client } = await setup(phases.canary(10));
      const provider = openFeatureConfigProvider({ client, flagKey: 'checkout-migration', initial: phases.preparation() });
      expect(provider.current()).toEqual(phases.preparation());
      await expect(provider.ready()).resolves.toEqual(phases.canary(10));
      expect(provider.current()).toEqual(phases.canary(10));
      provider.close();
    });

    it('follows a configuration change event and notifies listeners; a glue routes by it', async () => {
      const { client, provider: flagProvider } = await setup(phases.full());
      const provider = openFeatureConfigProvider({ client, flagKey: 'checkout-migration' });
      await provider.ready();
      const glue = new MigrationGlue<{ userId: string }, string>({ name: 'of', oldService: async () => 'old', newService: async () => 'new', config: provider, logger: silentLogger });
      expect(await glue.process({ userId: 'u' })).toBe('new');
      const listener = vi.fn();
      provider.subscribe(listener);
      flagProvider.putConfiguration(flags(phases.rolledBack()));
      await until(() => listener.mock.calls.length === 1);
      expect(listener).toHaveBeenCalledWith(phases.rolledBack());
      expect(await glue.process({ userId: 'u' })).toBe('old');
      await glue.close();
      provider.close();
    });
  });

  describe('when the flag holds an invalid value', () => {
    it('refuses it, logs it once, and keeps the last good config', async () => {
      const { client, provider: flagProvider } = await setup(phases.canary(5));
      const logger = recordingLogger();
      const provider = openFeatureConfigProvider({ client, flagKey: 'checkout-migration', logger });
      await provider.ready();
      const listener = vi.fn();
      provider.subscribe(listener);
      flagProvider.putConfiguration(flags({ ...phases.full(), newSystemPercentage: 120 }));
      await until(() => logger.lines.some((l) => l.level === 'error'));
      await provider.refresh();
      expect(provider.current()).toEqual(phases.canary(5));
      expect(listener).not.toHaveBeenCalled();
      const errors = logger.lines.filter((l) => l.level === 'error');
      expect(errors).toHaveLength(1);
      expect(errors[0]?.message).toMatch(/refused.*newSystemPercentage/);
      provider.close();
    });

    it('refuses a missing flag or a non-object value, serving the initial config', async () => {
      const { client } = await setup('not an object');
      const logger = recordingLogger();
      const provider = openFeatureConfigProvider({ client, flagKey: 'checkout-migration', initial: phases.shadow(), logger });
      await provider.ready();
      expect(provider.current()).toEqual(phases.shadow());
      const missing = openFeatureConfigProvider({ client, flagKey: 'no-such-flag', initial: phases.shadow(), logger });
      await missing.ready();
      expect(missing.current()).toEqual(phases.shadow());
      expect(logger.lines.filter((l) => l.level === 'error')).toHaveLength(2);
      provider.close();
      missing.close();
    });
  });

  describe('after close', () => {
    it('no longer follows the flag', async () => {
      const { client, provider: flagProvider } = await setup(phases.canary(5));
      const provider = openFeatureConfigProvider({ client, flagKey: 'checkout-migration' });
      await provider.ready();
      provider.close();
      flagProvider.putConfiguration(flags(phases.full()));
      await new Promise((resolve) => setTimeout(resolve, 30));
      expect(provider.current()).toEqual(phases.canary(5));
    });
  });
});
