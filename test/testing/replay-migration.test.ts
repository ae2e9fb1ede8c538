import { describe, expect, it } from 'vitest';
import { bucketOf, defaultRamp, phases } from '../../src/index.js';
import { defaultStartTime, replayMigration } from '../../src/testing/index.js';
import type { NewArmBehaviour, RecordedCall, ReplayResult, TrafficSegment } from '../../src/testing/index.js';
import { StepKeys } from '../../src/testing/replay-keys.js';

const minute = 60_000;
const hour = 60 * minute;
const day = 24 * hour;
const healthy: NewArmBehaviour = { errorRate: 0, latencyMs: { kind: 'normal', mean: 80, sd: 15 } };
const oldSide = { errorRate: 0.001, latencyMs: { kind: 'normal', mean: 90, sd: 20 } } as const;
const steady = (from: number, to: number, next = healthy, callsPerMinute = 5_000): TrafficSegment => ({ from, to, callsPerMinute, old: oldSide, new: next });
/** A reason as the judge words it: metric, estimate, always-valid interval, limit, samples. */
const judged = (metric: string, limit: string) =>
  new RegExp(`^rollback guard: ${metric} [\\d.]+ % \\(always-valid interval [\\d.]+ % to [\\d.]+ %, limit ${limit}\\) over \\d+`);
const driven = (result: ReplayResult, from: number, to: number) =>
  result.timeline.filter((tick) => tick.offsetMs > from && tick.offsetMs <= to).reduce((sum, tick) => sum + tick.driven, 0);

describe('replayMigration of a healthy new service', () => {
  it('walks every step of the default ramp to 100 %, each after its hold, once shadow has its clean comparisons', async () => {
    // 5,000 calls a minute, at most 5,000 driven per side and step: shadow mode's ~22,000 clean comparisons take five hourly ticks.
    const result = await replayMigration({ traffic: [steady(0, 43 * day)], maxCallsPerStep: 5_000 });
    expect(result.rollbacks).toEqual([]);
    expect(result.steps.map((step) => step.percentage)).toEqual(defaultRamp.map((step) => step.percentage));
    expect(result.steps[0]).toMatchObject({ at: defaultStartTime + 5 * hour, offsetMs: 5 * hour, percentage: 1 });
    const waiting = result.timeline.slice(0, 4);
    for (const tick of waiting) {
      expect(tick).toMatchObject({ blockedBy: 'samples', verdict: 'inconclusive', driven: 5_000 });
      expect(tick.reasons?.[0]).toMatch(/^shadow value mismatches 0 % \(always-valid interval 0 % to [\d.]+ %, limit 0.1 %\) over \d+/);
    }
    // The judge estimates the comparisons it still needs: fewer as they come.
    const needed = waiting.map((tick) => tick.needed ?? Number.NaN);
    expect(needed.every((n) => n > 0)).toBe(true);
    expect(needed[0]).toBeGreaterThan(needed[3] ?? Infinity);
    result.steps.slice(1).forEach((step, i) => {
      const held = step.at - (result.steps[i]?.at ?? 0);
      expect(held).toBeGreaterThanOrEqual(defaultRamp[i]?.holdMs ?? 0);
      expect(held).toBeLessThan((defaultRamp[i]?.holdMs ?? 0) + hour);
    });
    // Old is thinned far harder than new at 1 %, yet the keys each side served keep the share the hash gives: no sample-ratio hold.
    expect(result.timeline.some((tick) => tick.blockedBy === 'guard')).toBe(false);
    expect(result.finalPercentage).toBe(100);
    expect(result.blockedBy).toBe('done');
    expect(result.timeline).toHaveLength(43 * 24);
    expect(result.endedAt).toBe(defaultStartTime + 43 * day);
  }, 60_000);

  it('asks approve with each step and the time, and stays put when refused', async () => {
    const asked: [number, number][] = [];
    const result = await replayMigration({
      traffic: [steady(0, 3 * day)],
      maxCallsPerStep: 5_000,
      approve: (step, at) => {
        asked.push([step.percentage, at]);
        return step.percentage < 5;
      },
    });
    expect(result.steps.map((step) => step.percentage)).toEqual([1]);
    expect(asked[0]).toEqual([1, result.steps[0]?.at]);
    expect(asked.at(-1)?.[0]).toBe(5);
    expect(result.blockedBy).toBe('approval');
  }, 30_000);

  it('thins each side by one factor over a step, at most maxCallsPerStep of it', async () => {
    const plan = [{ percentage: 10, holdMs: day }, { percentage: 100, holdMs: day }];
    const result = await replayMigration({ traffic: [steady(0, 2 * day)], config: phases.canary(10), plan, maxCallsPerStep: 2_000 });
    // 7.2 million calls in the 10 % day: 720,000 for new, thinned to 2,000, and 6.48 million for old, thinned to 2,000.
    const tenPercent = result.timeline.filter((tick) => tick.offsetMs <= day);
    expect(driven(result, 0, day)).toBeLessThanOrEqual(4_000);
    expect(driven(result, 0, day)).toBeGreaterThanOrEqual(3_998);
    // The same share of every hour: late calls weigh as much in the judge's figures as early ones, as in production.
    const perTick = tenPercent.map((tick) => tick.driven);
    expect(Math.max(...perTick) - Math.min(...perTick)).toBeLessThanOrEqual(2);
    expect(result.steps).toEqual([{ at: defaultStartTime + day, offsetMs: day, percentage: 100 }]);
  }, 30_000);
});

