import type { Comparator } from '../compare/comparator.js';
import type { ConfigProvider } from '../config/config-provider.js';
import { isConfigProvider, isConfigStore, staticConfig } from '../config/config-provider.js';
import type { MigrationConfig } from '../config/migration-config.js';
import { isRolledBack, sameConfig } from '../config/migration-config.js';
import { phases } from '../config/phases.js';
import { phaseOf } from './routing.js';
import { InvalidOptionError, MigrationGlueError, describeValue, ignoreRejection } from '../errors.js';
import type { Hasher, RoutingKey } from '../hashing/hasher.js';
import { BUCKETS, bucketOf, murmur3Hasher } from '../hashing/hasher.js';
import { optionalFunction, optionalPositiveNumber, resolveClock, timerMs } from '../options.js';
import { ArmMetrics } from '../observe/arm-metrics.js';
import type { Clock } from '../observe/clock.js';
import { Emitter } from '../observe/emitter.js';
import type { Listener } from '../observe/emitter.js';
import { LogLimiter } from '../observe/log-limiter.js';
import type { Logger } from '../observe/logger.js';
import { safeLogger } from '../observe/logger.js';
import type { Notifier, NotifyFn } from '../observe/notifier.js';
import { defaultNotifierTimeoutMs, toNotify } from '../observe/notifier.js';
import type { Arm, GlueEvents, RouteReason } from './events.js';
import type { RoutingKeyFn, RoutingKeyProblem } from './routing-key.js';
import { defaultRoutingKey, inputFieldNames, safeRoutingKey } from './routing-key.js';
import type { Service, ServiceCall, ServiceLike } from './service.js';
import { toServiceCall } from './service.js';
import { defaultStoreTimeoutMs, saveRollback } from './rollback-save.js';
import type { ShadowOptions } from './shadow-runner.js';
import { ShadowRunner } from './shadow-runner.js';
import type { MigrationStats } from './stats.js';

/** Options of a MigrationGlue. Resolved and validated once, in the constructor. */
export interface MigrationGlueOptions<I, O> {
  /** The migration's name: in every log line and event, and the hashing salt (two migrations bucket independently). */
  readonly name: string;
  /**
   * The hashing salt, when it must differ from `name`: glues that share a salt
   * send a user to the same side (glueService gives all methods of one service
   * the service's name). @default name
   */
  readonly salt?: string;
  /** The system being retired. */
  readonly oldService: ServiceLike<I, O>;
  /** The system replacing it. */
  readonly newService: ServiceLike<I, O>;
  /** A MigrationConfig (static) or a ConfigProvider / ConfigStore (changes apply on the next call). */
  readonly config: MigrationConfig | ConfigProvider;
  /**
   * The routing key of an input: calls with the same key always take the same
   * side. Must be synchronous. A call without a usable key (undefined, null,
   * '', NaN, an object, a promise, a throw) goes to old, is counted in
   * `stats().missingKeys` and logged (rate-limited) with the input's field names.
   * @default input.userId ?? input.requestId (a string or number input is its own key)
   */
  readonly routingKey?: RoutingKeyFn<I>;
  /** A hasher that throws or returns anything but a 32-bit unsigned integer sends the call to old (logged). @default murmur3Hasher */
  readonly hasher?: Hasher;
  /** Compares old's and new's outcome in shadow mode. A function `(old, new) => boolean` is accepted. @default deepEqualComparator() */
  readonly comparator?: Comparator<O> | ((oldValue: O, newValue: O) => boolean);
  /** Where the glue logs; each write is guarded, and errors are logged as a bounded summary. @default pino at `info` */
  readonly logger?: Logger;
  /** Told about rollbacks. @default none */
  readonly notifier?: Notifier;
  /** How long `rollback()` waits for the notifier before carrying on (logged), in ms of real time. @default 10000 */
  readonly notifierTimeoutMs?: number;
  /**
   * How long `rollback()` waits for the config store's `save`, in ms of real
   * time; past it, `rollback()` rejects with ERR_TIMEOUT and this glue keeps
   * serving old. @default 30000
   */
  readonly storeTimeoutMs?: number;
  /** A clock that throws or returns a non-finite number is replaced by its last good reading. @default systemClock */
  readonly clock?: Clock;
  /** Shadow mode settings: timeout, concurrency cap, sampling, order, redaction, noise control. */
  readonly shadow?: ShadowOptions<I, O>;
  /**
   * In canary and full, a new call taking longer than this fails (and falls
   * back to old when `fallbackEnabled`). Milliseconds of real time. Without
   * it, a new service that never answers leaves its caller waiting: set it
   * whenever new may hang. @default none
   */
  readonly newTimeoutMs?: number;
  /** Length of the sliding window of `stats()`, in ms. @default 300000 (5 minutes) */
  readonly windowMs?: number;
}

