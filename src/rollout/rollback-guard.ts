import type { MigrationConfig } from '../config/migration-config.js';
import { isRolledBack } from '../config/migration-config.js';
import type { ConfigChangeEvent } from '../core/events.js';
import type { GlueLike } from '../core/glue-like.js';
import type { MigrationStats } from '../core/stats.js';
import { InvalidOptionError } from '../errors.js';
import type { Clock } from '../observe/clock.js';
import type { Logger } from '../observe/logger.js';
import type { NotifyFn } from '../observe/notifier.js';
import { toNotify } from '../observe/notifier.js';
import { errorText, readClock } from './bounded.js';
import { settleWithin } from '../bounded.js';
import type { RollbackCriteria } from './criteria.js';
import { resolveCriteria } from './criteria.js';
import type { JudgeSettings } from './judge.js';
import { judgeStep } from './judge.js';
import type { Counts } from './sequential.js';
import { StepRecorder } from './step-evidence.js';
import type { RollbackGuardOptions } from './guard-options.js';
import { resolveGuardOptions } from './guard-options.js';

import type { Control, GuardResult } from './guard-result.js';

export type { RollbackGuardOptions } from './guard-options.js';
export type { Control, GuardResult } from './guard-result.js';

/** @deprecated Use GlueLike (src/core/glue-like.ts): the same need, one name for the whole library. */
export type AnyGlue = GlueLike;

/** How many tests of one step can roll back: error rate, error rate over the control, latency (or, in shadow, value mismatches and errors). */
const TESTS_PER_STEP = 3;

/**
 * A sequential judge of the step in force: new's error rate, latency and
 * shadow mismatches, tested against the control with always-valid
 * confidence sequences (see docs/rollout.md), so that looking after every
 * call never inflates the chance of a false rollback. Evidence counts from
 * the moment the step's config was set; figures of an earlier phase never
 * judge the next. `check()` gives the verdict; `watch()` rolls back the
 * moment it is `fail`.
 */
export class RollbackGuard {
  readonly criteria: RollbackCriteria;
  readonly #glue: GlueLike;
  readonly #logger: Logger;
  readonly #clock: Clock;
  readonly #notify: NotifyFn;
  readonly #rollbackTimeoutMs: number;
  readonly #settings: JudgeSettings;
  readonly #given: Control | undefined;
  readonly #recorder: StepRecorder;
  readonly #offChange: () => void;
  /** Value mismatches of old against itself (A/A), given or measured. */
  #noise: Counts | undefined;
  /** The rollback in flight, if any: while set, the guard does not trip again. */
  #trip: object | undefined;
  #statsFailing = false;
  /** The step whose stall was already announced. */
  #stallTold: number | undefined;

  /** @throws InvalidOptionError on a bad criterion or option, a `windowMs` that differs from the glue's, or a glue whose `stats()` throws. */
  constructor(glue: GlueLike, criteria: Partial<RollbackCriteria> = {}, options: RollbackGuardOptions = {}) {
    if (typeof glue !== 'object' || glue === null || typeof glue.stats !== 'function' || typeof glue.on !== 'function') {
      throw new InvalidOptionError('glue', 'must be a MigrationGlue (or FleetStats): something with stats(), on() and rollback()');
    }
    this.#glue = glue;
    this.criteria = resolveCriteria(criteria);
    let first: MigrationStats;
    try {
      first = glue.stats();
    } catch (err) {
      throw new InvalidOptionError('glue', `must answer stats(), which threw: ${errorText(err)}`);
    }
    const glueWindow: unknown = first?.windowMs;
    if (criteria.windowMs !== undefined && criteria.windowMs !== glueWindow) {
      throw new InvalidOptionError(
        'criteria.windowMs',
        `must equal the glue's windowMs (${String(glueWindow)}) since the stats share the glue's window, got ${criteria.windowMs}`,
      );
    }
    const resolved = resolveGuardOptions(options);
    this.#logger = resolved.logger;
    this.#clock = resolved.clock;
    this.#notify = toNotify(resolved.notifier, this.#logger);
    this.#rollbackTimeoutMs = resolved.rollbackTimeoutMs;
    const c = this.criteria;
    this.#settings = {
      maxErrorRate: c.maxErrorRate,
      maxErrorRateOverBaseline: c.maxErrorRateOverBaseline,
      maxP95Ratio: c.maxP95Ratio,
      maxMismatchRate: c.maxMismatchRate,
      minSamples: c.minSamples,
      alpha: c.falseRollbackRate / (c.rampSteps * TESTS_PER_STEP),
      ratioAlpha: c.falseRollbackRate / c.rampSteps,
    };
    if (resolved.baseline !== undefined) {
      const { calls, errorRate, p95 } = resolved.baseline;
      this.#given = { source: 'baseline', calls, errorRate, p95 };
    }
    if (resolved.noise !== undefined) this.#noise = { trials: resolved.noise.compared, events: resolved.noise.mismatched };
    const at = readClock(this.#clock) ?? Date.now();
    this.#recorder = new StepRecorder(glue, at, this.#given);
    // Every step is tracked from construction, so that check() works without watch().
    this.#offChange = glue.on('configChange', (event) => this.#onConfigChange(event));
  }

