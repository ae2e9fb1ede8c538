import { afterEach, describe, expect, it, vi } from 'vitest';
import { InMemoryConfigStore, InvalidOptionError, MigrationGlue, RollbackGuard, phases } from '../../src/index.js';
import type { AnyGlue, MigrationConfig, MigrationStats, Notification } from '../../src/index.js';
import { ManualClock } from '../../src/testing/index.js';
import { mixtureRadius, rateBound } from '../../src/rollout/sequential.js';
import { recordingLogger } from '../helpers.js';

// Pins what the rollback guard itself decides (src/rollout/rollback-guard.ts):
// the glue checks of its constructor, the `baseline` and `noise` options, how
// the false-rollback bound is shared out, configChange handling, the noise kept
// from an A/A step and what `watch()` listens to. Each test fails when one of
// those rules is changed.

afterEach(() => {
  vi.useRealTimers();
});

const start = 1_700_000_000_000;
const hour = 3_600_000;

interface FakeState {
  config: unknown;
  old: { calls: number; errors: number };
  new: { calls: number; errors: number };
  shadow: { compared: number; value: number; errors: number; aa: boolean } | undefined;
  statsThrow: boolean;
}

/** A glue whose running totals the test sets by hand; `emit` calls its listeners. */
function fakeGlue(rollback: (reason: string) => Promise<boolean> = async () => true) {
  const listeners = new Map<string, Set<(event: unknown) => void>>();
  const state: FakeState = {
    config: phases.canary(50),
    old: { calls: 0, errors: 0 },
    new: { calls: 0, errors: 0 },
    shadow: { compared: 0, value: 0, errors: 0, aa: false },
    statsThrow: false,
  };
  const rollbacks: string[] = [];
  const stats = (): MigrationStats => {
    if (state.statsThrow) throw new Error('stats broken');
    const arm = (a: { calls: number; errors: number }) => ({ calls: a.calls, errors: a.errors, window: { calls: a.calls, errorRate: 0, p95: 10 } });
    const s = state.shadow;
    return {
      windowMs: 300_000,
      config: state.config,
      old: arm(state.old),
      new: arm(state.new),
      ...(s === undefined
        ? {}
        : { shadow: { compared: s.compared, errors: s.errors, aa: s.aa, mismatchesByKind: { value: s.value }, window: { compared: 0, mismatchRate: 0 } } }),
    } as unknown as MigrationStats;
  };
  const glue: AnyGlue = {
    name: 'fake',
    stats,
    rollback: (reason) => {
      rollbacks.push(reason);
      return rollback(reason);
    },
    on: ((event: string, listener: (event: unknown) => void) => {
      const set = listeners.get(event) ?? new Set();
      listeners.set(event, set);
      set.add(listener);
      return () => set.delete(listener);
    }) as AnyGlue['on'],
  };
  const emit = (event: string, payload: unknown): void => {
    for (const listener of [...(listeners.get(event) ?? [])]) listener(payload);
  };
  const count = (event: string): number => listeners.get(event)?.size ?? 0;
  return { glue, state, emit, rollbacks, count };
}

/** A real glue on a manual clock, whose new fails when `newFails` says so. */
function realGlue(config: MigrationConfig) {
  const clock = new ManualClock({ start });
  const store = new InMemoryConfigStore(config);
  const behaviour = { newFails: (_i: number) => false };
  let newCalls = 0;
  const glue = new MigrationGlue<{ userId: string }, string>({
    name: 'pricing',
    clock,
    config: store,
    logger: recordingLogger(),
    oldService: async () => {
      clock.advance(10);
      return 'same';
    },
    newService: async () => {
      const i = newCalls++;
      clock.advance(10);
      if (behaviour.newFails(i)) throw new Error('new failed');
      return 'same';
    },
  });
  let next = 0;
  async function drive(calls: number) {
    for (let i = 0; i < calls; i++) await glue.process({ userId: `user-${next++}` }).catch(() => undefined);
    await glue.drain();
  }
  return { clock, store, glue, behaviour, drive };
}

