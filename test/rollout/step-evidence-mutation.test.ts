import { describe, expect, it } from 'vitest';
import type { MigrationConfig } from '../../src/config/migration-config.js';
import type { MigrationStats } from '../../src/core/stats.js';
import { phases } from '../../src/index.js';
import { StepRecorder } from '../../src/rollout/step-evidence.js';
import type { EvidenceSource } from '../../src/rollout/step-evidence.js';

// src/rollout/step-evidence.ts: the evidence of the step in force, as
// differences of the glue's running totals since the step began, latencies
// and routed keys from its events; old's figures of steps in which new
// served nothing become the baseline.

interface Totals {
  oldCalls: number;
  oldErrors: number;
  newCalls: number;
  newErrors: number;
  compared: number;
  value: number;
  shadowErrors: number;
}

const zero: Totals = { oldCalls: 0, oldErrors: 0, newCalls: 0, newErrors: 0, compared: 0, value: 0, shadowErrors: 0 };

function statsOf(config: MigrationConfig, t: Totals): MigrationStats {
  return {
    config,
    old: { calls: t.oldCalls, errors: t.oldErrors },
    new: { calls: t.newCalls, errors: t.newErrors },
    shadow: { compared: t.compared, mismatchesByKind: { value: t.value }, errors: t.shadowErrors },
  } as unknown as MigrationStats;
}

/** A glue-like source whose totals and config the test moves, with settled and (optionally) route events. */
function sourceOf(config: MigrationConfig, options: { routes?: boolean; start?: Partial<Totals> } = {}) {
  const listeners = new Map<string, ((event: unknown) => void)[]>();
  let removed = 0;
  const state = { config, totals: { ...zero, ...options.start } };
  const on = (event: string, listener: (event: unknown) => void) => {
    if (event === 'route' && options.routes === false) throw new Error('no route events');
    listeners.set(event, [...(listeners.get(event) ?? []), listener]);
    return () => {
      removed += 1;
    };
  };
  const source = { stats: () => statsOf(state.config, state.totals), on } as unknown as EvidenceSource;
  const emit = (event: string, payload: unknown) => {
    for (const listener of listeners.get(event) ?? []) listener(payload);
  };
  return {
    source,
    state,
    stats: () => statsOf(state.config, state.totals),
    add: (more: Partial<Totals>) => {
      for (const [k, v] of Object.entries(more)) state.totals[k as keyof Totals] += v;
    },
    settled: (arm: unknown, durationMs: number, key: unknown = 'k') => emit('settled', { migration: 'm', key, arm, ok: true, durationMs }),
    route: (arm: unknown, key: unknown, reason = 'bucket') => emit('route', { migration: 'm', key, arm, reason }),
    emitRaw: emit,
    listening: (event: string) => (listeners.get(event) ?? []).length,
    removed: () => removed,
  };
}

