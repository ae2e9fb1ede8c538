import type { Redis } from 'ioredis';
import type { ConfigStore } from '../config/config-provider.js';
import { notifyListeners } from '../config/in-memory-config-store.js';
import type { MigrationConfig } from '../config/migration-config.js';
import { MigrationConfigError, isRolledBack, parseMigrationConfig, sameConfig } from '../config/migration-config.js';
import { phases } from '../config/phases.js';
import { InvalidOptionError, describeValue } from '../errors.js';
import { undoesUnseenRollback } from '../config/config-conflict.js';
import { describeSafely, readStoreOptions, requireListener, resolveStoreLogger } from '../config/store-options.js';
import type { Clock } from '../observe/clock.js';
import { systemClock } from '../observe/clock.js';
import type { Logger } from '../observe/logger.js';
import { FleetError } from './fleet-error.js';
import { requireRedis, requireString } from './options.js';

/** Options of RedisConfigStore. Checked once, in the constructor. */
export interface RedisConfigStoreOptions {
  /**
   * An ioredis client for commands; the store also makes one `duplicate()`
   * of it for pub/sub. The store never closes this client. Required.
   */
  readonly redis: Redis;
  /** The Redis key holding the config record (a JSON string). Required. */
  readonly key: string;
  /**
   * Served from construction until the key has been read, and written to the
   * key when it does not exist yet (the first instance wins).
   * @default phases.preparation()
   */
  readonly initial?: MigrationConfig;
  /**
   * Receives changes, refused configs, lost and regained connections.
   * @default silentLogger
   */
  readonly logger?: Logger;
  /** The pub/sub channel saves are published on. @default `${key}:changes` */
  readonly channel?: string;
  /** Stamps `savedAt` on each save (what a lease-driven ramp measures holds from). @default systemClock */
  readonly clock?: Clock;
}

/** What the store knows about the record in force besides the config. */
export interface RedisConfigInfo {
  /** Version of the record in force: +1 per save; 0 before the key was read. */
  readonly version: number;
  /** Clock time of the save that produced it (ms), undefined before the key was read. */
  readonly savedAt: number | undefined;
  /** True when the config in force came from a rollback (as opposed to a migration that never used new). */
  readonly rolledBack: boolean;
  /** True once the key has been read. */
  readonly loaded: boolean;
}

/** Makes a save conditional on a lease: it fails with ERR_LEASE_LOST unless `key` holds `token`. */
export interface SaveFence {
  readonly key: string;
  readonly token: string;
}

/** Options of one `save`. */
export interface RedisSaveOptions {
  /** Save only while this lease is held (checked atomically with the write). */
  readonly fence?: SaveFence;
  /**
   * Replace the record even when the key holds no valid record (garbage written
   * by hand or by another program): the operator's way out. Without it, only a
   * rollback replaces an invalid record; any other save rejects with
   * `ERR_INVALID_CONFIG` naming the key and what is wrong.
   * @default false
   */
  readonly overwriteInvalid?: boolean;
}

/** The record kept in Redis under `key`, and published on each save. */
interface StoredRecord {
  /** The record as Redis holds it. */
  readonly raw: string;
  readonly version: number;
  readonly savedAt: number;
  readonly rolledBack: boolean;
  readonly config: MigrationConfig;
}

// Compare-and-set, publish and lease check in one atomic step, so the order of
// messages on the channel is the order of versions.
// KEYS: config key, fence key (the config key again when unfenced).
// ARGV: expected version, config JSON, savedAt, '1' when the config is a rollback,
//       channel, fence token ('' when unfenced), '1' when the saver's own last config used new,
//       the exact record the saver holds ('' when none): anything else in the key, a
//       newer record or garbage this instance refused, makes a non-rollback save fail.
const SAVE_SCRIPT = `
if ARGV[6] ~= '' and redis.call('GET', KEYS[2]) ~= ARGV[6] then return {-1} end
local cur = redis.call('GET', KEYS[1])
local decoded = nil
local curVersion = 0
if cur then
  local ok, value = pcall(cjson.decode, cur)
  if ok and type(value) == 'table' then
    decoded = value
    if type(value.version) == 'number' then curVersion = value.version end
  end
end
local isRollback = ARGV[4] == '1'
local expected = tonumber(ARGV[1])
if cur and not isRollback and cur ~= ARGV[8] then return {0, curVersion, cur} end
local version = math.max(curVersion, expected) + 1
local rolledBack = false
if isRollback then
  if decoded and type(decoded.config) == 'table' then
    local pc = decoded.config
    local prevRolledBack = pc.newSystemEnabled == false and pc.newSystemPercentage == 0
    rolledBack = (not prevRolledBack) or decoded.rolledBack == true
  else
    rolledBack = ARGV[7] == '1'
  end
end
local record = '{"version":' .. string.format('%d', version) .. ',"savedAt":' .. ARGV[3] ..
  ',"rolledBack":' .. (rolledBack and 'true' or 'false') .. ',"config":' .. ARGV[2] .. '}'
redis.call('SET', KEYS[1], record)
redis.call('PUBLISH', ARGV[5], record)
return {1, version, record, cur or ''}
`;

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
export class RedisConfigStore implements ConfigStore {
  readonly #redis: Redis;
  readonly #sub: Redis;
  readonly #key: string;
  readonly #channel: string;
  readonly #logger: Logger;
  readonly #clock: Clock;
  readonly #listeners = new Set<Listener>();
  readonly #detach: (() => void)[] = [];
  #config: MigrationConfig;
  #version = 0;
  // The record in force exactly as Redis holds it: what a save compares the key with.
  #raw = '';
  #savedAt: number | undefined;
  #rolledBack = false;
  #loaded = false;
  #loading: Promise<void> | undefined;
  #subscribed: Promise<unknown>;
  #queue: Promise<void> = Promise.resolve();
  #lost = false;
  #closed = false;
  // The last refused record, so a bad value logs once however often it is read.
  #lastRefused: string | undefined;