function thrown(fn: () => unknown): unknown {
  try {
    fn();
  } catch (err) {
    return err;
  }
  return undefined;
}

describe('the constructor checks the glue', () => {
  it('refuses what is not an object with stats() and on(), naming what it must be', () => {
    const on = () => () => undefined;
    const stats = () => ({ windowMs: 300_000, config: phases.canary(5) });
    // a function carrying both methods is still not a glue object
    const fn = Object.assign(() => undefined, { stats, on, rollback: async () => true });
    for (const bad of [null, undefined, 'glue', fn, {}, { stats }, { on }, { stats: 1, on }, { stats, on: 1 }]) {
      const err = thrown(() => new RollbackGuard(bad as never));
      expect(err).toBeInstanceOf(InvalidOptionError);
      expect(String((err as Error).message)).toMatch(/`glue`.*must be a MigrationGlue \(or FleetStats\): something with stats\(\), on\(\) and rollback\(\)/);
    }
  });

  it('refuses a glue whose stats() throws, with its error', () => {
    const { glue } = fakeGlue();
    glue.stats = () => {
      throw new Error('boom');
    };
    const err = thrown(() => new RollbackGuard(glue));
    expect(err).toBeInstanceOf(InvalidOptionError);
    expect(String((err as Error).message)).toMatch(/`glue`.*must answer stats\(\), which threw: boom/);
  });

  it('accepts a windowMs equal to the glue one, refuses another naming criteria.windowMs', () => {
    const { glue } = fakeGlue();
    expect(() => new RollbackGuard(glue, { windowMs: 300_000 })).not.toThrow();
    const err = thrown(() => new RollbackGuard(glue, { windowMs: 60_000 }));
    expect(err).toBeInstanceOf(InvalidOptionError);
    expect(String((err as Error).message)).toMatch(/`criteria\.windowMs`.*\(300000\).*got 60000/);
  });

  it('accepts a glue whose stats() answers nothing yet', () => {
    const { glue, emit } = fakeGlue();
    glue.stats = () => undefined as unknown as MigrationStats;
    const guard = new RollbackGuard(glue);
    expect(() => guard.check()).not.toThrow();
    expect(() => emit('configChange', { migration: 'fake', before: phases.canary(50), after: phases.canary(10), at: 5 })).not.toThrow();
    expect(guard.check().since).toBe(5);
  });
});

describe('the false-rollback bound', () => {
  it('gives each test of a step falseRollbackRate / (rampSteps x 3)', () => {
    const { glue, state } = fakeGlue();
    state.config = phases.canary(100);
    const guard = new RollbackGuard(glue, { falseRollbackRate: 0.2, rampSteps: 2, minSamples: 50 }, { clock: new ManualClock({ start }) });
    state.new = { calls: 400, errors: 20 };
    const metric = guard.check().metrics.find((m) => m.metric === 'errorRate');
    const expected = rateBound({ trials: 400, events: 20 }, 0.2 / 6, 500);
    expect(metric?.bound.lower).toBeCloseTo(expected.lower, 12);
    expect(metric?.bound.upper).toBeCloseTo(expected.upper, 12);
  });

  it('gives the sample-ratio check falseRollbackRate / rampSteps', async () => {
    const { glue, drive, clock } = realGlue(phases.canary(50));
    const guard = new RollbackGuard(glue, { falseRollbackRate: 0.2, rampSteps: 2, minSamples: 50 }, { clock });
    await drive(400);
    const metric = guard.check().metrics.find((m) => m.metric === 'sampleRatio');
    expect(metric).toBeDefined();
    const trials = metric?.samples ?? 0;
    expect(trials).toBeGreaterThan(300);
    const radius = 0.5 * mixtureRadius(trials, 0.2 / 2, 5_000);
    expect((metric?.bound.upper ?? 0) - (metric?.bound.estimate ?? 0)).toBeCloseTo(radius, 12);
  });
});

