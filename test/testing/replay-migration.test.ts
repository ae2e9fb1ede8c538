import { describe, expect, it } from 'vitest';
import { defaultRamp, phases } from '../../src/index.js';
import { defaultStartTime, replayMigration } from '../../src/testing/index.js';
import type { NewArmBehaviour, RecordedCall, TrafficSegment } from '../../src/testing/index.js';

const minute = 60_000;
const hour = 60 * minute;
const day = 24 * hour;
const healthy: NewArmBehaviour = { errorRate: 0, latencyMs: { kind: 'normal', mean: 80, sd: 15 } };
const oldSide = { errorRate: 0.001, latencyMs: { kind: 'normal', mean: 90, sd: 20 } } as const;
// 5,000 calls a minute: 250 of a 5-minute window reach new at 1 %, enough for the default 100 samples.
const steady = (from: number, to: number, next = healthy): TrafficSegment => ({ from, to, callsPerMinute: 5_000, old: oldSide, new: next });

describe('replayMigration of a healthy new service', () => {
  it('walks every step of the default ramp to 100 %, each after its hold', async () => {
    const result = await replayMigration({ traffic: [steady(0, 43 * day)] });
    expect(result.rollbacks).toEqual([]);
    expect(result.steps.map((step) => step.percentage)).toEqual(defaultRamp.map((step) => step.percentage));
    // The first step needs one window of clean shadow comparisons: the first hourly tick.
    expect(result.steps[0]).toMatchObject({ at: defaultStartTime + hour, offsetMs: hour, percentage: 1 });
    result.steps.slice(1).forEach((step, i) => {
      const held = step.at - (result.steps[i]?.at ?? 0);
      expect(held).toBeGreaterThanOrEqual(defaultRamp[i]?.holdMs ?? 0);
      expect(held).toBeLessThan((defaultRamp[i]?.holdMs ?? 0) + hour);
    });
    expect(result.finalPercentage).toBe(100);
    expect(result.blockedBy).toBe('done');
    expect(result.timeline).toHaveLength(43 * 24);
    expect(result.endedAt).toBe(defaultStartTime + 43 * day);
  }, 60_000);

  it('asks approve with each step and the time, and stays put when refused', async () => {
    const asked: [number, number][] = [];
    const result = await replayMigration({
      traffic: [steady(0, 3 * day)],
      approve: (step, at) => {
        asked.push([step.percentage, at]);
        return step.percentage < 5;
      },
    });
    expect(result.steps.map((step) => step.percentage)).toEqual([1]);
    expect(asked[0]).toEqual([1, defaultStartTime + hour]);
    expect(result.blockedBy).toBe('approval');
  }, 30_000);
});

