import type { ComparatorLike } from '../compare/to-comparator.js';
import { toComparator } from '../compare/to-comparator.js';
import type { ConfigProvider } from '../config/config-provider.js';
import { isConfigProvider, staticConfig } from '../config/config-provider.js';
import type { MigrationConfig } from '../config/migration-config.js';
import type { PhaseName } from '../core/routing.js';
import { phaseOf } from '../core/routing.js';
import { describeValue, InvalidOptionError } from '../errors.js';
import { bucketOf } from '../hashing/hasher.js';
import type { Clock } from '../observe/clock.js';
import { Emitter } from '../observe/emitter.js';
import type { Listener } from '../observe/emitter.js';
import { LogLimiter } from '../observe/log-limiter.js';
import type { Logger } from '../observe/logger.js';
import { safeLogger } from '../observe/logger.js';
import type { Settled } from '../bounded.js';
import { errorText, loggableError, timeoutError, unwrap } from './bounded.js';
import { settleWithin } from '../bounded.js';
import { RepairLogError } from './data-errors.js';
import type { DualWriteEvents, DualWriteStats, RepairResult } from './dual-write-events.js';
import { KeyedQueue, keyId, requireKey } from './keys.js';
import { requireFunction, requireObject, resolveClock } from '../options.js';
import type { DualWriteLimits } from './options.js';
import { requireRepository, resolveDualWriteLimits } from './options.js';
import type { LoggedRepair, RepairEntry, RepairLog, Side } from './repair-log.js';
import type { AckedWrite } from './repair-replay.js';
import { RepairTracker, replayAcked, replayEntry } from './repair-replay.js';
import { InMemoryRepairLog } from './repair-log.js';
import type { Repository } from './repository.js';
import { ShadowReads } from './shadow-reads.js';
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
  /**
   * Longest wait, in ms of real time, for a store call the caller waits on:
   * the primary write, a read that serves the caller, `getBatch`, and each
   * call of `repair()`. On expiry the call rejects with ERR_TIMEOUT (a canary
   * or full read with `fallbackEnabled` is served by old instead) and later
   * writes of the key go ahead. A timed-out write may still land in its store.
   * @default 30000
   */
  readonly timeoutMs?: number;
  /**
   * Longest wait, in ms of real time, for each call made after the primary
   * committed: the secondary write, the tombstone and the repair-log append.
   * A secondary write that does not answer in time counts as failed: it goes
   * to the repair log and the caller gets the primary's outcome.
   * @default 5000
   */
  readonly secondaryTimeoutMs?: number;
  /**
   * Shadow reads: `timeoutMs` bounds each read of new (and the re-reads of a
   * difference), @default 5000; `maxInFlight` caps comparisons at once, @default 1000;
   * beyond it a read is not shadowed and counts in `stats().shadow.skipped`.
   */
  readonly shadow?: { readonly timeoutMs?: number; readonly maxInFlight?: number };
}

interface Sides<E, K> {
  readonly primary: Repository<E, K>;
  readonly secondary: Repository<E, K>;
  readonly secondarySide: Side;
}

type Op = 'save' | 'delete';

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
 * the secondary is then left alone. A secondary write that fails or does not
 * answer within `secondaryTimeoutMs` is recorded in the repair log (never
 * dropped; if the log refuses it too, it is kept in memory, logged and
 * counted) and the caller gets the primary's outcome. `repair()` copies each
 * logged key from the store that acknowledged the write to the one that
 * missed it. Writes of one key are serialised in this process, each step
 * bounded, so both stores see them in the same order and no key waits on a
 * hung store for longer than its bounds.
 */