describe('replayMigration of a bad release', () => {
  // The replay starts at 10 %; the 25 % step comes on day 4, with a release of new that fails one call in five.
  const release = 4 * day;
  const bad = { ...healthy, errorRate: 0.2 };
  const history = (end: number, after = bad): TrafficSegment[] => [steady(0, release, healthy, 400), steady(release, end, after, 400)];

  it('is rolled back in the step where it starts, within the hour, naming the metric, the estimate and its interval', async () => {
    const result = await replayMigration({ traffic: history(6 * day), config: phases.canary(10), maxCallsPerStep: 5_000 });
    expect(result.steps).toEqual([{ at: defaultStartTime + release, offsetMs: release, percentage: 25 }]);
    expect(result.rollbacks).toHaveLength(1);
    const [rollback] = result.rollbacks;
    expect(rollback?.percentage).toBe(25);
    expect(rollback?.offsetMs).toBeGreaterThan(release);
    expect(rollback?.offsetMs).toBeLessThan(release + hour);
    expect(rollback?.reason).toMatch(judged('new error rate', '1 %'));
    expect(result.finalPercentage).toBe(0);
    expect(result.blockedBy).toBe('rolledBack');
    expect(result.endedAt).toBe(defaultStartTime + release + hour);
  }, 30_000);

  it('with looser criteria the same history never rolls back: tune the criteria on the incident', async () => {
    const result = await replayMigration({
      traffic: history(12 * day),
      config: phases.canary(10),
      maxCallsPerStep: 5_000,
      criteria: { maxErrorRate: 0.3, maxErrorRateOverBaseline: 0.3 },
    });
    expect(result.rollbacks).toEqual([]);
    expect(result.steps.map((step) => step.percentage)).toEqual([25, 50]);
    expect(result.finalPercentage).toBe(50);
  }, 30_000);

  it('resumes after resumeAfterMs in shadow mode and ramps again from the first step once new is fixed', async () => {
    const traffic = [...history(release + day), steady(release + day, 9 * day, healthy, 400)];
    const result = await replayMigration({ traffic, config: phases.canary(10), resumeAfterMs: 2 * day, durationMs: 8 * day, maxCallsPerStep: 5_000 });
    expect(result.rollbacks).toHaveLength(1);
    // Resumed in shadow two days after the rollback, with new fixed: once shadow passes afresh the ramp starts again from 1 %.
    const again = result.steps.filter((step) => step.offsetMs > release + hour);
    expect(again.map((step) => step.percentage)).toEqual([1, 5]);
    expect(again[0]?.offsetMs).toBeGreaterThan(release + 2 * day);
    expect(result.timeline.some((tick) => tick.blockedBy === 'rolledBack')).toBe(true);
  }, 30_000);

  it('sees a new three times slower, in the middle of the step where it starts', async () => {
    const result = await replayMigration({
      traffic: [steady(0, day, healthy, 400), steady(day, 2 * day, { errorRate: 0, latencyMs: { kind: 'normal', mean: 270, sd: 60 } }, 400)],
      config: phases.canary(5),
      maxCallsPerStep: 5_000,
    });
    expect(result.rollbacks).toHaveLength(1);
    expect(result.rollbacks[0]?.percentage).toBe(5);
    expect(result.rollbacks[0]?.offsetMs).toBeGreaterThan(day);
    expect(result.rollbacks[0]?.reason).toMatch(/^rollback guard: share of new's calls slower than 2x old's p95 \([\d.]+ ms, live\) [\d.]+ % \(always-valid interval [\d.]+ % to [\d.]+ %, limit 5 %\) over \d+/);
  }, 30_000);

  it('sees value mismatches in shadow mode', async () => {
    const result = await replayMigration({ traffic: [steady(0, day, { ...healthy, mismatchRate: 0.01 }, 400)] });
    expect(result.steps).toEqual([]);
    expect(result.rollbacks).toHaveLength(1);
    expect(result.rollbacks[0]).toMatchObject({ percentage: 0, reason: expect.stringMatching(judged('shadow value mismatches', '0.1 %')) });
    expect(result.rollbacks[0]?.offsetMs).toBeLessThan(hour);
  }, 30_000);
});

