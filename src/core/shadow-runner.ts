import equal from 'fast-deep-equal';
import type { Comparator, Comparison, Outcome } from '../compare/comparator.js';
import { formatDiff } from '../compare/diff.js';
import { describeFingerprint, fingerprintOf } from '../compare/fingerprint.js';
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
import { numberInRange, optionalFunction } from '../options.js';
import type { Logger } from '../observe/logger.js';
import { cloneInput } from './clone-input.js';
import type { GlueEvents, MismatchKind, ShadowSkippedEvent } from './events.js';
import type { ServiceCall } from './service.js';
import type { FingerprintCount, ShadowStats } from './stats.js';

/**
 * When the shadow call runs relative to old's.
 * - `parallel` (default): both start together; the caller waits for old only. No added latency.
 * - `old-first`: new starts once old has answered. No added latency; for a new
 *   system that must see old's writes first.
 * - `new-first`: new runs (up to `timeoutMs`) before old starts. Adds new's
 *   latency to every shadowed call: use it only when the order matters.
 * - `random`: `old-first` or `new-first` at random per call, as Scientist does,
 *   to expose order dependence. Adds new's latency to half the calls.
 */
export type ShadowOrder = 'parallel' | 'old-first' | 'new-first' | 'random';

/** Shadow mode settings of a MigrationGlue. */
export interface ShadowOptions<I, O> {
  /** How long to wait for new's shadow answer, in ms of real time. @default 5000 */
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
   * Redaction for everything that leaves the glue (events and logs): return a
   * copy with secrets masked. Comparison always runs on the real values.
   */
  readonly clean?: { readonly input?: (input: I) => I; readonly output?: (output: O) => O };
  /** Mismatches logged in full per fingerprint per minute; the rest are counted. @default 10 */
  readonly logPerMinute?: number;
}

interface Flight<I, O> {
  readonly input: I;
  readonly key: RoutingKey | undefined;
  readonly newInput: I;
  readonly snapshot: I | undefined;
  /** Clock reading when the flight took off (parallel order: the start of both calls). */
  readonly start: number;
  done: boolean;
  old: Outcome<O> | undefined;
  oldMs: number;
  new: Outcome<O> | undefined;
  newMs: number;
  /** The cohort whose timer times this flight out, and the flight's neighbours in it. */
  cohort: Cohort<I, O> | undefined;
  prev: Flight<I, O> | undefined;
  next: Flight<I, O> | undefined;
}

/**
 * Flights that took off within the same millisecond of real time (and the
 * same turn of the event loop) share one timer, as Node's own timers share one
 * list per duration: a timer per flight would cost more than the rest of a
 * shadow call. A flight may time out up to 1 ms before `timeoutMs` has passed
 * since its own start, the granularity of Node's timers anyway.
 */
interface Cohort<I, O> {
  /** `systemClock` reading when the cohort opened. */
  readonly openedAt: number;
  /** False once a check phase of the event loop has passed since it opened. */
  open: boolean;
  timer: ReturnType<typeof setTimeout> | undefined;
  head: Flight<I, O> | undefined;
  tail: Flight<I, O> | undefined;
}

/** Milliseconds of real time during which new flights join the same cohort. */
const cohortSpanMs = 1;

const maxFingerprints = 200;
const shownFingerprints = 20;