export class DualWriteRepository<E, K> implements Repository<E, K> {
  readonly name: string;
  readonly #old: Repository<E, K>;
  readonly #new: Repository<E, K>;
  readonly #keyOf: (entity: E) => K;
  readonly #provider: ConfigProvider;
  readonly #repairLog: RepairLog<K>;
  readonly #tombstones: TombstoneStore<K>;
  readonly #logger: Logger;
  readonly #limitedLog: LogLimiter;
  readonly #clock: Clock;
  readonly #limits: DualWriteLimits;
  readonly #emitter: Emitter<DualWriteEvents<E, K>>;
  readonly #shadow: ShadowReads<E, K>;
  readonly #writes = new KeyedQueue();
  readonly #tracker = new RepairTracker<K>();
  /** Set once the log's keys are known to the tracker (needed before a write reaches one store only). */
  #loaded: Promise<void> | undefined;
  #repairing: Promise<RepairResult> | undefined;
  readonly #counts = {
    readsOld: 0,
    readsNew: 0,
    fallbacks: 0,
    acknowledged: 0,
    primaryFailures: 0,
    primaryTimeouts: 0,
    lateWrites: 0,
    secondaryFailures: 0,
    secondaryTimeouts: 0,
    recorded: 0,
    unrecorded: 0,
    lost: 0,
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
    const comparator = toComparator(options.comparator);
    this.#repairLog = options.repairLog ?? new InMemoryRepairLog<K>();
    if (!hasMethods(this.#repairLog, ['append', 'list', 'remove', 'size'])) {
      throw new InvalidOptionError('repairLog', `must be a RepairLog (append, list, remove, size), got ${describeValue(options.repairLog)}`);
    }
    this.#tombstones = options.tombstones ?? new InMemoryTombstoneStore<K>();
    if (!hasMethods(this.#tombstones, ['add', 'remove', 'has', 'clear'])) {
      throw new InvalidOptionError('tombstones', `must be a TombstoneStore (add, remove, has, clear), got ${describeValue(options.tombstones)}`);
    }
    this.#limits = resolveDualWriteLimits(options);
    this.#clock = resolveClock(options.clock);
    this.#logger = safeLogger(options.logger);
    this.#limitedLog = new LogLimiter(this.#logger, this.#clock);
    this.#emitter = new Emitter(this.#logger);
    this.#shadow = new ShadowReads({
      name: this.name,
      old: this.#old,
      new: this.#new,
      comparator,
      timeoutMs: this.#limits.shadowTimeoutMs,
      maxInFlight: this.#limits.shadowMaxInFlight,
      emitter: this.#emitter,
      log: this.#limitedLog,
    });
  }

  /** The repair log in use (the default in-memory one when none was given). */
  get repairLog(): RepairLog<K> {
    return this.#repairLog;
  }

  /** The tombstone store in use: pass it to `backfill({ tombstones })`. */
  get tombstones(): TombstoneStore<K> {
    return this.#tombstones;
  }

  /**
   * Reads from the store the phase names for this key; see the class table.
   * Rejects with that store's error, ERR_TIMEOUT after `timeoutMs`, or
   * ERR_INVALID_KEY for a key that is not a string, finite number or bigint.
   */
  async get(key: K): Promise<E | undefined> {
    requireKey(key, 'the key');
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

  /**
   * Writes the primary, then the secondary (see the class table). Rejects with
   * the primary's error, unchanged, or ERR_TIMEOUT when the primary did not
   * answer within `timeoutMs` (the write may still land there); rejects with
   * keyOf's error, or ERR_INVALID_KEY when keyOf returns no usable key.
   */
  async save(entity: E): Promise<void> {
    const key = requireKey(this.#keyOf(entity), 'the key keyOf returned');
    return this.#writes.run(keyId(key), () => this.#write(key, { op: 'save', row: entity }, (store) => store.save(entity)));
  }

  /**
   * Deletes from the primary, leaves a tombstone (while dual writing), then
   * deletes from the secondary. Rejects as `save` does.
   */
  async delete(key: K): Promise<void> {
    requireKey(key, 'the key');
    return this.#writes.run(keyId(key), () => this.#write(key, { op: 'delete' }, (store) => store.delete(key)));
  }

  /** A page in key order from the store that serves reads in this phase (new in full, old otherwise), bounded by `timeoutMs`. */
  async getBatch(afterKey: K | null, limit: number): Promise<readonly E[]> {
    const full = phaseOf(this.#provider.current()) === 'full';
    const store = full ? this.#new : this.#old;
    const outcome = await settleWithin(() => store.getBatch(afterKey, limit), this.#limits.timeoutMs);
    return unwrap(outcome, () => timeoutError(`getBatch of ${full ? 'new' : 'old'} in "${this.name}"`, this.#limits.timeoutMs));
  }

  /**
   * Replays the repair log. For each logged key, the latest entry decides:
   * the row of the store that acknowledged that write (the entry's other
   * side) is copied to the store that missed it, or deleted there when that
   * store has no row. The phase in force does not matter, so a repair after a
   * rollback from full copies new's acknowledged row to old. A write that
   * reached old only after an entry (in preparation) records a newer entry,
   * so an older acknowledged value never wins. Entries the repair log refused
   * are retried from memory. A key whose timed-out secondary write has not
   * answered yet is left for a later replay (it could still land). Entries
   * that fail again stay. One replay runs at a time: a second call while one
   * runs returns the same promise. Rejects when the repair log's `list` or
   * `size` fails or does not answer within `timeoutMs`.
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

  /** Resolves when every shadow comparison in flight has finished: within the shadow and read timeouts. */
  drain(): Promise<void> {
    return this.#shadow.drain();
  }

  /** Counts since this instance was made. Cheap. */
  stats(): DualWriteStats {
    const c = this.#counts;
    const s = this.#shadow.counts;
    return {
      migration: this.name,
      phase: phaseOf(this.#provider.current()),
      reads: { old: c.readsOld, new: c.readsNew, fallbacks: c.fallbacks },
      writes: {
        acknowledged: c.acknowledged,
        primaryFailures: c.primaryFailures,
        primaryTimeouts: c.primaryTimeouts,
        lateWrites: c.lateWrites,
        secondaryFailures: c.secondaryFailures,
        secondaryTimeouts: c.secondaryTimeouts,
      },
      shadow: { compared: s.compared, mismatches: s.mismatches, errors: s.errors, timeouts: s.timeouts, skipped: s.skipped, inFlight: this.#shadow.inFlight },
      repair: {
        recorded: c.recorded,
        replayed: c.replayed,
        failed: c.replayFailed,
        unrecorded: c.unrecorded,
        pending: this.#tracker.pending,
        lost: c.lost,
      },
    };
  }

  #sides(phase: PhaseName): Sides<E, K> | undefined {
    if (phase === 'preparation') return undefined;
    if (phase === 'full') return { primary: this.#new, secondary: this.#old, secondarySide: 'old' };
    return { primary: this.#old, secondary: this.#new, secondarySide: 'new' };
  }

  async #write(key: K, write: AckedWrite, apply: (store: Repository<E, K>) => Promise<void>): Promise<void> {
    const op = write.op;
    const id = keyId(key);
    const phase = phaseOf(this.#provider.current());
    const sides = this.#sides(phase);
    if (sides === undefined) {
      // Known before the write: once old alone holds it, an older entry of this key must not win a replay.
      await this.#loadTracked();
      await this.#primary(key, op, () => apply(this.#old));
      if (this.#tracker.get(id) !== undefined) {
        this.#tracker.acked(id, write);
        await this.#record(key, write, 'new', 'written to old only (preparation) after an earlier entry of this key');
      }
      return;
    }
    await this.#primary(key, op, () => apply(sides.primary));
    this.#tracker.acked(id, write);
    await this.#tombstone(key, op);
    const side = sides.secondarySide;
    const ms = this.#limits.secondaryTimeoutMs;
    const outcome = await settleWithin(() => apply(sides.secondary), ms, (late) => this.#secondaryLate(id, key, write, side, late));
    if (outcome.status === 'ok') return;
    if (outcome.status === 'timeout') {
      this.#counts.secondaryTimeouts += 1;
      this.#tracker.hang(id);
    }
    const error = outcome.status === 'error' ? outcome.error : timeoutError(`${op} of ${side} in "${this.name}"`, ms);
    this.#counts.secondaryFailures += 1;
    const recorded = await this.#record(key, write, side, errorText(error));
    if (recorded) {
      this.#limitedLog.log('warn', `secondary-${side}`, { migration: this.name, key, op, side, err: loggableError(error) }, `${side} failed a ${op}; recorded in the repair log`);
    }
    this.#emitter.emit('secondaryFailure', { migration: this.name, key, op, side, phase, error });
  }

  async #primary(key: K, op: Op, write: () => Promise<void>): Promise<void> {
    const ms = this.#limits.timeoutMs;
    const outcome = await settleWithin(write, ms, (late) => this.#primaryLate(key, op, late));
    if (outcome.status === 'ok') {
      this.#counts.acknowledged += 1;
      return;
    }
    this.#counts.primaryFailures += 1;
    if (outcome.status === 'timeout') this.#counts.primaryTimeouts += 1;
    throw outcome.status === 'error' ? outcome.error : timeoutError(`${op} of the primary in "${this.name}"`, ms);
  }

  #primaryLate(key: K, op: Op, late: Settled<void>): void {
    if (late.status !== 'ok') return;
    this.#counts.lateWrites += 1;
    this.#limitedLog.log(
      'error',
      'late-primary',
      { migration: this.name, key, op },
      `a ${op} that timed out landed in the primary later; the caller was told it failed, so the stores may differ on this key: run verify`,
    );
  }

  #secondaryLate(id: string, key: K, write: AckedWrite, side: Side, late: Settled<void>): void {
    this.#tracker.land(id, write);
    this.#logger.debug({ migration: this.name, key, op: write.op, side, ok: late.status === 'ok' }, 'a timed-out secondary write answered; its key can be repaired now');
  }

  async #tombstone(key: K, op: Op): Promise<void> {
    // Saved again after a delete: a tombstone left in place would make backfill undo this row.
    // A delete leaves one before its secondary delete: a backfill insert landing after that delete then sees it.
    const at = this.#now();
    const outcome = await settleWithin(() => (op === 'save' ? this.#tombstones.remove(key) : this.#tombstones.add(key, at)), this.#limits.secondaryTimeoutMs);
    if (outcome.status === 'ok') return;
    const err = outcome.status === 'error' ? loggableError(outcome.error) : { message: 'timed out' };
    const message =
      op === 'save'
        ? 'tombstone could not be removed; a running backfill may skip this row (verify will report it as missing)'
        : 'tombstone could not be recorded; a running backfill may copy this row back (verify will report it as extra)';
    this.#limitedLog.log('error', `tombstone-${op}`, { err, migration: this.name, key }, message);
  }

  /**
   * Records an entry in the repair log (bounded) and makes it the key's latest.
   * When the log refuses it, the entry stays in memory for `repair()` and the
   * loss of durability is logged, counted and emitted; the caller is not told.
   */
  async #record(key: K, write: AckedWrite, side: Side, error: string): Promise<boolean> {
    const op = write.op;
    const entry: RepairEntry<K> = Object.freeze({ key, op, side, at: this.#now(), error });
    const id = keyId(key);
    const tracked = this.#tracker.note(id, entry, false, write);
    const ms = this.#limits.secondaryTimeoutMs;
    const appended = await settleWithin(() => this.#repairLog.append(entry), ms);
    if (appended.status === 'ok') {
      this.#counts.recorded += 1;
      if (tracked) this.#tracker.note(id, entry, true);
      return true;
    }
    this.#counts.unrecorded += 1;
    if (!tracked) this.#counts.lost += 1;
    const cause = appended.status === 'error' ? appended.error : timeoutError('the repair log append()', ms);
    const where = tracked ? 'it is kept in memory until repair() (lost if the process exits)' : 'too many keys are pending, so it is LOST: run verify';
    this.#limitedLog.log(
      'error',
      'repair-log-failed',
      { err: loggableError(cause), migration: this.name, key, op, side },
      `the repair log could not record that ${side} missed a ${op}; ${where}`,
    );
    const failure = new RepairLogError(`the repair log of "${this.name}" could not record that ${side} missed a ${op}; ${where}`, { cause });
    this.#emitter.emit('repairLogFailure', { migration: this.name, key, op, side, kept: tracked, error: failure });
    return false;
  }

  /** Reads the keys the repair log holds into the tracker, once; a log that fails is logged and skipped. */
  #loadTracked(): Promise<void> {
    this.#loaded ??= this.#readLog().catch((err: unknown) => {
      this.#logger.error(
        { err: loggableError(err), migration: this.name },
        'the repair log could not be read; a write to old alone may be overwritten by a later repair() of an older entry',
      );
    });
    return this.#loaded;
  }

  async #readLog(): Promise<void> {
    const found = new Map<string, RepairEntry<K>>();
    await this.#eachPage(this.#limits.secondaryTimeoutMs, async (page) => {
      for (const entry of page) found.set(keyId(entry.key), entry);
    });
    for (const [id, entry] of found) if (this.#tracker.get(id) === undefined) this.#tracker.note(id, entry, true);
  }

  /** Pages through the repair log, each `list` bounded by `ms`; rejects on a failed list or one that does not move forward. */
  async #eachPage(ms: number, visit: (page: readonly LoggedRepair<K>[]) => Promise<void>): Promise<void> {
    let after: number | null = null;
    for (;;) {
      const from = after;
      const listed = await settleWithin(() => this.#repairLog.list(from, REPAIR_PAGE), ms);
      const page = unwrap(listed, () => timeoutError('the repair log list()', ms));
      if (!Array.isArray(page)) throw new TypeError(`the repair log list() must resolve with an array, got ${errorText(page)}`);
      const entries = page.filter(isEntry) as LoggedRepair<K>[];
      if (page.length === 0) return;
      const last = entries.length === 0 ? undefined : entries[entries.length - 1]?.id;
      if (last === undefined || (from !== null && last <= from)) {
        throw new TypeError('the repair log list() returned no entries with ids above afterId; it must page by id');
      }
      after = last;
      await visit(entries);
    }
  }

  async #replay(): Promise<RepairResult> {
    const tally = { replayed: 0, keys: 0, failed: 0 };
    // Entries the log refused: record them now if it takes them, so they survive a restart.
    for (const [id, { entry }] of this.#tracker.unrecorded()) {
      const appended = await settleWithin(() => this.#repairLog.append(entry), this.#limits.timeoutMs);
      if (appended.status === 'ok' && this.#tracker.get(id)?.entry === entry) this.#tracker.note(id, entry, true);
    }
    await this.#eachPage(this.#limits.timeoutMs, async (page) => {
      const byKey = new Map<string, { latest: RepairEntry<K>; ids: number[] }>();
      for (const entry of page) {
        const id = keyId(entry.key);
        const group = byKey.get(id) ?? { latest: entry, ids: [] };
        group.ids.push(entry.id);
        group.latest = entry;
        byKey.set(id, group);
      }
      for (const [id, group] of byKey) {
        const done = await this.#writes.run(id, () => this.#replayKey(id, group.latest, group.ids));
        this.#count(tally, done, group.ids.length);
      }
    });
    // Entries only this memory holds: the log still refuses them.
    for (const [id, known] of this.#tracker.unrecorded()) {
      const done = await this.#writes.run(id, () => this.#replayKey(id, known.entry, []));
      this.#count(tally, done, 1);
    }
    this.#counts.replayed += tally.replayed;
    this.#counts.replayFailed += tally.failed;
    const sized = await settleWithin(() => this.#repairLog.size(), this.#limits.timeoutMs);
    const remaining = Number(unwrap(sized, () => timeoutError('the repair log size()', this.#limits.timeoutMs))) + this.#tracker.pending;
    if (tally.replayed > 0 || tally.failed > 0) {
      this.#logger.info({ migration: this.name, ...tally, remaining }, 'repair log replayed');
    }
    return { ...tally, remaining };
  }

  #count(tally: { replayed: number; keys: number; failed: number }, done: boolean, entries: number): void {
    if (done) {
      tally.replayed += entries;
      tally.keys += 1;
    } else {
      tally.failed += entries;
    }
  }

  /** Replays one key under its write lock; true when the stores agree on it again and its entries are gone. */
  async #replayKey(id: string, logged: RepairEntry<K>, ids: readonly number[]): Promise<boolean> {
    const known = this.#tracker.get(id);
    if (this.#tracker.inDoubt(id)) {
      this.#limitedLog.log('warn', 'repair-in-doubt', { migration: this.name, key: logged.key }, 'a timed-out write of this key has not answered yet; it stays in the repair log');
      return false;
    }
    // This process's latest entry of the key is newer than any it appended to the log. Copying from the
    // store that acknowledged it keeps a newer write of another instance; only after a late write may
    // have overwritten that store too is the acknowledged write itself put back.
    const entry = known?.entry ?? logged;
    const ms = this.#limits.timeoutMs;
    const last = known?.suspect === true ? known.last : undefined;
    const copied = last === undefined ? await replayEntry(entry, this.#old, this.#new, ms) : await replayAcked(entry.key, last, this.#old, this.#new, ms);
    if (copied.status === 'ok' && ids.length > 0) {
      const removed = await settleWithin(() => this.#repairLog.remove(ids), ms);
      if (removed.status !== 'ok') {
        // The copy is done; the entries stay and a later replay repeats it harmlessly.
        const err = removed.status === 'error' ? loggableError(removed.error) : { message: 'timed out' };
        this.#logger.warn({ err, migration: this.name, key: entry.key }, 'repaired, but the repair log entries could not be removed');
        if (known === undefined) this.#tracker.note(id, logged, true);
        return false;
      }
    }
    if (copied.status !== 'ok') {
      const err = copied.status === 'error' ? loggableError(copied.error) : { message: 'timed out' };
      this.#limitedLog.log('warn', 'repair-failed', { migration: this.name, key: entry.key, err }, 'repair of a key failed; it stays in the repair log');
      if (known === undefined) this.#tracker.note(id, logged, true);
      return false;
    }
    this.#tracker.forget(id, entry);
    return true;
  }

  #inPercentage(key: K, config: MigrationConfig): boolean {
    // Rounded as in the glue: 0.07 * 100 is 7.000000000000001 in floating point.
    return bucketOf(String(key), this.name) < Math.round(config.newSystemPercentage * 100);
  }

  #read(side: Side, key: K): Promise<Settled<E | undefined>> {
    const store = side === 'old' ? this.#old : this.#new;
    return settleWithin(() => store.get(key), this.#limits.timeoutMs);
  }

  #served(side: Side, outcome: Settled<E | undefined>): E | undefined {
    return unwrap(outcome, () => timeoutError(`get of ${side} in "${this.name}"`, this.#limits.timeoutMs));
  }

  async #readOld(key: K): Promise<E | undefined> {
    this.#counts.readsOld += 1;
    return this.#served('old', await this.#read('old', key));
  }

  async #readNew(key: K, config: MigrationConfig): Promise<E | undefined> {
    this.#counts.readsNew += 1;
    const outcome = await this.#read('new', key);
    if (outcome.status === 'ok' || !config.fallbackEnabled) return this.#served('new', outcome);
    const error = outcome.status === 'error' ? outcome.error : timeoutError(`get of new in "${this.name}"`, this.#limits.timeoutMs);
    this.#counts.fallbacks += 1;
    this.#limitedLog.log('warn', 'fallback', { migration: this.name, key, err: loggableError(error) }, 'read from new failed, old served it (fallback)');
    this.#emitter.emit('fallback', { migration: this.name, key, error });
    return this.#readOld(key);
  }

  async #readShadow(key: K): Promise<E | undefined> {
    this.#counts.readsOld += 1;
    // Both reads start together, so the shadow read adds no latency; the caller waits for old only.
    const oldRead = this.#read('old', key);
    this.#shadow.follow(key, oldRead);
    return this.#served('old', await oldRead);
  }

  #now(): number {
    try {
      const now = this.#clock.now();
      if (typeof now === 'number' && Number.isFinite(now)) return now;
    } catch {
      // a broken clock must not lose a repair entry
    }
    return Date.now();
  }
}

function isEntry(value: unknown): boolean {
  if (typeof value !== 'object' || value === null) return false;
  const entry = value as Partial<LoggedRepair<unknown>>;
  return typeof entry.id === 'number' && (entry.side === 'old' || entry.side === 'new');
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
