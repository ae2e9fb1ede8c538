import { InMemoryConfigStore } from '../config/in-memory-config-store.js';
import type { MigrationConfig } from '../config/migration-config.js';
import { sameConfig } from '../config/migration-config.js';
import { phases } from '../config/phases.js';
import type { Arm } from '../core/events.js';
import { MigrationGlue } from '../core/migration-glue.js';
import { newShare } from '../core/routing.js';
import { silentLogger } from '../observe/logger.js';
import { RampController } from '../rollout/ramp-controller.js';
import type { RampStep } from '../rollout/ramp-plan.js';
import { RollbackGuard } from '../rollout/rollback-guard.js';
import type { FakeService, SleepingClock } from './fake-service.js';
import { fakeService } from './fake-service.js';
import { ManualClock } from './manual-clock.js';
import { deriveSeed, seededRandom } from './random.js';
import { StepKeys } from './replay-keys.js';
import type { ReplayInput, Script } from './replay-traffic.js';
import type { ReplayMigrationOptions } from './replay-options.js';
import { resolveReplayOptions } from './replay-options.js';
import type { ReplayResult, ReplayRollback, ReplayStep, ReplayTick } from './replay-result.js';
import { draws, resolveTraffic } from './replay-traffic.js';

export type { ReplayMigrationOptions } from './replay-options.js';
export type { ReplayResult, ReplayRollback, ReplayStep, ReplayTick } from './replay-result.js';
export type { ArmBehaviour, NewArmBehaviour, RecordedCall, ReplayLatency, ReplayTraffic, TrafficLevel, TrafficSegment } from './replay-traffic.js';

/** How the calls of one step are driven: each side thinned by a constant factor for the whole step. */
interface Span {
  readonly config: MigrationConfig;
  readonly factor: Record<Arm, number>;
  /** The fraction of a call each side is owed, so that thinning never drifts. */
  readonly carry: Record<Arm, number>;
  readonly keys: StepKeys | undefined;
}

/**
 * Plays a traffic history through a real MigrationGlue, RollbackGuard (the
 * sequential judge) and RampController on a ManualClock, and tells when
 * the ramp would have stepped, where it would have waited for evidence and
 * when the judge would have rolled back: to tune a plan and criteria on
 * past incidents before trusting them.
 *
 * The replay starts in shadow mode (or `config`) and ticks the ramp every
 * `tickEveryMs`. It drives the calls between ticks, spread evenly, with
 * routing keys chosen so that each side gets its share; a side with more
 * than `maxCallsPerStep` calls in a step is thinned by a constant factor
 * (see docs/testing.md). Each side's fake follows the level in force at the
 * time of each call; with recorded calls, each side answers like the calls
 * it served in production at that time.
 * @example
 * const day = 86_400_000;
 * const legacy = { errorRate: 0.002, latencyMs: { kind: 'normal', mean: 120, sd: 30 } } as const;
 * const v2 = { errorRate: 0, latencyMs: 60 };
 * const result = await replayMigration({
 *   traffic: [
 *     { from: 0, to: 3 * day, callsPerMinute: 600, old: legacy, new: v2 },
 *     { from: 3 * day, to: 5 * day, callsPerMinute: 600, old: legacy, new: { ...v2, errorRate: 0.05 } },
 *   ],
 * });
 * result.rollbacks[0]; // { offsetMs: 3 d 1 h 13 min, percentage: 10, reason: 'rollback guard: new error rate 6.25 % (always-valid interval 1.177 % to 27.182 %, limit 1 %) over 112' }
 * @throws InvalidOptionError naming the bad option and the value received.
 */