/** Served when the provider's config cannot be read: new disabled. */
const unreadableConfig = phases.preparation();

/** How a glue joins a rollback another glue on the same store is saving (see followRollback). */
const followers = new WeakMap<object, (rolling: Promise<unknown>) => Promise<void>>();

/**
 * Makes `glue` serve old at once and until `rolling` (another glue's
 * `rollback()` on the same store) has settled and the store shows the
 * rollback; no save, no event, no notification of its own. For glueService:
 * one save and one notification for all the methods of a service.
 * @internal
 */
export function followRollback<I, O>(glue: MigrationGlue<I, O>, rolling: Promise<unknown>): Promise<void> {
  return followers.get(glue)?.(rolling) ?? Promise.resolve();
}

/**
 * Wraps an old and a new implementation of a service and routes each call by
 * the config in force: preparation (old), shadow (old serves, new compared),
 * canary (a sticky share of keys to new, falling back to old), full (new).
 * The caller always gets exactly what the serving side gave, value or error.
 */
export class MigrationGlue<I, O> implements Service<I, O> {
  readonly name: string;
  readonly #salt: string;
  readonly #old: ServiceCall<I, O>;
  readonly #new: ServiceCall<I, O>;
  readonly #provider: ConfigProvider;
  readonly #routingKey: RoutingKeyFn<I>;
  readonly #customKey: boolean;
  readonly #hasher: Hasher;
  readonly #logger: Logger;
  readonly #limitedLog: LogLimiter;
  readonly #notify: NotifyFn;
  readonly #clock: Clock;
  readonly #newTimeoutMs: number | undefined;
  readonly #storeTimeoutMs: number;
  readonly #windowMs: number;
  readonly #emitter: Emitter<GlueEvents<I, O>>;
  readonly #metrics: { readonly old: ArmMetrics; readonly new: ArmMetrics };
  readonly #shadow: ShadowRunner<I, O>;
  readonly #unsubscribe: () => void;
  readonly #onKeyProblem: (problem: RoutingKeyProblem, error?: unknown) => void;
  #keyProblem: RoutingKeyProblem = 'missing';
  #keyError: unknown;
  #fallbacks = 0;
  #rollbacks = 0;
  #missingKeys = 0;
  #lastConfig: MigrationConfig;
  /**
   * Set by rollback: every call goes to old. Cleared once the store shows
   * the rollback (or, without a store, when the provider reports another config).
   */
  #override: MigrationConfig | undefined;
  #overrideFrom: MigrationConfig | undefined;
  /** The rollback in progress, for a concurrent rollback() to wait on. */
  #rolling: Promise<boolean> | undefined;
  /** True while the config in force came from a rollback (this glue's, or a fall from new to none seen in the provider). */
  #rolledBack = false;
  /** True while a rollback is being saved: no config that arrives is served until the save resolved. */
  #saving = false;
  /** The last config from the provider that passed the check (the check is skipped while it stays the same object). */
  #checked: unknown;
  #closed = false;

