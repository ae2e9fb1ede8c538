import type { MigrationConfig } from '../config/migration-config.js';
import { MigrationGlueError } from '../errors.js';
import type { RoutingKey } from '../hashing/hasher.js';
import type { Clock } from '../observe/clock.js';
import { Emitter } from '../observe/emitter.js';
import type { Listener } from '../observe/emitter.js';
import { LogLimiter } from '../observe/log-limiter.js';
import { toNotify } from '../observe/notifier.js';
import { ArmRecorder } from './arm-recorder.js';
import { ConfigInForce } from './config-in-force.js';
import type { Arm, GlueEvents, RouteReason } from './events.js';
import type { MigrationGlueOptions } from './glue-options.js';
import { resolveGlueOptions, resolveHasher, resolveProvider } from './glue-options.js';
import { KeyReader } from './key-reader.js';
import { inNewShare, phaseOf } from './routing.js';
import type { Service, ServiceCall } from './service.js';
import { toServiceCall } from './service.js';
import { ShadowRunner } from './shadow-runner.js';
import type { MigrationStats } from './stats.js';
import { timed, withTimeout } from './timed.js';

export type { MigrationGlueOptions } from './glue-options.js';

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
  readonly #old: ServiceCall<I, O>;
  /** New's call, bounded by `newTimeoutMs` when set. */
  readonly #new: ServiceCall<I, O>;
  readonly #clock: Clock;
  readonly #windowMs: number;
  readonly #log: LogLimiter;
  readonly #emitter: Emitter<GlueEvents<I, O>>;
  readonly #keys: KeyReader<I>;
  readonly #config: ConfigInForce<I, O>;
  readonly #arms: ArmRecorder<I, O>;
  readonly #shadow: ShadowRunner<I, O>;
  #fallbacks = 0;
  #closed = false;

  /** @throws InvalidOptionError naming the bad or unknown option; MigrationConfigError for a bad static config. */
  constructor(options: MigrationGlueOptions<I, O>) {
    const resolved = resolveGlueOptions(options);
    const { name, clock, logger, windowMs } = resolved;
    this.name = name;
    this.#clock = clock;
    this.#windowMs = windowMs;
    const oldCall = toServiceCall(resolved.oldService, 'oldService');
    const newCall = toServiceCall(resolved.newService, 'newService');
    this.#old = oldCall;
    this.#new = resolved.newTimeoutMs === undefined ? newCall : withTimeout(newCall, resolved.newTimeoutMs, `new service of "${name}"`);
    const hasher = resolveHasher(resolved.hasher);
    this.#log = new LogLimiter(logger, clock);
    this.#emitter = new Emitter(logger);
    this.#arms = new ArmRecorder<I, O>({ name, clock, windowMs, emitter: this.#emitter, keyOf: (input) => this.#keys.keyOf(input) });
    this.#shadow = new ShadowRunner<I, O>({
      name,
      salt: resolved.salt,
      hasher,
      newCall,
      oldCall,
      comparator: resolved.comparator,
      options: resolved.shadow,
      emitter: this.#emitter,
      logger,
      clock,
      windowMs,
      recorder: this.#arms,
    });
    this.#keys = new KeyReader<I>({ name, salt: resolved.salt, hasher, routingKey: resolved.routingKey, log: this.#log, clean: (input) => this.#shadow.clean(input), cleanError: (error, input) => this.#shadow.cleanError(error, input) });
    this.#config = new ConfigInForce<I, O>({
      name,
      provider: resolveProvider(resolved.config),
      logger,
      log: this.#log,
      notify: toNotify(resolved.notifier, logger, resolved.notifierTimeoutMs),
      clock,
      emitter: this.#emitter,
      storeTimeoutMs: resolved.storeTimeoutMs,
    });
    followers.set(this, (rolling) => this.#config.follow(rolling));
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
    const config = this.#config.current();
    switch (phaseOf(config)) {
      case 'preparation':
        if (this.#emitter.has('route')) this.#route(this.#keys.keyOf(input), 'old', this.#config.overridden ? 'rolled-back' : 'disabled');
        return this.#serve('old', input);
      case 'shadow':
        return this.#shadowed(input, config);
      case 'full':
        if (this.#emitter.has('route')) this.#route(this.#keys.keyOf(input), 'new', 'full');
        return config.fallbackEnabled ? this.#serveNewWithFallback(input, undefined) : this.#serve('new', input);
      case 'canary':
        return this.#canary(input, config);
    }
  }

  #canary(input: I, config: MigrationConfig): Promise<O> {
    const key = this.#keys.keyOf(input, true);
    if (key === undefined) {
      this.#keys.missing(input);
      if (this.#emitter.has('route')) this.#route(key, 'old', 'missing-key');
      return this.#serve('old', input);
    }
    const bucket = this.#keys.bucketOf(key);
    if (bucket === undefined) {
      if (this.#emitter.has('route')) this.#route(key, 'old', 'hash-failed');
      return this.#serve('old', input);
    }
    const toNew = inNewShare(bucket, config);
    if (this.#emitter.has('route')) this.#route(key, toNew ? 'new' : 'old', 'bucket');
    if (!toNew) return this.#serve('old', input);
    return config.fallbackEnabled ? this.#serveNewWithFallback(input, key) : this.#serve('new', input);
  }

  #shadowed(input: I, config: MigrationConfig): Promise<O> {
    const key = this.#keys.keyOf(input, true);
    if (key === undefined) this.#keys.missing(input);
    if (this.#emitter.has('route')) this.#route(key, 'old', 'shadow');
    if (!this.#shadow.admit(key, config)) return this.#serve('old', input);
    return this.#shadow.run(input, key);
  }

  /** Calls one side, timed and recorded (metrics, `settled`). */
  #serve(arm: Arm, input: I): Promise<O> {
    return timed(this.#clock, arm === 'old' ? this.#old : this.#new, input, this.#arms, arm);
  }

  #serveNewWithFallback(input: I, key: RoutingKey | undefined): Promise<O> {
    return timed(this.#clock, this.#new, input, this.#arms, 'new', undefined, (error) => this.#fallBack(input, key, error));
  }

  /** New failed: count, log (rate-limited, the error as a bounded summary), emit `fallback`, and serve old. */
  #fallBack(input: I, key: RoutingKey | undefined, error: unknown): Promise<O> {
    this.#fallbacks += 1;
    const shown = this.#shadow.cleanError(error, input);
    this.#log.log('warn', 'fallback', { migration: this.name, key, err: shown }, 'new failed, old served (fallback)');
    if (this.#emitter.has('fallback')) {
      this.#emitter.emit('fallback', { migration: this.name, key: key ?? this.#keys.keyOf(input), input: this.#shadow.clean(input), error: shown });
    }
    return this.#serve('old', input);
  }

  #route(key: RoutingKey | undefined, arm: Arm, reason: RouteReason): void {
    this.#emitter.emit('route', { migration: this.name, key, arm, reason });
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
  rollback(reason: string): Promise<boolean> {
    return this.#config.rollback(reason);
  }

  /** Figures of both arms, shadow comparison and fallbacks. Cheap: no work proportional to traffic. */
  stats(): MigrationStats {
    // One clock reading moves all three sliding windows: the figures are of one instant.
    const now = this.#clock.now();
    const config = this.#config.current();
    const arms = this.#arms.stats(now);
    return {
      migration: this.name,
      config,
      phase: this.#config.phase(config),
      windowMs: this.#windowMs,
      old: arms.old,
      new: arms.new,
      shadow: this.#shadow.stats(now),
      fallbacks: this.#fallbacks,
      rollbacks: this.#config.rollbacks,
      missingKeys: this.#keys.missingKeys,
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
    this.#config.close();
    await this.#shadow.drain();
    this.#emitter.clear();
  }
}
