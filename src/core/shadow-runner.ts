import type { Comparator, Comparison, Outcome } from '../compare/comparator.js';
import { toComparator } from '../compare/to-comparator.js';
import type { MigrationConfig } from '../config/migration-config.js';
import { InvalidOptionError, describeValue } from '../errors.js';
import type { Hasher, RoutingKey } from '../hashing/hasher.js';
import { bucketOf } from '../hashing/hasher.js';
import { WindowCounts } from '../observe/arm-metrics.js';
import type { Clock } from '../observe/clock.js';
import { systemClock } from '../observe/clock.js';
import type { Emitter } from '../observe/emitter.js';
import { LogLimiter } from '../observe/log-limiter.js';
import type { Logger } from '../observe/logger.js';
import { numberInRange, optionalBoolean, optionalFunction } from '../options.js';
import { cloneInput } from './clone-input.js';
import type { GlueEvents, MismatchKind, ShadowSkippedEvent } from './events.js';
import { checkInput } from './input-check.js';
import { MismatchLog } from './mismatch-log.js';
import type { ServiceCall } from './service.js';
import { ShadowReport, checkedComparison } from './shadow-report.js';
import type { Cohort, Timed } from './shadow-timer.js';
import { ShadowTimers } from './shadow-timer.js';
import type { ShadowStats } from './stats.js';

/**
 * When the shadow call runs relative to old's.
 * - `parallel` (default): both start together; the caller waits for old only. No added latency.
 * - `old-first`: new starts once old has answered. No added latency; for a new
 *   system that must see old's writes first.
 * - `new-first`: new runs before old starts; old starts when new has settled
 *   or `timeoutMs` has passed, whichever comes first. Adds new's latency, at
 *   most `timeoutMs`, to every shadowed call: use it only when the order matters.
 * - `random`: `old-first` or `new-first` at random per call, as Scientist does,
 *   to expose order dependence. Adds new's latency (at most `timeoutMs`) to half the calls.
 */
export type ShadowOrder = 'parallel' | 'old-first' | 'new-first' | 'random';

/** Shadow mode settings of a MigrationGlue. */
export interface ShadowOptions<I, O> {
  /**
   * How long to wait for new's shadow answer, in ms of real time. Also the
   * longest a caller waits for new with `new-first` or `random`, and the
   * longest `drain()` and `close()` wait for a hung new.
   * @default 5000
   */
  readonly timeoutMs?: number;
  /** At most this many shadow calls at once; more are skipped and counted. @default 1000 */
  readonly maxInFlight?: number;
  /** Share of routing keys shadowed, 0 to 1, by key (a sampled user is always compared). @default 1 */
  readonly sampleRate?: number;
  /** @default 'parallel' */
  readonly order?: ShadowOrder;
  /**
   * `clone` (default) gives new a structured clone of the input, so new can
   * never change what old sees, and reports a new service that mutates its
   * input. `none` passes the same object (cheaper; for immutable inputs).
   */
  readonly isolateInput?: 'clone' | 'none';
  /** A/A mode: old is shadowed against itself to measure the comparison's noise floor. @default false */
  readonly aa?: boolean;
  /** On a mismatch, call old once more: if old disagrees with itself, the mismatch is `flaky`. @default false */
  readonly rerunOldOnMismatch?: boolean;
  /**
   * Redaction for everything that leaves the glue (events, logs,
   * fingerprints, stats): return a copy with secrets masked (in values or in
   * keys). The comparator runs once, on the real values; what is shown (the
   * diff, the fingerprint) is computed from the cleaned ones. Each hook gets
   * a copy of plain data, never the caller's object. A hook that throws
   * withholds the value (`'[clean failed]'`).
   */
  readonly clean?: { readonly input?: (input: I) => I; readonly output?: (output: O) => O };
  /** Mismatches logged in full per fingerprint per minute; the rest are counted. @default 10 */
  readonly logPerMinute?: number;
  /** Mismatch lines logged per minute over all fingerprints together; the rest are counted. @default 100 */
  readonly logTotalPerMinute?: number;
}

const knownOptions = new Set([
  'timeoutMs',
  'maxInFlight',
  'sampleRate',
  'order',
  'isolateInput',
  'aa',
  'rerunOldOnMismatch',
  'clean',
  'logPerMinute',
  'logTotalPerMinute',
]);