describe('the baseline option', () => {
  it('is the control of a canary step, as given, and what `baseline` answers', () => {
    const { glue, state } = fakeGlue();
    state.config = phases.full();
    const given = { calls: 1_000, errorRate: 0.02, p95: 15 };
    const guard = new RollbackGuard(glue, {}, { baseline: given, clock: new ManualClock({ start }) });
    expect(guard.check().control).toEqual({ source: 'baseline', ...given });
    expect(guard.baseline).toEqual({ source: 'baseline', ...given });
  });

  it('with no calls gives an error rate of 0', () => {
    const { glue, state } = fakeGlue();
    state.config = phases.full();
    const guard = new RollbackGuard(glue, {}, { baseline: { calls: 0, errorRate: 0.5, p95: 3 } });
    expect(guard.check().control).toEqual({ source: 'baseline', calls: 0, errorRate: 0, p95: 3 });
  });

  it('is still answered while stats() throws', () => {
    const { glue, state } = fakeGlue();
    const given = { calls: 10, errorRate: 0, p95: 4 };
    const guard = new RollbackGuard(glue, {}, { baseline: given, logger: recordingLogger() });
    state.statsThrow = true;
    expect(guard.baseline).toEqual({ source: 'baseline', ...given });
  });

  it('is undefined when nothing was measured or given, and never the live control', async () => {
    const { glue, state } = fakeGlue();
    state.config = phases.full();
    expect(new RollbackGuard(glue).baseline).toBeUndefined();
    const live = realGlue(phases.canary(50));
    const guard = new RollbackGuard(live.glue, { minSamples: 20 }, { clock: live.clock });
    await live.drive(200);
    expect(guard.check().control?.source).toBe('live');
    expect(guard.baseline).toBeUndefined();
  });

  it('is measured from old while new serves nothing, over a given one', async () => {
    const { glue, store, drive, clock } = realGlue(phases.preparation());
    const guard = new RollbackGuard(glue, {}, { clock, baseline: { calls: 5, errorRate: 0, p95: 99 } });
    await drive(300);
    await store.save(phases.full());
    expect(guard.baseline).toMatchObject({ source: 'baseline', calls: 300, errorRate: 0 });
    expect(guard.baseline?.p95).toBe(10);
  });
});

describe('the noise option', () => {
  function shadowOf(noise?: { compared: number; mismatched: number }) {
    const { glue, state } = fakeGlue();
    state.config = phases.shadow();
    const guard = new RollbackGuard(glue, { minSamples: 100 }, { clock: new ManualClock({ start }), ...(noise === undefined ? {} : { noise }) });
    state.shadow = { compared: 20_000, value: 200, errors: 0, aa: false }; // 1 % value mismatches
    state.old = { calls: 20_000, errors: 0 };
    return guard.check();
  }

  it('without it, 1 % value mismatches fail shadow', () => {
    expect(shadowOf().verdict).toBe('fail');
  });

  it('raises the mismatch limit by the noise measured before', () => {
    const result = shadowOf({ compared: 20_000, mismatched: 200 });
    expect(result.verdict).not.toBe('fail');
    const limit = 0.001 + rateBound({ trials: 20_000, events: 200 }, 0.01 / 24, 1_000).upper;
    expect(result.metrics.find((m) => m.metric === 'valueMismatches')?.limit).toBeCloseTo(limit, 12);
    expect(result.metrics.find((m) => m.metric === 'valueMismatches')?.verdict).not.toBe('fail');
  });
});

