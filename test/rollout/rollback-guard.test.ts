import { describe, expect, it } from 'vitest';
import { InMemoryConfigStore, MigrationGlue, MigrationGlueError, RollbackGuard, defaultRollbackCriteria, phases } from '../../src/index.js';
import type { MigrationConfig } from '../../src/index.js';
import { ManualClock } from '../../src/testing/index.js';
import { recordingLogger } from '../helpers.js';

type Input = { userId: string };

/** A glue whose services take `latency` ms of the test clock and fail when `fails` says so. */
function setup(config: MigrationConfig) {
  const clock = new ManualClock({ start: 1_700_000_000_000 });
  const store = new InMemoryConfigStore(config);
  const behaviour = { oldLatency: 10, newLatency: 10, newFails: (_i: number) => false, oldFails: (_i: number) => false };
  let newCalls = 0;
  let oldCalls = 0;
  const glue = new MigrationGlue<Input, string>({
    name: 'pricing',
    clock,
    config: store,
    logger: recordingLogger(),
    oldService: async () => {
      clock.advance(behaviour.oldLatency);
      if (behaviour.oldFails(oldCalls++)) throw new Error('old failed');
      return 'old';
    },
    newService: async () => {
      clock.advance(behaviour.newLatency);
      if (behaviour.newFails(newCalls++)) throw new Error('new failed');
      return 'new';
    },
  });
  const served: string[] = [];
  glue.on('route', (event) => served.push(event.arm));
  async function drive(calls: number, from = 0) {
    for (let i = from; i < from + calls; i++) await glue.process({ userId: `user-${i}` }).catch(() => undefined);
  }
  return { clock, store, glue, behaviour, drive, served };
}

