import type { Comparator, Comparison } from '../compare/comparator.js';
import { fingerprintOf } from '../compare/fingerprint.js';
import type { ComparatorLike } from '../compare/to-comparator.js';
import { toComparator } from '../compare/to-comparator.js';
import type { ConfigProvider } from '../config/config-provider.js';
import { isConfigProvider, staticConfig } from '../config/config-provider.js';
import type { MigrationConfig } from '../config/migration-config.js';
import type { PhaseName } from '../config/phases.js';
import { phaseOf } from '../config/phases.js';
import { describeValue, InvalidOptionError } from '../errors.js';
import { bucketOf } from '../hashing/hasher.js';
import type { Clock } from '../observe/clock.js';
import { Emitter } from '../observe/emitter.js';
import type { Listener } from '../observe/emitter.js';
import { LogLimiter } from '../observe/log-limiter.js';
import type { Logger } from '../observe/logger.js';
import { safeLogger } from '../observe/logger.js';
import { RepairLogError } from './data-errors.js';
import type { DualWriteEvents, DualWriteStats, RepairResult } from './dual-write-events.js';
import { KeyedQueue, keyId } from './keys.js';
import { requireFunction, requireObject, resolveClock } from '../options.js';
import { requireRepository } from './options.js';
import type { RepairLog, Side } from './repair-log.js';
import { InMemoryRepairLog } from './repair-log.js';
import type { Repository } from './repository.js';
import type { TombstoneStore } from './tombstone-store.js';
import { InMemoryTombstoneStore } from './tombstone-store.js';

/** Options of a DualWriteRepository. Resolved and validated once, in the constructor. */
export interface DualWriteRepositoryOptions<E, K> {
  /** The migration's name: in every log line and event, and the hashing salt of canary reads. */
  readonly name: string;
  /** The store being retired. */
  readonly old: Repository<E, K>;
  /** The store replacing it. */
  readonly new: Repository<E, K>;
  /** The key of an entity: a string or a number (it is bucketed as `String(key)`). */
  readonly keyOf: (entity: E) => K;
  /** A MigrationConfig (static) or a ConfigProvider / ConfigStore, read once per call. */
  readonly config: MigrationConfig | ConfigProvider;
  /** Compares old's and new's row in shadow reads (undefined stands for "no row"). A function `(old, new) => boolean` is accepted. @default deepEqualComparator() */
  readonly comparator?: ComparatorLike<E | undefined>;
  /** Where failed secondary writes are recorded until `repair()`. @default new InMemoryRepairLog() */
  readonly repairLog?: RepairLog<K>;
  /** Where dual-written deletes leave a tombstone; give the same store to `backfill`. @default new InMemoryTombstoneStore() */
  readonly tombstones?: TombstoneStore<K>;
  /** @default pino at `info` */
  readonly logger?: Logger;
  /** @default systemClock */
  readonly clock?: Clock;
}

interface Sides<E, K> {
  readonly primary: Repository<E, K>;
  readonly secondary: Repository<E, K>;
  readonly secondarySide: Side;
}

const REPAIR_PAGE = 500;

/**
 * A Repository over an old and a new store that follows the glue's phases:
 *
 * | phase | writes | reads |
 * |---|---|---|
 * | preparation (new disabled or 0 %) | old only | old |
 * | shadow | old, then new | old; new read too and compared |
 * | canary N % | old, then new | new for N % of keys (sticky), old for the rest |
 * | full | new, then old | new |
 *
 * The primary is written first: its error reaches the caller unchanged and
 * the secondary is then left alone. A failed secondary write is recorded in
 * the repair log (never dropped) and `repair()` replays it. Writes of one key
 * are serialised in this process, so both stores see them in the same order.
 */