describe('the noise kept from an A/A step', () => {
  function twoSteps(first: { compared: number; value: number; aa: boolean }, noise?: { compared: number; mismatched: number }) {
    const { glue, state, emit } = fakeGlue();
    state.config = phases.shadow();
    const guard = new RollbackGuard(glue, { minSamples: 100 }, { clock: new ManualClock({ start }), ...(noise === undefined ? {} : { noise }) });
    state.shadow = { ...first, errors: 0 };
    state.old = { calls: first.compared, errors: 0 };
    // the next step: shadowing half of the keys, comparing for real
    const next = { ...phases.shadow(), newSystemPercentage: 50 };
    emit('configChange', { migration: 'fake', before: phases.shadow(), after: next, at: start + 1 });
    state.config = next;
    state.shadow = { compared: first.compared + 20_000, value: first.value + 200, errors: 0, aa: false };
    state.old = { calls: first.compared + 20_000, errors: 0 };
    return guard.check();
  }

  it('becomes the noise floor of the steps after it', () => {
    const result = twoSteps({ compared: 20_000, value: 200, aa: true });
    expect(result.verdict).not.toBe('fail');
    const limit = 0.001 + rateBound({ trials: 20_000, events: 200 }, 0.01 / 24, 1_000).upper;
    expect(result.metrics.find((m) => m.metric === 'valueMismatches')?.limit).toBeCloseTo(limit, 12);
  });

  it('is not kept from an A/A glue in a step that is not shadow', () => {
    const { glue, state, emit } = fakeGlue();
    state.config = phases.canary(50);
    const guard = new RollbackGuard(glue, { minSamples: 100 }, { clock: new ManualClock({ start }) });
    state.shadow = { compared: 20_000, value: 200, errors: 0, aa: true };
    emit('configChange', { migration: 'fake', before: phases.canary(50), after: phases.shadow(), at: start + 1 });
    state.config = phases.shadow();
    state.shadow = { compared: 40_000, value: 400, errors: 0, aa: false };
    state.old = { calls: 20_000, errors: 0 };
    const result = guard.check();
    expect(result.verdict).toBe('fail');
    expect(result.metrics.find((m) => m.metric === 'valueMismatches')?.limit).toBe(0.001);
  });

  it('adds to the noise given', () => {
    // given: 0 of 20 000; measured: 400 of 20 000, so 1 % over both
    const result = twoSteps({ compared: 20_000, value: 400, aa: true }, { compared: 20_000, mismatched: 0 });
    expect(result.verdict).not.toBe('fail');
    const limit = 0.001 + rateBound({ trials: 40_000, events: 400 }, 0.01 / 24, 1_000).upper;
    expect(result.metrics.find((m) => m.metric === 'valueMismatches')?.limit).toBeCloseTo(limit, 12);
  });

  it('is not kept from a step that compared nothing, nor from a step that was not A/A', () => {
    expect(twoSteps({ compared: 0, value: 0, aa: true }).verdict).toBe('fail');
    expect(twoSteps({ compared: 20_000, value: 200, aa: false }).verdict).toBe('fail');
  });

  it('in the A/A step itself, mismatches never fail and the comparisons are counted', () => {
    const { glue, state } = fakeGlue();
    state.config = phases.shadow();
    const guard = new RollbackGuard(glue, { minSamples: 100 }, { clock: new ManualClock({ start }) });
    state.shadow = { compared: 20_000, value: 2_000, errors: 0, aa: true };
    state.old = { calls: 20_000, errors: 0 };
    const result = guard.check();
    expect(result.verdict).not.toBe('fail');
    expect(result.samples.compared).toBe(20_000);
    expect(result.reasons.join(' ')).toMatch(/A\/A mode/);
  });

  it('an A/A glue outside shadow is judged as usual', () => {
    const { glue, state } = fakeGlue();
    state.config = phases.canary(100);
    const guard = new RollbackGuard(glue, { minSamples: 100 }, { clock: new ManualClock({ start }) });
    state.shadow = { compared: 0, value: 0, errors: 0, aa: true };
    state.new = { calls: 400, errors: 200 };
    const result = guard.check();
    expect(result.verdict).toBe('fail');
    expect(result.reasons.join(' ')).not.toMatch(/A\/A/);
  });

  it('outside A/A mode, no A/A reason is given', () => {
    const { glue, state } = fakeGlue();
    state.config = phases.shadow();
    const guard = new RollbackGuard(glue, { minSamples: 100 }, { clock: new ManualClock({ start }) });
    state.shadow = { compared: 500, value: 0, errors: 0, aa: false };
    state.old = { calls: 500, errors: 0 };
    expect(guard.check().reasons.join(' ')).not.toMatch(/A\/A/);
  });
});

