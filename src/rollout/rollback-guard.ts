import { isRolledBack } from '../config/migration-config.js';
import type { ConfigChangeEvent, RollbackEvent, SettledEvent } from '../core/events.js';
import type { MigrationStats } from '../core/stats.js';
import { InvalidOptionError } from '../errors.js';
import type { ArmFigures } from '../observe/arm-metrics.js';
import type { Logger } from '../observe/logger.js';
import { safeLogger } from '../observe/logger.js';
import type { RollbackCriteria } from './criteria.js';
import { percent, resolveCriteria } from './criteria.js';

/**
 * What the guard and the journal need of a glue: any MigrationGlue fits,
 * whatever its input and output types.
 */
export interface AnyGlue {
  readonly name: string;
  stats(): MigrationStats;
  rollback(reason: string): Promise<boolean>;
  on(event: 'settled', listener: (event: SettledEvent) => void): () => void;
  on(event: 'mismatch', listener: (event: unknown) => void): () => void;
  on(event: 'configChange', listener: (event: ConfigChangeEvent) => void): () => void;
  on(event: 'rollback', listener: (event: RollbackEvent) => void): () => void;
}

/** Old's figures used as the control: live (old served in the same window) or the baseline captured before new took traffic. */
export interface Control {
  readonly source: 'live' | 'baseline';
  readonly calls: number;
  readonly errorRate: number;
  readonly p95: number;
}

/** What `check()` found. */
export interface GuardResult {
  /** False when a criterion tripped. Too few samples is never a reason: then `ok` is true and `enough` false. */
  readonly ok: boolean;
  /** One line per tripped criterion, naming it and the figures. */
  readonly reasons: readonly string[];
  /** Whether the phase in force had enough samples to be judged (what a ramp needs to advance). */
  readonly enough: boolean;
  readonly samples: { readonly new: number; readonly old: number; readonly compared: number };
  readonly control: Control | undefined;
}

/** Options of a RollbackGuard beyond its criteria. */
export interface RollbackGuardOptions {
  /** Old's figures from before new took traffic, e.g. measured last week. @default captured from the glue while new serves nothing */
  readonly baseline?: Pick<ArmFigures, 'calls' | 'errorRate' | 'p95'>;
  /** @default the glue's logger is not reachable, so pino at `info` */
  readonly logger?: Logger;
}

/**
 * Judges a glue's sliding-window figures against rollback criteria, and with
 * `watch()` rolls it back the moment one trips.
 *
 * - error rate: new's above `maxErrorRate`, or above the control's plus
 *   `maxErrorRateOverBaseline`;
 * - latency: new's P95 above `maxP95Ratio` times the control's;
 * - data: the shadow mismatch rate above `maxMismatchRate`.
 *
 * New needs `minSamples` calls in the window before its error rate is judged;
 * comparisons with old need `minSamples` on old's side too; the mismatch
 * rate needs `minSamples` comparisons. The control is old's live figures
 * when old served `minSamples` calls in the same window, otherwise the
 * baseline captured while new served nothing.
 */
export class RollbackGuard {
  readonly criteria: RollbackCriteria;
  readonly #glue: AnyGlue;
  readonly #logger: Logger;
  #baseline: Control | undefined;
  #tripping = false;

  /** @throws InvalidOptionError on a bad criterion, or a `windowMs` that differs from the glue's. */
  constructor(glue: AnyGlue, criteria: Partial<RollbackCriteria> = {}, options: RollbackGuardOptions = {}) {
    this.#glue = glue;
    this.criteria = resolveCriteria(criteria);
    const glueWindow = glue.stats().windowMs;
    if (criteria.windowMs !== undefined && criteria.windowMs !== glueWindow) {
      throw new InvalidOptionError(
        'criteria.windowMs',
        `must equal the glue's windowMs (${glueWindow}) since the guard reads the glue's window, got ${criteria.windowMs}`,
      );
    }
    this.#logger = safeLogger(options.logger);
    if (options.baseline !== undefined) {
      const { calls, errorRate, p95 } = options.baseline;
      if (![calls, errorRate, p95].every((v) => typeof v === 'number' && Number.isFinite(v) && v >= 0)) {
        throw new InvalidOptionError('baseline', 'must have finite, non-negative calls, errorRate and p95');
      }
      this.#baseline = { source: 'baseline', calls, errorRate, p95 };
    }
  }