/**
 * A plain copy of the own enumerable fields of an options object, each read
 * once, so later checks never touch the caller's object again.
 * @throws InvalidOptionError naming `option` when it cannot be read (a getter
 * or a Proxy trap throws, a revoked Proxy).
 */
function readOptions(value: object, option: string): Record<string, unknown> {
  try {
    const copy: Record<string, unknown> = {};
    for (const name of Object.keys(value)) copy[name] = (value as Record<string, unknown>)[name];
    return copy;
  } catch {
    throw new InvalidOptionError(option, 'cannot be read (a getter or a Proxy trap threw, or the Proxy is revoked)');
  }
}

/** What a shadow call holds while in flight; dropped as a whole when it lands (compared or timed out). */
interface Cargo<I, O> {
  readonly input: I;
  readonly newInput: I;
  readonly snapshot: I | undefined;
  old: Outcome<O> | undefined;
  new: Outcome<O> | undefined;
  /** With `rerunOldOnMismatch`: the mismatch waiting for old's second answer. */
  pending: Comparison | undefined;
}

/**
 * One shadow call. Continuations of pending service calls hold this small
 * object only: once it lands, `cargo` is dropped, so a new that never answers
 * pins nothing of the call (input, copies, old's output).
 */
interface Flight<I, O> extends Timed<Flight<I, O>> {
  readonly key: RoutingKey | undefined;
  /** Clock reading when the flight took off (parallel order: the start of both calls). */
  readonly start: number;
  done: boolean;
  cargo: Cargo<I, O> | undefined;
  oldMs: number;
  newMs: number;
  /** With `new-first`: starts old; called when new settled or the flight landed, whichever first. */
  gate: (() => void) | undefined;
  cohort: Cohort<Flight<I, O>> | undefined;
  prev: Flight<I, O> | undefined;
  next: Flight<I, O> | undefined;
}

/** Runs shadow calls for a MigrationGlue: admission, ordering, timeouts and comparison; reporting is ShadowReport's. */
export class ShadowRunner<I, O> {
  readonly #name: string;
  readonly #salt: string;
  readonly #sampleSalt: string;
  readonly #hasher: Hasher;
  readonly #newCall: ServiceCall<I, O>;
  readonly #oldCall: ServiceCall<I, O>;
  readonly #comparator: Comparator<O>;
  readonly #emitter: Emitter<GlueEvents<I, O>>;
  readonly #log: LogLimiter;
  readonly #report: ShadowReport<I, O>;
  readonly #clock: Clock;
  readonly #timeoutMs: number;
  readonly #maxInFlight: number;
  readonly #sampleThreshold: number;
  readonly #order: ShadowOrder;
  readonly #clone: boolean;
  readonly #aa: boolean;
  readonly #rerunOld: boolean;
  readonly #window: WindowCounts<'compared' | 'mismatched' | 'errors' | 'timeouts'>;
  readonly #timers: ShadowTimers<Flight<I, O>>;
  readonly #drainWaiters: (() => void)[] = [];
  #inFlight = 0;
  #matched = 0;
  #byKind = { value: 0, error: 0, flaky: 0 };
  #errors = 0;
  #timeouts = 0;
  #skipped = { sampledOut: 0, overCapacity: 0, missingKey: 0, outsidePercentage: 0 };
  #inputMutations = 0;
  #cloneFailures = 0;
  /** The last good clock reading: a clock that throws or returns garbage gets this instead. */
  #lastNow = 0;
  readonly #recordOld: (input: I, durationMs: number, ok: boolean, end: number) => void;
  /** True when the glue's clock is the real one, so its readings also date cohorts. */
  readonly #realClock: boolean;