describe('replayMigration with too little traffic', () => {
  it('holds shadow mode for evidence, with the reason and the comparisons still needed', async () => {
    const result = await replayMigration({ traffic: [{ ...steady(0, 5 * day), callsPerMinute: 1 }] });
    expect(result.steps).toEqual([]);
    expect(result.rollbacks).toEqual([]);
    expect(result.blockedBy).toBe('samples');
    expect(result.reasons?.[0]).toMatch(/^shadow value mismatches 0 % \(always-valid interval 0 % to [\d.]+ %, limit 0.1 %\) over 7200$/);
    expect(result.timeline.every((tick) => tick.blockedBy === 'samples' && tick.verdict === 'inconclusive' && tick.calls === 60)).toBe(true);
    // 7,200 clean comparisons in five days; the judge tells how many more it needs.
    expect(result.timeline.at(-1)?.needed).toBeGreaterThan(5_000);
  }, 30_000);

  it('at 10 calls a minute, shadow passes in a day and a half, then 1 % waits for new calls', async () => {
    const result = await replayMigration({ traffic: [{ ...steady(0, 5 * day), callsPerMinute: 10 }] });
    expect(result.steps.map((step) => step.percentage)).toEqual([1]);
    expect(result.steps[0]?.offsetMs).toBeGreaterThan(day);
    expect(result.steps[0]?.offsetMs).toBeLessThan(2 * day);
    expect(result.blockedBy).toBe('samples');
    expect(result.reasons?.[0]).toMatch(/^new error rate 0 % \(always-valid interval 0 % to [\d.]+ %, limit 1 %\) over \d+$/);
    expect(result.timeline.at(-1)?.needed).toBeGreaterThan(0);
  }, 30_000);

  it('rolls back a step inconclusive past maxInconclusiveMs when so configured, on the replay clock', async () => {
    const result = await replayMigration({
      traffic: [{ ...steady(0, 5 * day), callsPerMinute: 2 }],
      config: phases.canary(5),
      criteria: { maxInconclusiveMs: 2 * day, onInconclusive: 'rollback' },
    });
    expect(result.rollbacks).toHaveLength(1);
    expect(result.rollbacks[0]?.reason).toMatch(/step inconclusive for more than 48 h/);
    expect(result.rollbacks[0]?.offsetMs).toBeGreaterThan(2 * day);
    expect(result.rollbacks[0]?.offsetMs).toBeLessThan(2 * day + hour);
  }, 30_000);
});

describe('replayMigration determinism', () => {
  const traffic = [steady(0, day, healthy, 400), steady(day, 3 * day, { errorRate: 0.03, latencyMs: { kind: 'exponential', mean: 90 } }, 400)];
  const options = { traffic, config: phases.canary(10), errors: 'random', maxCallsPerStep: 5_000 } as const;

  it('gives the same result for the same input and seed', async () => {
    const one = await replayMigration({ ...options, seed: 42 });
    const two = await replayMigration({ ...options, seed: 42 });
    expect(two).toEqual(one);
    expect(one.rollbacks).toHaveLength(1);
  }, 30_000);

  it('with random errors, another seed gives another run', async () => {
    const one = await replayMigration({ ...options, seed: 1 });
    const two = await replayMigration({ ...options, seed: 2 });
    expect(one.rollbacks).toHaveLength(1);
    expect(two.rollbacks).toHaveLength(1);
    expect(two.rollbacks[0]?.at).not.toBe(one.rollbacks[0]?.at);
  }, 30_000);
});

describe('replayMigration of traffic given as a function', () => {
  it('reads the level once per simulated minute, and needs durationMs', async () => {
    const read: number[] = [];
    const result = await replayMigration({
      traffic: (t) => {
        read.push(t);
        return { callsPerMinute: 400, old: oldSide, new: t < 2 * day ? healthy : { errorRate: 0.5 } };
      },
      durationMs: 3 * day,
      config: phases.canary(10),
      plan: [{ percentage: 10, holdMs: day }, { percentage: 100, holdMs: day }],
    });
    expect(read.length).toBeGreaterThan(0);
    expect(read.every((t) => t % minute === 0)).toBe(true);
    expect(result.steps.map((step) => step.percentage)).toEqual([100]);
    expect(result.rollbacks[0]?.percentage).toBe(100);
    expect(result.rollbacks[0]?.offsetMs).toBeGreaterThan(2 * day);
    await expect(replayMigration({ traffic: () => ({ callsPerMinute: 1, old: {}, new: {} }) })).rejects.toMatchObject({ option: 'durationMs' });
  }, 30_000);
});

