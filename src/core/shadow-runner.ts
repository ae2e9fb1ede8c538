import type { Comparator } from '../compare/comparator.js';
import type { ComparatorLike } from '../compare/to-comparator.js';
import { toComparator } from '../compare/to-comparator.js';
import type { MigrationConfig } from '../config/migration-config.js';
import type { Hasher, RoutingKey } from '../hashing/hasher.js';
import type { Clock } from '../observe/clock.js';
import { systemClock } from '../observe/clock.js';
import type { Emitter } from '../observe/emitter.js';
import { LogLimiter } from '../observe/log-limiter.js';
import type { Logger } from '../observe/logger.js';
import type { Arm, GlueEvents } from './events.js';
import { MismatchLog } from './mismatch-log.js';
import type { ServiceCall } from './service.js';
import { ShadowAdmission } from './shadow-admission.js';
import type { Flight } from './shadow-flight.js';
import { newCargo, newFlight } from './shadow-flight.js';
import { InputIsolation } from './shadow-input.js';
import { ShadowJudge } from './shadow-judge.js';
import type { ResolvedShadowOptions, ShadowOrder } from './shadow-options.js';
import { ShadowReport } from './shadow-report.js';
import { Cleaner } from './cleaner.js';
import { ShadowTimers } from './shadow-timer.js';
import type { ShadowStats } from './stats.js';
import type { CallSink } from './timed.js';
import { timedInBackground, timedShadowOld as timed } from './timed.js';

export type { ShadowOptions, ShadowOrder } from './shadow-options.js';

/**
 * Runs shadow calls for a MigrationGlue: the order of old's and new's calls
 * and each call's flight from take-off to landing (compared, timed out or
 * failed). Admission, input isolation, verdicts and reports are delegated.
 */