describe('StepRecorder: the step in force', () => {
  it('starts from the source\'s config and the time given', () => {
    const s = sourceOf(phases.canary(10));
    const recorder = new StepRecorder(s.source, 123);
    expect(recorder.since).toBe(123);
    expect(recorder.config).toEqual(phases.canary(10));
  });

  it('a source whose stats hold no config starts from preparation', () => {
    for (const config of [undefined, null, 'full']) {
      const source = { stats: () => ({ config }), on: () => () => {} } as unknown as EvidenceSource;
      expect(new StepRecorder(source, 0).config).toEqual(phases.preparation());
    }
  });

  it('counts calls and errors since the step began, not before', () => {
    const s = sourceOf(phases.canary(10), { start: { oldCalls: 100, oldErrors: 10, newCalls: 50, newErrors: 5 } });
    const recorder = new StepRecorder(s.source, 0);
    s.add({ oldCalls: 7, oldErrors: 2, newCalls: 3, newErrors: 1 });
    const evidence = recorder.evidence(s.stats(), 1_000);
    expect(evidence.phase).toBe('canary');
    expect(evidence.percentage).toBe(10);
    expect(evidence.new).toMatchObject({ calls: 3, errors: 1 });
    expect(evidence.oldInShadow).toEqual({ trials: 7, events: 2 });
    expect(evidence.noise).toBeUndefined();
  });

  it('totals that went down (a restart) count as 0, never negative; garbage counts as 0', () => {
    const s = sourceOf(phases.canary(10), { start: { oldCalls: 100, newCalls: 50 } });
    const recorder = new StepRecorder(s.source, 0);
    s.state.totals.oldCalls = 40;
    s.state.totals.newCalls = 50;
    const evidence = recorder.evidence(s.stats(), 1_000);
    expect(evidence.oldInShadow.trials).toBe(0);
    expect(evidence.new.calls).toBe(0);
    const hostile = {
      config: phases.canary(10),
      get old(): unknown {
        throw new Error('no');
      },
      new: { calls: Number.NaN, errors: -3 },
      shadow: { compared: '5', mismatchesByKind: null, errors: Infinity },
    } as unknown as MigrationStats;
    const fresh = new StepRecorder(sourceOf(phases.canary(10)).source, 0);
    expect(fresh.evidence(hostile, 1)).toMatchObject({
      new: { calls: 0, errors: 0 },
      oldInShadow: { trials: 0, events: 0 },
      shadow: { compared: 0, valueMismatches: 0, newErrors: 0 },
    });
  });

  it('reads the shadow figures since the step began', () => {
    const s = sourceOf(phases.shadow(), { start: { compared: 10, value: 2, shadowErrors: 1 } });
    const recorder = new StepRecorder(s.source, 0);
    s.add({ compared: 5, value: 3, shadowErrors: 4 });
    expect(recorder.evidence(s.stats(), 1).shadow).toEqual({ compared: 5, valueMismatches: 3, newErrors: 4 });
  });

  it('a config that routes the same starts no step; one that differs in any field does', () => {
    const s = sourceOf(phases.canary(10));
    const recorder = new StepRecorder(s.source, 0);
    expect(recorder.startStep(phases.canary(10), 5, s.stats())).toBe(false);
    expect(recorder.since).toBe(0);
    expect(recorder.startStep(phases.canary(10), 6, s.stats(), true)).toBe(true);
    expect(recorder.since).toBe(6);
    expect(recorder.startStep({ ...phases.canary(10), fallbackEnabled: false }, 7, s.stats())).toBe(true);
    expect(recorder.config).toEqual({ ...phases.canary(10), fallbackEnabled: false });
    expect(recorder.since).toBe(7);
  });

  it('a new step counts from zero: calls, latencies and keys of the last one are gone', () => {
    const s = sourceOf(phases.canary(10));
    const recorder = new StepRecorder(s.source, 0);
    s.add({ newCalls: 5, newErrors: 2, oldCalls: 5 });
    s.settled('new', 40);
    s.settled('old', 30);
    s.route('new', 'a');
    recorder.startStep(phases.canary(20), 10, s.stats());
    const evidence = recorder.evidence(s.stats(), 1);
    expect(evidence.new).toMatchObject({ calls: 0, errors: 0 });
    expect(evidence.new.latency?.count).toBe(0);
    expect(evidence.keys).toEqual({ old: 0, new: 0 });
    expect(evidence.oldInShadow.trials).toBe(0);
  });
});