describe('configChange', () => {
  it('starts the step at event.at when it is a finite number, else at the clock', () => {
    const clock = new ManualClock({ start });
    const { glue, state, emit } = fakeGlue();
    const guard = new RollbackGuard(glue, {}, { clock });
    clock.advance(1_000);
    state.config = phases.canary(10);
    emit('configChange', { migration: 'fake', before: phases.canary(50), after: phases.canary(10), at: start + 500 });
    expect(guard.check().since).toBe(start + 500);
    clock.advance(1_000);
    state.config = phases.canary(20);
    emit('configChange', { migration: 'fake', before: phases.canary(10), after: phases.canary(20), at: Number.NaN });
    expect(guard.check().since).toBe(start + 2_000);
    clock.advance(1_000);
    state.config = phases.canary(30);
    emit('configChange', { migration: 'fake', before: phases.canary(20), after: phases.canary(30), at: String(start) });
    expect(guard.check().since).toBe(start + 3_000);
    clock.advance(1_000);
    state.config = phases.canary(40);
    emit('configChange', { migration: 'fake', before: phases.canary(30), after: phases.canary(40) });
    expect(guard.check().since).toBe(start + 4_000);
  });

  it('ignores an event without a config object after it', () => {
    const clock = new ManualClock({ start });
    const { glue, emit } = fakeGlue();
    const guard = new RollbackGuard(glue, {}, { clock });
    clock.advance(1_000);
    for (const event of [undefined, null, {}, { after: null, at: 5 }, { after: 'canary', at: 5 }, { after: 7, at: 5 }]) {
      expect(() => emit('configChange', event)).not.toThrow();
    }
    expect(guard.check().since).toBe(start);
  });

  it('is ignored when stats() throws then, and a stats() without shadow figures is fine', () => {
    const clock = new ManualClock({ start });
    const { glue, state, emit } = fakeGlue();
    const guard = new RollbackGuard(glue, {}, { clock, logger: recordingLogger() });
    state.statsThrow = true;
    clock.advance(20);
    expect(() => emit('configChange', { migration: 'fake', before: phases.canary(50), after: phases.canary(10), at: start + 7 })).not.toThrow();
    state.statsThrow = false;
    state.config = phases.canary(10);
    // the event was ignored: the step began when check() first saw the config
    expect(guard.check().since).toBe(start + 20);
    state.shadow = undefined;
    clock.advance(50);
    expect(() => emit('configChange', { migration: 'fake', before: phases.canary(50), after: phases.canary(20), at: start + 9 })).not.toThrow();
    state.config = phases.canary(20);
    expect(guard.check().since).toBe(start + 9);
  });

  it('a rollback config does not re-arm a guard whose rollback is in flight', () => {
    const { glue, state, emit, rollbacks } = fakeGlue(() => new Promise<boolean>(() => {}));
    const guard = new RollbackGuard(glue, { minSamples: 100 }, { logger: recordingLogger() });
    guard.watch();
    state.new = { calls: 400, errors: 200 };
    state.old = { calls: 400, errors: 0 };
    emit('settled', { arm: 'new' });
    expect(rollbacks).toHaveLength(1);
    // the glue tells of its rollback, but its stats still show the canary
    emit('configChange', { migration: 'fake', before: phases.canary(50), after: phases.rolledBack() });
    for (let i = 1; i <= 3; i++) {
      state.new = { calls: 400 + i * 400, errors: 200 + i * 200 };
      state.old = { calls: 400 + i * 400, errors: 0 };
      emit('settled', { arm: 'new' });
    }
    expect(rollbacks).toHaveLength(1);
  });

  it('a forward config re-arms the guard', () => {
    const { glue, state, emit, rollbacks } = fakeGlue(() => new Promise<boolean>(() => {}));
    const guard = new RollbackGuard(glue, { minSamples: 100 }, { logger: recordingLogger() });
    guard.watch();
    state.new = { calls: 400, errors: 200 };
    state.old = { calls: 400, errors: 0 };
    emit('settled', { arm: 'new' });
    expect(rollbacks).toHaveLength(1);
    state.config = phases.canary(60);
    emit('configChange', { migration: 'fake', before: phases.canary(50), after: phases.canary(60) });
    state.new = { calls: 800, errors: 400 };
    state.old = { calls: 800, errors: 0 };
    emit('settled', { arm: 'new' });
    expect(rollbacks).toHaveLength(2);
  });
});

