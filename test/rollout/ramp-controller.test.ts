import fc from 'fast-check';
import { describe, expect, it, vi } from 'vitest';
import {
  InMemoryConfigStore,
  MigrationGlue,
  MigrationJournal,
  RampController,
  RollbackGuard,
  defaultRamp,
  phases,
  renderChecklist,
  validatePlan,
} from '../../src/index.js';
import type { MigrationConfig, Notification, RampStep } from '../../src/index.js';
import { ManualClock } from '../../src/testing/index.js';
import { recordingLogger } from '../helpers.js';

const day = 24 * 60 * 60 * 1000;
type Input = { userId: string };

function world(initial: MigrationConfig = phases.shadow()) {
  const clock = new ManualClock({ start: Date.UTC(2026, 0, 5) });
  const store = new InMemoryConfigStore(initial);
  const state = { newFails: false };
  let n = 0;
  const glue = new MigrationGlue<Input, string>({
    name: 'pricing',
    clock,
    config: store,
    logger: recordingLogger(),
    windowMs: 300_000,
    oldService: async () => {
      clock.advance(5);
      return 'same';
    },
    newService: async () => {
      clock.advance(5);
      if (state.newFails && n++ % 5 === 0) throw new Error('bad release');
      return 'same';
    },
  });
  const journal = new MigrationJournal({ clock });
  journal.attach(glue);
  // Limits loose enough that a few hundred calls on new can show a step healthy: the judge itself is tested in rollback-guard.test.ts.
  const guard = new RollbackGuard(glue, { minSamples: 20, maxErrorRate: 0.05, maxErrorRateOverBaseline: 0.05, maxMismatchRate: 0.01 }, { clock, logger: recordingLogger() });
  const notifications: Notification[] = [];
  const logger = recordingLogger();
  async function traffic(calls = 400) {
    for (let i = 0; i < calls; i++) await glue.process({ userId: `u${i}` }).catch(() => undefined);
    await glue.drain();
  }
  return { clock, store, glue, journal, guard, notifications, logger, state, traffic };
}

describe('a full simulated migration', () => {
  it('walks shadow, every ramp step, full and the grace period, then ticks the checklist', async () => {
    const w = world();
    w.guard.watch();
    const approvals: RampStep[] = [];
    const ramp = new RampController({
      store: w.store,
      guard: w.guard,
      journal: w.journal,
      clock: w.clock,
      notifier: (n) => void w.notifications.push(n),
      logger: w.logger,
      name: 'pricing',
      approve: (step) => {
        approvals.push(step);
        return true;
      },
    });
    await w.traffic();
    const seen: number[] = [];
    for (let days = 0; days < 90 && ramp.status().blockedBy !== 'done'; days++) {
      // Traffic until the judge has made up its mind about the step in force.
      for (let round = 0; round < 30 && w.guard.check().verdict === 'inconclusive'; round++) await w.traffic(3_000);
      await ramp.tick();
      seen.push(w.store.current().newSystemPercentage);
      w.clock.advance(day);
    }
    expect(ramp.status().blockedBy).toBe('done');
    expect([...new Set(seen)]).toEqual([1, 5, 10, 25, 50, 90, 100]);
    expect(approvals.map((s) => s.percentage)).toEqual([1, 5, 10, 25, 50, 90, 100]);
    const steps = w.journal.entries().filter((e) => e.kind === 'step');
    expect(steps.map((e) => e.percentage)).toEqual([1, 5, 10, 25, 50, 90, 100]);
    // each hold respected: the gap to the next step is at least the plan's hold
    for (let i = 1; i < steps.length; i++) expect(steps[i]!.at - steps[i - 1]!.at).toBeGreaterThanOrEqual(defaultRamp[i - 1]!.holdMs);
    expect(w.journal.entries().some((e) => e.kind === 'complete')).toBe(true);
    expect(w.notifications.map((n) => n.kind)).toEqual(expect.arrayContaining(['approval', 'step', 'complete']));

    const checklist = renderChecklist(w.journal, { oldSystem: 'pricing v1', newSystem: 'pricing v2' });
    expect(checklist).toContain('# Migration: pricing v1 → pricing v2');
    expect(checklist).toContain('- **Start Date:** 2026-01-05');
    for (const p of [1, 5, 10, 25, 50, 90]) expect(checklist).toContain(`- [x] ${p}% traffic migrated`);
    expect(checklist).toContain('- [x] Comparison logging active');
    expect(checklist).toContain('- [x] Discrepancies < 0.1%');
    expect(checklist).toContain('- [x] 100% traffic on new system');
    expect(checklist).toContain('- [x] 2-week observation period');
    expect(checklist).toContain('- [x] No rollbacks triggered');
    expect(checklist).toContain('- [ ] Team briefed');
  });
});

