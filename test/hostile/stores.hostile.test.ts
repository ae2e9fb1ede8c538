import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, describe } from 'vitest';
import type { ConfigStore, MigrationConfig } from '../../src/index.js';
import { FileConfigStore, InMemoryConfigStore, MigrationGlue, parseMigrationConfig, phases } from '../../src/index.js';
import { inputArb, params, propertyTimeoutMs, voidHookArb } from './arbitraries.js';
import { prop } from './known-failures.js';
import { codeOf, flush, recordingLogger, show, trackProcessFaults, within } from './harness.js';

// DESIGN: bad input gets "a clear error message, never a crash"; a listener
// that throws is logged and never stops the others; saves settle.

const faults = trackProcessFaults();
const dir = mkdtempSync(join(tmpdir(), 'hostile-stores-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }), 120_000);
let files = 0;

const configArb = fc.constantFrom(phases.preparation(), phases.shadow(), phases.canary(5), phases.canary(37.5), phases.full());

describe('config parsing and options under hostile values', () => {
  prop(
    'parseMigrationConfig and the glue constructor return or throw a coded error, never a plain TypeError',
    async () => {
      await fc.assert(
        fc.asyncProperty(inputArb, fc.constantFrom('config', 'logger', 'notifier', 'clock', 'shadow', 'comparator', 'routingKey', 'hasher', 'newTimeoutMs', 'name'), async (value, option) => {
          const v = value.make();
          try {
            parseMigrationConfig(v);
          } catch (err) {
            if (codeOf(err) !== 'ERR_INVALID_CONFIG') throw new Error(`parseMigrationConfig threw ${show({ kind: 'error', error: err })}`, { cause: err });
          }
          const options: Record<string, unknown> = { name: 'opt', config: phases.preparation(), logger: recordingLogger().logger, oldService: async () => 1, newService: async () => 2 };
          options[option] = v;
          try {
            const glue = new MigrationGlue(options as never);
            await within(glue.close(), 'close');
          } catch (err) {
            const code = codeOf(err);
            if (code !== 'ERR_INVALID_OPTION' && code !== 'ERR_INVALID_CONFIG') {
              throw new Error(`new MigrationGlue({ ${option}: ${value.label} }) threw ${show({ kind: 'error', error: err })}`, { cause: err });
            }
          }
        }),
        params(80),
      );
    },
    propertyTimeoutMs,
  );
});

describe('config stores under hostile listeners and loggers', () => {
  const stores: readonly [string, (logger: never) => ConfigStore][] = [
    ['InMemoryConfigStore', (logger) => new InMemoryConfigStore(phases.preparation(), { logger })],
    [
      'FileConfigStore',
      (logger) => {
        files += 1;
        return new FileConfigStore({ path: join(dir, `store-${files}.json`), initial: phases.preparation(), watch: false, logger });
      },
    ],
  ];
  prop.each(stores)(
    'save settles, current() is the saved config and the other listeners still hear it (%s)',
    async (_name, makeStore) => {
      await fc.assert(
        fc.asyncProperty(voidHookArb, voidHookArb, fc.array(configArb, { minLength: 1, maxLength: 4 }), async (listener, logMethod, configs) => {
          faults.take();
          const method = logMethod.make();
          const store = makeStore({ debug: method, info: method, warn: method, error: method } as never);
          const heard: MigrationConfig[] = [];
          store.subscribe(listener.make() as never);
          store.subscribe((config) => void heard.push(config));
          for (const config of configs) {
            const saved = await within(store.save(config), 'save');
            if (saved.kind === 'error') throw new Error(`save failed: ${show(saved)}`);
            if (JSON.stringify(store.current()) !== JSON.stringify(config)) throw new Error(`current() is ${JSON.stringify(store.current())} after saving ${JSON.stringify(config)}`);
          }
          if (heard.length === 0) throw new Error('the well-behaved listener heard nothing');
          (store as { close?: () => unknown }).close?.();
          await flush();
          const seen = faults.take();
          if (seen.length > 0) throw new Error(seen.join('; '));
        }),
        params(20),
      );
    },
    propertyTimeoutMs,
  );
});