  constructor(init: {
    name: string;
    salt: string;
    hasher: Hasher;
    newCall: ServiceCall<I, O>;
    oldCall: ServiceCall<I, O>;
    comparator: Comparator<O> | ((oldValue: O, newValue: O) => boolean) | undefined;
    options: ShadowOptions<I, O>;
    emitter: Emitter<GlueEvents<I, O>>;
    logger: Logger;
    clock: Clock;
    windowMs: number;
    /** Records old's call in the glue's metrics (and emits `settled`): old is timed once, here. */
    recordOld: (input: I, durationMs: number, ok: boolean, end: number) => void;
  }) {
    if (typeof init.options !== 'object' || init.options === null) {
      throw new InvalidOptionError('shadow', `must be an object, got ${describeValue(init.options)}`);
    }
    const options = readOptions(init.options, 'shadow') as ShadowOptions<I, O>;
    for (const name of Object.keys(options)) {
      if (!knownOptions.has(name)) throw new InvalidOptionError(`shadow.${name}`, `is not an option; known: ${[...knownOptions].join(', ')}`);
    }
    this.#name = init.name;
    this.#salt = init.salt;
    this.#sampleSalt = `${init.salt}:sample`;
    this.#hasher = init.hasher;
    this.#newCall = init.newCall;
    this.#oldCall = init.oldCall;
    this.#comparator = toComparator(init.comparator);
    this.#emitter = init.emitter;
    this.#clock = init.clock;
    this.#realClock = init.clock === systemClock;
    this.#recordOld = init.recordOld;
    this.#timeoutMs = numberInRange(options.timeoutMs, 'shadow.timeoutMs', 5_000, 1, 2_147_483_647);
    this.#maxInFlight = numberInRange(options.maxInFlight, 'shadow.maxInFlight', 1_000, 1, Number.MAX_SAFE_INTEGER, true);
    this.#sampleThreshold = Math.round(numberInRange(options.sampleRate, 'shadow.sampleRate', 1, 0, 1) * 10_000);
    this.#order = options.order ?? 'parallel';
    if (!['parallel', 'old-first', 'new-first', 'random'].includes(this.#order)) {
      throw new InvalidOptionError('shadow.order', `must be 'parallel', 'old-first', 'new-first' or 'random', got ${describeValue(options.order)}`);
    }
    const isolate = options.isolateInput ?? 'clone';
    if (isolate !== 'clone' && isolate !== 'none') {
      throw new InvalidOptionError('shadow.isolateInput', `must be 'clone' or 'none', got ${describeValue(isolate)}`);
    }
    this.#clone = isolate === 'clone';
    this.#aa = optionalBoolean(options.aa, 'shadow.aa', false);
    this.#rerunOld = optionalBoolean(options.rerunOldOnMismatch, 'shadow.rerunOldOnMismatch', false);
    const rawClean: unknown = options.clean ?? {};
    if (typeof rawClean !== 'object' || rawClean === null) {
      throw new InvalidOptionError('shadow.clean', `must be an object { input?, output? }, got ${describeValue(options.clean)}`);
    }
    const clean = readOptions(rawClean, 'shadow.clean') as NonNullable<ShadowOptions<I, O>['clean']>;
    const perMinute = numberInRange(options.logPerMinute, 'shadow.logPerMinute', 10, 0, Number.MAX_SAFE_INTEGER, true);
    const totalPerMinute = numberInRange(options.logTotalPerMinute, 'shadow.logTotalPerMinute', 100, 0, Number.MAX_SAFE_INTEGER, true);
    const safeClock: Clock = { now: () => this.#now() };
    this.#log = new LogLimiter(init.logger, safeClock);
    this.#report = new ShadowReport<I, O>({
      name: init.name,
      comparator: this.#comparator,
      emitter: init.emitter,
      log: this.#log,
      mismatchLog: new MismatchLog(init.logger, perMinute, totalPerMinute),
      cleanInput: optionalFunction(clean.input, 'shadow.clean.input'),
      cleanOutput: optionalFunction(clean.output, 'shadow.clean.output'),
    });
    this.#window = new WindowCounts(['compared', 'mismatched', 'errors', 'timeouts'], { clock: safeClock, windowMs: init.windowMs });
    this.#timers = new ShadowTimers<Flight<I, O>>(this.#timeoutMs, (flight) => this.#timeout(flight));
  }

  /** Decides whether this call is shadowed; emits `shadowSkipped` and returns false when not. Never throws. */
  admit(key: RoutingKey | undefined, config: MigrationConfig): boolean {
    try {
      return this.#admit(key, config);
    } catch (err) {
      // A hasher that throws: the call is served by old, unshadowed.
      this.#log.log('warn', 'shadow-admit', { err, migration: this.#name }, 'shadow admission failed (the hasher threw); old serves unshadowed');
      return false;
    }
  }