export async function replayMigration(options: ReplayMigrationOptions): Promise<ReplayResult> {
  const o = resolveReplayOptions(options);
  const { criteria, plan, tickEveryMs, resumeAfterMs, approve, seed } = o;
  const cap = o.maxCallsPerStep;
  const { model, start } = resolveTraffic(options);
  const drawU = draws(seededRandom(deriveSeed(seed, 'replay', 'failures')), o.errors === 'spread');
  const drawV = draws(seededRandom(deriveSeed(seed, 'replay', 'mismatches')), o.errors === 'spread');
  const endMs = o.durationMs ?? model.endMs;

  const clock = new ManualClock({ start, autoAdvance: false });
  // Calls run one at a time, so a sleep may move the clock at once: no macrotask per call keeps a month of traffic fast.
  const sleeper: SleepingClock = {
    now: () => clock.now(),
    sleep: (ms) => {
      clock.advance(ms);
      return Promise.resolve();
    },
  };
  const fakes: Record<Arm, FakeService<ReplayInput, number>> = {
    old: fakeService<ReplayInput, number>({ name: 'old', output: [0], seed, clock: sleeper }),
    new: fakeService<ReplayInput, number>({ name: 'new', output: [0], seed, clock: sleeper }),
  };
  const store = new InMemoryConfigStore(o.config ?? phases.shadow());
  const glue = new MigrationGlue<ReplayInput, number>({
    name: 'replay',
    oldService: fakes.old,
    newService: fakes.new,
    config: store,
    clock,
    logger: silentLogger,
    windowMs: criteria.windowMs,
    // Old first, then new: with a clock moved by each sleep, overlapping calls would add up each other's latency.
    shadow: { order: 'old-first', isolateInput: 'none' },
  });
  const guard = new RollbackGuard(glue, criteria, {
    clock,
    logger: silentLogger,
    ...(o.baseline === undefined ? {} : { baseline: o.baseline }),
  });
  const ramp = new RampController({
    store,
    plan,
    guard,
    clock,
    logger: silentLogger,
    name: 'replay',
    ...(approve === undefined ? {} : { approve: (step: RampStep) => approve(step, clock.now()) }),
  });

  const steps: ReplayStep[] = [];
  const rollbacks: ReplayRollback[] = [];
  const timeline: ReplayTick[] = [];
  const offRollback = glue.on('rollback', (event) => {
    rollbacks.push({ at: event.at, offsetMs: event.at - start, percentage: newShare(event.before), reason: event.reason });
  });
  const stopWatching = guard.watch();
  const current: Partial<Record<Arm, Script>> = {};
  let span: Span | undefined;
  let anyKey = 0;

  /**
   * The thinning of a step that begins at `at`, one factor per side for the
   * whole step, so that every part of it weighs in the judge's figures as in
   * production: `maxCallsPerStep` over the step's hold (one tick in shadow
   * mode; the rest of the replay while nothing is judged). A step that
   * outlasts its hold goes on at the same rate.
   */
  const spanFrom = (at: number, config: MigrationConfig): Span => {
    const percentage = newShare(config);
    const step = ramp.status().step;
    const hold = step >= 0 ? (plan[step]?.holdMs ?? 0) : 0;
    const until = config.newSystemEnabled ? Math.min(endMs, at + Math.max(tickEveryMs, hold)) : endMs;
    const calls = model.callsIn(at, until);
    const side = { new: (calls * percentage) / 100, old: (calls * (100 - percentage)) / 100 };
    return {
      config,
      factor: { new: side.new > cap ? cap / side.new : 1, old: side.old > cap ? cap / side.old : 1 },
      carry: { old: 0, new: 0 },
      keys: percentage > 0 && percentage < 100 ? new StepKeys('replay', Math.round(percentage * 100)) : undefined,
    };
  };

  /** Drives the thinned calls of [from, to) under `s`; stops early (returning where) when the config changes under it. */
  const driveSpan = async (s: Span, from: number, to: number): Promise<{ driven: number; until: number }> => {
    const calls = model.callsIn(from, to);
    const toNew = Math.round((calls * newShare(s.config)) / 100);
    const take = (arm: Arm, n: number): number => {
      const owed = n * s.factor[arm] + s.carry[arm];
      const whole = Math.floor(owed);
      s.carry[arm] = owed - whole;
      return whole;
    };
    const counts: Record<Arm, number> = { new: take('new', toNew), old: take('old', calls - toNew) };
    if (counts.new + counts.old === 0) return { driven: 0, until: to };
    model.beginWindow(from, to);
    const next = { old: 0, new: 0 };
    const timeOf = (arm: Arm, i: number) => from + ((i + 0.5) * (to - from)) / counts[arm];
    while (next.old < counts.old || next.new < counts.new) {
      const arm: Arm = next.new >= counts.new || (next.old < counts.old && timeOf('old', next.old) <= timeOf('new', next.new)) ? 'old' : 'new';
      const offset = timeOf(arm, next[arm]);
      if (!sameConfig(store.current(), s.config)) return { driven: next.old + next.new, until: offset };
      next[arm] += 1;
      // Back to the call's own time: each call's latency moved the clock, and calls overlap in production.
      clock.set(start + offset);
      for (const side of ['old', 'new'] as const) {
        const script = model.scriptAt(side, offset);
        if (current[side] !== script) {
          fakes[side].setScript(script);
          current[side] = script;
        }
      }
      const userId = s.keys === undefined ? `user-${(anyKey = (anyKey + 1) % 10_000)}` : s.keys.next(arm);
      await glue.process({ userId, u: drawU(), v: drawV() }).catch(ignore);
      if (s.config.shadowMode) await glue.drain();
    }
    fakes.old.clearCalls();
    fakes.new.clearCalls();
    return { driven: counts.old + counts.new, until: to };
  };

  const drive = async (from: number, to: number): Promise<number> => {
    let driven = 0;
    for (let at = from; at < to; ) {
      const config = store.current();
      if (span === undefined || !sameConfig(span.config, config)) span = spanFrom(at, config);
      const done = await driveSpan(span, at, to);
      driven += done.driven;
      at = done.until;
    }
    return driven;
  };

  let lastRollbackAt: number | undefined;
  let previousStep = ramp.status().step;
  let tickAt = 0;
  try {
    while (tickAt < endMs) {
      const from = tickAt;
      tickAt = Math.min(tickAt + tickEveryMs, endMs);
      const driven = await drive(from, tickAt);
      clock.set(start + tickAt);
      let status = await ramp.tick();
      if (status.step !== previousStep && status.step >= 0) {
        steps.push({ at: clock.now(), offsetMs: clock.now() - start, percentage: status.percentage });
      }
      previousStep = status.step;
      if (status.blockedBy === 'rolledBack') {
        lastRollbackAt ??= rollbacks.at(-1)?.at ?? clock.now();
        if (resumeAfterMs !== undefined && clock.now() >= lastRollbackAt + resumeAfterMs) {
          await ramp.resume();
          lastRollbackAt = undefined;
          status = ramp.status();
          previousStep = status.step;
        }
      }
      const judged = guard.check();
      const held = status.blockedBy === 'guard' || status.blockedBy === 'samples';
      timeline.push({
        at: clock.now(),
        offsetMs: clock.now() - start,
        percentage: newShare(store.current()),
        blockedBy: status.blockedBy,
        verdict: judged.verdict,
        ...(held ? { reasons: status.reasons ?? judged.reasons } : {}),
        ...(status.blockedBy === 'samples' && judged.needed !== undefined ? { needed: judged.needed } : {}),
        calls: model.callsIn(from, tickAt),
        driven,
      });
      if (status.blockedBy === 'rolledBack' && resumeAfterMs === undefined) break;
    }
    const last = timeline.at(-1);
    return {
      steps,
      rollbacks,
      finalPercentage: newShare(store.current()),
      blockedBy: ramp.status().blockedBy,
      ...(last?.reasons === undefined ? {} : { reasons: last.reasons }),
      timeline,
      endedAt: clock.now(),
    };
  } finally {
    stopWatching();
    offRollback();
    guard.close();
    ramp.close();
    await glue.close();
  }
}

function ignore(): void {}