describe('criteria', () => {
  it('default to the workflow figures', () => {
    expect(defaultRollbackCriteria).toEqual({ maxErrorRate: 0.01, maxErrorRateOverBaseline: 0.005, maxP95Ratio: 2, maxMismatchRate: 0.001, minSamples: 100, windowMs: 300_000 });
  });

  it('refuse bad values, naming the criterion', () => {
    const { glue } = setup(phases.preparation());
    expect(() => new RollbackGuard(glue, { maxErrorRate: 2 })).toThrow(/`criteria.maxErrorRate`.*got 2/);
    expect(() => new RollbackGuard(glue, { minSamples: 0 })).toThrow(/`criteria.minSamples`/);
    expect(() => new RollbackGuard(glue, { maxP95Ratio: Number.NaN })).toThrow(/`criteria.maxP95Ratio`/);
    expect(() => new RollbackGuard(glue, { windowMs: 1_000 })).toThrow(/must equal the glue's windowMs/);
    expect(() => new RollbackGuard(glue, { maxErrorRte: 0.1 } as never)).toThrow(/ERR|criteria/);
    try {
      new RollbackGuard(glue, { minSamples: -1 });
    } catch (err) {
      expect(MigrationGlueError.is(err, 'ERR_INVALID_OPTION')).toBe(true);
    }
  });
});

describe('with too few samples', () => {
  it('neither trips nor reports enough, however bad new looks', async () => {
    const { glue, behaviour, drive } = setup(phases.full());
    behaviour.newFails = () => true;
    const guard = new RollbackGuard(glue);
    await drive(99);
    expect(guard.check()).toMatchObject({ ok: true, enough: false, reasons: [], samples: { new: 99 } });
  });
});

describe('error rate', () => {
  it('trips above 1 % absolute and names the figures', async () => {
    const { glue, behaviour, drive } = setup(phases.full());
    behaviour.newFails = (i) => i % 20 === 0; // 5 %
    const guard = new RollbackGuard(glue);
    await drive(200);
    const result = guard.check();
    expect(result.ok).toBe(false);
    expect(result.reasons).toEqual(['new error rate 5 % > 1 % over 200 calls']);
  });

  it('trips above the baseline + 0.5 points with the baseline captured in preparation', async () => {
    const { glue, store, behaviour, drive, clock } = setup(phases.preparation());
    const guard = new RollbackGuard(glue, { maxErrorRate: 0.5 });
    behaviour.oldFails = (i) => i % 100 === 0; // old: 1 %
    await drive(300);
    expect(guard.check().enough).toBe(false);
    expect(guard.baseline).toMatchObject({ source: 'baseline', errorRate: 0.01 });
    clock.advance(301_000); // old's live figures leave the window
    await store.save(phases.full());
    behaviour.newFails = (i) => i % 50 === 0; // new: 2 %, over 1 % + 0.5
    await drive(200, 1_000);
    expect(guard.check().reasons).toEqual(["new error rate 2 % > old's 1 % (baseline) + 0.5 points over 200 calls"]);
  });

  it('uses old live figures as the control when old serves in the same window', async () => {
    const { glue, behaviour, drive } = setup(phases.canary(50));
    behaviour.oldFails = (i) => i % 10 === 0; // 10 %
    behaviour.newFails = (i) => i % 10 === 0; // 10 %: as bad as old, but over 1 %
    const guard = new RollbackGuard(glue, { maxErrorRate: 0.2 });
    await drive(600);
    const result = guard.check();
    expect(result.control?.source).toBe('live');
    expect(result.ok).toBe(true);
  });
});

describe('latency', () => {
  it('trips when new p95 is over twice the control p95', async () => {
    const { glue, behaviour, drive } = setup(phases.canary(50));
    behaviour.oldLatency = 10;
    behaviour.newLatency = 25;
    const guard = new RollbackGuard(glue);
    await drive(600);
    const [reason] = guard.check().reasons;
    expect(reason).toMatch(/^new p95 25 ms > 2x old's 10 ms \(live\) over \d+ calls$/);
  });

  it('does not trip at 1.5x', async () => {
    const { glue, behaviour, drive } = setup(phases.canary(50));
    behaviour.newLatency = 15;
    const guard = new RollbackGuard(glue);
    await drive(600);
    expect(guard.check()).toMatchObject({ ok: true, enough: true });
  });
});

describe('mismatches', () => {
  it('trips in shadow over the mismatch limit once enough comparisons exist', async () => {
    const clock = new ManualClock({ start: 1_700_000_000_000 });
    let i = 0;
    const glue = new MigrationGlue<Input, number>({
      name: 'm',
      clock,
      config: phases.shadow(),
      logger: recordingLogger(),
      oldService: async () => 1,
      newService: async () => (i++ % 100 === 0 ? 2 : 1),
    });
    const guard = new RollbackGuard(glue);
    for (let n = 0; n < 99; n++) await glue.process({ userId: `u${n}` });
    await glue.drain();
    expect(guard.check()).toMatchObject({ ok: true, enough: false });
    for (let n = 99; n < 200; n++) await glue.process({ userId: `u${n}` });
    await glue.drain();
    expect(guard.check()).toMatchObject({ ok: false, enough: true, reasons: ['shadow mismatch rate 1 % > 0.1 % over 200 comparisons'] });
  });
});

describe('watch', () => {
  it('rolls back on the call that crossed the limit: the next call is served by old', async () => {
    const { glue, store, behaviour, drive, served } = setup(phases.canary(100));
    behaviour.newFails = (i) => i >= 150 && i % 10 === 0; // healthy, then 10 % errors
    const guard = new RollbackGuard(glue);
    const stop = guard.watch();
    const reasons: string[] = [];
    glue.on('rollback', (event) => reasons.push(event.reason));
    await drive(400);
    // new's window: 150 good calls, then one failure in ten; 1 % is crossed at the 2nd failure after call 150 (2/161 = 1.24 %).
    const newServed = served.filter((arm) => arm === 'new').length;
    expect(newServed).toBe(161);
    expect(served[161]).toBe('old');
    expect(store.current()).toEqual(phases.rolledBack());
    expect(reasons).toEqual(['rollback guard: new error rate 1.24 % > 1 % over 161 calls']);
    stop();
  });

  it('does nothing once stopped or while traffic is too low', async () => {
    const { glue, store, behaviour, drive } = setup(phases.canary(100));
    behaviour.newFails = () => true;
    const guard = new RollbackGuard(glue);
    const stop = guard.watch();
    await drive(50);
    expect(store.current()).toEqual(phases.canary(100));
    stop();
    await drive(100, 50);
    expect(store.current()).toEqual(phases.canary(100));
  });
});