  /**
   * Runs old (whose result the caller gets, untouched; timed and recorded via
   * `recordOld`) and new in the shadow, for an admitted call. The caller never
   * waits for new longer than `timeoutMs` (and not at all with `parallel` and
   * `old-first`).
   */
  run(input: I, key: RoutingKey | undefined): Promise<O> {
    const flight = this.#takeOff(input, key);
    const order = this.#order === 'random' ? (Math.random() < 0.5 ? 'old-first' : 'new-first') : this.#order;
    if (order === 'parallel') {
      // New is called first; old's own start is read after new's synchronous part, so old's latency (the baseline) never includes it.
      this.#startNew(flight, flight.start);
      return this.#runOld(flight, input, undefined);
    }
    if (order === 'new-first') {
      const gate = new Promise<void>((resolve) => {
        flight.gate = resolve;
      });
      this.#startNew(flight, undefined);
      return gate.then(() => this.#runOld(flight, input, undefined));
    }
    const served = this.#runOld(flight, input, flight.start);
    const next = (): void => this.#startNew(flight, undefined);
    served.then(next, next);
    return served;
  }

  /** The input as events and logs may show it (after the `clean` hook, on a copy). Never throws. */
  clean(input: I): I {
    return this.#report.cleanInput(input);
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

  /** `now`: a reading of the glue's clock the caller just took (saves reading it again). */
  stats(now?: number): ShadowStats {
    const mismatched = this.#byKind.value + this.#byKind.error;
    const compared = this.#matched + mismatched + this.#byKind.flaky;
    const window = this.#window.window(now);
    const skipped = this.#skipped;
    const byKind = this.#byKind;
    // Literals rather than spreads (same keys, same order): stats() is polled.
    return {
      compared,
      matched: this.#matched,
      mismatched,
      mismatchesByKind: { value: byKind.value, error: byKind.error, flaky: byKind.flaky },
      errors: this.#errors,
      timeouts: this.#timeouts,
      skipped: skipped.sampledOut + skipped.overCapacity + skipped.missingKey + skipped.outsidePercentage,
      skippedBy: {
        sampledOut: skipped.sampledOut,
        overCapacity: skipped.overCapacity,
        missingKey: skipped.missingKey,
        outsidePercentage: skipped.outsidePercentage,
      },
      inFlight: this.#inFlight,
      inputMutations: this.#inputMutations,
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

  #admit(key: RoutingKey | undefined, config: MigrationConfig): boolean {
    if (config.newSystemPercentage < 100) {
      if (key === undefined) return this.#skip(key, 'missing-key');
      if (bucketOf(key, this.#salt, this.#hasher) >= Math.round(config.newSystemPercentage * 100)) return this.#skip(key, 'outside-percentage');
    }
    if (this.#sampleThreshold < 10_000) {
      // Sampling by key keeps a sampled user in the sample; without a key, chance decides.
      const draw = key === undefined ? Math.floor(Math.random() * 10_000) : bucketOf(key, this.#sampleSalt, this.#hasher);
      if (!(draw < this.#sampleThreshold)) return this.#skip(key, 'sampled-out');
    }
    if (this.#inFlight >= this.#maxInFlight) return this.#skip(key, 'over-capacity');
    return true;
  }

  #skip(key: RoutingKey | undefined, reason: ShadowSkippedEvent['reason']): false {
    if (reason === 'sampled-out') this.#skipped.sampledOut += 1;
    else if (reason === 'over-capacity') this.#skipped.overCapacity += 1;
    else if (reason === 'missing-key') this.#skipped.missingKey += 1;
    else this.#skipped.outsidePercentage += 1;
    if (this.#emitter.has('shadowSkipped')) this.#emitter.emit('shadowSkipped', { migration: this.#name, key, reason });
    return false;
  }

  /** A reading of the glue's clock; the last good one when the clock throws or returns garbage. */
  #now(): number {
    try {
      const now = this.#clock.now();
      if (typeof now === 'number' && Number.isFinite(now)) this.#lastNow = now;
    } catch {
      // a broken clock must not break the call: keep the last reading
    }
    return this.#lastNow;
  }

  #takeOff(input: I, key: RoutingKey | undefined): Flight<I, O> {
    this.#inFlight += 1;
    let newInput = input;
    let snapshot: I | undefined;
    if (this.#clone) {
      try {
        newInput = cloneInput(input);
        snapshot = cloneInput(input);
      } catch (err) {
        newInput = input;
        snapshot = undefined;
        if (this.#cloneFailures++ === 0) {
          this.#log.log('warn', 'clone', { err, migration: this.#name }, 'shadow input cannot be cloned; new gets the same object (set shadow.isolateInput to none to silence)');
        }
      }
    }
    const start = this.#now();
    const flight: Flight<I, O> = {
      key,
      start,
      done: false,
      cargo: { input, newInput, snapshot, old: undefined, new: undefined, pending: undefined },
      oldMs: 0,
      newMs: 0,
      gate: undefined,
      cohort: undefined,
      prev: undefined,
      next: undefined,
    };
    this.#timers.join(flight, this.#realClock ? start : systemClock.now());
    return flight;
  }

  /**
   * Calls old and records its outcome (in the flight and, via `recordOld`, in
   * the glue's metrics) before the caller sees it; the caller gets exactly
   * old's value or error, whatever the recording does. `start`: the flight's
   * clock reading when old is called right away, else undefined.
   */
  async #runOld(flight: Flight<I, O>, input: I, start: number | undefined): Promise<O> {
    const from = start ?? this.#now();
    let value: O;
    try {
      value = await this.#oldCall(input);
    } catch (error) {
      this.#oldSettled(flight, input, { ok: false, error }, from);
      throw error;
    }
    this.#oldSettled(flight, input, { ok: true, value }, from);
    return value;
  }

  #oldSettled(flight: Flight<I, O>, input: I, outcome: Outcome<O>, from: number): void {
    try {
      const end = this.#now();
      flight.oldMs = end - from;
      this.#recordOld(input, flight.oldMs, outcome.ok, end);
      if (flight.cargo === undefined) return;
      flight.cargo.old = outcome;
      this.#settleIfReady(flight, end);
    } catch (err) {
      this.#failed(flight, err);
    }
  }

  /** Calls new (or old, in A/A mode). Never throws; the continuations hold the flight, not its cargo. */
  #startNew(flight: Flight<I, O>, start: number | undefined): void {
    const cargo = flight.cargo;
    if (cargo === undefined) return;
    const from = start ?? this.#now();
    const call = this.#aa ? this.#oldCall : this.#newCall;
    let answer: Promise<O>;
    try {
      answer = Promise.resolve(call(cargo.newInput));
    } catch (error) {
      answer = Promise.reject(error);
    }
    answer.then(
      (value) => this.#newSettled(flight, { ok: true, value }, from),
      (error: unknown) => this.#newSettled(flight, { ok: false, error }, from),
    );
  }

  #newSettled(flight: Flight<I, O>, outcome: Outcome<O>, from: number): void {
    try {
      const end = this.#now();
      if (flight.cargo === undefined) return;
      flight.cargo.new = outcome;
      flight.newMs = end - from;
      this.#openGate(flight);
      this.#settleIfReady(flight, end);
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

  /** `now`: a reading of the glue's clock just taken, reused by the window counters. */
  #settleIfReady(flight: Flight<I, O>, now: number): void {
    const cargo = flight.cargo;
    if (flight.done || cargo === undefined || cargo.old === undefined || cargo.new === undefined) return;
    if (cargo.snapshot !== undefined) this.#checkMutation(flight, cargo);
    if (!this.#rerunOld) {
      this.#finish(flight, undefined, false, now);
      return;
    }
    // Re-running old needs one more call; the flight stays in flight (and times out) until then.
    const comparison = this.#safeCompare(flight, cargo.old, cargo.new);
    if (comparison === undefined) {
      this.#land(flight);
      return;
    }
    if (comparison.equal) {
      this.#finish(flight, comparison, false, now);
      return;
    }
    cargo.pending = comparison;
    this.#rerun(flight, cargo);
  }

  #checkMutation(flight: Flight<I, O>, cargo: Cargo<I, O>): void {
    const found = checkInput(cargo.snapshot, cargo.newInput);
    if (found === 'same') return;
    if (found === 'unchecked') {
      this.#log.log('warn', 'input-unchecked', { migration: this.#name, key: flight.key }, 'the shadow input could not be checked for mutation (too large, or new made it unreadable)');
      return;
    }
    this.#inputMutations += 1;
    this.#log.log('warn', 'input-mutated', { migration: this.#name, key: flight.key }, 'the new service mutated its input');
    this.#emitShadowError(flight, cargo, 'input-mutated', new Error('the new service mutated its input'));
  }

  #rerun(flight: Flight<I, O>, cargo: Cargo<I, O>): void {
    let answer: Promise<O>;
    try {
      answer = Promise.resolve(this.#oldCall(this.#rerunInput(cargo)));
    } catch (error) {
      answer = Promise.reject(error);
    }
    answer.then(
      (value) => this.#rerunSettled(flight, { ok: true, value }),
      (error: unknown) => this.#rerunSettled(flight, { ok: false, error }),
    );
  }

  /** A fresh copy of the pristine input for old's second call, or the input itself. */
  #rerunInput(cargo: Cargo<I, O>): I {
    if (!this.#clone || cargo.snapshot === undefined) return cargo.input;
    try {
      return cloneInput(cargo.snapshot);
    } catch {
      return cargo.input;
    }
  }

  #rerunSettled(flight: Flight<I, O>, again: Outcome<O>): void {
    try {
      const cargo = flight.cargo;
      if (flight.done || cargo?.old === undefined || cargo.pending === undefined) return;
      const self = this.#safeCompare(flight, cargo.old, again);
      this.#finish(flight, cargo.pending, self !== undefined && !self.equal, this.#now());
    } catch (err) {
      this.#failed(flight, err);
    }
  }

  /** Compares (unless `known`), counts and reports, then lands the flight. */
  #finish(flight: Flight<I, O>, known: Comparison | undefined, flaky: boolean, now: number): void {
    const cargo = flight.cargo;
    if (flight.done || cargo?.old === undefined || cargo.new === undefined) return;
    const oldOutcome = cargo.old;
    const newOutcome = cargo.new;
    if (!newOutcome.ok && oldOutcome.ok) {
      this.#errors += 1;
      this.#window.add('errors');
      this.#emitShadowError(flight, cargo, 'error', newOutcome.error);
    }
    const comparison = known ?? this.#safeCompare(flight, oldOutcome, newOutcome);
    if (comparison !== undefined) {
      this.#window.add('compared', 1, now);
      if (comparison.equal) this.#matched += 1;
      else {
        const kind: MismatchKind = flaky ? 'flaky' : (comparison.kind ?? 'value');
        this.#byKind[kind] += 1;
        if (kind !== 'flaky') this.#window.add('mismatched');
        const facts = { key: flight.key, input: cargo.input, old: oldOutcome, new: newOutcome, oldMs: flight.oldMs, newMs: flight.newMs };
        this.#report.mismatch(facts, comparison, kind, now);
      }
    }
    this.#land(flight);
  }

  /** The comparator's checked answer; undefined (counted, logged, `shadowError` emitted) when it threw or answered garbage. */
  #safeCompare(flight: Flight<I, O>, a: Outcome<O>, b: Outcome<O>): Comparison | undefined {
    try {
      return checkedComparison(this.#comparator.compare(a, b));
    } catch (error) {
      this.#errors += 1;
      this.#window.add('errors');
      this.#log.log('error', 'comparator', { err: error, migration: this.#name }, 'shadow comparator threw');
      if (flight.cargo !== undefined) this.#emitShadowError(flight, flight.cargo, 'comparator', error);
      return undefined;
    }
  }

  #emitShadowError(flight: Flight<I, O>, cargo: Cargo<I, O>, reason: 'error' | 'timeout' | 'comparator' | 'input-mutated', error: unknown): void {
    if (!this.#emitter.has('shadowError')) return;
    this.#emitter.emit('shadowError', { migration: this.#name, key: flight.key, input: this.clean(cargo.input), reason, error });
  }

  #timeout(flight: Flight<I, O>): void {
    try {
      if (flight.done || flight.cargo === undefined) return;
      this.#timeouts += 1;
      this.#window.add('timeouts');
      this.#log.log('warn', 'shadow-timeout', { migration: this.#name, key: flight.key, timeoutMs: this.#timeoutMs }, 'shadow call timed out');
      const waitingFor = flight.cargo.old === undefined ? 'old' : 'new';
      this.#emitShadowError(flight, flight.cargo, 'timeout', new Error(`shadow comparison timed out after ${this.#timeoutMs} ms waiting for ${waitingFor}`));
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