  /** Old's baseline as known now: measured while new served nothing, or given. */
  get baseline(): Control | undefined {
    const control = this.#safeJudge()?.control;
    return control?.source === 'baseline' ? control : this.#given;
  }

  /**
   * Judges the step in force now: pass, fail or inconclusive, with the
   * figures behind it. Cheap enough to call after every call.
   * @throws whatever `glue.stats()` throws.
   */
  check(): GuardResult {
    return this.#judgeNow(this.#glue.stats(), true);
  }

  /**
   * Rolls the glue back the moment the verdict is `fail`, judged after every
   * call new served and every mismatch: the call after the one that settled
   * it is already served by old. A step inconclusive past
   * `maxInconclusiveMs` is told to the notifier once, then held or rolled
   * back (`onInconclusive`). No polling. Returns a function that stops watching.
   */
  watch(): () => void {
    const judge = (): void => this.#watchJudge();
    const offSettled = this.#glue.on('settled', (event) => {
      if (event?.arm === 'new') judge();
    });
    const offMismatch = this.#glue.on('mismatch', judge);
    return () => {
      offSettled();
      offMismatch();
    };
  }

  /**
   * Starts judging the step in force afresh: what was counted before no
   * longer judges it. Call it after deploying a fixed new in the middle of a
   * step (shadow mismatches of the broken build must not fail the fixed one).
   * Old's figures of a step where new served nothing stay in the baseline.
   */
  restartStep(): void {
    const stats = this.#glue.stats();
    this.#recorder.startStep(this.#recorder.config, readClock(this.#clock) ?? Date.now(), stats, true);
    this.#stallTold = undefined;
  }

  /** Stops following the glue's steps (and any `watch()`ers keep their own unsubscribe). */
  close(): void {
    this.#offChange();
    this.#recorder.close();
  }

  #onConfigChange(event: ConfigChangeEvent): void {
    const after = event?.after;
    if (typeof after !== 'object' || after === null) return;
    // Moving forward again after a rollback (a resume, an operator) re-arms the guard, whatever became of the rollback's wait.
    if (!isRolledBack(after)) this.#trip = undefined;
    let stats: MigrationStats;
    try {
      stats = this.#glue.stats();
    } catch {
      return;
    }
    this.#keepNoise(stats);
    this.#recorder.startStep(after, typeof event.at === 'number' && Number.isFinite(event.at) ? event.at : (readClock(this.#clock) ?? Date.now()), stats);
  }

  /** At the end of an A/A step, its value mismatches become the noise floor. */
  #keepNoise(stats: MigrationStats): void {
    if (stats?.shadow?.aa !== true) return;
    const e = this.#recorder.evidence(stats, this.criteria.minSamples);
    if (e.phase !== 'shadow' || e.shadow.compared === 0) return;
    const before = this.#noise ?? { trials: 0, events: 0 };
    this.#noise = { trials: before.trials + e.shadow.compared, events: before.events + e.shadow.valueMismatches };
  }

  #judgeNow(stats: MigrationStats, explain: boolean): GuardResult {
    const config = stats?.config as MigrationConfig | undefined;
    // A config the guard missed (no configChange before the first call of a step) starts the step now.
    if (config !== undefined && typeof config === 'object') this.#recorder.startStep(config, readClock(this.#clock) ?? Date.now(), stats);
    let evidence = this.#recorder.evidence(stats, this.criteria.minSamples);
    const aa = stats?.shadow?.aa === true && evidence.phase === 'shadow';
    if (aa) {
      // Old against old: the mismatches are the comparator's noise, not new's.
      evidence = { ...evidence, shadow: { ...evidence.shadow, valueMismatches: 0 } };
    } else if (this.#noise !== undefined) {
      evidence = { ...evidence, noise: this.#noise };
    }
    const judgement = judgeStep(evidence, this.#settings, { explain });
    const since = this.#recorder.since;
    const now = readClock(this.#clock);
    const stalled = judgement.verdict === 'inconclusive' && now !== undefined && now - since > this.criteria.maxInconclusiveMs;
    const ratio = judgement.metrics.find((m) => m.metric === 'sampleRatio');
    const holding = judgement.metrics.find((m) => m.verdict === 'inconclusive');
    const control = evidence.control;
    const reasons = aa ? [...judgement.reasons, 'A/A mode: shadow mismatches measure the comparator noise, not new'] : judgement.reasons;
    return {
      verdict: judgement.verdict,
      ok: judgement.verdict !== 'fail' && ratio?.verdict !== 'fail',
      enough: judgement.verdict === 'pass',
      reasons,
      metrics: judgement.metrics,
      samples: { new: evidence.new.calls, old: evidence.oldInShadow.trials, compared: evidence.shadow.compared },
      control:
        control === undefined
          ? undefined
          : {
              source: control.source,
              calls: control.calls,
              errorRate: control.calls > 0 ? control.errors / control.calls : 0,
              p95: control.latency !== undefined && control.latency.count > 0 ? control.latency.percentile(0.95) : (control.p95 ?? 0),
            },
      since,
      stalled,
      needed: holding?.needed,
    };
  }

  #safeJudge(explain = false): GuardResult | undefined {
    try {
      const result = this.#judgeNow(this.#glue.stats(), explain);
      this.#statsFailing = false;
      return result;
    } catch (err) {
      if (!this.#statsFailing) this.#logger.error({ err, migration: this.#glue.name }, 'rollback guard could not read the glue stats');
      this.#statsFailing = true;
      return undefined;
    }
  }

  #watchJudge(): void {
    if (this.#trip !== undefined) return;
    let result = this.#safeJudge();
    if (result === undefined) return;
    const config = this.#recorder.config;
    if (isRolledBack(config)) return;
    if (result.verdict === 'fail') {
      this.#rollBack(`rollback guard: ${result.reasons.join('; ')}`);
      return;
    }
    if (result.stalled && this.#stallTold !== result.since) {
      this.#stallTold = result.since;
      // The calls still needed cost a search, so watch() judges without them; once per stall, the notification gets them.
      result = this.#safeJudge(true) ?? result;
      const hours = Math.round(this.criteria.maxInconclusiveMs / 3_600_000);
      const message = `${this.#glue.name}: step inconclusive for more than ${hours} h (${result.reasons[0] ?? 'not enough evidence'})`;
      this.#logger.warn({ migration: this.#glue.name, reasons: result.reasons, needed: result.needed }, 'rollback guard: step inconclusive for too long');
      void this.#notify({
        kind: 'blocked',
        migration: this.#glue.name,
        message,
        at: readClock(this.#clock) ?? Date.now(),
        details: { reasons: result.reasons, needed: result.needed, onInconclusive: this.criteria.onInconclusive },
      });
      if (this.criteria.onInconclusive === 'rollback') this.#rollBack(`rollback guard: ${message}`);
    }
  }

  #rollBack(reason: string): void {
    const trip = {};
    this.#trip = trip;
    const glue = this.#glue;
    // The rollback is started synchronously (the glue switches to old at once); only the wait for it is bounded.
    void settleWithin(() => glue.rollback(reason), this.#rollbackTimeoutMs).then((outcome) => {
      if (outcome.status === 'error') {
        this.#logger.error({ err: outcome.error, migration: glue.name }, 'rollback guard could not save the rollback');
      } else if (outcome.status === 'timeout') {
        this.#logger.error(
          { migration: glue.name, timeoutMs: this.#rollbackTimeoutMs, reason },
          'rollback did not settle in time; the guard may trip again',
        );
      }
      if (this.#trip === trip) this.#trip = undefined;
    });
  }
}