describe('replayMigration of a bad release', () => {
  const jump = 12 * day;
  const traffic = [steady(0, jump), steady(jump, 20 * day, { ...healthy, errorRate: 0.05 })];

  it("rolls back shortly after new's error rate jumps at day 12, at 25 %, with the guard's reason", async () => {
    const result = await replayMigration({ traffic });
    expect(result.steps.map((step) => step.percentage)).toEqual([1, 5, 10, 25]);
    expect(result.rollbacks).toHaveLength(1);
    const [rollback] = result.rollbacks;
    expect(rollback?.percentage).toBe(25);
    expect(rollback?.offsetMs).toBeGreaterThan(jump);
    expect(rollback?.offsetMs).toBeLessThan(jump + hour);
    expect(rollback?.reason).toMatch(/^rollback guard: new error rate 5 % > 1 % over \d+ calls/);
    expect(result.finalPercentage).toBe(0);
    expect(result.blockedBy).toBe('rolledBack');
    expect(result.endedAt).toBe(defaultStartTime + jump + hour);
  }, 30_000);

  it('with looser criteria the same history never rolls back: tune the criteria on the incident', async () => {
    const result = await replayMigration({ traffic, criteria: { maxErrorRate: 0.1, maxErrorRateOverBaseline: 0.1 } });
    expect(result.rollbacks).toEqual([]);
    expect(result.finalPercentage).toBe(50);
  }, 30_000);

  it('resumes after resumeAfterMs in shadow mode and ramps again from the first step once new is fixed', async () => {
    const result = await replayMigration({
      traffic: [steady(0, jump), steady(jump, jump + day, { ...healthy, errorRate: 0.05 }), steady(jump + day, 30 * day)],
      resumeAfterMs: 2 * day,
      durationMs: jump + 4 * day,
    });
    expect(result.rollbacks).toHaveLength(1);
    // Resumed in shadow two days after the rollback, with new fixed: the ramp starts again from 1 %.
    const again = result.steps.filter((step) => step.offsetMs > jump);
    expect(again.map((step) => step.percentage)).toEqual([1, 5]);
    expect(again[0]?.offsetMs).toBeGreaterThan(jump + 2 * day);
    expect(result.timeline.some((tick) => tick.blockedBy === 'rolledBack')).toBe(true);
  }, 30_000);

  it('sees a latency regression: p95 over twice the old one', async () => {
    const result = await replayMigration({
      traffic: [steady(0, 2 * day), steady(2 * day, 4 * day, { errorRate: 0, latencyMs: { kind: 'normal', mean: 400, sd: 50 } })],
    });
    expect(result.rollbacks[0]?.reason).toMatch(/new p95 .* > 2x old's/);
    expect(result.rollbacks[0]?.percentage).toBe(5);
  }, 30_000);

  it('sees mismatches in shadow mode', async () => {
    const result = await replayMigration({ traffic: [steady(0, day, { ...healthy, mismatchRate: 0.01 })] });
    expect(result.steps).toEqual([]);
    expect(result.rollbacks[0]).toMatchObject({ percentage: 0, reason: expect.stringMatching(/^rollback guard: shadow mismatch rate [\d.]+ % > 0.1 %/) });
  });
});

describe('replayMigration with too little traffic', () => {
  it('never advances: blocked by samples', async () => {
    const result = await replayMigration({ traffic: [{ ...steady(0, 5 * day), callsPerMinute: 10 }] });
    expect(result.steps).toEqual([]);
    expect(result.rollbacks).toEqual([]);
    expect(result.finalPercentage).toBe(0);
    expect(result.blockedBy).toBe('samples');
    expect(result.timeline.every((tick) => tick.blockedBy === 'samples' && tick.calls === 50)).toBe(true);
  }, 30_000);

  it('at 1 % a modest volume starves new of samples even though shadow was fine', async () => {
    const result = await replayMigration({ traffic: [{ ...steady(0, 3 * day), callsPerMinute: 1_000 }] });
    expect(result.steps.map((step) => step.percentage)).toEqual([1]);
    expect(result.blockedBy).toBe('samples');
  }, 30_000);
});

describe('replayMigration determinism', () => {
  const traffic = [steady(0, 9 * day), steady(9 * day, 12 * day, { errorRate: 0.012, latencyMs: { kind: 'exponential', mean: 90 } })];

  it('gives the same result for the same input and seed', async () => {
    const one = await replayMigration({ traffic, seed: 42, errors: 'random' });
    const two = await replayMigration({ traffic, seed: 42, errors: 'random' });
    expect(two).toEqual(one);
    expect(one.rollbacks).toHaveLength(1);
  }, 30_000);

  it('with random errors, another seed gives another run', async () => {
    const one = await replayMigration({ traffic, seed: 1, errors: 'random' });
    const two = await replayMigration({ traffic, seed: 2, errors: 'random' });
    expect(two.rollbacks[0]?.at).not.toBe(one.rollbacks[0]?.at);
  }, 30_000);
});

describe('replayMigration of traffic given as a function', () => {
  it('reads the level once per simulated minute, and needs durationMs', async () => {
    const read: number[] = [];
    const result = await replayMigration({
      traffic: (t) => {
        read.push(t);
        return { callsPerMinute: 5_000, old: oldSide, new: t < 2 * day ? healthy : { errorRate: 0.5 } };
      },
      durationMs: 3 * day,
      plan: [{ percentage: 10, holdMs: day }, { percentage: 100, holdMs: day }],
    });
    expect(read.every((t) => t % minute === 0)).toBe(true);
    expect(result.steps.map((step) => step.percentage)).toEqual([10, 100]);
    expect(result.rollbacks[0]?.percentage).toBe(100);
    await expect(replayMigration({ traffic: () => ({ callsPerMinute: 1, old: {}, new: {} }) })).rejects.toMatchObject({ option: 'durationMs' });
  }, 30_000);
});

describe('replayMigration of a recorded history', () => {
  const start = Date.UTC(2026, 2, 2);
  /** Six hours as recorded: old every second; new (on its canary share) every 3 s, failing one call in five from hour 4. */
  function recorded(): RecordedCall[] {
    const calls: RecordedCall[] = [];
    for (let s = 0; s < 6 * 3600; s++) {
      calls.push({ at: start + s * 1000, arm: 'old', ok: true, latencyMs: 40 + (s % 20) });
      if (s % 3 === 0) calls.push({ at: start + s * 1000 + 500, arm: 'new', ok: !(s >= 4 * 3600 && s % 5 === 0), latencyMs: 35 + (s % 10) });
    }
    return calls;
  }
  const plan = [
    { percentage: 10, holdMs: hour },
    { percentage: 50, holdMs: hour },
    { percentage: 100, holdMs: hour },
  ];

  it("replays each side's recorded behaviour and rolls back after the recorded bad release", async () => {
    const result = await replayMigration({ traffic: recorded(), plan, criteria: { minSamples: 20 }, tickEveryMs: 30 * minute });
    expect(result.steps.map((step) => [step.offsetMs / hour, step.percentage])).toEqual([
      [0.5, 10],
      [1.5, 50],
      [2.5, 100],
    ]);
    expect(result.rollbacks).toHaveLength(1);
    expect(result.rollbacks[0]?.at).toBeGreaterThan(start + 4 * hour);
    expect(result.rollbacks[0]?.at).toBeLessThan(start + 4.5 * hour);
    expect(result.rollbacks[0]?.reason).toContain('new error rate 20 %');
    expect(result.timeline[0]?.calls).toBe(400); // 300 of old and 100 of new in 5 minutes
  });

  it('calls without an arm describe both sides', async () => {
    const calls = recorded()
      .filter((call) => call.arm === 'old')
      .map(({ at, ok, latencyMs }) => ({ at: new Date(at), ok, latencyMs }));
    const result = await replayMigration({ traffic: calls, plan, criteria: { minSamples: 20 }, tickEveryMs: 30 * minute });
    expect(result.rollbacks).toEqual([]);
    expect(result.finalPercentage).toBe(100);
  });

  it('refuses a history where a side has no call', async () => {
    const onlyOld = recorded().filter((call) => call.arm === 'old');
    await expect(replayMigration({ traffic: onlyOld })).rejects.toThrow(/no recorded call of new/);
  });
});

describe('replayMigration options', () => {
  it('starts from the given config and time', async () => {
    const start = Date.UTC(2026, 5, 1);
    const result = await replayMigration({ traffic: [steady(0, 2 * day)], config: phases.canary(5), start: new Date(start) });
    // 5 % is the plan's second step, held two days from the start: the next step comes at the very end.
    expect(result.steps).toEqual([{ at: start + 2 * day, offsetMs: 2 * day, percentage: 10 }]);
    expect(result.timeline[0]).toMatchObject({ at: start + hour, percentage: 5, blockedBy: 'hold' });
  }, 30_000);

  it.each([
    [{ traffic: [] }, 'traffic'],
    [{ traffic: [{ ...steady(0, day), to: -1 }] }, 'traffic[0].to'],
    [{ traffic: [steady(0, 2 * day), steady(day, 3 * day)] }, 'traffic'],
    [{ traffic: [{ ...steady(0, day), new: { errorRate: 2 } }] }, 'traffic[0].new.errorRate'],
    [{ traffic: [{ ...steady(0, day), old: { latencyMs: { kind: 'normal', mean: -1, sd: 1 } } }] }, 'traffic[0].old.latencyMs'],
    [{ traffic: [{ at: 1, ok: 'yes', latencyMs: 1 }] }, 'traffic[0].ok'],
    [{ traffic: [steady(0, day)], tickEveryMs: 0 }, 'tickEveryMs'],
    [{ traffic: [steady(0, day)], maxCallsPerWindow: 10 }, 'maxCallsPerWindow'],
    [{ traffic: [steady(0, day)], errors: 'some' }, 'errors'],
    [{ traffic: [steady(0, day)], criteria: { minSamples: 0 } }, 'criteria.minSamples'],
    [{ traffic: [steady(0, day)], plan: [] }, 'plan'],
    [{ traffic: [steady(0, day)], seed: 1.5 }, 'seed'],
  ])('refuses bad options, naming them (%#)', async (options, option) => {
    await expect(replayMigration(options as never)).rejects.toMatchObject({ code: 'ERR_INVALID_OPTION', option });
  });
});