  /**
   * Validates the options, starts subscribing and reading the key (in the
   * background: see `ready()`).
   * @throws InvalidOptionError naming the bad option; MigrationConfigError for a bad `initial`.
   */
  constructor(given: RedisConfigStoreOptions) {
    if (typeof given !== 'object' || (given as unknown) === null) {
      throw new InvalidOptionError('redis', `is required (an ioredis client), got options ${describeSafely(given)}`);
    }
    const options = readStoreOptions<RedisConfigStoreOptions>(given, 'the RedisConfigStore options');
    this.#redis = requireRedis(options.redis);
    this.#key = requireString(options.key, 'key', 'the Redis key of the config');
    this.#channel = options.channel === undefined ? `${this.#key}:changes` : requireString(options.channel, 'channel', 'a pub/sub channel');
    const clock: unknown = options.clock ?? systemClock;
    if (typeof clock !== 'object' || clock === null || typeof (clock as Partial<Clock>).now !== 'function') {
      throw new InvalidOptionError('clock', `must have a now() method, got ${describeValue(clock)}`);
    }
    this.#clock = clock as Clock;
    this.#logger = resolveStoreLogger(options.logger);
    this.#config = parseMigrationConfig(options.initial ?? phases.preparation());

    // Commands on our own connection wait for a reconnect however long it takes: a subscription must not be dropped.
    this.#sub = this.#redis.duplicate({ maxRetriesPerRequest: null });
    const onMessage = (channel: string, message: string) => {
      if (channel === this.#channel) this.#adopt(message, 'message');
    };
    const onClose = () => this.#onLost();
    const onReady = () => this.#onReconnect();
    const onError = (err: unknown) => this.#logger.debug({ err, key: this.#key }, 'redis config subscriber error');
    this.#sub.on('message', onMessage);
    this.#sub.on('close', onClose);
    this.#sub.on('ready', onReady);
    this.#sub.on('error', onError);
    this.#detach.push(() => {
      this.#sub.off('message', onMessage);
      this.#sub.off('close', onClose);
      this.#sub.off('ready', onReady);
    });
    this.#subscribed = this.#sub.subscribe(this.#channel);
    this.#subscribed.catch(noop);
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
   * fleet's config. Rejects when Redis could not be reached (the store keeps
   * trying and catches up on connect) or the stored record is invalid
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
    return this.#config;
  }

  /** Version, save time and rollback flag of the record in force. */
  info(): RedisConfigInfo {
    return { version: this.#version, savedAt: this.#savedAt, rolledBack: this.#rolledBack, loaded: this.#loaded };
  }

  /** The Redis key of the config record. */
  get key(): string {
    return this.#key;
  }

  /** Calls `listener` after each change, saved here or by another instance; returns a function that stops it. */
  subscribe(listener: Listener): () => void {
    requireListener(listener);
    if (this.#closed) return noop;
    this.#listeners.add(listener);
    return () => {
      this.#listeners.delete(listener);
    };
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
    if (typeof options !== 'object' || options === null) {
      throw new InvalidOptionError('options', `must be an object ({ fence?, overwriteInvalid? }), got ${describeSafely(options)}`);
    }
    const fence = options.fence;
    if (fence !== undefined && (typeof fence !== 'object' || fence === null || typeof fence.key !== 'string' || typeof fence.token !== 'string' || fence.token === '')) {
      throw new InvalidOptionError('fence', `must be { key, token } with non-empty strings, got ${describeSafely(fence)}`);
    }
    const overwriteInvalid = options.overwriteInvalid === true;
    // The view this save was decided from: a rollback applied after it must not be undone.
    const seen = this.#loaded ? this.#version : undefined;
    return this.#enqueue(() => this.#write(parsed, fence, seen, overwriteInvalid));
  }

  /** Unsubscribes, closes the pub/sub connection and drops every listener. Idempotent. `current()` keeps answering. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#listeners.clear();
    for (const detach of this.#detach) detach();
    try {
      await this.#sub.quit();
    } catch {
      this.#sub.disconnect();
    }
  }

  #enqueue(task: () => Promise<void>): Promise<void> {
    const run = this.#queue.then(task);
    this.#queue = run.then(noop, noop);
    return run;
  }

  async #write(config: MigrationConfig, fence: SaveFence | undefined, seen: number | undefined, overwriteInvalid: boolean): Promise<void> {
    // Compare against the fleet's version, not the 0 of a store that has not read the key yet.
    if (!this.#loaded) await this.ready().catch(noop);
    if (undoesUnseenRollback(config, this.#config, this.#version > (seen ?? this.#version))) {
      throw new FleetError(
        'ERR_CONFLICT',
        `config not saved to "${this.#key}": it was rolled back (version ${this.#version}) after this save was decided, and stays rolled back; decide again from the rolled-back config`,
      );
    }
    let expected = this.#raw;
    if (overwriteInvalid) {
      const raw = await this.#redis.get(this.#key);
      if (raw !== null && this.#parse(raw) instanceof MigrationConfigError) expected = raw;
    }
    const rollback = isRolledBack(config);
    const usedNew = !isRolledBack(this.#config) || this.#rolledBack;
    const savedAt = Math.floor(this.#clock.now());
    const reply: unknown = await this.#redis.eval(
      SAVE_SCRIPT,
      2,
      this.#key,
      fence?.key ?? this.#key,
      String(this.#version),
      JSON.stringify(config),
      String(Number.isFinite(savedAt) ? savedAt : Date.now()),
      rollback ? '1' : '0',
      this.#channel,
      fence?.token ?? '',
      usedNew ? '1' : '0',
      expected,
    );
    if (!Array.isArray(reply) || typeof reply[0] !== 'number') {
      throw new Error(`[migration-glue] unexpected reply from Redis to a config save: ${describeValue(reply)}`);
    }
    const [status, version, record, previous] = reply as [number, unknown, unknown, unknown];
    if (status === -1) {
      throw new FleetError('ERR_LEASE_LOST', `config not saved to "${this.#key}": the lease "${fence?.key ?? ''}" is not held by this instance`);
    }
    if (status === 0) {
      const mine = this.#version;
      if (typeof record === 'string') {
        const stored = this.#parse(record);
        if (stored instanceof MigrationConfigError) {
          this.#refuse(record, stored);
          throw this.#invalidRecordError(stored);
        }
        // Even when closed: the caller is told to decide again from what this store now serves.
        this.#apply(stored, 'read');
      }
      throw new FleetError(
        'ERR_CONFLICT',
        `config not saved to "${this.#key}": another instance saved version ${String(version)} while this one was at ${mine}; this instance now serves it, decide again and retry`,
      );
    }
    if (typeof record === 'string') {
      if (typeof previous === 'string' && previous !== '' && previous !== this.#raw) {
        const replaced = this.#parse(previous);
        if (replaced instanceof MigrationConfigError) {
          this.#logger.warn({ key: this.#key, issues: replaced.issues, config }, `redis key "${this.#key}" held an invalid record; replaced by this save`);
        }
      }
      this.#adopt(record, 'save');
    }
  }

  #invalidRecordError(stored: MigrationConfigError): MigrationConfigError {
    const error = new MigrationConfigError(stored.issues);
    error.message = error.message.replace(
      'invalid config:',
      `invalid config record in redis key "${this.#key}":`,
    ) + '; a save that is not a rollback does not replace it: fix or delete the key, roll back, or save with { overwriteInvalid: true }';
    return error;
  }

  async #load(): Promise<void> {
    await this.#subscribed;
    // Subscribed first, then read: a save between the two is in the read or on the channel.
    let raw = await this.#redis.get(this.#key);
    if (raw === null) {
      await this.#restore();
      raw = await this.#redis.get(this.#key);
    }
    if (raw === null) return;
    const record = this.#parse(raw);
    if (record instanceof MigrationConfigError) {
      this.#refuse(raw, record);
      throw record;
    }
    this.#apply(record, 'read');
    this.#loaded = true;
  }

  /** Writes the config in force onto a missing key (never over an existing one), at the version in force. */
  async #restore(): Promise<void> {
    const record: Omit<StoredRecord, 'raw'> = {
      version: Math.max(this.#version, 1),
      savedAt: this.#savedAt ?? Math.floor(this.#clock.now()),
      rolledBack: this.#rolledBack,
      config: this.#config,
    };
    const written = await this.#redis.set(this.#key, JSON.stringify(record), 'NX');
    if (written === 'OK' && this.#loaded) {
      this.#logger.warn({ key: this.#key, version: record.version, config: record.config }, 'redis config key was missing; restored the last good config');
    }
  }

  #onLost(): void {
    if (this.#closed || this.#lost) return;
    this.#lost = true;
    this.#logger.warn({ key: this.#key, config: this.#config }, 'redis connection lost; serving the last good config until it is back');
  }

  #onReconnect(): void {
    if (this.#closed || !this.#lost) return;
    this.#lost = false;
    this.#logger.info({ key: this.#key }, 'redis connection back; re-reading the config');
    void this.#reread();
  }

  async #reread(): Promise<void> {
    try {
      // The resubscription was sent before 'ready' fired: once this PING answers it is active, so nothing is missed.
      await this.#sub.ping();
      if (!this.#loaded) {
        await this.ready();
        return;
      }
      let raw = await this.#redis.get(this.#key);
      if (raw === null) {
        await this.#restore();
        raw = await this.#redis.get(this.#key);
      }
      if (raw !== null) this.#adopt(raw, 'read');
    } catch (err) {
      this.#logger.warn({ err, key: this.#key }, 'redis config could not be re-read after reconnecting; keeping the last good config');
    }
  }

  /** Validates a record from Redis and serves it when it is not older than the one in force. */
  #adopt(raw: string, source: 'message' | 'read' | 'save'): void {
    if (this.#closed && source !== 'save') return;
    const record = this.#parse(raw);
    if (record instanceof MigrationConfigError) {
      this.#refuse(raw, record);
      return;
    }
    this.#apply(record, source);
  }

  #apply(record: StoredRecord, source: 'message' | 'read' | 'save'): void {
    this.#lastRefused = undefined;
    // An older version is a message or read overtaken by a newer save; equal versions differ only after Redis lost the key.
    if (record.version < this.#version) return;
    const before = this.#config;
    this.#version = record.version;
    this.#raw = record.raw;
    this.#savedAt = record.savedAt;
    this.#rolledBack = record.rolledBack;
    if (sameConfig(before, record.config)) return;
    this.#config = record.config;
    if (source !== 'save') this.#logger.info({ key: this.#key, version: record.version, before, after: record.config }, 'config changed in redis');
    notifyListeners([...this.#listeners], record.config, this.#logger);
  }

  #parse(raw: string): StoredRecord | MigrationConfigError {
    let value: unknown;
    try {
      value = JSON.parse(raw);
    } catch (err) {
      return new MigrationConfigError([{ path: '(root)', message: `is not valid JSON: ${(err as Error).message}` }]);
    }
    if (typeof value !== 'object' || value === null || !('config' in value)) {
      return new MigrationConfigError([{ path: '(root)', message: 'must be a record { version, savedAt, rolledBack, config }' }]);
    }
    const envelope = value as { version?: unknown; savedAt?: unknown; rolledBack?: unknown; config: unknown };
    if (typeof envelope.version !== 'number' || !Number.isInteger(envelope.version) || envelope.version < 0) {
      return new MigrationConfigError([{ path: 'version', message: `must be an integer >= 0, got ${describeValue(envelope.version)}` }]);
    }
    let config: MigrationConfig;
    try {
      config = parseMigrationConfig(envelope.config);
    } catch (err) {
      if (err instanceof MigrationConfigError) {
        return new MigrationConfigError(err.issues.map((issue) => ({ path: `config.${issue.path}`, message: issue.message })));
      }
      throw err;
    }
    return {
      raw,
      version: envelope.version,
      savedAt: typeof envelope.savedAt === 'number' ? envelope.savedAt : 0,
      rolledBack: envelope.rolledBack === true,
      config,
    };
  }

  #refuse(raw: string, error: MigrationConfigError): void {
    if (raw === this.#lastRefused) return;
    this.#lastRefused = raw;
    this.#logger.error(
      { key: this.#key, issues: error.issues, config: this.#config },
      `config in redis key "${this.#key}" refused, keeping the last good config: ${error.message}`,
    );
  }
}