/** Runs shadow calls for a MigrationGlue: admission, ordering, timeouts, comparison and reporting. */
export class ShadowRunner<I, O> {
  readonly #name: string;
  readonly #salt: string;
  readonly #sampleSalt: string;
  readonly #hasher: Hasher;
  readonly #newCall: ServiceCall<I, O>;
  readonly #oldCall: ServiceCall<I, O>;
  readonly #comparator: Comparator<O>;
  readonly #emitter: Emitter<GlueEvents<I, O>>;
  readonly #logger: Logger;
  readonly #limitedLog: LogLimiter;
  readonly #clock: Clock;
  readonly #timeoutMs: number;
  readonly #maxInFlight: number;
  readonly #sampleThreshold: number;
  readonly #order: ShadowOrder;
  readonly #clone: boolean;
  readonly #aa: boolean;
  readonly #rerunOld: boolean;
  readonly #cleanInput: ((input: I) => I) | undefined;
  readonly #cleanOutput: ((output: O) => O) | undefined;
  readonly #window: WindowCounts<'compared' | 'mismatched' | 'errors' | 'timeouts'>;
  readonly #fingerprints = new Map<string, { count: number; description: string }>();
  readonly #drainWaiters: (() => void)[] = [];
  #inFlight = 0;
  #matched = 0;
  #byKind = { value: 0, error: 0, flaky: 0 };
  #errors = 0;
  #timeouts = 0;
  #skipped = { sampledOut: 0, overCapacity: 0, missingKey: 0, outsidePercentage: 0 };
  #inputMutations = 0;
  #cloneFailures = 0;
  readonly #recordOld: (input: I, durationMs: number, ok: boolean, end: number) => void;
  /** True when the glue's clock is the real one, so its readings also date cohorts. */
  readonly #realClock: boolean;
  /** The cohort new flights join, while it is young enough. */
  #cohort: Cohort<I, O> | undefined;
  readonly #expireCohort = (cohort: Cohort<I, O>): void => this.#expire(cohort);
  readonly #closeCohort = (cohort: Cohort<I, O>): void => {
    cohort.open = false;
  };

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
    const options = init.options;
    if (typeof options !== 'object' || options === null) {
      throw new InvalidOptionError('shadow', `must be an object, got ${describeValue(options)}`);
    }
    this.#name = init.name;
    this.#salt = init.salt;
    this.#sampleSalt = `${init.salt}:sample`;
    this.#hasher = init.hasher;
    this.#newCall = init.newCall;
    this.#oldCall = init.oldCall;
    this.#comparator = toComparator(init.comparator);
    this.#emitter = init.emitter;
    this.#logger = init.logger;
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
    this.#aa = options.aa ?? false;
    this.#rerunOld = options.rerunOldOnMismatch ?? false;
    this.#cleanInput = optionalFunction(options.clean?.input, 'shadow.clean.input');
    this.#cleanOutput = optionalFunction(options.clean?.output, 'shadow.clean.output');
    const perMinute = numberInRange(options.logPerMinute, 'shadow.logPerMinute', 10, 0, Number.MAX_SAFE_INTEGER, true);
    this.#limitedLog = new LogLimiter(init.logger, init.clock, perMinute, 60_000);
    this.#window = new WindowCounts(['compared', 'mismatched', 'errors', 'timeouts'], { clock: init.clock, windowMs: init.windowMs });
  }

  /** Decides whether this call is shadowed; emits `shadowSkipped` and returns false when not. */
  admit(key: RoutingKey | undefined, config: MigrationConfig): boolean {
    if (config.newSystemPercentage < 100) {
      if (key === undefined) return this.#skip(key, 'missing-key');
      if (bucketOf(key, this.#salt, this.#hasher) >= Math.round(config.newSystemPercentage * 100)) return this.#skip(key, 'outside-percentage');
    }
    if (this.#sampleThreshold < 10_000) {
      // Sampling by key keeps a sampled user in the sample; without a key, chance decides.
      const draw = key === undefined ? Math.floor(Math.random() * 10_000) : bucketOf(key, this.#sampleSalt, this.#hasher);
      if (draw >= this.#sampleThreshold) return this.#skip(key, 'sampled-out');
    }
    if (this.#inFlight >= this.#maxInFlight) return this.#skip(key, 'over-capacity');
    return true;
  }

  /**
   * Runs old (whose result the caller gets, untouched; timed and recorded via
   * `recordOld`) and new in the shadow, for an admitted call.
   */
  run(input: I, key: RoutingKey | undefined): Promise<O> {
    const flight = this.#takeOff(input, key);
    const order = this.#order === 'random' ? (Math.random() < 0.5 ? 'old-first' : 'new-first') : this.#order;
    if (order === 'parallel') {
      // New is called first; old's own start is read after new's synchronous part, so old's latency (the baseline) never includes it.
      void this.#startNew(flight, flight.start);
      return this.#runOld(flight, undefined);
    }
    if (order === 'new-first') {
      return this.#startNew(flight, undefined).then(() => this.#runOld(flight, undefined));
    }
    const served = this.#runOld(flight, flight.start);
    served.then(
      () => this.#startNew(flight, undefined),
      () => this.#startNew(flight, undefined),
    );
    return served;
  }

  /** The input as events and logs may show it (after the `clean` hook). */
  clean(input: I): I {
    if (this.#cleanInput === undefined) return input;
    try {
      return this.#cleanInput(input);
    } catch (err) {
      this.#logger.warn({ err, migration: this.#name }, 'shadow.clean.input threw; the input is withheld');
      return '[clean failed]' as unknown as I;
    }
  }

  /** Resolves when every shadow call in flight has been compared or has timed out. */
  drain(): Promise<void> {
    if (this.#inFlight === 0) return Promise.resolve();
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
      window: {
        compared: window.compared,
        mismatched: window.mismatched,
        errors: window.errors,
        timeouts: window.timeouts,
        mismatchRate: window.compared === 0 ? 0 : window.mismatched / window.compared,
      },
      fingerprints: this.#topFingerprints(),
    };
  }

  #skip(key: RoutingKey | undefined, reason: ShadowSkippedEvent['reason']): false {
    if (reason === 'sampled-out') this.#skipped.sampledOut += 1;
    else if (reason === 'over-capacity') this.#skipped.overCapacity += 1;
    else if (reason === 'missing-key') this.#skipped.missingKey += 1;
    else this.#skipped.outsidePercentage += 1;
    if (this.#emitter.has('shadowSkipped')) this.#emitter.emit('shadowSkipped', { migration: this.#name, key, reason });
    return false;
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
          this.#logger.warn({ err, migration: this.#name }, 'shadow input cannot be cloned; new gets the same object (set shadow.isolateInput to none to silence)');
        }
      }
    }
    const start = this.#clock.now();
    const flight: Flight<I, O> = {
      input,
      key,
      newInput,
      snapshot,
      start,
      done: false,
      old: undefined,
      oldMs: 0,
      new: undefined,
      newMs: 0,
      cohort: undefined,
      prev: undefined,
      next: undefined,
    };
    this.#join(flight, this.#realClock ? start : systemClock.now());
    return flight;
  }

  /** Puts the flight in the current cohort, or opens one (one timer) when there is none young enough. */
  #join(flight: Flight<I, O>, realNow: number): void {
    let cohort = this.#cohort;
    if (cohort === undefined || !cohort.open || !(realNow - cohort.openedAt < cohortSpanMs) || realNow < cohort.openedAt) {
      if (cohort !== undefined && cohort.head === undefined) clearTimeout(cohort.timer);
      cohort = { openedAt: realNow, open: true, timer: undefined, head: undefined, tail: undefined };
      cohort.timer = setTimeout(this.#expireCohort, this.#timeoutMs, cohort);
      cohort.timer.unref?.();
      if (typeof setImmediate === 'function') setImmediate(this.#closeCohort, cohort).unref?.();
      this.#cohort = cohort;
    }
    flight.cohort = cohort;
    flight.prev = cohort.tail;
    if (cohort.tail === undefined) cohort.head = flight;
    else cohort.tail.next = flight;
    cohort.tail = flight;
  }

  /** Takes a landed flight out of its cohort; a past cohort left empty drops its timer. */
  #leave(flight: Flight<I, O>): void {
    const cohort = flight.cohort;
    if (cohort === undefined) return;
    if (flight.prev === undefined) cohort.head = flight.next;
    else flight.prev.next = flight.next;
    if (flight.next === undefined) cohort.tail = flight.prev;
    else flight.next.prev = flight.prev;
    flight.cohort = undefined;
    flight.prev = undefined;
    flight.next = undefined;
    if (cohort.head === undefined && cohort !== this.#cohort) clearTimeout(cohort.timer);
  }

  /** The cohort's timer fired: every flight still in it has waited `timeoutMs`. */
  #expire(cohort: Cohort<I, O>): void {
    if (this.#cohort === cohort) this.#cohort = undefined;
    let flight = cohort.head;
    while (flight !== undefined) {
      const next = flight.next;
      this.#timeout(flight);
      flight = next;
    }
  }

  /**
   * Calls old and records its outcome (in the flight and, via `recordOld`, in
   * the glue's metrics) before the caller sees it. `start`: the flight's
   * clock reading when old is called right away, else undefined.
   */
  async #runOld(flight: Flight<I, O>, start: number | undefined): Promise<O> {
    const clock = this.#clock;
    const from = start ?? clock.now();
    let value: O;
    try {
      value = await this.#oldCall(flight.input);
    } catch (error) {
      const end = clock.now();
      flight.oldMs = end - from;
      this.#recordOld(flight.input, flight.oldMs, false, end);
      flight.old = { ok: false, error };
      this.#settleIfReady(flight, end);
      throw error;
    }
    const end = clock.now();
    flight.oldMs = end - from;
    this.#recordOld(flight.input, flight.oldMs, true, end);
    flight.old = { ok: true, value };
    this.#settleIfReady(flight, end);
    return value;
  }

  /** Calls new (or old, in A/A mode) and records its outcome. Never rejects. `start` as for #runOld. */
  async #startNew(flight: Flight<I, O>, start: number | undefined): Promise<void> {
    const call = this.#aa ? this.#oldCall : this.#newCall;
    const clock = this.#clock;
    const from = start ?? clock.now();
    try {
      flight.new = { ok: true, value: await call(flight.newInput) };
    } catch (error) {
      flight.new = { ok: false, error };
    }
    const end = clock.now();
    flight.newMs = end - from;
    this.#settleIfReady(flight, end);
  }

  /** `now`: a reading of the glue's clock just taken, reused by the window counters. */
  #settleIfReady(flight: Flight<I, O>, now?: number): void {
    if (flight.done || flight.old === undefined || flight.new === undefined) return;
    if (flight.snapshot !== undefined && !equal(flight.newInput, flight.snapshot)) {
      this.#inputMutations += 1;
      this.#logger.warn({ migration: this.#name, key: flight.key }, 'the new service mutated its input');
      this.#emitShadowError(flight, 'input-mutated', new Error('the new service mutated its input'));
    }
    if (!this.#rerunOld) {
      this.#compare(flight, undefined, false, now);
      return;
    }
    // Re-running old needs one more call; the flight stays in flight until then.
    const comparison = this.#safeCompare(flight, flight.old, flight.new);
    if (comparison === undefined || comparison.equal) {
      this.#compare(flight, comparison);
      return;
    }
    void this.#rerun(flight, comparison);
  }

  async #rerun(flight: Flight<I, O>, comparison: Comparison): Promise<void> {
    let again: Outcome<O>;
    try {
      again = { ok: true, value: await this.#oldCall(this.#clone && flight.snapshot !== undefined ? cloneInput(flight.snapshot) : flight.input) };
    } catch (error) {
      again = { ok: false, error };
    }
    if (flight.done || flight.old === undefined) return;
    const self = this.#safeCompare(flight, flight.old, again);
    this.#compare(flight, comparison, self !== undefined && !self.equal);
  }

  #compare(flight: Flight<I, O>, known: Comparison | undefined, flaky = false, now?: number): void {
    if (!this.#land(flight)) return;
    const oldOutcome = flight.old as Outcome<O>;
    const newOutcome = flight.new as Outcome<O>;
    if (!newOutcome.ok && oldOutcome.ok) {
      this.#errors += 1;
      this.#window.add('errors');
      this.#emitShadowError(flight, 'error', newOutcome.error);
    }
    const comparison = known ?? this.#safeCompare(flight, oldOutcome, newOutcome);
    if (comparison === undefined) return;
    this.#window.add('compared', 1, now);
    if (comparison.equal) {
      this.#matched += 1;
      return;
    }
    const kind: MismatchKind = flaky ? 'flaky' : (comparison.kind ?? 'value');
    this.#byKind[kind] += 1;
    if (kind !== 'flaky') this.#window.add('mismatched');
    this.#reportMismatch(flight, comparison, kind);
  }

  #safeCompare(flight: Flight<I, O>, a: Outcome<O>, b: Outcome<O>): Comparison | undefined {
    try {
      return this.#comparator.compare(a, b);
    } catch (error) {
      this.#errors += 1;
      this.#window.add('errors');
      this.#land(flight);
      this.#logger.error({ err: error, migration: this.#name }, 'shadow comparator threw');
      this.#emitShadowError(flight, 'comparator', error);
      return undefined;
    }
  }

  #reportMismatch(flight: Flight<I, O>, comparison: Comparison, kind: MismatchKind): void {
    const shown = this.#cleanOutput === undefined ? comparison : this.#redactedComparison(flight, comparison);
    const fingerprint = kind === 'flaky' ? `flaky|${fingerprintOf(comparison)}` : fingerprintOf(comparison);
    const entry = this.#fingerprints.get(fingerprint);
    if (entry !== undefined) entry.count += 1;
    else if (this.#fingerprints.size < maxFingerprints) {
      this.#fingerprints.set(fingerprint, { count: 1, description: describeFingerprint(fingerprint) });
    }
    this.#limitedLog.log(
      'warn',
      fingerprint,
      { migration: this.#name, key: flight.key, kind, fingerprint, diff: formatDiff(shown.diff, shown.truncated) },
      `shadow mismatch (${kind})`,
    );
    if (!this.#emitter.has('mismatch')) return;
    this.#emitter.emit('mismatch', {
      migration: this.#name,
      key: flight.key,
      input: this.clean(flight.input),
      old: this.#cleanOutcome(flight.old as Outcome<O>),
      new: this.#cleanOutcome(flight.new as Outcome<O>),
      oldDurationMs: flight.oldMs,
      newDurationMs: flight.newMs,
      kind,
      comparison: shown,
      fingerprint,
    });
  }

  #redactedComparison(flight: Flight<I, O>, comparison: Comparison): Comparison {
    const cleaned = this.#comparator.compare(this.#cleanOutcome(flight.old as Outcome<O>), this.#cleanOutcome(flight.new as Outcome<O>));
    if (!cleaned.equal) return cleaned;
    return { ...comparison, diff: [{ path: '', kind: 'changed', old: '[redacted]', new: '[redacted]' }], truncated: false };
  }

  #cleanOutcome(outcome: Outcome<O>): Outcome<O> {
    if (this.#cleanOutput === undefined || !outcome.ok) return outcome;
    try {
      return { ok: true, value: this.#cleanOutput(outcome.value) };
    } catch (err) {
      this.#logger.warn({ err, migration: this.#name }, 'shadow.clean.output threw; the output is withheld');
      return { ok: true, value: '[clean failed]' as unknown as O };
    }
  }

  #emitShadowError(flight: Flight<I, O>, reason: 'error' | 'timeout' | 'comparator' | 'input-mutated', error: unknown): void {
    if (!this.#emitter.has('shadowError')) return;
    this.#emitter.emit('shadowError', { migration: this.#name, key: flight.key, input: this.clean(flight.input), reason, error });
  }

  #timeout(flight: Flight<I, O>): void {
    if (flight.done) return;
    this.#timeouts += 1;
    this.#window.add('timeouts');
    this.#land(flight);
    this.#limitedLog.log('warn', 'shadow-timeout', { migration: this.#name, key: flight.key, timeoutMs: this.#timeoutMs }, 'shadow call timed out');
    const waitingFor = flight.old === undefined ? 'old' : 'new';
    this.#emitShadowError(flight, 'timeout', new Error(`shadow comparison timed out after ${this.#timeoutMs} ms waiting for ${waitingFor}`));
  }

  /** Marks the flight finished (once) and frees its slot; false when it already was. */
  #land(flight: Flight<I, O>): boolean {
    if (flight.done) return false;
    flight.done = true;
    this.#leave(flight);
    this.#inFlight -= 1;
    if (this.#inFlight === 0 && this.#drainWaiters.length > 0) {
      for (const resolve of this.#drainWaiters.splice(0)) resolve();
    }
    return true;
  }

  #topFingerprints(): FingerprintCount[] {
    if (this.#fingerprints.size === 0) return [];
    return [...this.#fingerprints]
      .sort((a, b) => b[1].count - a[1].count)
      .slice(0, shownFingerprints)
      .map(([fingerprint, { count, description }]) => ({ fingerprint, description, count }));
  }
}
