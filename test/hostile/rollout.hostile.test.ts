import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, describe } from 'vitest';
import type { ConfigStore, JournalEntry } from '../../src/index.js';
import {
  FileConfigStore,
  InMemoryConfigStore,
  MigrationGlue,
  MigrationJournal,
  RampController,
  RollbackGuard,
  phases,
  renderChecklist,
  renderReport,
} from '../../src/index.js';
import { isRolledBack } from '../../src/config/migration-config.js';
import { ManualClock } from '../../src/testing/index.js';
import type { HookBehaviour } from './arbitraries.js';
import { prop } from './known-failures.js';
import { answerHookArb, params, propertyTimeoutMs, valueArb, voidHookArb } from './arbitraries.js';
import { codeOf, flush, recordingLogger, show, trackProcessFaults, within } from './harness.js';

// DESIGN: every wait on user code (notifiers, approvals) is bounded; a
// rollback is never undone by a concurrent save; reports survive any journal.

const faults = trackProcessFaults();
const dir = mkdtempSync(join(tmpdir(), 'hostile-rollout-'));
// Each FileConfigStore case removes its own folder; a long run still leaves many entries to remove here.
afterAll(() => rmSync(dir, { recursive: true, force: true }), 120_000);
let files = 0;

function check(): void {
  const seen = faults.take();
  if (seen.length > 0) throw new Error(seen.join('; '));
}

describe('RampController and RollbackGuard under hostile hooks', () => {
  prop(
    'tick, resume and the glue rollback the guard triggers all settle, whatever approve, notifier and logger do',
    async () => {
      const arb = fc.record({
        approve: answerHookArb(() => () => true),
        notifier: voidHookArb,
        logger: voidHookArb,
        ticks: fc.integer({ min: 1, max: 4 }),
        failing: fc.boolean(),
      });
      await fc.assert(
        fc.asyncProperty(arb, async ({ approve, notifier, logger, ticks, failing }) => {
          faults.take();
          const clock = new ManualClock();
          const store = new InMemoryConfigStore(phases.canary(1));
          const method = (logger as HookBehaviour).make();
          const log = { debug: method, info: method, warn: method, error: method } as never;
          const glue = new MigrationGlue<{ userId: string }, string>({
            name: 'ramp',
            config: store,
            clock,
            logger: recordingLogger().logger,
            notifier: notifier.make() as never,
            notifierTimeoutMs: 50,
            oldService: async () => 'old',
            newService: async () => {
              if (failing) throw new Error('new is down');
              return 'new';
            },
          });
          const guard = new RollbackGuard(glue, { minSamples: 5 }, { logger: log });
          const unwatch = guard.watch();
          const ramp = new RampController({
            store,
            guard,
            clock,
            approve: approve.make() as never,
            approvalTimeoutMs: 50,
            notifier: notifier.make() as never,
            notifyTimeoutMs: 50,
            logger: log,
            plan: [
              { percentage: 1, holdMs: 10 },
              { percentage: 50, holdMs: 10 },
              { percentage: 100, holdMs: 10 },
            ],
          });
          for (let t = 0; t < ticks; t += 1) {
            for (let i = 0; i < 40; i += 1) await within(glue.process({ userId: `u${i}` }), 'process');
            clock.advance(20);
            await within(ramp.tick(), `tick ${t}`);
            ramp.status();
            guard.check();
          }
          await within(glue.rollback('harness'), 'rollback');
          await within(ramp.tick(), 'tick after rollback');
          await within(ramp.resume(), 'resume');
          await within(ramp.tick(), 'tick after resume');
          unwatch();
          ramp.close();
          await within(glue.close(), 'close');
          await flush();
          check();
        }),
        params(12),
      );
    },
    propertyTimeoutMs,
  );
});