describe('StepRecorder: latencies', () => {
  it('records each settled call\'s duration under its arm', () => {
    const s = sourceOf(phases.canary(10));
    const recorder = new StepRecorder(s.source, 0);
    s.settled('new', 40);
    s.settled('new', 60);
    s.settled('old', 30);
    const evidence = recorder.evidence(s.stats(), 1_000);
    expect(evidence.new.latency?.count).toBe(2);
    expect(evidence.new.latency?.max).toBeGreaterThanOrEqual(60);
    expect(evidence.oldInShadow.trials).toBe(0);
  });

  it('ignores events that are not a call of old or new, and the keyless 0 ms reads of a FleetStats', () => {
    const s = sourceOf(phases.canary(10));
    const recorder = new StepRecorder(s.source, 0);
    s.settled('other', 10);
    s.emitRaw('settled', null);
    s.emitRaw('settled', 'settled');
    s.emitRaw('settled', { migration: 'm', key: undefined, arm: 'new', ok: true, durationMs: 0 });
    expect(recorder.evidence(s.stats(), 1).new.latency?.count).toBe(0);
    s.settled('new', 0, 'k');
    s.emitRaw('settled', { migration: 'm', key: undefined, arm: 'new', ok: true, durationMs: 5 });
    expect(recorder.evidence(s.stats(), 1).new.latency?.count).toBe(2);
  });
});

describe('StepRecorder: routed keys', () => {
  it('counts distinct keys routed by bucket, each under the arm it first went to', () => {
    const s = sourceOf(phases.canary(10));
    const recorder = new StepRecorder(s.source, 0);
    s.route('new', 'a');
    s.route('new', 'a');
    s.route('old', 'a');
    s.route('old', 'b');
    s.route('old', 3);
    expect(recorder.evidence(s.stats(), 1).keys).toEqual({ old: 2, new: 1 });
  });

  it('ignores routes not by bucket, without a key, of another arm, or not an object', () => {
    const s = sourceOf(phases.canary(10));
    const recorder = new StepRecorder(s.source, 0);
    s.route('new', 'a', 'fallback');
    s.route('new', undefined);
    s.route('shadow', 'b');
    s.emitRaw('route', null);
    s.emitRaw('route', 'route');
    expect(recorder.evidence(s.stats(), 1).keys).toEqual({ old: 0, new: 0 });
  });

  it('remembers at most 50,000 keys', () => {
    const s = sourceOf(phases.canary(10));
    const recorder = new StepRecorder(s.source, 0);
    for (let i = 0; i < 49_999; i++) s.route('old', i);
    s.route('new', 'last-fits');
    s.route('new', 'one-too-many');
    expect(recorder.evidence(s.stats(), 1).keys).toEqual({ old: 49_999, new: 1 });
  });

  it('tells long keys apart by their start, end and length', () => {
    const s = sourceOf(phases.canary(10));
    const recorder = new StepRecorder(s.source, 0);
    const middle = 'm'.repeat(200);
    s.route('new', `start${middle}end`);
    s.route('new', `start${middle}end`);
    s.route('new', `start${middle}x${'end'}`);
    s.route('new', `other${middle}end`);
    s.route('new', `start${middle}END`);
    const exactly64 = 'q'.repeat(64);
    s.route('new', exactly64);
    s.route('new', `${exactly64}`);
    expect(recorder.evidence(s.stats(), 1).keys.new).toBe(5);
  });

  it('keys differing only inside the middle of a long key count as one', () => {
    const s = sourceOf(phases.canary(10));
    const recorder = new StepRecorder(s.source, 0);
    const edge = 'e'.repeat(64);
    s.route('new', `${edge}aaaa${edge}`);
    s.route('new', `${edge}bbbb${edge}`);
    s.route('new', `${'e'.repeat(65)}`);
    s.route('new', `${'e'.repeat(66)}`);
    expect(recorder.evidence(s.stats(), 1).keys.new).toBe(3);
  });

  it('a source without route events is fine; close() stops every listener it gave', () => {
    const without = sourceOf(phases.canary(10), { routes: false });
    const recorder = new StepRecorder(without.source, 0);
    expect(without.listening('settled')).toBe(1);
    recorder.close();
    expect(without.removed()).toBe(1);
    const withRoutes = sourceOf(phases.canary(10));
    const both = new StepRecorder(withRoutes.source, 0);
    expect(withRoutes.listening('route')).toBe(1);
    both.close();
    expect(withRoutes.removed()).toBe(2);
  });

  it('an on() that gives back no function for route events is fine', () => {
    const listeners: string[] = [];
    const source = {
      stats: () => statsOf(phases.canary(10), zero),
      on: (event: string) => {
        listeners.push(event);
        return event === 'settled' ? () => {} : 'nothing';
      },
    } as unknown as EvidenceSource;
    const recorder = new StepRecorder(source, 0);
    expect(listeners).toEqual(['settled', 'route']);
    expect(() => recorder.close()).not.toThrow();
  });
});