  /** Old's baseline, once captured (or given). */
  get baseline(): Control | undefined {
    return this.#baseline;
  }

  /**
   * Takes old's current window figures as the baseline, when old has served
   * `minSamples` calls in it. Called by `check()` while new serves nothing.
   * Returns whether a baseline was taken.
   */
  captureBaseline(stats: MigrationStats = this.#glue.stats()): boolean {
    const old = stats.old.window;
    if (old.calls < this.criteria.minSamples) return false;
    this.#baseline = { source: 'baseline', calls: old.calls, errorRate: old.errorRate, p95: old.p95 };
    return true;
  }

  /** Judges the glue's figures now. Cheap enough to call after every call. */
  check(): GuardResult {
    return this.#evaluate(this.#glue.stats());
  }

  #evaluate(stats: MigrationStats): GuardResult {
    const c = this.criteria;
    const fresh = stats.new.window;
    const old = stats.old.window;
    const shadow = stats.shadow.window;
    if (fresh.calls === 0 && stats.new.calls === 0) this.captureBaseline(stats);
    const control: Control | undefined =
      old.calls >= c.minSamples ? { source: 'live', calls: old.calls, errorRate: old.errorRate, p95: old.p95 } : this.#baseline;
    const reasons: string[] = [];
    const newEnough = fresh.calls >= c.minSamples;
    if (newEnough) {
      if (fresh.errorRate > c.maxErrorRate) {
        reasons.push(`new error rate ${percent(fresh.errorRate)} > ${percent(c.maxErrorRate)} over ${fresh.calls} calls`);
      } else if (control !== undefined && fresh.errorRate > control.errorRate + c.maxErrorRateOverBaseline) {
        reasons.push(
          `new error rate ${percent(fresh.errorRate)} > old's ${percent(control.errorRate)} (${control.source}) + ${points(c.maxErrorRateOverBaseline)} over ${fresh.calls} calls`,
        );
      }
      if (control !== undefined && control.p95 > 0 && fresh.p95 > c.maxP95Ratio * control.p95) {
        reasons.push(
          `new p95 ${ms(fresh.p95)} > ${c.maxP95Ratio}x old's ${ms(control.p95)} (${control.source}) over ${fresh.calls} calls`,
        );
      }
    }
    const comparedEnough = shadow.compared >= c.minSamples;
    if (comparedEnough && shadow.mismatchRate > c.maxMismatchRate) {
      reasons.push(`shadow mismatch rate ${percent(shadow.mismatchRate)} > ${percent(c.maxMismatchRate)} over ${shadow.compared} comparisons`);
    }
    const enough = stats.config.shadowMode ? comparedEnough : newEnough;
    return {
      ok: reasons.length === 0,
      reasons,
      enough,
      samples: { new: fresh.calls, old: old.calls, compared: shadow.compared },
      control,
    };
  }

  /**
   * Rolls the glue back the moment a criterion trips, judged after every
   * call new served and every mismatch: the call after the one that crossed
   * a limit is already served by old. Returns a function that stops watching.
   */
  watch(): () => void {
    const judge = () => this.#judge();
    const offSettled = this.#glue.on('settled', (event) => {
      if (event.arm === 'new') judge();
    });
    const offMismatch = this.#glue.on('mismatch', judge);
    return () => {
      offSettled();
      offMismatch();
    };
  }

  #judge(): void {
    if (this.#tripping) return;
    // One stats() per judged call: it runs after every call new serves.
    const stats = this.#glue.stats();
    if (isRolledBack(stats.config)) return;
    const result = this.#evaluate(stats);
    if (result.ok) return;
    this.#tripping = true;
    const reason = `rollback guard: ${result.reasons.join('; ')}`;
    this.#glue
      .rollback(reason)
      .catch((err: unknown) => this.#logger.error({ err, migration: this.#glue.name }, 'rollback guard could not save the rollback'))
      .finally(() => {
        this.#tripping = false;
      });
  }
}


function points(rate: number): string {
  return `${Number((rate * 100).toFixed(2))} points`;
}

function ms(value: number): string {
  return `${Number(value.toFixed(2))} ms`;
}