export class DualWriteRepository<E, K> implements Repository<E, K> {
  readonly name: string;
  readonly #old: Repository<E, K>;
  readonly #new: Repository<E, K>;
  readonly #keyOf: (entity: E) => K;
  readonly #provider: ConfigProvider;
  readonly #comparator: Comparator<E | undefined>;
  readonly #repairLog: RepairLog<K>;
  readonly #tombstones: TombstoneStore<K>;
  readonly #logger: Logger;
  readonly #limitedLog: LogLimiter;
  readonly #clock: Clock;
  readonly #emitter: Emitter<DualWriteEvents<E, K>>;
  readonly #writes = new KeyedQueue();
  readonly #pending = new Set<Promise<void>>();
  #repairing: Promise<RepairResult> | undefined;
  readonly #counts = {
    readsOld: 0,
    readsNew: 0,
    fallbacks: 0,
    acknowledged: 0,
    primaryFailures: 0,
    secondaryFailures: 0,
    compared: 0,
    mismatches: 0,
    shadowErrors: 0,
    recorded: 0,
    replayed: 0,
    replayFailed: 0,
  };

  /** @throws InvalidOptionError naming the bad option; MigrationConfigError for a bad static config. */
  constructor(options: DualWriteRepositoryOptions<E, K>) {
    requireObject(options, 'the DualWriteRepository options');
    if (typeof options.name !== 'string' || options.name.trim() === '') {
      throw new InvalidOptionError('name', `must be a non-empty string, got ${describeValue(options.name)}`);
    }
    this.name = options.name;
    this.#old = requireRepository(options.old, 'old');
    this.#new = requireRepository(options.new, 'new');
    if (this.#old === this.#new) throw new InvalidOptionError('new', 'must be a different store from `old`');
    this.#keyOf = requireFunction(options.keyOf, 'keyOf');
    this.#provider = resolveProvider(options.config);
    this.#comparator = toComparator(options.comparator);
    this.#repairLog = options.repairLog ?? new InMemoryRepairLog<K>();
    if (!hasMethods(this.#repairLog, ['append', 'list', 'remove', 'size'])) {
      throw new InvalidOptionError('repairLog', `must be a RepairLog (append, list, remove, size), got ${describeValue(options.repairLog)}`);
    }
    this.#tombstones = options.tombstones ?? new InMemoryTombstoneStore<K>();
    if (!hasMethods(this.#tombstones, ['add', 'remove', 'has', 'clear'])) {
      throw new InvalidOptionError('tombstones', `must be a TombstoneStore (add, remove, has, clear), got ${describeValue(options.tombstones)}`);
    }
    this.#clock = resolveClock(options.clock);
    this.#logger = safeLogger(options.logger);
    this.#limitedLog = new LogLimiter(this.#logger, this.#clock);
    this.#emitter = new Emitter(this.#logger);
  }

  /** The repair log in use (the default in-memory one when none was given). */
  get repairLog(): RepairLog<K> {
    return this.#repairLog;
  }

  /** The tombstone store in use: pass it to `backfill({ tombstones })`. */
  get tombstones(): TombstoneStore<K> {
    return this.#tombstones;
  }

  /** Reads from the store the phase names for this key; see the class table. Rejects with that store's error. */
  async get(key: K): Promise<E | undefined> {
    const config = this.#provider.current();
    switch (phaseOf(config)) {
      case 'preparation':
        return this.#readOld(key);
      case 'shadow':
        return this.#inPercentage(key, config) ? this.#readShadow(key) : this.#readOld(key);
      case 'canary':
        return this.#inPercentage(key, config) ? this.#readNew(key, config) : this.#readOld(key);
      case 'full':
        return this.#readNew(key, config);
    }
  }

  /** Writes the primary, then the secondary (see the class table). Rejects with the primary's error, unchanged. */
  async save(entity: E): Promise<void> {
    const key = this.#keyOf(entity);
    return this.#writes.run(keyId(key), async () => {
      const phase = phaseOf(this.#provider.current());
      const sides = this.#sides(phase);
      if (sides === undefined) return this.#primary(() => this.#old.save(entity));
      await this.#primary(() => sides.primary.save(entity));
      try {
        // Saved again after a delete: a tombstone left in place would make backfill undo this row.
        await this.#tombstones.remove(key);
      } catch (err) {
        this.#logger.error({ err, migration: this.name, key }, 'tombstone could not be removed; a running backfill may skip this row (verify will report it as missing)');
      }
      try {
        await sides.secondary.save(entity);
      } catch (error) {
        await this.#recordFailure(key, 'save', sides.secondarySide, phase, error);
      }
    });
  }

  /**
   * Deletes from the primary, leaves a tombstone (while dual writing), then
   * deletes from the secondary. Rejects with the primary's error, unchanged.
   */
  async delete(key: K): Promise<void> {
    return this.#writes.run(keyId(key), async () => {
      const phase = phaseOf(this.#provider.current());
      const sides = this.#sides(phase);
      if (sides === undefined) return this.#primary(() => this.#old.delete(key));
      await this.#primary(() => sides.primary.delete(key));
      try {
        // Before the secondary delete: a backfill insert landing after that delete then sees the tombstone.
        await this.#tombstones.add(key, this.#clock.now());
      } catch (err) {
        this.#logger.error({ err, migration: this.name, key }, 'tombstone could not be recorded; a running backfill may copy this row back (verify will report it as extra)');
      }
      try {
        await sides.secondary.delete(key);
      } catch (error) {
        await this.#recordFailure(key, 'delete', sides.secondarySide, phase, error);
      }
    });
  }

  /** A page in key order from the store that serves reads in this phase (new in full, old otherwise). */
  getBatch(afterKey: K | null, limit: number): Promise<readonly E[]> {
    const full = phaseOf(this.#provider.current()) === 'full';
    return full ? this.#new.getBatch(afterKey, limit) : this.#old.getBatch(afterKey, limit);
  }

  /**
   * Replays the repair log: for each logged key, copies the primary's
   * CURRENT row to the secondary (the primary of the phase in force now;
   * no row there means a delete), so a replay never writes stale data.
   * Entries that fail again stay in the log. One replay runs at a time: a
   * second call while one runs waits for it and returns its result.
   */
  repair(): Promise<RepairResult> {
    this.#repairing ??= this.#replay().finally(() => {
      this.#repairing = undefined;
    });
    return this.#repairing;
  }

  /** Subscribes to an event; returns a function that unsubscribes. A listener that throws is logged, never reaching the caller. */
  on<N extends keyof DualWriteEvents<E, K>>(event: N, listener: Listener<DualWriteEvents<E, K>[N]>): () => void {
    return this.#emitter.on(event, listener);
  }

  /** Resolves when every shadow comparison in flight has finished. */
  async drain(): Promise<void> {
    while (this.#pending.size > 0) await Promise.all(this.#pending);
  }

  /** Counts since this instance was made. Cheap. */
  stats(): DualWriteStats {
    const c = this.#counts;
    return {
      migration: this.name,
      phase: phaseOf(this.#provider.current()),
      reads: { old: c.readsOld, new: c.readsNew, fallbacks: c.fallbacks },
      writes: { acknowledged: c.acknowledged, primaryFailures: c.primaryFailures, secondaryFailures: c.secondaryFailures },
      shadow: { compared: c.compared, mismatches: c.mismatches, errors: c.shadowErrors },
      repair: { recorded: c.recorded, replayed: c.replayed, failed: c.replayFailed },
    };
  }

  #sides(phase: PhaseName): Sides<E, K> | undefined {
    if (phase === 'preparation') return undefined;
    if (phase === 'full') return { primary: this.#new, secondary: this.#old, secondarySide: 'old' };
    return { primary: this.#old, secondary: this.#new, secondarySide: 'new' };
  }

  async #primary(write: () => Promise<void>): Promise<void> {
    try {
      await write();
    } catch (error) {
      this.#counts.primaryFailures += 1;
      throw error;
    }
    this.#counts.acknowledged += 1;
  }

  async #recordFailure(key: K, op: 'save' | 'delete', side: Side, phase: PhaseName, error: unknown): Promise<void> {
    this.#counts.secondaryFailures += 1;
    try {
      await this.#repairLog.append({ key, op, side, at: this.#clock.now(), error: messageOf(error) });
    } catch (logError) {
      this.#logger.error(
        { err: logError, secondaryError: error, migration: this.name, key, op, side },
        'secondary write failed and the repair log could not record it',
      );
      throw new RepairLogError(
        `${op} of key ${describeValue(key)} in "${this.name}" reached the primary, but ${side} failed and the repair log could not record it; retry the ${op}`,
        { cause: logError },
      );
    }
    this.#counts.recorded += 1;
    this.#limitedLog.log('warn', `secondary-${side}`, { migration: this.name, key, op, side, err: error }, `${side} failed a ${op}; recorded in the repair log`);
    this.#emitter.emit('secondaryFailure', { migration: this.name, key, op, side, phase, error });
  }

  #inPercentage(key: K, config: MigrationConfig): boolean {
    // Rounded as in the glue: 0.07 * 100 is 7.000000000000001 in floating point.
    return bucketOf(String(key), this.name) < Math.round(config.newSystemPercentage * 100);
  }

  #readOld(key: K): Promise<E | undefined> {
    this.#counts.readsOld += 1;
    return this.#old.get(key);
  }

  async #readNew(key: K, config: MigrationConfig): Promise<E | undefined> {
    this.#counts.readsNew += 1;
    if (!config.fallbackEnabled) return this.#new.get(key);
    try {
      return await this.#new.get(key);
    } catch (error) {
      this.#counts.fallbacks += 1;
      this.#limitedLog.log('warn', 'fallback', { migration: this.name, key, err: error }, 'read from new failed, old served it (fallback)');
      this.#emitter.emit('fallback', { migration: this.name, key, error });
      return this.#readOld(key);
    }
  }

  async #readShadow(key: K): Promise<E | undefined> {
    // Both reads start together, so the shadow read adds no latency; the caller waits for old only.
    const shadow = settle(() => this.#new.get(key));
    this.#counts.readsOld += 1;
    // settle() never rejects, so an old failure leaves no unhandled rejection behind.
    const value = await this.#old.get(key);
    const comparison = this.#compareLater(key, value, shadow);
    this.#pending.add(comparison);
    void comparison.finally(() => this.#pending.delete(comparison));
    return value;
  }

  async #compareLater(key: K, oldValue: E | undefined, shadow: Promise<Settled<E | undefined>>): Promise<void> {
    try {
      const newRead = await shadow;
      if (!newRead.ok) return this.#shadowError(key, newRead.error);
      this.#counts.compared += 1;
      const first = this.#compare(oldValue, newRead.value);
      if (first.equal) return;
      // A write may have landed between the two reads: re-read both before calling it a mismatch.
      const [oldAgain, newAgain] = await Promise.all([this.#old.get(key), this.#new.get(key)]);
      const second = this.#compare(oldAgain, newAgain);
      if (second.equal) return;
      this.#counts.mismatches += 1;
      const fingerprint = fingerprintOf(second);
      this.#limitedLog.log('warn', `mismatch:${fingerprint}`, { migration: this.name, key, fingerprint }, 'shadow read: old and new disagree');
      this.#emitter.emit('mismatch', { migration: this.name, key, old: oldAgain, new: newAgain, comparison: second, fingerprint });
    } catch (error) {
      this.#shadowError(key, error);
    }
  }

  #compare(oldValue: E | undefined, newValue: E | undefined): Comparison {
    return this.#comparator.compare({ ok: true, value: oldValue }, { ok: true, value: newValue });
  }

  #shadowError(key: K, error: unknown): void {
    this.#counts.shadowErrors += 1;
    this.#limitedLog.log('warn', 'shadow-error', { migration: this.name, key, err: error }, 'shadow read from new failed');
    this.#emitter.emit('shadowError', { migration: this.name, key, error });
  }

  async #replay(): Promise<RepairResult> {
    let after: number | null = null;
    let replayed = 0;
    let keys = 0;
    let failed = 0;
    for (;;) {
      const page = await this.#repairLog.list(after, REPAIR_PAGE);
      if (page.length === 0) break;
      after = page[page.length - 1]?.id ?? after;
      const byKey = new Map<string, { key: K; ids: number[]; sides: Set<Side> }>();
      for (const entry of page) {
        const id = keyId(entry.key);
        const group = byKey.get(id) ?? { key: entry.key, ids: [], sides: new Set<Side>() };
        group.ids.push(entry.id);
        group.sides.add(entry.side);
        byKey.set(id, group);
      }
      for (const [id, group] of byKey) {
        const done = await this.#writes.run(id, () => this.#copyFromPrimary(group.key, group.sides));
        if (done) {
          try {
            await this.#repairLog.remove(group.ids);
          } catch (err) {
            // The copy is done; the entries stay and a later replay repeats it harmlessly.
            this.#logger.warn({ err, migration: this.name, key: group.key }, 'repaired, but the repair log entries could not be removed');
            failed += group.ids.length;
            continue;
          }
          replayed += group.ids.length;
          keys += 1;
        } else {
          failed += group.ids.length;
        }
      }
    }
    this.#counts.replayed += replayed;
    this.#counts.replayFailed += failed;
    const remaining = await this.#repairLog.size();
    if (replayed > 0 || failed > 0) {
      this.#logger.info({ migration: this.name, replayed, keys, failed, remaining }, 'repair log replayed');
    }
    return { replayed, keys, failed, remaining };
  }

  async #copyFromPrimary(key: K, failedSides: ReadonlySet<Side>): Promise<boolean> {
    const sides = this.#sides(phaseOf(this.#provider.current())) ?? { primary: this.#old, secondary: this.#new, secondarySide: 'new' as const };
    if (!failedSides.has(sides.secondarySide)) {
      this.#logger.warn(
        { migration: this.name, key, source: sides.secondarySide === 'new' ? 'old' : 'new' },
        'the primary changed since this write failed; copying from the current primary',
      );
    }
    try {
      const row = await sides.primary.get(key);
      if (row === undefined) await sides.secondary.delete(key);
      else await sides.secondary.save(row);
      return true;
    } catch (err) {
      this.#limitedLog.log('warn', 'repair-failed', { migration: this.name, key, err }, 'repair of a key failed; it stays in the repair log');
      return false;
    }
  }
}

type Settled<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly error: unknown };

async function settle<T>(call: () => Promise<T>): Promise<Settled<T>> {
  try {
    return { ok: true, value: await call() };
  } catch (error) {
    return { ok: false, error };
  }
}

function resolveProvider(config: MigrationConfig | ConfigProvider): ConfigProvider {
  if (isConfigProvider(config)) return config;
  if (typeof config !== 'object' || config === null) {
    throw new InvalidOptionError('config', `must be a MigrationConfig or a ConfigProvider, got ${describeValue(config)}`);
  }
  return staticConfig(config);
}

function hasMethods(value: unknown, methods: readonly string[]): boolean {
  if (typeof value !== 'object' || value === null) return false;
  const record = value as Record<string, unknown>;
  return methods.every((method) => typeof record[method] === 'function');
}

function messageOf(error: unknown): string {
  if (error instanceof Error) return `${error.name}: ${error.message}`;
  return describeValue(error);
}