  /** @throws InvalidOptionError naming the bad option; MigrationConfigError for a bad static config. */
  constructor(options: MigrationGlueOptions<I, O>) {
    if (typeof options !== 'object' || options === null) {
      throw new InvalidOptionError('options', `must be an object, got ${describeValue(options)}`);
    }
    if (typeof options.name !== 'string' || options.name.trim() === '') {
      throw new InvalidOptionError('name', `must be a non-empty string, got ${describeValue(options.name)}`);
    }
    this.name = options.name;
    if (options.salt !== undefined && typeof options.salt !== 'string') {
      throw new InvalidOptionError('salt', `must be a string, got ${describeValue(options.salt)}`);
    }
    this.#salt = options.salt ?? options.name;
    this.#old = toServiceCall(options.oldService, 'oldService');
    this.#new = toServiceCall(options.newService, 'newService');
    this.#provider = resolveProvider(options.config);
    const routingKey = optionalFunction(options.routingKey, 'routingKey');
    this.#customKey = routingKey !== undefined;
    this.#routingKey = routingKey ?? (defaultRoutingKey as RoutingKeyFn<I>);
    this.#hasher = resolveHasher(options.hasher);
    this.#clock = resolveClock(options.clock);
    this.#newTimeoutMs = timerMs(optionalPositiveNumber(options.newTimeoutMs, 'newTimeoutMs'), 'newTimeoutMs', undefined);
    this.#storeTimeoutMs = timerMs(options.storeTimeoutMs, 'storeTimeoutMs', defaultStoreTimeoutMs);
    this.#windowMs = optionalPositiveNumber(options.windowMs, 'windowMs') ?? 300_000;
    this.#logger = safeLogger(options.logger);
    this.#limitedLog = new LogLimiter(this.#logger, this.#clock);
    this.#notify = toNotify(options.notifier, this.#logger, timerMs(options.notifierTimeoutMs, 'notifierTimeoutMs', defaultNotifierTimeoutMs));
    this.#emitter = new Emitter(this.#logger);
    this.#metrics = {
      old: new ArmMetrics({ clock: this.#clock, windowMs: this.#windowMs }),
      new: new ArmMetrics({ clock: this.#clock, windowMs: this.#windowMs }),
    };
    this.#shadow = new ShadowRunner<I, O>({
      name: this.name,
      salt: this.#salt,
      hasher: this.#hasher,
      newCall: this.#new,
      oldCall: this.#old,
      comparator: options.comparator,
      options: options.shadow ?? {},
      emitter: this.#emitter,
      logger: this.#logger,
      clock: this.#clock,
      windowMs: this.#windowMs,
      recordOld: (input, durationMs, ok, end) => this.#record('old', input, durationMs, ok, end),
    });
    this.#onKeyProblem = (problem, error) => {
      this.#keyProblem = problem;
      this.#keyError = error;
    };
    followers.set(this, (rolling) => this.#follow(rolling));
    this.#lastConfig = this.#current();
    this.#unsubscribe = this.#provider.subscribe((config) => this.#onConfig(config));
  }

  /**
   * Serves `input` from the side the config in force names. Resolves or
   * rejects with exactly what that side gave. Never throws synchronously.
   */
  process(input: I): Promise<O> {
    // Not an async function: the promise of the serving side's call goes back as is, without one more promise around it.
    try {
      return this.#dispatch(input);
    } catch (err) {
      return Promise.reject(err);
    }
  }

  #dispatch(input: I): Promise<O> {
    if (this.#closed) throw new MigrationGlueError('ERR_CLOSED', `migration "${this.name}" is closed`);
    const config = this.#override ?? this.#current();
    if (!config.newSystemEnabled || config.newSystemPercentage === 0) {
      if (this.#emitter.has('route')) {
        this.#route(this.#keyOf(input), 'old', this.#override === undefined ? 'disabled' : 'rolled-back');
      }
      return this.#serve('old', input);
    }
    if (config.shadowMode) return this.#processShadow(input, config);
    if (config.newSystemPercentage === 100) {
      if (this.#emitter.has('route')) this.#route(this.#keyOf(input), 'new', 'full');
      return config.fallbackEnabled ? this.#serveNewWithFallback(input, undefined) : this.#serveNew(input);
    }
    const key = this.#keyOf(input, true);
    if (key === undefined) {
      this.#missingKey(input);
      if (this.#emitter.has('route')) this.#route(key, 'old', 'missing-key');
      return this.#serve('old', input);
    }
    const bucket = this.#bucketOf(key);
    if (bucket === undefined) {
      if (this.#emitter.has('route')) this.#route(key, 'old', 'hash-failed');
      return this.#serve('old', input);
    }
    // Rounded: 0.07 * 100 is 7.000000000000001 in floating point, which would admit bucket 7.
    const toNew = bucket < Math.round(config.newSystemPercentage * 100);
    if (this.#emitter.has('route')) this.#route(key, toNew ? 'new' : 'old', 'bucket');
    if (!toNew) return this.#serve('old', input);
    return config.fallbackEnabled ? this.#serveNewWithFallback(input, key) : this.#serveNew(input);
  }

  /**
   * Rolls back: new disabled, 0 %, saved to the store (when the config is a
   * ConfigStore; a static config is switched in this glue). The very next
   * call goes to old, even before the store answers, and no call reaches new
   * until someone moves the migration forward after this resolves: a config
   * that uses new arriving while the rollback is being saved is not served,
   * and if the store does not show the rollback once saved (a save issued
   * before it landed after it), this glue logs an error and saves the
   * rollback again (at most 3 saves). Emits `rollback`, notifies once (waiting
   * at most `notifierTimeoutMs`) and logs one line. A rollback while already
   * rolled back (or while one is in progress) does nothing and resolves
   * `false`, after the one in progress settled. `reason` is shown as given
   * (at most 1,000 characters); a reason that is not a string is replaced.
   * @throws the store's error when saving failed; ERR_TIMEOUT when the store
   * did not answer within `storeTimeoutMs`; ERR_CONFLICT when the store kept
   * showing another config. In every case this glue still serves old.
   */
  async rollback(reason: string): Promise<boolean> {
    const inProgress = this.#rolling;
    if (inProgress !== undefined) {
      await inProgress.catch(() => {});
      return false;
    }
    const before = this.#override ?? this.#current();
    if (isRolledBack(before)) return false;
    const rolling = this.#rollBack(before, describeReason(reason));
    this.#rolling = rolling;
    try {
      return await rolling;
    } finally {
      this.#rolling = undefined;
    }
  }

  async #rollBack(before: MigrationConfig, why: string): Promise<boolean> {
    const after = phases.rolledBack();
    const at = this.#clock.now();
    this.#override = after;
    this.#overrideFrom = before;
    this.#rollbacks += 1;
    this.#rolledBack = true;
    this.#logger.warn({ migration: this.name, reason: why, before, after }, 'migration rolled back');
    this.#emitter.emit('rollback', { migration: this.name, reason: why, before, after, at });
    const notified = this.#notify({
      kind: 'rollback',
      migration: this.name,
      message: `${this.name}: rolled back from ${describePercentage(before)} (${why})`,
      at,
      details: { reason: why, before, after },
    });
    try {
      if (isConfigStore(this.#provider)) {
        this.#saving = true;
        const stored = await saveRollback(this.#provider, { migration: this.name, logger: this.#logger, timeoutMs: this.#storeTimeoutMs });
        // The store shows the rollback: follow it from now on.
        this.#override = undefined;
        this.#overrideFrom = undefined;
        this.#applyConfig(stored);
      }
    } catch (err) {
      this.#logger.error({ err, migration: this.name }, 'rollback could not be saved to the config store; this instance serves old');
      throw err;
    } finally {
      this.#saving = false;
      await notified;
    }
    return true;
  }

  async #follow(rolling: Promise<unknown>): Promise<void> {
    const before = this.#override ?? this.#current();
    if (this.#saving || isRolledBack(before)) return;
    this.#override = phases.rolledBack();
    this.#overrideFrom = before;
    this.#saving = true;
    try {
      await rolling;
    } catch {
      // the leading glue logged it; this one keeps serving old
    } finally {
      this.#saving = false;
    }
    const stored = this.#current();
    if (this.#override !== undefined && isRolledBack(stored)) {
      this.#override = undefined;
      this.#overrideFrom = undefined;
      this.#applyConfig(stored);
    }
  }

  /** Figures of both arms, shadow comparison and fallbacks. Cheap: no work proportional to traffic. */
  stats(): MigrationStats {
    // One clock reading moves all three sliding windows.
    const now = this.#clock.now();
    const config = this.#override ?? this.#current();
    return {
      migration: this.name,
      config,
      phase: isRolledBack(config) && (this.#rolledBack || storeSaysRolledBack(this.#provider)) ? 'rolled-back' : phaseOf(config),
      windowMs: this.#windowMs,
      old: this.#metrics.old.totalWithWindow(now),
      new: this.#metrics.new.totalWithWindow(now),
      shadow: this.#shadow.stats(now),
      fallbacks: this.#fallbacks,
      rollbacks: this.#rollbacks,
      missingKeys: this.#missingKeys,
    };
  }

  /**
   * Subscribes to a glue event; returns a function that unsubscribes. A
   * listener that throws (or returns a promise that rejects) is logged, never
   * reaching `process`. Listeners run synchronously: one that blocks delays the call.
   */
  on<E extends keyof GlueEvents<I, O>>(event: E, listener: Listener<GlueEvents<I, O>[E]>): () => void {
    return this.#emitter.on(event, listener);
  }

  /** Resolves when every shadow call in flight has settled or timed out. */
  drain(): Promise<void> {
    return this.#shadow.drain();
  }

  /**
   * Stops following the config, waits for shadow work to finish, drops
   * listeners. Later calls reject with ERR_CLOSED; `rollback()` still saves
   * to the store.
   */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#unsubscribe();
    await this.#shadow.drain();
    this.#emitter.clear();
  }

  async #serve(arm: Arm, input: I): Promise<O> {
    const call = arm === 'old' ? this.#old : this.#new;
    const clock = this.#clock;
    const start = clock.now();
    try {
      const value = await call(input);
      const end = clock.now();
      this.#record(arm, input, end - start, true, end);
      return value;
    } catch (err) {
      const end = clock.now();
      this.#record(arm, input, end - start, false, end);
      throw err;
    }
  }

  /**
   * Records a served call in the metrics, then tells `settled` listeners (the rollback guard).
   * `end`: the clock reading the duration was computed from, reused by the metrics' window.
   */
  #record(arm: Arm, input: I, durationMs: number, ok: boolean, end?: number): void {
    // A clock that stepped back gives a negative duration: count it as 0.
    const duration = durationMs > 0 ? durationMs : 0;
    this.#metrics[arm].record(duration, !ok, end);
    if (this.#emitter.has('settled')) {
      this.#emitter.emit('settled', { migration: this.name, key: this.#keyOf(input), arm, ok, durationMs: duration });
    }
  }

  #serveNew(input: I): Promise<O> {
    return this.#newTimeoutMs === undefined ? this.#serve('new', input) : this.#serveNewWithTimeout(input, this.#newTimeoutMs);
  }

  async #serveNewWithTimeout(input: I, timeoutMs: number): Promise<O> {
    const start = this.#clock.now();
    let timer: ReturnType<typeof setTimeout> | undefined;
    const call = (async () => this.#new(input))();
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new MigrationGlueError('ERR_TIMEOUT', `new service of "${this.name}" took longer than ${timeoutMs} ms`)),
        timeoutMs,
      );
    });
    try {
      const value = await Promise.race([call, timeout]);
      this.#record('new', input, this.#clock.now() - start, true);
      return value;
    } catch (err) {
      this.#record('new', input, this.#clock.now() - start, false);
      throw err;
    } finally {
      clearTimeout(timer);
      // a late rejection of the abandoned call must not become an unhandled rejection
      call.catch(() => {});
    }
  }

  async #serveNewWithFallback(input: I, key: RoutingKey | undefined): Promise<O> {
    if (this.#newTimeoutMs !== undefined) {
      try {
        return await this.#serveNewWithTimeout(input, this.#newTimeoutMs);
      } catch (error) {
        return this.#fallBack(input, key, error);
      }
    }
    // #serve('new') inlined: one async frame per call instead of two.
    const clock = this.#clock;
    const start = clock.now();
    let value: O;
    try {
      value = await this.#new(input);
    } catch (error) {
      const end = clock.now();
      this.#record('new', input, end - start, false, end);
      return this.#fallBack(input, key, error);
    }
    const end = clock.now();
    this.#record('new', input, end - start, true, end);
    return value;
  }

  /** New failed: count, log (rate-limited, the error as a bounded summary), emit `fallback`, and serve old. */
  #fallBack(input: I, key: RoutingKey | undefined, error: unknown): Promise<O> {
    this.#fallbacks += 1;
    this.#limitedLog.log('warn', 'fallback', { migration: this.name, key, err: error }, 'new failed, old served (fallback)');
    if (this.#emitter.has('fallback')) {
      this.#emitter.emit('fallback', { migration: this.name, key: key ?? this.#keyOf(input), input: this.#shadow.clean(input), error });
    }
    return this.#serve('old', input);
  }

  #processShadow(input: I, config: MigrationConfig): Promise<O> {
    const key = this.#keyOf(input, true);
    if (key === undefined) this.#missingKey(input);
    if (this.#emitter.has('route')) this.#route(key, 'old', 'shadow');
    if (!this.#shadow.admit(key, config)) return this.#serve('old', input);
    return this.#shadow.run(input, key);
  }

  /** The routing key; with `diagnose`, why there is none is kept for #missingKey. */
  #keyOf(input: I, diagnose = false): RoutingKey | undefined {
    return safeRoutingKey(this.#routingKey, input, diagnose ? this.#onKeyProblem : undefined);
  }

  /** The key's bucket, or undefined (logged) when the hasher throws or returns something that is not a bucket. */
  #bucketOf(key: RoutingKey): number | undefined {
    let bucket: number;
    try {
      bucket = bucketOf(key, this.#salt, this.#hasher);
    } catch (err) {
      this.#limitedLog.log('error', 'hasher', { migration: this.name, err }, 'the hasher threw; old served the call');
      return undefined;
    }
    if (Number.isInteger(bucket) && bucket >= 0 && bucket < BUCKETS) return bucket;
    this.#limitedLog.log(
      'error',
      'hasher',
      { migration: this.name, bucket: describeValue(bucket) },
      'the hasher returned something other than an unsigned 32-bit integer; old served the call',
    );
    return undefined;
  }

  #route(key: RoutingKey | undefined, arm: Arm, reason: RouteReason): void {
    this.#emitter.emit('route', { migration: this.name, key, arm, reason });
  }

  /** Counts a call without a usable key and says, rate-limited, why and what to do. */
  #missingKey(input: I): void {
    this.#missingKeys += 1;
    const problem = this.#keyProblem;
    const error = this.#keyError;
    this.#keyProblem = 'missing';
    this.#keyError = undefined;
    this.#limitedLog.log(
      'warn',
      `missing-key:${problem}`,
      () => ({
        migration: this.name,
        missingKeys: this.#missingKeys,
        inputFields: inputFieldNames(this.#shadow.clean(input)),
        ...(problem === 'threw' ? { err: error } : {}),
      }),
      `call without a routing key: old served it, and no call without a key reaches new. ${this.#keyAdvice(problem)}`,
    );
  }

  #keyAdvice(problem: RoutingKeyProblem): string {
    switch (problem) {
      case 'threw':
        return 'The `routingKey` option threw for this input: make it return a key (a string or a number) for every input.';
      case 'promise':
        return 'The `routingKey` option returned a promise: it must return the key synchronously (a string or a number).';
      case 'object':
        return 'The `routingKey` option returned an object: it must return a string or a number (e.g. `input => input.accountId`).';
      case 'invalid':
        return 'The `routingKey` option returned a value that is not a key (NaN, Infinity, a boolean...): return a non-empty string or a finite number.';
      case 'missing':
        return this.#customKey
          ? 'The `routingKey` option returned no key (undefined, null or an empty string) for this input.'
          : 'The default routing key reads input.userId, then input.requestId: set the `routingKey` option to the field that identifies a user in these inputs (see inputFields).';
    }
  }

  /** The provider's config; a provider that throws or answers garbage gets new disabled (logged), never an error for the caller. */
  #current(): MigrationConfig {
    let config: unknown;
    try {
      config = this.#provider.current();
      if (config === this.#checked) return config as MigrationConfig;
      if (isUsableConfig(config)) {
        this.#checked = config;
        return config;
      }
    } catch (err) {
      this.#limitedLog.log('error', 'config-provider', { migration: this.name, err }, 'the config provider threw; old serves until it answers');
      return unreadableConfig;
    }
    this.#limitedLog.log(
      'error',
      'config-provider',
      { migration: this.name, config: describeValue(config) },
      'the config provider returned something that is not a MigrationConfig; old serves until it answers',
    );
    return unreadableConfig;
  }

  #onConfig(config: MigrationConfig): void {
    if (!isUsableConfig(config)) {
      this.#limitedLog.log('error', 'config-provider', { migration: this.name }, 'the config provider reported something that is not a MigrationConfig; ignored');
      return;
    }
    // While the rollback is saved, nothing that arrives is served: the store is read back once the save resolved.
    if (this.#saving) return;
    if (this.#override !== undefined) {
      // An echo of the config we rolled back from: keep serving old until the provider moves on.
      if (this.#overrideFrom !== undefined && sameConfig(config, this.#overrideFrom)) return;
      this.#override = undefined;
      this.#overrideFrom = undefined;
    }
    this.#applyConfig(config);
  }

  #applyConfig(config: MigrationConfig): void {
    const before = this.#lastConfig;
    this.#lastConfig = config;
    if (sameConfig(before, config)) return;
    // Only a rollback takes a migration from serving new to serving nothing of it; any move forward ends it.
    if (!isRolledBack(config)) this.#rolledBack = false;
    else if (!isRolledBack(before)) this.#rolledBack = true;
    this.#logger.info({ migration: this.name, before, after: config }, 'migration config changed');
    this.#emitter.emit('configChange', { migration: this.name, before, after: config, at: this.#clock.now() });
  }
}