describe('StepRecorder: the control arm', () => {
  it('in canary, old itself once it has minSamples calls', () => {
    const s = sourceOf(phases.canary(10));
    const recorder = new StepRecorder(s.source, 0);
    s.add({ oldCalls: 99, oldErrors: 3 });
    expect(recorder.evidence(s.stats(), 100).control).toBeUndefined();
    s.add({ oldCalls: 1 });
    expect(recorder.evidence(s.stats(), 100).control).toMatchObject({ source: 'live', calls: 100, errors: 3 });
  });

  it('in shadow and preparation, old of this step is the baseline', () => {
    for (const config of [phases.shadow(), phases.preparation()]) {
      const s = sourceOf(config);
      const recorder = new StepRecorder(s.source, 0);
      expect(recorder.evidence(s.stats(), 1).control).toBeUndefined();
      s.add({ oldCalls: 20, oldErrors: 2 });
      s.settled('old', 30);
      const control = recorder.evidence(s.stats(), 1).control;
      expect(control).toMatchObject({ source: 'baseline', calls: 20, errors: 2 });
      expect(control?.latency?.count).toBe(1);
    }
  });

  it('old\'s figures of a shadow step carry into the next steps as the baseline', () => {
    const s = sourceOf(phases.shadow(), { start: { oldCalls: 5 } });
    const recorder = new StepRecorder(s.source, 0);
    s.add({ oldCalls: 20, oldErrors: 2 });
    s.settled('old', 30);
    s.settled('old', 50);
    recorder.startStep(phases.canary(10), 10, s.stats());
    s.add({ oldCalls: 4, oldErrors: 1 });
    const control = recorder.evidence(s.stats(), 100).control;
    expect(control).toMatchObject({ source: 'baseline', calls: 20, errors: 2 });
    expect(control?.latency?.count).toBe(2);
  });

  it('a preparation step and the shadow step after it add up', () => {
    const s = sourceOf(phases.preparation());
    const recorder = new StepRecorder(s.source, 0);
    s.add({ oldCalls: 10, oldErrors: 1 });
    s.settled('old', 10);
    recorder.startStep(phases.shadow(), 1, s.stats());
    s.add({ oldCalls: 5, oldErrors: 2 });
    s.settled('old', 20);
    expect(recorder.evidence(s.stats(), 1).control).toMatchObject({ source: 'baseline', calls: 15, errors: 3 });
    expect(recorder.evidence(s.stats(), 1).control?.latency?.count).toBe(2);
  });

  it('old\'s figures of a canary step are no baseline', () => {
    const s = sourceOf(phases.canary(10));
    const recorder = new StepRecorder(s.source, 0);
    s.add({ oldCalls: 50, oldErrors: 5 });
    recorder.startStep(phases.canary(20), 1, s.stats());
    expect(recorder.evidence(s.stats(), 100).control).toBeUndefined();
  });

  it('the figures given stand in when none were measured', () => {
    const s = sourceOf(phases.canary(10));
    const recorder = new StepRecorder(s.source, 0, { calls: 1_000, errorRate: 0.0125, p95: 80 });
    expect(recorder.evidence(s.stats(), 100).control).toEqual({ source: 'baseline', calls: 1_000, errors: 13, p95: 80 });
  });

  it('measured figures win over the figures given', () => {
    const s = sourceOf(phases.shadow());
    const recorder = new StepRecorder(s.source, 0, { calls: 1_000, errorRate: 0.5, p95: 80 });
    s.add({ oldCalls: 3 });
    expect(recorder.evidence(s.stats(), 100).control).toMatchObject({ source: 'baseline', calls: 3, errors: 0 });
  });
});