describe('a new release that degrades at 25 %', () => {
  it('is rolled back by the guard, the ramp blocks as rolledBack, and the checklist logs it', async () => {
    const w = world(phases.canary(25));
    w.guard.watch();
    const ramp = new RampController({ store: w.store, guard: w.guard, journal: w.journal, clock: w.clock, logger: w.logger, name: 'pricing' });
    await w.traffic(400);
    w.state.newFails = true;
    await w.traffic(2_000);
    expect(w.store.current()).toEqual(phases.rolledBack());
    // rolled back after some tens of failures: ~100 healthy calls on new, then one in five failing
    expect(w.glue.stats().new.window.calls).toBeLessThan(300);
    w.clock.advance(30 * day);
    expect((await ramp.tick()).blockedBy).toBe('rolledBack');
    expect(w.store.current().newSystemPercentage).toBe(0);
    w.clock.advance(2 * 60 * 60 * 1000);
    await w.store.save(phases.shadow());
    const checklist = renderChecklist(w.journal);
    expect(checklist).toMatch(/\| 2026-01-05 \| 25% \| rollback guard: new error rate [\d.]+ % \(always-valid interval [\d.]+ % to [\d.]+ %, limit 5 %\) over \d+ \| 30\.1 d \|/);
    expect(checklist).toContain('- [ ] No rollbacks triggered');

    // fixed and resumed: the ramp starts again from its first step
    w.state.newFails = false;
    await ramp.resume();
    expect(w.store.current()).toEqual(phases.shadow());
    w.clock.advance(301_000);
    for (let round = 0; round < 10 && w.guard.check().verdict === 'inconclusive'; round++) await w.traffic(1_000);
    const status = await ramp.tick();
    expect(status).toMatchObject({ step: 0, percentage: 1, blockedBy: 'hold' });
    expect(w.journal.entries().some((e) => e.kind === 'resume')).toBe(true);
  });
});

describe('resume', () => {
  it('takes effect for a tick made right after it, awaited or not', async () => {
    const w = world(phases.canary(25));
    const ramp = new RampController({ store: w.store, clock: w.clock, logger: w.logger, plan: [{ percentage: 25, holdMs: 0 }, { percentage: 50, holdMs: 0 }] });
    await w.store.save(phases.rolledBack());
    expect((await ramp.tick()).blockedBy).toBe('rolledBack');
    void ramp.resume();
    const status = await ramp.tick();
    expect(status.blockedBy).not.toBe('rolledBack');
    expect(w.store.current()).toEqual(phases.canary(25));
  });

  it('stays rolled back when the store refuses the save, and says so', async () => {
    const w = world(phases.canary(25));
    const ramp = new RampController({ store: w.store, clock: w.clock, logger: w.logger });
    await w.store.save(phases.rolledBack());
    const down = new Error('store down');
    w.store.save = () => Promise.reject(down);
    await expect(ramp.resume()).rejects.toBe(down);
    expect((await ramp.tick()).blockedBy).toBe('rolledBack');
  });
});

