import { describe, expect, it } from 'vitest';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { InMemoryConfigStore, MigrationGlue, MigrationGlueError, RollbackGuard, defaultRollbackCriteria, phases } from '../../src/index.js';
import type { MigrationConfig, Notification } from '../../src/index.js';
import { ManualClock } from '../../src/testing/index.js';
import { recordingLogger } from '../helpers.js';

type Input = { userId: string };
const hour = 60 * 60 * 1000;

/** A glue whose services take `latency` ms of the test clock and fail when `fails` says so. */
function setup(config: MigrationConfig) {
  const clock = new ManualClock({ start: 1_700_000_000_000 });
  const store = new InMemoryConfigStore(config);
  const behaviour = {
    oldLatency: (_i: number) => 10,
    newLatency: (_i: number) => 10,
    newFails: (_i: number) => false,
    oldFails: (_i: number) => false,
    newAnswer: (_i: number) => 'same',
  };
  let newCalls = 0;
  let oldCalls = 0;
  const glue = new MigrationGlue<Input, string>({
    name: 'pricing',
    clock,
    config: store,
    logger: recordingLogger(),
    oldService: async () => {
      const i = oldCalls++;
      clock.advance(behaviour.oldLatency(i));
      if (behaviour.oldFails(i)) throw new Error('old failed');
      return 'same';
    },
    newService: async () => {
      const i = newCalls++;
      clock.advance(behaviour.newLatency(i));
      if (behaviour.newFails(i)) throw new Error('new failed');
      return behaviour.newAnswer(i);
    },
  });
  const served: string[] = [];
  glue.on('route', (event) => served.push(event.arm));
  let next = 0;
  async function drive(calls: number) {
    for (let i = 0; i < calls; i++) await glue.process({ userId: `user-${next++}` }).catch(() => undefined);
    await glue.drain();
  }
  return { clock, store, glue, behaviour, drive, served };
}