export class ShadowRunner<I, O> {
  readonly #name: string;
  readonly #newCall: ServiceCall<I, O>;
  readonly #oldCall: ServiceCall<I, O>;
  readonly #clock: Clock;
  /** True when the glue's clock is the real one, so its readings also date the timeout cohorts. */
  readonly #realClock: boolean;
  readonly #recorder: CallSink<I, Arm>;
  readonly #timeoutMs: number;
  readonly #order: ShadowOrder;
  readonly #rerunOld: boolean;
  readonly #log: LogLimiter;
  readonly #admission: ShadowAdmission<I, O>;
  readonly #isolation: InputIsolation<I, O>;
  readonly #report: ShadowReport<I, O>;
  readonly #judge: ShadowJudge<I, O>;
  readonly #timers: ShadowTimers<Flight<I, O>>;
  readonly #drainWaiters: (() => void)[] = [];
  #inFlight = 0;
  /** Where old's answer lands (old is timed once, for the caller's metrics and the comparison). */
  readonly #oldSink: CallSink<I, Flight<I, O>> = {
    settled: (flight, input, ok, result, durationMs, end) => this.#oldSettled(flight, input, ok, result, durationMs, end),
  };
  readonly #newSink: CallSink<I, Flight<I, O>> = {
    settled: (flight, _input, ok, result, durationMs, end) => this.#newSettled(flight, ok, result, durationMs, end),
  };

  constructor(init: {
    name: string;
    salt: string;
    hasher: Hasher;
    newCall: ServiceCall<I, O>;
    oldCall: ServiceCall<I, O>;
    comparator: ComparatorLike<O>;
    options: ResolvedShadowOptions<I, O>;
    emitter: Emitter<GlueEvents<I, O>>;
    logger: Logger;
    clock: Clock;
    windowMs: number;
    /** Where old's call is recorded with the glue's other served calls (metrics, `settled`). */
    recorder: CallSink<I, Arm>;
  }) {
    const { options, clock, emitter, name } = init;
    const comparator: Comparator<O> = toComparator(init.comparator);
    this.#name = name;
    this.#newCall = options.aa ? init.oldCall : init.newCall;
    this.#oldCall = init.oldCall;
    this.#clock = clock;
    this.#realClock = clock === systemClock;
    this.#recorder = init.recorder;
    this.#timeoutMs = options.timeoutMs;
    this.#order = options.order;
    this.#rerunOld = options.rerunOldOnMismatch;
    this.#log = new LogLimiter(init.logger, clock);
    const log = this.#log;
    this.#admission = new ShadowAdmission({ name, salt: init.salt, hasher: init.hasher, sampleRate: options.sampleRate, maxInFlight: options.maxInFlight, emitter, log });
    this.#isolation = new InputIsolation({ name, clone: options.isolateInput === 'clone', log });
    this.#report = new ShadowReport<I, O>({
      name,
      comparator,
      emitter,
      clock,
      mismatchLog: new MismatchLog(init.logger, options.logPerMinute, options.logTotalPerMinute),
      clean: new Cleaner<I, O>(name, options.clean, log),
    });
    this.#judge = new ShadowJudge({ name, comparator, emitter, log, report: this.#report, clock, windowMs: init.windowMs, aa: options.aa });
    this.#timers = new ShadowTimers<Flight<I, O>>(this.#timeoutMs, (flight) => this.#timeout(flight));
  }

  /** Decides whether this call is shadowed; emits `shadowSkipped` and returns false when not. Never throws. */
  admit(key: RoutingKey | undefined, config: MigrationConfig): boolean {
    return this.#admission.admit(key, config, this.#inFlight);
  }

  /**
   * Runs old (whose result the caller gets, untouched; timed and recorded
   * with the glue's served calls) and new in the shadow, for an admitted
   * call. The caller never waits for new longer than `timeoutMs` (and not at
   * all with `parallel` and `old-first`).
   */
  run(input: I, key: RoutingKey | undefined): Promise<O> {
    const flight = this.#takeOff(input, key);
    const start = flight.start;
    const order = this.#order === 'random' ? (Math.random() < 0.5 ? 'old-first' : 'new-first') : this.#order;
    if (order === 'parallel') {
      // New is called first, so old's latency (the baseline) never includes new's synchronous part.
      this.#startNew(flight, start);
      return timed(this.#clock, this.#oldCall, input, this.#oldSink, flight);
    }
    if (order === 'new-first') {
      const gate = new Promise<void>((resolve) => {
        flight.gate = resolve;
      });
      this.#startNew(flight);
      return gate.then(() => timed(this.#clock, this.#oldCall, input, this.#oldSink, flight));
    }
    const served = timed(this.#clock, this.#oldCall, input, this.#oldSink, flight, start);
    const next = (): void => this.#startNew(flight);
    served.then(next, next);
    return served;
  }

  /** The input as events and logs may show it (after the `clean` hook, on a copy). Never throws. */
  clean(input: I): I {
    return this.#report.cleaner.input(input);
  }

  /** An error of a call with `input` as events and logs may show it (see `shadow.clean`). Never throws. */
  cleanError(error: unknown, input: I | undefined): unknown {
    return this.#report.cleaner.error(error, input);
  }

  /**
   * Resolves when every shadow call in flight has been compared or has timed
   * out: within `timeoutMs` of the last call started. While it is awaited the
   * shadow timers keep the process alive.
   */
  drain(): Promise<void> {
    if (this.#inFlight === 0) return Promise.resolve();
    this.#timers.hold();
    return new Promise((resolve) => this.#drainWaiters.push(resolve));
  }

  /** The shadow figures, windows moved to `now` (the reading the glue's other figures use). */
  stats(now: number): ShadowStats {
    return this.#judge.stats(now, this.#inFlight, this.#admission.skipped(), this.#isolation.mutations);
  }

  #takeOff(input: I, key: RoutingKey | undefined): Flight<I, O> {
    this.#inFlight += 1;
    const cargo = newCargo<I, O>(input);
    this.#isolation.isolate(cargo);
    const start = this.#clock.now();
    const flight = newFlight(key, cargo, start);
    // Timeouts are in real time, whatever clock the glue was given.
    this.#timers.join(flight, this.#realClock ? start : systemClock.now());
    return flight;
  }

  /** Old answered (the caller sees it next): record it with the glue's calls, then compare when new is in. Never throws. */
  #oldSettled(flight: Flight<I, O>, input: I, ok: boolean, result: unknown, durationMs: number, end: number): void {
    try {
      flight.oldMs = durationMs;
      flight.settledAt = end;
      this.#recorder.settled('old', input, ok, result, durationMs, end);
      if (flight.cargo === undefined) return;
      flight.cargo.old = ok ? { ok, value: result as O } : { ok, error: result };
      this.#settleIfReady(flight);
    } catch (err) {
      this.#failed(flight, err);
    }
  }

  /** Calls new (or old, in A/A mode). Never throws; the continuations hold the flight, not its cargo. */
  #startNew(flight: Flight<I, O>, start?: number): void {
    const cargo = flight.cargo;
    if (cargo === undefined) return;
    timedInBackground(this.#clock, this.#newCall, cargo.newInput, this.#newSink, flight, start);
  }

  #newSettled(flight: Flight<I, O>, ok: boolean, result: unknown, durationMs: number, end: number): void {
    try {
      if (flight.cargo === undefined) return;
      flight.settledAt = end;
      flight.cargo.new = ok ? { ok, value: result as O } : { ok, error: result };
      flight.newMs = durationMs;
      this.#openGate(flight);
      this.#settleIfReady(flight);
    } catch (err) {
      this.#failed(flight, err);
    }
  }

  /** With `new-first`: lets old start. */
  #openGate(flight: Flight<I, O>): void {
    const gate = flight.gate;
    flight.gate = undefined;
    gate?.();
  }

  #settleIfReady(flight: Flight<I, O>): void {
    const cargo = flight.cargo;
    if (flight.done || cargo === undefined || cargo.old === undefined || cargo.new === undefined) return;
    if (this.#isolation.mutated(flight, cargo)) {
      this.#judge.shadowError(flight.key, cargo.input, 'input-mutated', new Error('the new service mutated its input'));
    }
    if (!this.#rerunOld) {
      this.#finish(flight, undefined, false);
      return;
    }
    // Re-running old needs one more call; the flight stays in flight (and times out) until then.
    const comparison = this.#judge.compare(flight, cargo.old, cargo.new);
    if (comparison === undefined) {
      this.#land(flight);
      return;
    }
    if (comparison.equal) {
      this.#finish(flight, comparison, false);
      return;
    }
    cargo.pending = comparison;
    let answer: Promise<O>;
    try {
      answer = Promise.resolve(this.#oldCall(this.#isolation.rerunInput(cargo)));
    } catch (error) {
      answer = Promise.reject(error);
    }
    answer.then(
      (value) => this.#rerunSettled(flight, { ok: true, value }),
      (error: unknown) => this.#rerunSettled(flight, { ok: false, error }),
    );
  }

  #rerunSettled(flight: Flight<I, O>, again: { ok: true; value: O } | { ok: false; error: unknown }): void {
    try {
      const cargo = flight.cargo;
      if (flight.done || cargo?.old === undefined || cargo.pending === undefined) return;
      const self = this.#judge.compare(flight, cargo.old, again);
      this.#finish(flight, cargo.pending, self !== undefined && !self.equal);
    } catch (err) {
      this.#failed(flight, err);
    }
  }

  /** Compares (unless `known`), counts and reports, then lands the flight. */
  #finish(flight: Flight<I, O>, known: Parameters<ShadowJudge<I, O>['judge']>[1], flaky: boolean): void {
    if (flight.done) return;
    this.#judge.judge(flight, known, flaky);
    this.#land(flight);
  }

  #timeout(flight: Flight<I, O>): void {
    try {
      if (!flight.done) this.#judge.timedOut(flight, this.#timeoutMs);
    } finally {
      this.#land(flight);
    }
  }

  /** Something of ours threw while settling a flight (a bug, or a hostile value beyond our guards): log it and land. */
  #failed(flight: Flight<I, O>, err: unknown): void {
    try {
      this.#log.log('error', 'shadow-internal', { err, migration: this.#name }, 'shadow comparison failed; the caller was not affected');
    } finally {
      this.#land(flight);
    }
  }

  /**
   * Marks the flight finished (once), drops everything it holds, frees its
   * slot and, with `new-first`, lets old start. False when it already was.
   */
  #land(flight: Flight<I, O>): boolean {
    if (flight.done) return false;
    flight.done = true;
    flight.cargo = undefined;
    this.#timers.leave(flight);
    this.#openGate(flight);
    this.#inFlight -= 1;
    if (this.#inFlight === 0 && this.#drainWaiters.length > 0) {
      this.#timers.release();
      for (const resolve of this.#drainWaiters.splice(0)) resolve();
    }
    return true;
  }
}