describe('gates', () => {
  async function gated(approve: (step: RampStep) => boolean | Promise<boolean>, approvalTimeoutMs?: number) {
    const w = world();
    const ramp = new RampController({ store: w.store, guard: w.guard, clock: w.clock, logger: w.logger, approve, approvalTimeoutMs, journal: w.journal });
    await w.traffic(3_000);
    return { w, status: await ramp.tick() };
  }

  it('a gate that says no holds the ramp', async () => {
    const { w, status } = await gated(() => false);
    expect(status.blockedBy).toBe('approval');
    expect(w.store.current()).toEqual(phases.shadow());
    expect(w.journal.entries().filter((e) => e.kind === 'approval')).toEqual([expect.objectContaining({ approved: false, percentage: 1 })]);
  });

  it('a gate that throws counts as no and is logged', async () => {
    const { w, status } = await gated(async () => {
      throw new Error('approval service down');
    });
    expect(status.blockedBy).toBe('approval');
    expect(w.logger.lines.some((l) => l.message === 'approval gate threw; taken as no')).toBe(true);
  });

  it('a gate that hangs times out as no', async () => {
    const { w, status } = await gated(() => new Promise<boolean>(() => {}), 20);
    expect(status.blockedBy).toBe('approval');
    expect(w.logger.lines.some((l) => l.message === 'approval timed out; taken as no')).toBe(true);
  });

  it('an async yes advances', async () => {
    const { w, status } = await gated(async () => true);
    expect(status).toMatchObject({ step: 0, percentage: 1, blockedBy: 'hold' });
    expect(w.store.current()).toEqual(phases.canary(1));
  });

  it('too few samples never advances, an unhealthy guard neither', async () => {
    const w = world();
    const ramp = new RampController({ store: w.store, guard: w.guard, clock: w.clock, logger: w.logger });
    await w.traffic(10);
    expect((await ramp.tick()).blockedBy).toBe('samples');
    expect(w.store.current()).toEqual(phases.shadow());
    w.state.newFails = true;
    await w.store.save(phases.canary(50));
    w.clock.advance(8 * day);
    await w.traffic(400);
    const status = await ramp.tick();
    expect(status.blockedBy).toBe('guard');
    expect(status.reasons?.[0]).toMatch(/^new error rate/);
    expect(w.store.current()).toEqual(phases.canary(50));
  });
});

describe('holds', () => {
  it('an idle controller takes one step per tick, each hold counted from the step', async () => {
    const w = world(phases.canary(1));
    const ramp = new RampController({ store: w.store, clock: w.clock, logger: w.logger });
    expect((await ramp.tick()).blockedBy).toBe('hold');
    w.clock.advance(200 * day);
    expect((await ramp.tick()).percentage).toBe(5);
    expect((await ramp.tick()).blockedBy).toBe('hold');
    expect(ramp.status()).toMatchObject({ step: 1, nextAt: w.clock.now() + 2 * day });
  });

  it('counts the hold from a given `since` (a time another source knows), and refuses a bad one', async () => {
    const w = world(phases.canary(5));
    const ramp = new RampController({ store: w.store, clock: w.clock, logger: w.logger, since: w.clock.now() - 2 * day });
    expect(ramp.status()).toMatchObject({ step: 1, blockedBy: null });
    expect((await ramp.tick()).percentage).toBe(10);
    expect(() => new RampController({ store: w.store, since: Number.NaN })).toThrow(/`since`/);
  });

  it('validatePlan returns a frozen copy of a valid plan', () => {
    const plan = [{ percentage: 10, holdMs: 0 }, { percentage: 100, holdMs: day }];
    const checked = validatePlan(plan);
    expect(checked).toEqual(plan);
    expect(checked).not.toBe(plan);
    expect(Object.isFrozen(checked) && Object.isFrozen(checked[0])).toBe(true);
    expect(() => validatePlan([{ percentage: 10.001, holdMs: 0 }])).toThrow(/`plan\[0\].percentage` must have at most two decimals/);
  });

  it('refuses a bad plan, naming the step', () => {
    const store = new InMemoryConfigStore();
    expect(() => new RampController({ store, plan: [] })).toThrow(/`plan` must be a non-empty array/);
    expect(() => new RampController({ store, plan: [{ percentage: 5, holdMs: 1 }, { percentage: 5, holdMs: 1 }] })).toThrow(/`plan\[1\].percentage` must be greater/);
    expect(() => new RampController({ store, plan: [{ percentage: 101, holdMs: 1 }] })).toThrow(/plan\[0\].percentage/);
    expect(() => new RampController({ store, plan: [{ percentage: 1, holdMs: -1 }] })).toThrow(/plan\[0\].holdMs/);
    expect(() => new RampController({ store: {} as never })).toThrow(/`store` must be a ConfigStore/);
  });

  it('run() ticks on a timer until stop()', async () => {
    vi.useFakeTimers();
    try {
      const w = world(phases.preparation());
      const ramp = new RampController({ store: w.store, clock: w.clock, logger: w.logger, plan: [{ percentage: 50, holdMs: 0 }, { percentage: 100, holdMs: 0 }] });
      ramp.run({ intervalMs: 1_000 });
      await vi.advanceTimersByTimeAsync(1_000);
      expect(w.store.current().newSystemPercentage).toBe(50);
      ramp.stop();
      await vi.advanceTimersByTimeAsync(5_000);
      expect(w.store.current().newSystemPercentage).toBe(50);
    } finally {
      vi.useRealTimers();
    }
  });
});