describe('a config the guard missed', () => {
  it('starts the step at the clock when check() first sees it', () => {
    const clock = new ManualClock({ start });
    const { glue, state } = fakeGlue();
    const guard = new RollbackGuard(glue, {}, { clock });
    clock.advance(2_000);
    state.config = phases.canary(10);
    expect(guard.check().since).toBe(start + 2_000);
  });

  it('is not taken from a stats() without a config object', () => {
    const clock = new ManualClock({ start });
    const { glue, state } = fakeGlue();
    const guard = new RollbackGuard(glue, {}, { clock });
    clock.advance(2_000);
    for (const config of [undefined, 'canary']) {
      state.config = config;
      expect(() => guard.check()).not.toThrow();
      expect(guard.check().since).toBe(start);
    }
  });
});

describe('restartStep', () => {
  it('starts the step afresh at the clock', () => {
    const clock = new ManualClock({ start });
    const { glue } = fakeGlue();
    const guard = new RollbackGuard(glue, {}, { clock });
    clock.advance(3_000);
    guard.restartStep();
    expect(guard.check().since).toBe(start + 3_000);
  });
});

describe('close', () => {
  it('stops following the glue', () => {
    const { glue, count } = fakeGlue();
    const guard = new RollbackGuard(glue);
    expect(count('configChange')).toBe(1);
    guard.close();
    expect(count('configChange')).toBe(0);
    expect(count('settled')).toBe(0);
  });
});

describe('stalled', () => {
  it('only once inconclusive for more than maxInconclusiveMs', () => {
    const clock = new ManualClock({ start });
    const { glue, state } = fakeGlue();
    state.config = phases.canary(100);
    const guard = new RollbackGuard(glue, { maxInconclusiveMs: hour, minSamples: 100 }, { clock });
    clock.advance(hour);
    expect(guard.check()).toMatchObject({ verdict: 'inconclusive', stalled: false });
    clock.advance(1);
    expect(guard.check()).toMatchObject({ verdict: 'inconclusive', stalled: true });
    state.new = { calls: 400, errors: 200 };
    expect(guard.check()).toMatchObject({ verdict: 'fail', stalled: false });
  });
});

describe('needed', () => {
  it('is that of the first metric still undecided, not of one that passed', () => {
    const { glue, state } = fakeGlue();
    state.config = phases.full();
    const guard = new RollbackGuard(glue, { minSamples: 100 }, { clock: new ManualClock({ start }), baseline: { calls: 200, errorRate: 0, p95: 10 } });
    state.new = { calls: 20_000, errors: 0 };
    const result = guard.check();
    const [first] = result.metrics;
    expect(first?.verdict).toBe('pass');
    const holding = result.metrics.find((m) => m.verdict === 'inconclusive');
    expect(holding?.needed).toBeGreaterThan(0);
    expect(result.needed).toBe(holding?.needed);
  });
});

