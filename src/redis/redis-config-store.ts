import type { Redis } from 'ioredis';
import type { ConfigStore } from '../config/config-provider.js';
import { Listeners } from '../config/listeners.js';
import type { MigrationConfig } from '../config/migration-config.js';
import { MigrationConfigError, isRolledBack, parseMigrationConfig } from '../config/migration-config.js';
import { phases } from '../config/phases.js';
import { InvalidOptionError } from '../errors.js';
import type { RampChange, RampState, RampStateStore } from '../config/ramp-state.js';
import { emptyRampState } from '../config/ramp-state.js';
import { describeSafely, resolveStoreLogger } from '../config/store-options.js';
import type { Clock } from '../observe/clock.js';
import type { Logger } from '../observe/logger.js';
import { parseOptions } from '../option-schema.js';
import { requireRedis } from './options.js';
import type { RedisConfigInfo, RedisConfigStoreOptions, RedisSaveOptions, SaveFence } from './redis-config-options.js';
import { redisSaveSchema, redisStoreOptionsSchema } from './redis-config-options.js';
import type { SaveReply } from './redis-config-record.js';
import { parseRecord, runSaveScript } from './redis-config-record.js';
import { ConfigChannel } from './redis-config-channel.js';
import { RedisRampState } from './redis-ramp-state.js';
import type { RecordSource } from './redis-record-in-force.js';
import { RecordInForce } from './redis-record-in-force.js';
import { readOrRestore, writeConfig } from './redis-config-write.js';

export type { RedisConfigInfo, RedisConfigStoreOptions, RedisSaveOptions, SaveFence } from './redis-config-options.js';

type Listener = (config: MigrationConfig) => void;

const noop = (): void => {};

/**
 * A ConfigStore kept in Redis and shared by every instance of an application.
 *
 * `current()` answers from memory, always synchronously: from construction
 * it serves `initial` until the key has been read (await `ready()`, or build
 * the store with `RedisConfigStore.connect()`, before routing traffic that
 * must follow the fleet's config). Each save is validated, then written with
 * compare-and-set on the record's version and published, in one Lua script;
 * the saving instance serves the new config as soon as `save` resolves, and
 * every other instance applies it when the message arrives (pub/sub on a
 * duplicate connection). A save that lost the race to another instance
 * rejects with `ERR_CONFLICT` (the store then serves the winner's config);
 * a rollback (new disabled, 0 %) is never refused, and a save onto a key that
 * Redis lost succeeds. A record read from Redis is validated like any other:
 * an invalid one is refused and logged, and the last good config keeps
 * serving. When the connection drops, the store keeps serving its last good
 * config, logs once, and re-reads the key on reconnect.
 */
export class RedisConfigStore implements ConfigStore, RampStateStore {
  readonly #redis: Redis;
  readonly #channelSub: ConfigChannel;
  readonly #key: string;
  readonly #channel: string;
  readonly #logger: Logger;
  readonly #clock: Clock;
  readonly #listeners: Listeners<MigrationConfig>;
  readonly #ramp: RedisRampState;
  readonly #rec: RecordInForce;
  #loaded = false;
  #loading: Promise<void> | undefined;
  #queue: Promise<void> = Promise.resolve();
  #closed = false;