describe('property: whatever happens, the percentage walks the plan', () => {
  it('only takes plan values, moves up one step at a time, and goes to 0 only by rollback', async () => {
    const op = fc.oneof(
      fc.record({ kind: fc.constant('tick' as const) }),
      fc.record({ kind: fc.constant('advance' as const), ms: fc.integer({ min: 0, max: 10 * day }) }),
      fc.record({ kind: fc.constant('approval' as const), yes: fc.boolean() }),
      fc.record({ kind: fc.constant('rollback' as const) }),
      fc.record({ kind: fc.constant('resume' as const) }),
      fc.record({ kind: fc.constant('health' as const), ok: fc.boolean() }),
    );
    await fc.assert(
      fc.asyncProperty(fc.array(op, { maxLength: 60 }), async (ops) => {
        const clock = new ManualClock({ start: 1_700_000_000_000 });
        const store = new InMemoryConfigStore(phases.shadow());
        const plan = defaultRamp;
        const allowed = new Set([0, -1, ...plan.map((s) => s.percentage)]);
        let approve = true;
        let healthy = true;
        const guard = { check: () => ({ ok: healthy, enough: true, reasons: healthy ? [] : ['sick'], samples: { new: 100, old: 100, compared: 100 }, control: undefined }) };
        const ramp = new RampController({ store, clock, plan, guard: guard as never, approve: () => approve, logger: recordingLogger() });
        let rollbacks = 0;
        const history: number[] = [];
        // -1 stands for shadow mode, where resume() puts the migration
        store.subscribe((config) => history.push(config.shadowMode ? -1 : config.newSystemEnabled ? config.newSystemPercentage : 0));
        for (const step of ops) {
          if (step.kind === 'tick') await ramp.tick();
          else if (step.kind === 'advance') clock.advance(step.ms);
          else if (step.kind === 'approval') approve = step.yes;
          else if (step.kind === 'health') healthy = step.ok;
          else if (step.kind === 'resume') await ramp.resume();
          else if (store.current().newSystemEnabled) {
            rollbacks += 1;
            await store.save(phases.rolledBack());
          }
        }
        let previous = 0;
        let zeros = 0;
        for (const percentage of history) {
          expect(allowed.has(percentage)).toBe(true);
          if (percentage === 0) zeros += 1;
          else if (percentage === -1) expect(previous).toBe(0);
          else {
            const index = plan.findIndex((s) => s.percentage === percentage);
            const previousIndex = previous <= 0 ? -1 : plan.findIndex((s) => s.percentage === previous);
            expect(index).toBe(previousIndex + 1);
          }
          previous = percentage;
        }
        expect(zeros).toBe(rollbacks);
      }),
      { numRuns: 150 },
    );
  });
});
