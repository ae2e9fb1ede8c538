import type { Comparator, Comparison, Outcome } from '../compare/comparator.js';
import type { RoutingKey } from '../hashing/hasher.js';
import { WindowCounts } from '../observe/arm-metrics.js';
import type { Clock } from '../observe/clock.js';
import type { Emitter } from '../observe/emitter.js';
import type { LogLimiter } from '../observe/log-limiter.js';
import type { GlueEvents, MismatchKind, ShadowErrorEvent } from './events.js';
import type { Flight } from './shadow-flight.js';
import type { ShadowReport } from './shadow-report.js';
import { checkedComparison } from './shadow-report.js';
import type { ShadowStats } from './stats.js';

/**
 * The verdicts of shadow calls: compares old's and new's outcomes (the
 * user's comparator, guarded), counts matches, mismatches by kind, errors
 * and timeouts (in total and over the window), emits `shadowError`, and
 * hands each mismatch to the ShadowReport.
 */
export class ShadowJudge<I, O> {
  readonly #name: string;
  readonly #comparator: Comparator<O>;
  readonly #emitter: Emitter<GlueEvents<I, O>>;
  readonly #log: LogLimiter;
  readonly #report: ShadowReport<I, O>;
  readonly #aa: boolean;
  readonly #window: WindowCounts<'compared' | 'mismatched' | 'errors' | 'timeouts'>;
  #matched = 0;
  readonly #byKind = { value: 0, error: 0, flaky: 0 };
  #errors = 0;
  #timeouts = 0;

  constructor(init: {
    name: string;
    comparator: Comparator<O>;
    emitter: Emitter<GlueEvents<I, O>>;
    log: LogLimiter;
    report: ShadowReport<I, O>;
    clock: Clock;
    windowMs: number;
    aa: boolean;
  }) {
    this.#name = init.name;
    this.#comparator = init.comparator;
    this.#emitter = init.emitter;
    this.#log = init.log;
    this.#report = init.report;
    this.#aa = init.aa;
    this.#window = new WindowCounts(['compared', 'mismatched', 'errors', 'timeouts'], { clock: init.clock, windowMs: init.windowMs });
  }

  /** The comparator's checked answer; undefined (counted, logged, `shadowError` emitted) when it threw or answered garbage. */
  compare(flight: Flight<I, O>, a: Outcome<O>, b: Outcome<O>): Comparison | undefined {
    try {
      return checkedComparison(this.#comparator.compare(a, b));
    } catch (error) {
      this.#errors += 1;
      this.#window.add('errors');
      this.#log.log('error', 'comparator', { err: this.#report.cleaner.error(error, flight.cargo?.input), migration: this.#name }, 'shadow comparator threw');
      if (flight.cargo !== undefined) this.shadowError(flight.key, flight.cargo.input, 'comparator', error);
      return undefined;
    }
  }

  /** Judges a flight whose both outcomes are in: compares (unless `known`), counts and reports. `flaky`: old disagreed with itself. */
  judge(flight: Flight<I, O>, known: Comparison | undefined, flaky: boolean): void {
    const cargo = flight.cargo;
    if (cargo?.old === undefined || cargo.new === undefined) return;
    const oldOutcome = cargo.old;
    const newOutcome = cargo.new;
    if (!newOutcome.ok && oldOutcome.ok) {
      this.#errors += 1;
      this.#window.add('errors');
      this.shadowError(flight.key, cargo.input, 'error', newOutcome.error);
    }
    const comparison = known ?? this.compare(flight, oldOutcome, newOutcome);
    if (comparison === undefined) return;
    this.#window.add('compared', 1, flight.settledAt);
    if (comparison.equal) {
      this.#matched += 1;
      return;
    }
    const kind: MismatchKind = flaky ? 'flaky' : (comparison.kind ?? 'value');
    this.#byKind[kind] += 1;
    if (kind !== 'flaky') this.#window.add('mismatched');
    const facts = { key: flight.key, input: cargo.input, old: oldOutcome, new: newOutcome, oldMs: flight.oldMs, newMs: flight.newMs };
    this.#report.mismatch(facts, comparison, kind);
  }

  /** Counts, logs and emits a shadow call that did not land within `timeoutMs`. */
  timedOut(flight: Flight<I, O>, timeoutMs: number): void {
    const cargo = flight.cargo;
    if (cargo === undefined) return;
    this.#timeouts += 1;
    this.#window.add('timeouts');
    this.#log.log('warn', 'shadow-timeout', { migration: this.#name, key: flight.key, timeoutMs }, 'shadow call timed out');
    const waitingFor = cargo.old === undefined ? 'old' : 'new';
    this.shadowError(flight.key, cargo.input, 'timeout', new Error(`shadow comparison timed out after ${timeoutMs} ms waiting for ${waitingFor}`));
  }

  /** Emits `shadowError` (the input and, unless it is our timeout, the error cleaned) when someone listens. */
  shadowError(key: RoutingKey | undefined, input: I, reason: ShadowErrorEvent<I>['reason'], error: unknown): void {
    if (!this.#emitter.has('shadowError')) return;
    const shown = reason === 'timeout' ? error : this.#report.cleaner.error(error, input);
    this.#emitter.emit('shadowError', { migration: this.#name, key, input: this.#report.cleaner.input(input), reason, error: shown });
  }

  /** The shadow figures, the window moved to `now`; the runner supplies what admission and isolation counted. */
  stats(now: number, inFlight: number, skippedBy: ShadowStats['skippedBy'], inputMutations: number): ShadowStats {
    const byKind = this.#byKind;
    const mismatched = byKind.value + byKind.error;
    const compared = this.#matched + mismatched + byKind.flaky;
    const window = this.#window.window(now);
    return {
      compared,
      matched: this.#matched,
      mismatched,
      mismatchesByKind: { value: byKind.value, error: byKind.error, flaky: byKind.flaky },
      errors: this.#errors,
      timeouts: this.#timeouts,
      skipped: skippedBy.sampledOut + skippedBy.overCapacity + skippedBy.missingKey + skippedBy.outsidePercentage,
      skippedBy,
      inFlight,
      inputMutations,
      mismatchRate: compared === 0 ? 0 : mismatched / compared,
      aa: this.#aa,
      window: {
        compared: window.compared,
        mismatched: window.mismatched,
        errors: window.errors,
        timeouts: window.timeouts,
        mismatchRate: window.compared === 0 ? 0 : window.mismatched / window.compared,
      },
      fingerprints: this.#report.fingerprints(),
    };
  }
}
