import type { Comparator } from '../compare/comparator.js';
import type { ConfigProvider } from '../config/config-provider.js';
import { isConfigProvider, isConfigStore, staticConfig } from '../config/config-provider.js';
import type { MigrationConfig } from '../config/migration-config.js';
import { isRolledBack, sameConfig } from '../config/migration-config.js';
import { phaseOf, phases } from '../config/phases.js';
import { InvalidOptionError, MigrationGlueError, describeValue } from '../errors.js';
import type { Hasher, RoutingKey } from '../hashing/hasher.js';
import { optionalFunction, optionalPositiveNumber, resolveClock } from '../options.js';
import { bucketOf, murmur3Hasher } from '../hashing/hasher.js';
import { ArmMetrics } from '../observe/arm-metrics.js';
import type { Clock } from '../observe/clock.js';
import { Emitter } from '../observe/emitter.js';
import type { Listener } from '../observe/emitter.js';
import { LogLimiter } from '../observe/log-limiter.js';
import type { Logger } from '../observe/logger.js';
import { safeLogger } from '../observe/logger.js';
import type { Notifier, NotifyFn } from '../observe/notifier.js';
import { toNotify } from '../observe/notifier.js';
import type { Arm, GlueEvents, RouteReason } from './events.js';
import type { RoutingKeyFn } from './routing-key.js';
import { defaultRoutingKey, safeRoutingKey } from './routing-key.js';
import type { Service, ServiceCall, ServiceLike } from './service.js';
import { toServiceCall } from './service.js';
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
   * The routing key of an input: calls with the same key always take the same side.
   * A call without a usable key (undefined, null, '', NaN) goes to old.
   * @default input.userId ?? input.requestId (a string or number input is its own key)
   */
  readonly routingKey?: RoutingKeyFn<I>;
  /** @default murmur3Hasher */
  readonly hasher?: Hasher;
  /** Compares old's and new's outcome in shadow mode. A function `(old, new) => boolean` is accepted. @default deepEqualComparator() */
  readonly comparator?: Comparator<O> | ((oldValue: O, newValue: O) => boolean);
  /** @default pino at `info` */
  readonly logger?: Logger;
  /** Told about rollbacks. @default none */
  readonly notifier?: Notifier;
  /** @default systemClock */
  readonly clock?: Clock;
  /** Shadow mode settings: timeout, concurrency cap, sampling, order, redaction, noise control. */
  readonly shadow?: ShadowOptions<I, O>;
  /**
   * In canary, a new call taking longer than this fails (and falls back to
   * old when `fallbackEnabled`). Milliseconds of real time. @default none
   */
  readonly newTimeoutMs?: number;
  /** Length of the sliding window of `stats()`, in ms. @default 300000 (5 minutes) */
  readonly windowMs?: number;
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
  readonly #hasher: Hasher;
  readonly #logger: Logger;
  readonly #limitedLog: LogLimiter;
  readonly #notify: NotifyFn;
  readonly #clock: Clock;
  readonly #newTimeoutMs: number | undefined;
  readonly #windowMs: number;
  readonly #emitter: Emitter<GlueEvents<I, O>>;
  readonly #metrics: { readonly old: ArmMetrics; readonly new: ArmMetrics };
  readonly #shadow: ShadowRunner<I, O>;
  readonly #unsubscribe: () => void;
  #fallbacks = 0;
  #rollbacks = 0;
  #lastConfig: MigrationConfig;
  /** Set by rollback until the store confirms: the next call goes to old even before `save` resolves. */
  #override: MigrationConfig | undefined;
  #overrideFrom: MigrationConfig | undefined;
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
    this.#routingKey = optionalFunction(options.routingKey, 'routingKey') ?? (defaultRoutingKey as RoutingKeyFn<I>);
    this.#hasher = options.hasher ?? murmur3Hasher;
    if (typeof this.#hasher.hash32 !== 'function') {
      throw new InvalidOptionError('hasher', `must have a hash32(bytes) method, got ${describeValue(options.hasher)}`);
    }
    this.#clock = resolveClock(options.clock);
    this.#newTimeoutMs = optionalPositiveNumber(options.newTimeoutMs, 'newTimeoutMs');
    this.#windowMs = optionalPositiveNumber(options.windowMs, 'windowMs') ?? 300_000;
    this.#logger = safeLogger(options.logger);
    this.#limitedLog = new LogLimiter(this.#logger, this.#clock);
    this.#notify = toNotify(options.notifier, this.#logger);
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
    this.#lastConfig = this.#provider.current();
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
    const config = this.#override ?? this.#provider.current();
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
    const key = this.#keyOf(input);
    if (key === undefined) {
      this.#missingKey();
      if (this.#emitter.has('route')) this.#route(key, 'old', 'missing-key');
      return this.#serve('old', input);
    }
    // Rounded: 0.07 * 100 is 7.000000000000001 in floating point, which would admit bucket 7.
    const toNew = bucketOf(key, this.#salt, this.#hasher) < Math.round(config.newSystemPercentage * 100);
    if (this.#emitter.has('route')) this.#route(key, toNew ? 'new' : 'old', 'bucket');
    if (!toNew) return this.#serve('old', input);
    return config.fallbackEnabled ? this.#serveNewWithFallback(input, key) : this.#serveNew(input);
  }

  /**
   * Rolls back: new disabled, 0 %, saved to the store (when the config is a
   * ConfigStore; a static config is switched in this glue). The very next
   * call goes to old, even before the store answers. Emits `rollback`,
   * notifies once and logs one line. A rollback while already rolled back
   * does nothing and resolves `false`.
   * @throws the store's error when saving failed (this glue still serves old).
   */
  async rollback(reason: string): Promise<boolean> {
    const before = this.#override ?? this.#provider.current();
    if (isRolledBack(before)) return false;
    const after = phases.rolledBack();
    const at = this.#clock.now();
    this.#override = after;
    this.#overrideFrom = before;
    this.#rollbacks += 1;
    const why = typeof reason === 'string' && reason !== '' ? reason : 'no reason given';
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
      if (isConfigStore(this.#provider)) await this.#provider.save(after);
    } catch (err) {
      this.#logger.error({ err, migration: this.name }, 'rollback could not be saved to the config store; this instance serves old');
      throw err;
    } finally {
      await notified;
    }
    return true;
  }

  /** Figures of both arms, shadow comparison and fallbacks. Cheap: no work proportional to traffic. */
  stats(): MigrationStats {
    // One clock reading moves all three sliding windows.
    const now = this.#clock.now();
    const config = this.#override ?? this.#provider.current();
    return {
      migration: this.name,
      config,
      phase: phaseOf(config),
      windowMs: this.#windowMs,
      old: this.#metrics.old.totalWithWindow(now),
      new: this.#metrics.new.totalWithWindow(now),
      shadow: this.#shadow.stats(now),
      fallbacks: this.#fallbacks,
      rollbacks: this.#rollbacks,
    };
  }

  /** Subscribes to a glue event; returns a function that unsubscribes. A listener that throws is logged, never reaching `process`. */
  on<E extends keyof GlueEvents<I, O>>(event: E, listener: Listener<GlueEvents<I, O>[E]>): () => void {
    return this.#emitter.on(event, listener);
  }

  /** Resolves when every shadow call in flight has settled or timed out. */
  drain(): Promise<void> {
    return this.#shadow.drain();
  }

  /** Stops following the config, waits for shadow work to finish, drops listeners. Later calls reject with ERR_CLOSED. */
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
    this.#metrics[arm].record(durationMs, !ok, end);
    if (this.#emitter.has('settled')) {
      this.#emitter.emit('settled', { migration: this.name, key: this.#keyOf(input), arm, ok, durationMs });
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

  /** New failed: count, log (rate-limited), emit `fallback`, and serve old. */
  #fallBack(input: I, key: RoutingKey | undefined, error: unknown): Promise<O> {
    this.#fallbacks += 1;
    this.#limitedLog.log('warn', 'fallback', { migration: this.name, key, err: error }, 'new failed, old served (fallback)');
    if (this.#emitter.has('fallback')) {
      this.#emitter.emit('fallback', { migration: this.name, key: key ?? this.#keyOf(input), input: this.#shadow.clean(input), error });
    }
    return this.#serve('old', input);
  }

  #processShadow(input: I, config: MigrationConfig): Promise<O> {
    const key = this.#keyOf(input);
    if (this.#emitter.has('route')) this.#route(key, 'old', 'shadow');
    if (!this.#shadow.admit(key, config)) return this.#serve('old', input);
    return this.#shadow.run(input, key);
  }

  #keyOf(input: I): RoutingKey | undefined {
    return safeRoutingKey(this.#routingKey, input);
  }

  #route(key: RoutingKey | undefined, arm: Arm, reason: RouteReason): void {
    this.#emitter.emit('route', { migration: this.name, key, arm, reason });
  }

  #missingKey(): void {
    this.#limitedLog.log('warn', 'missing-key', { migration: this.name }, 'call without a routing key: old served it');
  }

  #onConfig(config: MigrationConfig): void {
    if (this.#override !== undefined && this.#overrideFrom !== undefined && sameConfig(config, this.#overrideFrom)) {
      // An echo of the config we rolled back from: keep serving old until the store moves on.
      return;
    }
    this.#override = undefined;
    this.#overrideFrom = undefined;
    const before = this.#lastConfig;
    this.#lastConfig = config;
    if (sameConfig(before, config)) return;
    this.#logger.info({ migration: this.name, before, after: config }, 'migration config changed');
    this.#emitter.emit('configChange', { migration: this.name, before, after: config, at: this.#clock.now() });
  }
}

function resolveProvider(config: MigrationConfig | ConfigProvider): ConfigProvider {
  if (isConfigProvider(config)) return config;
  if (typeof config !== 'object' || config === null) {
    throw new InvalidOptionError('config', `must be a MigrationConfig or a ConfigProvider, got ${describeValue(config)}`);
  }
  return staticConfig(config);
}



function describePercentage(config: MigrationConfig): string {
  return config.shadowMode ? 'shadow' : `${config.newSystemPercentage} %`;
}