describe('replayMigration of a recorded history', () => {
  const start = Date.UTC(2026, 2, 2);
  /** Six hours as recorded: old twice a second; new (on its canary share) every 1.5 s, failing one call in five from hour 4. */
  function recorded(): RecordedCall[] {
    const calls: RecordedCall[] = [];
    for (let t = 0; t < 6 * 3600 * 2; t++) {
      calls.push({ at: start + t * 500, arm: 'old', ok: true, latencyMs: 40 + (t % 20) });
      if (t % 3 === 0) calls.push({ at: start + t * 500 + 250, arm: 'new', ok: !(t >= 4 * 3600 * 2 && t % 5 === 0), latencyMs: 35 + (t % 10) });
    }
    return calls;
  }
  const plan = [
    { percentage: 50, holdMs: hour },
    { percentage: 100, holdMs: 2 * hour },
  ];
  const options = { plan, config: phases.canary(50), criteria: { minSamples: 20 }, tickEveryMs: 30 * minute };

  it("replays each side's recorded behaviour and rolls back after the recorded bad release", async () => {
    const result = await replayMigration({ traffic: recorded(), ...options });
    expect(result.steps.map((step) => [step.offsetMs / hour, step.percentage])).toEqual([[1, 100]]);
    expect(result.rollbacks).toHaveLength(1);
    expect(result.rollbacks[0]?.at).toBeGreaterThan(start + 4 * hour);
    expect(result.rollbacks[0]?.at).toBeLessThan(start + 4.5 * hour);
    expect(result.rollbacks[0]?.reason).toMatch(judged('new error rate', '1 %'));
    expect(result.timeline[0]?.calls).toBe(4_800); // 3,600 of old and 1,200 of new in 30 minutes
  });

  it('calls without an arm describe both sides', async () => {
    const calls = recorded()
      .filter((call) => call.arm === 'old')
      .map(({ at, ok, latencyMs }) => ({ at: new Date(at), ok, latencyMs }));
    const result = await replayMigration({ traffic: calls, ...options });
    expect(result.rollbacks).toEqual([]);
    expect(result.finalPercentage).toBe(100);
  });

  it('refuses a history where a side has no call', async () => {
    const onlyOld = recorded().filter((call) => call.arm === 'old');
    await expect(replayMigration({ traffic: onlyOld })).rejects.toThrow(/no recorded call of new/);
  });
});

describe('StepKeys', () => {
  it('keeps the share of distinct keys on new at the share the hash gives, however unevenly the sides are driven', () => {
    const keys = new StepKeys('replay', 100); // 1 %
    const seen = { old: new Set<string>(), new: new Set<string>() };
    // New driven at every call, old at one in twenty of its: a naive key per call would give new ~17 % of the distinct keys.
    for (let i = 0; i < 20_000; i++) {
      const arm = i % 6 === 0 ? 'new' : 'old';
      const key = keys.next(arm);
      expect(bucketOf(key, 'replay') < 100).toBe(arm === 'new');
      seen[arm].add(key);
    }
    const share = seen.new.size / (seen.new.size + seen.old.size);
    expect(share).toBeGreaterThan(0.007);
    expect(share).toBeLessThan(0.013);
  });
});

describe('replayMigration options', () => {
  it('starts from the given config and time', async () => {
    const start = Date.UTC(2026, 5, 1);
    const result = await replayMigration({ traffic: [steady(0, 2 * day)], config: phases.canary(5), start: new Date(start), maxCallsPerStep: 5_000 });
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
    [{ traffic: [steady(0, day)], maxCallsPerStep: 10 }, 'maxCallsPerStep'],
    [{ traffic: [steady(0, day)], maxCallsPerWindow: 1_000 }, 'maxCallsPerWindow'],
    [{ traffic: [steady(0, day)], errors: 'some' }, 'errors'],
    [{ traffic: [steady(0, day)], criteria: { minSamples: 0 } }, 'criteria.minSamples'],
    [{ traffic: [steady(0, day)], plan: [] }, 'plan'],
    [{ traffic: [steady(0, day)], seed: 1.5 }, 'seed'],
  ])('refuses bad options, naming them (%#)', async (options, option) => {
    await expect(replayMigration(options as never)).rejects.toMatchObject({ code: 'ERR_INVALID_OPTION', option });
  });
});