describe('rollback against a concurrent save', () => {
  const stores: readonly [string, () => Promise<ConfigStore>][] = [
    ['InMemoryConfigStore', async () => new InMemoryConfigStore(phases.canary(50))],
    [
      'FileConfigStore',
      async () => {
        files += 1;
        const folder = join(dir, `case-${files}`);
        mkdirSync(folder);
        const store = new FileConfigStore({ path: join(folder, 'config.json'), initial: phases.canary(50), watch: false });
        return Object.assign(store, { cleanup: () => rmSync(folder, { recursive: true, force: true }) });
      },
    ],
  ];
  // A step saved just before rollback() (a ramp tick in flight), and one saved while rollback() is in flight: both are concurrent saves.
  const cases: readonly (readonly [string, string, () => Promise<ConfigStore>, boolean])[] = stores.flatMap(([store, make]) => [
    [store, 'a save issued just before rollback()', make, true] as const,
    [store, 'a save issued while rollback() is in flight', make, false] as const,
  ]);
  prop.each(cases)(
    'after rollback() resolves, no call reaches new (%s, %s)',
    async (_name, _when, makeStore, saveFirst) => {
      const arb = fc.record({ percentage: fc.integer({ min: 1, max: 100 }), delayTurns: fc.integer({ min: 0, max: 6 }) });
      await fc.assert(
        fc.asyncProperty(arb, async ({ percentage, delayTurns }) => {
          faults.take();
          const store = await makeStore();
          let toNew = 0;
          const glue = new MigrationGlue<{ userId: string }, string>({
            name: 'race',
            config: store,
            logger: recordingLogger().logger,
            oldService: async () => 'old',
            newService: async () => {
              toNew += 1;
              return 'new';
            },
          });
          const step = percentage === 100 ? phases.full() : phases.canary(percentage);
          let save: Promise<void>;
          let rollback: Promise<boolean>;
          // DESIGN: a save decided from a rolled-back view moves forward deliberately. A save called
          // once the store already shows the rollback is such a save (a store cannot tell it apart),
          // so only a save called before the store showed the rollback is a concurrent one.
          let concurrent = true;
          if (saveFirst) {
            save = store.save(step);
            for (let i = 0; i < delayTurns; i += 1) await Promise.resolve();
            rollback = glue.rollback('race');
          } else {
            rollback = glue.rollback('race');
            for (let i = 0; i < delayTurns; i += 1) await Promise.resolve();
            concurrent = !isRolledBack(store.current());
            save = store.save(step);
          }
          const r = await within(rollback, 'rollback');
          await within(save, 'save');
          await flush();
          if (r.kind === 'error') throw new Error(`rollback failed: ${show(r)}`);
          toNew = 0;
          for (let i = 0; i < 100; i += 1) await within(glue.process({ userId: `u${i}` }), 'process');
          await within(glue.close(), 'close');
          (store as { close?: () => unknown }).close?.();
          (store as { cleanup?: () => void }).cleanup?.();
          const rolledBack = isRolledBack(store.current());
          if (concurrent && !rolledBack) throw new Error(`a concurrent save undid the rollback: the store says ${JSON.stringify(store.current())}`);
          // Whatever the order, the glue serves what the store says once everything settled.
          if (rolledBack && toNew > 0) throw new Error(`${toNew} of 100 calls reached new after rollback() resolved (store says ${JSON.stringify(store.current())})`);
          check();
        }),
        params(15),
      );
    },
    propertyTimeoutMs,
  );
});

describe('journal, checklist and report under hostile entries', () => {
  prop(
    'render or refuse with a coded error, never a TypeError or RangeError',
    async () => {
      const kinds = ['phase', 'step', 'approval', 'rollback', 'issue', 'metrics', 'check', 'resume', 'complete', 'nonsense'];
      const entryArb = fc.record({
        at: fc.oneof(fc.integer(), fc.constant(Number.NaN), fc.constant('yesterday')),
        kind: fc.constantFrom(...kinds),
        percentage: fc.oneof(fc.integer({ min: -5, max: 200 }), fc.constant('50'), fc.constant(null)),
        data: valueArb,
        reason: valueArb,
      });
      await fc.assert(
        fc.asyncProperty(fc.array(entryArb, { maxLength: 30 }), async (raw) => {
          const entries = raw.map((e) => ({ ...e, data: e.data.make(), reason: e.reason.make() })) as unknown as JournalEntry[];
          for (const [what, render] of [
            ['renderChecklist', () => renderChecklist(entries)],
            ['renderReport', () => renderReport(entries)],
          ] as const) {
            try {
              const text = render();
              if (typeof text !== 'string') throw new Error(`${what} returned ${typeof text}`);
            } catch (err) {
              if (typeof codeOf(err) !== 'string') throw new Error(`${what} threw ${show({ kind: 'error', error: err })}`, { cause: err });
            }
          }
        }),
        params(40),
      );
    },
    propertyTimeoutMs,
  );

  prop(
    'renders a journal of 50,000 metrics snapshots',
    async () => {
      const journal = new MigrationJournal();
      const glue = new MigrationGlue({ name: 'big', config: phases.canary(10), logger: recordingLogger().logger, oldService: async () => 1, newService: async () => 1 });
      for (let i = 0; i < 50_000; i += 1) journal.snapshot(glue);
      renderReport(journal);
      renderChecklist(journal);
      await glue.close();
    },
    propertyTimeoutMs,
  );
});