describe('criteria', () => {
  it('default to the workflow figures, with a 1 % false-rollback bound over 8 steps', () => {
    expect(defaultRollbackCriteria).toEqual({
      maxErrorRate: 0.01,
      maxErrorRateOverBaseline: 0.005,
      maxP95Ratio: 2,
      maxMismatchRate: 0.001,
      minSamples: 100,
      windowMs: 300_000,
      falseRollbackRate: 0.01,
      rampSteps: 8,
      maxInconclusiveMs: 3 * 24 * hour,
      onInconclusive: 'hold',
    });
  });

  it('refuse bad values, naming the criterion', () => {
    const { glue } = setup(phases.preparation());
    expect(() => new RollbackGuard(glue, { maxErrorRate: 2 })).toThrow(/`criteria.maxErrorRate`.*got 2/);
    expect(() => new RollbackGuard(glue, { minSamples: 0 })).toThrow(/`criteria.minSamples`/);
    expect(() => new RollbackGuard(glue, { maxP95Ratio: Number.NaN })).toThrow(/`criteria.maxP95Ratio`/);
    expect(() => new RollbackGuard(glue, { windowMs: 1_000 })).toThrow(/must equal the glue's windowMs/);
    expect(() => new RollbackGuard(glue, { falseRollbackRate: 0 })).toThrow(/`criteria.falseRollbackRate`/);
    expect(() => new RollbackGuard(glue, { onInconclusive: 'panic' } as never)).toThrow(/`criteria.onInconclusive`/);
    expect(() => new RollbackGuard(glue, { maxErrorRte: 0.1 } as never)).toThrow(/maxErrorRte/);
    expect(() => new RollbackGuard(glue, { minSamples: -1 })).toThrow(expect.objectContaining({ code: 'ERR_INVALID_OPTION' }));
    expect(() => new RollbackGuard(glue, {}, { noise: { compared: 10, mismatched: 11 } })).toThrow(/`noise`/);
    expect(MigrationGlueError.is(captured(() => new RollbackGuard(glue, {}, { baseline: { calls: 1, errorRate: 2, p95: 1 } })), 'ERR_INVALID_OPTION')).toBe(true);
  });
});

function captured(fn: () => unknown): unknown {
  try {
    fn();
  } catch (err) {
    return err;
  }
  throw new Error('expected a throw');
}

describe('with too few samples', () => {
  it('is inconclusive however bad new looks, and never fails', async () => {
    const { glue, behaviour, drive, clock } = setup(phases.canary(100));
    behaviour.newFails = () => true;
    const guard = new RollbackGuard(glue, {}, { clock });
    await drive(99);
    const result = guard.check();
    expect(result).toMatchObject({ verdict: 'inconclusive', ok: true, enough: false, samples: { new: 99 } });
    await drive(1);
    expect(guard.check()).toMatchObject({ verdict: 'fail', ok: false, samples: { new: 100 } });
  });
});

describe('error rate', () => {
  it('fails a new whose errors are shown above 1 %, naming metric, estimate and interval', async () => {
    const { glue, behaviour, drive, clock } = setup(phases.canary(100));
    behaviour.newFails = (i) => i % 10 === 0; // 10 %
    const guard = new RollbackGuard(glue, {}, { clock });
    await drive(200);
    const result = guard.check();
    expect(result.verdict).toBe('fail');
    expect(result.reasons[0]).toMatch(/^new error rate 10 % \(always-valid interval [\d.]+ % to [\d.]+ %, limit 1 %\) over 200$/);
  });

  it('does not fail a new at 1.5 % errors on 200 calls: the evidence does not show it above 1 %', async () => {
    const { glue, behaviour, drive, clock } = setup(phases.canary(100));
    behaviour.newFails = (i) => i % 67 === 0; // 3 of 200
    const guard = new RollbackGuard(glue, {}, { clock });
    await drive(200);
    expect(guard.check().verdict).toBe('inconclusive');
  });

  it('judges new against old baseline measured in preparation, even when both exceed 1 %', async () => {
    const { glue, store, behaviour, drive, clock } = setup(phases.preparation());
    behaviour.oldFails = (i) => i % 50 === 0; // 2 %
    const guard = new RollbackGuard(glue, { maxErrorRate: 1 }, { clock });
    await drive(3_000);
    expect(guard.check().verdict).toBe('inconclusive'); // nothing to judge in preparation
    await store.save(phases.full());
    behaviour.newFails = (i) => i % 5 === 0; // 20 %, far above old's 2 % + 0.5 points
    await drive(300);
    const result = guard.check();
    expect(result.control).toMatchObject({ source: 'baseline', calls: 3_000, errorRate: 0.02 });
    expect(result.verdict).toBe('fail');
    expect(result.reasons.join(' ')).toMatch(/new error rate over old's \(baseline\)/);
  });

  it('passes a healthy canary once it has the evidence, and tells how many calls it still needs before', async () => {
    const { glue, behaviour, drive, clock } = setup(phases.canary(50));
    behaviour.newFails = (i) => i % 500 === 0; // 0.2 %
    behaviour.oldFails = (i) => i % 500 === 0;
    const guard = new RollbackGuard(glue, { minSamples: 50 }, { clock });
    await drive(400);
    const early = guard.check();
    expect(early.verdict).toBe('inconclusive');
    expect(early.needed).toBeGreaterThan(0);
    await drive(12_000);
    expect(guard.check()).toMatchObject({ verdict: 'pass', ok: true, enough: true, reasons: [] });
  });
});

describe('latency', () => {
  it('fails a new three times slower than old in the same step', async () => {
    const { glue, behaviour, drive, clock } = setup(phases.canary(50));
    behaviour.oldLatency = (i) => 10 + (i % 10);
    behaviour.newLatency = (i) => 3 * (10 + (i % 10));
    const guard = new RollbackGuard(glue, {}, { clock });
    await drive(600);
    const result = guard.check();
    expect(result.verdict).toBe('fail');
    expect(result.metrics.find((m) => m.metric === 'latency')?.verdict).toBe('fail');
    expect(result.reasons.join(' ')).toMatch(/share of new's calls slower than 2x old's p95/);
  });

  it('does not fail a new 1.5x slower (within 2x)', async () => {
    const { glue, behaviour, drive, clock } = setup(phases.canary(50));
    behaviour.oldLatency = (i) => 10 + (i % 10);
    behaviour.newLatency = (i) => 1.5 * (10 + (i % 10));
    const guard = new RollbackGuard(glue, {}, { clock });
    await drive(2_000);
    expect(guard.check().metrics.find((m) => m.metric === 'latency')?.verdict).toBe('pass');
  });
});

describe('shadow', () => {
  it('fails value mismatches shown above 0.1 %, and ignores transient errors on both sides', async () => {
    const { glue, behaviour, drive, clock } = setup(phases.shadow());
    behaviour.newFails = (i) => i % 333 === 7; // 0.3 % transient errors on each side
    behaviour.oldFails = (i) => i % 333 === 100;
    const guard = new RollbackGuard(glue, {}, { clock });
    await drive(6_000);
    expect(guard.check().verdict).not.toBe('fail');
    behaviour.newAnswer = (i) => (i % 50 === 0 ? 'different' : 'same');
    await drive(2_000);
    const result = guard.check();
    expect(result.verdict).toBe('fail');
    expect(result.reasons[0]).toMatch(/^shadow value mismatches/);
  });

  it('starts every step from zero: mismatches of shadow never judge the canary that follows', async () => {
    const { glue, store, behaviour, drive, clock } = setup(phases.shadow());
    behaviour.newAnswer = (i) => (i % 20 === 0 ? 'different' : 'same');
    const guard = new RollbackGuard(glue, {}, { clock });
    await drive(500);
    expect(guard.check().verdict).toBe('fail');
    behaviour.newAnswer = () => 'same'; // fixed
    await store.save(phases.canary(5));
    const result = guard.check();
    expect(result.verdict).toBe('inconclusive');
    expect(result.samples).toEqual({ new: 0, old: 0, compared: 0 });
  });

  it('restartStep() forgets a broken build fixed in the middle of shadow', async () => {
    const { glue, behaviour, drive, clock } = setup(phases.shadow());
    behaviour.newAnswer = (i) => (i % 20 === 0 ? 'different' : 'same');
    const guard = new RollbackGuard(glue, {}, { clock });
    await drive(500);
    expect(guard.check().verdict).toBe('fail');
    behaviour.newAnswer = () => 'same';
    guard.restartStep();
    await drive(25_000);
    expect(guard.check().verdict).toBe('pass');
  });

  it('in A/A mode judges nothing against new and measures the noise', async () => {
    const clock = new ManualClock({ start: 1_700_000_000_000 });
    let n = 0;
    const glue = new MigrationGlue<Input, number>({
      name: 'aa',
      clock,
      config: phases.shadow(),
      logger: recordingLogger(),
      oldService: async () => (n++ % 100 === 0 ? 2 : 1), // old disagrees with itself 1 % of the time
      newService: async () => 1,
      shadow: { aa: true },
    });
    const guard = new RollbackGuard(glue, {}, { clock });
    for (let i = 0; i < 2_000; i++) await glue.process({ userId: `u${i}` });
    await glue.drain();
    const result = guard.check();
    expect(result.verdict).not.toBe('fail');
    expect(result.reasons.join(' ')).toMatch(/A\/A mode/);
  });
});

describe('sample ratio', () => {
  it('passes when new serves the share of keys the percentage says', async () => {
    const { glue, drive, clock } = setup(phases.canary(50));
    const guard = new RollbackGuard(glue, {}, { clock });
    await drive(3_000);
    expect(guard.check().metrics.find((m) => m.metric === 'sampleRatio')?.verdict).toBe('pass');
  });

  it('holds the ramp (never rolls back) when new serves a share of keys far from the percentage', async () => {
    const clock = new ManualClock({ start: 1_700_000_000_000 });
    const store = new InMemoryConfigStore(phases.canary(10));
    // A broken hasher: two keys in three land in new's 10 % of buckets.
    let n = 0;
    const glue = new MigrationGlue<Input, string>({
      name: 'srm',
      clock,
      config: store,
      logger: recordingLogger(),
      hasher: { hash32: () => (n++ % 3 === 0 ? 0xffffffff : 0) },
      oldService: async () => 'same',
      newService: async () => 'same',
    });
    const guard = new RollbackGuard(glue, {}, { clock });
    guard.watch();
    for (let i = 0; i < 1_000; i++) await glue.process({ userId: `u${i}` });
    const result = guard.check();
    expect(result.metrics.find((m) => m.metric === 'sampleRatio')?.verdict).toBe('fail');
    expect(result).toMatchObject({ verdict: 'inconclusive', ok: false, enough: false });
    expect(result.reasons[0]).toMatch(/^sample ratio mismatch, a routing bug: share of keys on new 66.[0-9]+ %/);
    expect(store.current()).toEqual(phases.canary(10));
  });
});

describe('a step inconclusive for too long', () => {
  it('notifies once, then holds by default', async () => {
    const { glue, behaviour, drive, clock, store } = setup(phases.canary(100));
    behaviour.newFails = (i) => i % 80 === 0; // 1.25 %: close to the limit, hard to decide
    const notifications: Notification[] = [];
    const guard = new RollbackGuard(glue, { maxInconclusiveMs: hour }, { clock, logger: recordingLogger(), notifier: (n) => void notifications.push(n) });
    guard.watch();
    await drive(150);
    expect(guard.check().stalled).toBe(false);
    clock.advance(2 * hour);
    await drive(150);
    expect(guard.check()).toMatchObject({ verdict: 'inconclusive', stalled: true });
    expect(notifications).toHaveLength(1);
    expect(notifications[0]).toMatchObject({ kind: 'blocked', migration: 'pricing' });
    expect(notifications[0]?.message).toMatch(/inconclusive for more than 1 h/);
    expect(store.current()).toEqual(phases.canary(100));
  });

  it('rolls back when so configured', async () => {
    const { glue, behaviour, drive, clock, store } = setup(phases.canary(100));
    behaviour.newFails = (i) => i % 80 === 0;
    const guard = new RollbackGuard(glue, { maxInconclusiveMs: hour, onInconclusive: 'rollback' }, { clock, logger: recordingLogger() });
    guard.watch();
    await drive(150);
    clock.advance(2 * hour);
    await drive(10);
    expect(store.current()).toEqual(phases.rolledBack());
  });
});

describe('watch', () => {
  it('rolls back on the call that settled the verdict: the next call is served by old', async () => {
    const { glue, store, behaviour, drive, served, clock } = setup(phases.canary(100));
    behaviour.newFails = (i) => i >= 150 && i % 4 === 0; // healthy, then 25 % errors
    const guard = new RollbackGuard(glue, {}, { clock });
    const stop = guard.watch();
    const reasons: string[] = [];
    glue.on('rollback', (event) => reasons.push(event.reason));
    await drive(600);
    const newServed = served.filter((arm) => arm === 'new').length;
    expect(newServed).toBeGreaterThan(150);
    expect(newServed).toBeLessThan(600);
    expect(served[newServed]).toBe('old');
    expect(served.slice(newServed).every((arm) => arm === 'old')).toBe(true);
    expect(store.current()).toEqual(phases.rolledBack());
    expect(reasons).toHaveLength(1);
    expect(reasons[0]).toMatch(/^rollback guard: new error rate [\d.]+ % \(always-valid interval/);
    stop();
  });

  it('does nothing once stopped or while traffic is too low', async () => {
    const { glue, store, behaviour, drive, clock } = setup(phases.canary(100));
    behaviour.newFails = () => true;
    const guard = new RollbackGuard(glue, {}, { clock });
    const stop = guard.watch();
    await drive(50);
    expect(store.current()).toEqual(phases.canary(100));
    stop();
    await drive(100);
    expect(store.current()).toEqual(phases.canary(100));
  });
});

describe('the sample-ratio check under huge routing keys', () => {
  it('does not keep the text of the keys it counts', async () => {
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as () => void;
    const { glue, clock } = setup(phases.canary(50));
    const guard = new RollbackGuard(glue, {}, { clock });
    gc();
    const before = process.memoryUsage().heapUsed;
    const drive = async () => {
      for (let i = 0; i < 40; i++) await glue.process({ userId: String(i).padStart(1_000_000, 'k') });
    };
    await drive();
    gc();
    const grown = process.memoryUsage().heapUsed - before;
    // 40 distinct keys of 1 MB each: kept whole, they would pin some 40 MB.
    expect(grown).toBeLessThan(10_000_000);
    const ratio = guard.check().metrics.find((m) => m.metric === 'sampleRatio');
    expect(ratio?.samples).toBe(40);
  });
});