  /**
   * Validates the options, starts subscribing and reading the key (in the
   * background: see `ready()`).
   * @throws InvalidOptionError naming the bad option; MigrationConfigError for a bad `initial`.
   */
  constructor(given: RedisConfigStoreOptions) {
    if (typeof given !== 'object' || (given as unknown) === null) {
      throw new InvalidOptionError('redis', `is required (an ioredis client), got options ${describeSafely(given)}`);
    }
    const options = parseOptions(redisStoreOptionsSchema, given, 'RedisConfigStore');
    this.#redis = requireRedis(options.redis);
    this.#key = options.key;
    this.#channel = options.channel ?? `${this.#key}:changes`;
    this.#clock = options.clock;
    this.#logger = resolveStoreLogger(options.logger);
    this.#listeners = new Listeners(this.#logger, 'config listener threw');
    const initial = parseMigrationConfig((options.initial as MigrationConfig | undefined) ?? phases.preparation());
    this.#rec = new RecordInForce(this.#key, initial, this.#logger, this.#listeners, (ramp) => this.#ramp.take(ramp));

    this.#ramp = new RedisRampState({
      redis: this.#redis,
      key: this.#key,
      logger: this.#logger,
      current: () => ({ config: this.#rec.config, version: this.#rec.version, rolledBack: this.#rec.rolledBack }),
      write: (config, version, expected, usedNew, ramp) => this.#eval(config, undefined, version, expected, usedNew, ramp),
      adoptSaved: (raw) => this.#adopt(raw, 'save'),
      applyRead: (record) => this.#rec.apply(record, 'read'),
      refuse: (raw, error) => this.#rec.refuse(raw, error),
    });
    this.#channelSub = new ConfigChannel(this.#redis, this.#channel, this.#logger, this.#key, {
      message: (raw) => this.#adopt(raw, 'message'),
      lost: () => this.#logger.warn({ key: this.#key, config: this.#rec.config }, 'redis connection lost; serving the last good config until it is back'),
      back: () => {
        this.#logger.info({ key: this.#key }, 'redis connection back; re-reading the config');
        void this.#reread();
      },
    });
    this.ready().catch((err: unknown) => {
      this.#logger.error({ err, key: this.#key }, 'redis config could not be read; serving the initial config until it can');
    });
  }

  /**
   * Builds a store and waits until it serves the fleet's config.
   * @throws like the constructor, and like `ready()`.
   */
  static async connect(options: RedisConfigStoreOptions): Promise<RedisConfigStore> {
    const store = new RedisConfigStore(options);
    try {
      await store.ready();
    } catch (err) {
      await store.close();
      throw err;
    }
    return store;
  }

  /**
   * Resolves once the subscription is active and the key has been read (or
   * written with `initial`, when missing): from then on `current()` is the
   * fleet's config. Rejects when Redis could not be reached, once the client's
   * retry limit (`maxRetriesPerRequest`) gave up (the store keeps trying and
   * catches up on connect), or the stored record is invalid
   * (MigrationConfigError; the store serves `initial` until a valid save).
   * Calling it again after a rejection tries again.
   */
  ready(): Promise<void> {
    if (this.#loaded) return Promise.resolve();
    this.#loading ??= this.#load().finally(() => {
      this.#loading = undefined;
    });
    return this.#loading;
  }

  /** The config in force, from memory. */
  current(): MigrationConfig {
    return this.#rec.config;
  }

  /** Version, save time and rollback flag of the record in force. */
  info(): RedisConfigInfo {
    return { version: this.#rec.version, savedAt: this.#rec.savedAt, rolledBack: this.#rec.rolledBack, loaded: this.#loaded };
  }

  /** The Redis key of the config record. */
  get key(): string {
    return this.#key;
  }

  /** Calls `listener` after each change, saved here or by another instance; returns a function that stops it. */
  subscribe(listener: Listener): () => void {
    return this.#listeners.add(listener);
  }

  /**
   * Validates `config`, writes it with compare-and-set on the version in force
   * here, publishes it, then serves it and notifies listeners. Saves from this
   * instance run one at a time, in call order.
   * @throws MigrationConfigError on a bad config (nothing written).
   * @throws FleetError `ERR_CONFLICT` when another instance saved first, or when
   *   the config was rolled back after this save was called: the store now serves
   *   that config; decide again and retry. Never for a rollback.
   * @throws MigrationConfigError when the key holds an invalid record and this save
   *   is neither a rollback nor `overwriteInvalid` (the message names the key).
   * @throws FleetError `ERR_LEASE_LOST` when `options.fence` is not held.
   * @throws the Redis error when Redis could not be written (`current()` unchanged).
   */
  async save(config: MigrationConfig, options: RedisSaveOptions = {}): Promise<void> {
    const parsed = parseMigrationConfig(config);
    const { fence, overwriteInvalid = false } = parseOptions(redisSaveSchema, options, 'RedisConfigStore.save');
    // The view this save was decided from: a rollback applied after it must not be undone.
    const seen = this.#loaded ? this.#rec.version : undefined;
    return this.#enqueue(() => this.#write(parsed, fence, seen, overwriteInvalid));
  }

  /** The ramp state saved with the config (emptyRampState() before any was saved). */
  rampState(): RampState {
    return this.#ramp.stored ?? emptyRampState();
  }

  /** True when the config in force came from a rollback. */
  rolledBack(): boolean {
    return this.#rec.rolledBack;
  }

  /**
   * Reads the record from Redis, applies `change` to its ramp state and
   * config, and writes both in one compare-and-set (reading again when
   * another instance wrote in between); see RampStateStore. A rollback is
   * written whatever the key holds.
   * @throws MigrationConfigError when the key holds an invalid record and the change is not a rollback.
   * @throws FleetError `ERR_CONFLICT` when other instances kept writing for 50 attempts.
   * @throws the Redis error when Redis could not be read or written.
   */
  updateRamp(change: (ramp: RampState, config: MigrationConfig) => RampChange | undefined): Promise<RampState> {
    return this.#enqueue(async () => {
      await this.#loadedOrInvalid();
      await this.#ramp.update(change);
    }).then(() => this.rampState());
  }

  /** Calls `listener` after each change of the ramp state, saved here or by another instance; returns a function that stops it. */
  subscribeRamp(listener: (ramp: RampState) => void): () => void {
    return this.#ramp.subscribe(listener);
  }

  /** Unsubscribes, closes the pub/sub connection and drops every listener. Idempotent. `current()` keeps answering. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#listeners.close();
    this.#ramp.close();
    await this.#channelSub.close();
  }

  #enqueue(task: () => Promise<void>): Promise<void> {
    const run = this.#queue.then(task);
    this.#queue = run.then(noop, noop);
    return run;
  }

  async #write(config: MigrationConfig, fence: SaveFence | undefined, seen: number | undefined, overwriteInvalid: boolean): Promise<void> {
    // Compare against the fleet's version, not the 0 of a store that has not read the key yet (a rollback compares nothing).
    if (!isRolledBack(config)) await this.#loadedOrInvalid();
    const port = { redis: this.#redis, key: this.#key, logger: this.#logger, rec: this.#rec };
    await writeConfig(
      {
        ...port,
        eval: (expected, usedNew) => this.#eval(config, fence, this.#rec.version, expected, usedNew, undefined),
        adoptSaved: (raw) => this.#adopt(raw, 'save'),
      },
      config,
      fence,
      seen,
      overwriteInvalid,
    );
  }

  /** Loads the key unless loaded: a Redis error rejects; an invalid record is the write's to judge (a rollback or overwriteInvalid replaces it). */
  async #loadedOrInvalid(): Promise<void> {
    if (this.#loaded) return;
    await this.ready().catch((err: unknown) => {
      if (!(err instanceof MigrationConfigError)) throw err;
    });
  }

  /** Runs SAVE_SCRIPT; `ramp` undefined keeps the stored ramp state. */
  #eval(config: MigrationConfig, fence: SaveFence | undefined, version: number, expected: string, usedNew: boolean, ramp: RampState | undefined): Promise<SaveReply> {
    const savedAt = Math.floor(this.#clock.now());
    const stamp = Number.isFinite(savedAt) ? savedAt : Date.now();
    return runSaveScript(this.#redis, { key: this.#key, channel: this.#channel, config, fence, version, expected, usedNew, ramp, savedAt: stamp });
  }

  async #load(): Promise<void> {
    // Subscribed first, then read: a save between the two is in the read or on the channel. The wait for the
    // subscriber (which never gives up) ends when the caller's client gives up.
    await this.#channelSub.active(() => this.#redis.ping());
    const raw = await this.#readOrRestore();
    if (raw === null) return;
    const record = parseRecord(raw);
    if (record instanceof MigrationConfigError) {
      this.#rec.refuse(raw, record);
      throw record;
    }
    this.#rec.apply(record, 'read');
    this.#loaded = true;
  }

  /** The key's record; when the key is missing, the config in force is written onto it first (never over an existing one). */
  #readOrRestore(): Promise<string | null> {
    return readOrRestore({ redis: this.#redis, key: this.#key, logger: this.#logger, rec: this.#rec }, this.#ramp.stored, this.#clock, this.#loaded);
  }

  async #reread(): Promise<void> {
    try {
      // The resubscription was sent before 'ready' fired: once this PING answers it is active, so nothing is missed.
      await this.#channelSub.ping();
      if (!this.#loaded) {
        await this.ready();
        return;
      }
      const raw = await this.#readOrRestore();
      if (raw !== null) this.#adopt(raw, 'read');
    } catch (err) {
      this.#logger.warn({ err, key: this.#key }, 'redis config could not be re-read after reconnecting; keeping the last good config');
    }
  }

  #adopt(raw: string, source: RecordSource): void {
    if (this.#closed && source !== 'save') return;
    this.#rec.adopt(raw, source);
  }
}