describe('watch', () => {
  it('judges after calls new served and after mismatches, not after calls old served', () => {
    const { glue, state, emit, rollbacks } = fakeGlue();
    const guard = new RollbackGuard(glue, { minSamples: 100 }, { logger: recordingLogger() });
    guard.watch();
    state.new = { calls: 400, errors: 200 };
    state.old = { calls: 400, errors: 0 };
    emit('settled', { arm: 'old' });
    expect(() => emit('settled', undefined)).not.toThrow();
    expect(rollbacks).toHaveLength(0);
    emit('mismatch', { migration: 'fake' });
    expect(rollbacks).toHaveLength(1);
  });

  it('names every failing metric in the rollback reason', () => {
    const { glue, state, emit, rollbacks } = fakeGlue();
    const guard = new RollbackGuard(glue, { minSamples: 100 }, { logger: recordingLogger() });
    guard.watch();
    state.new = { calls: 1_000, errors: 500 };
    state.old = { calls: 1_000, errors: 0 };
    const reasons = guard.check().reasons;
    expect(reasons.length).toBeGreaterThan(1);
    emit('settled', { arm: 'new' });
    expect(rollbacks).toEqual([`rollback guard: ${reasons.join('; ')}`]);
  });

  it('neither tells nor rolls back a stall of a glue rolled back', () => {
    const clock = new ManualClock({ start });
    const { glue, state, emit, rollbacks } = fakeGlue();
    state.config = phases.rolledBack();
    const notifications: Notification[] = [];
    const guard = new RollbackGuard(
      glue,
      { maxInconclusiveMs: hour, onInconclusive: 'rollback' },
      { clock, logger: recordingLogger(), notifier: (n) => void notifications.push(n) },
    );
    guard.watch();
    clock.advance(2 * hour);
    expect(guard.check()).toMatchObject({ verdict: 'inconclusive', stalled: true });
    emit('settled', { arm: 'new' });
    expect(notifications).toHaveLength(0);
    expect(rollbacks).toHaveLength(0);
  });

  it('does not roll back again a glue already rolled back', () => {
    const { glue, state, emit, rollbacks } = fakeGlue();
    state.config = phases.rolledBack();
    const guard = new RollbackGuard(glue, { minSamples: 100 }, { logger: recordingLogger(), baseline: { calls: 10_000, errorRate: 0, p95: 10 } });
    guard.watch();
    state.new = { calls: 1_000, errors: 900 };
    state.old = { calls: 1_000, errors: 900 };
    emit('settled', { arm: 'new' });
    expect(rollbacks).toHaveLength(0);
  });

  it('logs a stats() failure once per run of failures, with the error and the migration', () => {
    const { glue, state, emit } = fakeGlue();
    const logger = recordingLogger();
    new RollbackGuard(glue, {}, { logger }).watch();
    const failures = () => logger.lines.filter((l) => l.message === 'rollback guard could not read the glue stats');
    state.statsThrow = true;
    emit('settled', { arm: 'new' });
    emit('settled', { arm: 'new' });
    expect(failures()).toHaveLength(1);
    expect(failures()[0]?.context).toMatchObject({ migration: 'fake', err: expect.objectContaining({ message: 'stats broken' }) });
    state.statsThrow = false;
    emit('settled', { arm: 'new' });
    state.statsThrow = true;
    emit('settled', { arm: 'new' });
    expect(failures()).toHaveLength(2);
  });
});