/** True when the provider keeps a rollback flag (RedisConfigStore's `info()`) and it is set: a rollback survives a restart. */
function storeSaysRolledBack(provider: ConfigProvider): boolean {
  try {
    const info = (provider as { info?: () => { rolledBack?: unknown } }).info;
    return typeof info === 'function' && info.call(provider)?.rolledBack === true;
  } catch {
    return false;
  }
}

function resolveProvider(config: MigrationConfig | ConfigProvider): ConfigProvider {
  if (isConfigProvider(config)) return config;
  if (typeof config !== 'object' || config === null) {
    throw new InvalidOptionError('config', `must be a MigrationConfig or a ConfigProvider, got ${describeValue(config)}`);
  }
  return staticConfig(config);
}

function resolveHasher(hasher: Hasher | undefined): Hasher {
  if (hasher === undefined) return murmur3Hasher;
  let hash32: unknown;
  try {
    hash32 = hasher.hash32;
  } catch {
    // a getter that throws or a revoked Proxy: not a hasher
  }
  if (typeof hash32 !== 'function') {
    throw new InvalidOptionError('hasher', `must have a hash32(bytes) method, got ${describeValue(hasher)}`);
  }
  return {
    hash32(bytes) {
      const hash: unknown = hash32.call(hasher, bytes);
      if (typeof hash === 'number') return hash;
      // Not a number: #bucketOf refuses NaN; a promise's rejection must not go unhandled.
      ignoreRejection(hash);
      return Number.NaN;
    },
  };
}

/** A cheap check for the hot path: the four fields have their types and the percentage its range. Never throws. */
function isUsableConfig(config: unknown): config is MigrationConfig {
  if (typeof config !== 'object' || config === null) return false;
  try {
    const { shadowMode, newSystemEnabled, newSystemPercentage, fallbackEnabled } = config as Record<string, unknown>;
    return (
      typeof shadowMode === 'boolean' &&
      typeof newSystemEnabled === 'boolean' &&
      typeof fallbackEnabled === 'boolean' &&
      typeof newSystemPercentage === 'number' &&
      newSystemPercentage >= 0 &&
      newSystemPercentage <= 100
    );
  } catch {
    return false;
  }
}

function describeReason(reason: unknown): string {
  if (typeof reason === 'string' && reason !== '') return reason.length > 1_000 ? `${reason.slice(0, 1_000)}…` : reason;
  if (typeof reason === 'number' || typeof reason === 'boolean' || typeof reason === 'bigint') return String(reason);
  return reason === undefined || reason === '' ? 'no reason given' : `no reason given (got ${describeValue(reason)})`;
}

function describePercentage(config: MigrationConfig): string {
  return config.shadowMode ? 'shadow' : `${config.newSystemPercentage} %`;
}