describe('a step inconclusive too long while watched', () => {
  it('tells the notifier and the log what holds it, and rolls back with that message when so configured', () => {
    const clock = new ManualClock({ start });
    const { glue, state, emit, rollbacks } = fakeGlue();
    state.config = phases.canary(100);
    const notifications: Notification[] = [];
    const logger = recordingLogger();
    const guard = new RollbackGuard(
      glue,
      { maxInconclusiveMs: hour, minSamples: 100, onInconclusive: 'rollback' },
      { clock, logger, notifier: (n) => void notifications.push(n) },
    );
    guard.watch();
    clock.advance(2 * hour);
    state.new = { calls: 10, errors: 0 };
    const result = guard.check();
    expect(result.stalled).toBe(true);
    expect(result.reasons.length).toBeGreaterThan(0);
    emit('settled', { arm: 'new' });
    expect(notifications).toHaveLength(1);
    const message = `fake: step inconclusive for more than 1 h (${result.reasons[0]})`;
    expect(notifications[0]).toMatchObject({ kind: 'blocked', migration: 'fake', message, at: start + 2 * hour });
    // The calls still needed, as check() estimates them (docs/rollout.md promises them to the notifier).
    expect(result.needed).toBeGreaterThan(0);
    expect(notifications[0]?.details).toMatchObject({ reasons: result.reasons, needed: result.needed, onInconclusive: 'rollback' });
    const warn = logger.lines.find((l) => l.message === 'rollback guard: step inconclusive for too long');
    expect(warn?.context).toMatchObject({ migration: 'fake', reasons: result.reasons, needed: result.needed });
    expect(rollbacks).toEqual([`rollback guard: ${message}`]);
  });
});

describe('the wait for a rollback', () => {
  it('logs a failed rollback with its error, and nothing when it succeeds', async () => {
    const outcomes: Array<() => Promise<boolean>> = [async () => true, async () => Promise.reject(new Error('store down'))];
    const { glue, state, emit } = fakeGlue(() => (outcomes.shift() ?? (async () => true))());
    const logger = recordingLogger();
    const guard = new RollbackGuard(glue, { minSamples: 100 }, { logger });
    guard.watch();
    state.new = { calls: 400, errors: 200 };
    state.old = { calls: 400, errors: 0 };
    emit('settled', { arm: 'new' });
    await new Promise((resolve) => setImmediate(resolve));
    expect(logger.lines.filter((l) => l.level === 'error')).toEqual([]);
    // the trip was cleared: the next failing verdict rolls back again
    emit('settled', { arm: 'new' });
    await new Promise((resolve) => setImmediate(resolve));
    const error = logger.lines.find((l) => l.message === 'rollback guard could not save the rollback');
    expect(error?.context).toMatchObject({ migration: 'fake', err: expect.objectContaining({ message: 'store down' }) });
  });

  it('logs a rollback that does not settle in time with the timeout and the reason', async () => {
    vi.useFakeTimers();
    const { glue, state, emit, rollbacks } = fakeGlue(() => new Promise<boolean>(() => {}));
    const logger = recordingLogger();
    const guard = new RollbackGuard(glue, { minSamples: 100 }, { logger, rollbackTimeoutMs: 1 });
    guard.watch();
    state.new = { calls: 400, errors: 200 };
    state.old = { calls: 400, errors: 0 };
    emit('settled', { arm: 'new' });
    await vi.advanceTimersByTimeAsync(1);
    const line = () => logger.lines.find((l) => l.message === 'rollback did not settle in time; the guard may trip again');
    expect(line()?.context).toMatchObject({ migration: 'fake', timeoutMs: 1, reason: rollbacks[0] });
  });

  it('a stale rollback settling late does not re-arm the guard tripped again since', async () => {
    const pending: Array<(ok: boolean) => void> = [];
    const { glue, state, emit, rollbacks } = fakeGlue(() => new Promise<boolean>((resolve) => pending.push(resolve)));
    const guard = new RollbackGuard(glue, { minSamples: 100 }, { logger: recordingLogger() });
    guard.watch();
    state.new = { calls: 400, errors: 200 };
    state.old = { calls: 400, errors: 0 };
    emit('settled', { arm: 'new' });
    state.config = phases.canary(60);
    emit('configChange', { migration: 'fake', before: phases.canary(50), after: phases.canary(60) });
    state.new = { calls: 800, errors: 400 };
    state.old = { calls: 800, errors: 0 };
    emit('settled', { arm: 'new' });
    expect(rollbacks).toHaveLength(2);
    pending[0]?.(true);
    await new Promise((resolve) => setImmediate(resolve));
    emit('settled', { arm: 'new' });
    expect(rollbacks).toHaveLength(2);
  });
});
