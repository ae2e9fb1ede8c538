import { toComparator } from '../compare/to-comparator.js';
import type { ConfigProvider } from '../config/config-provider.js';
import { phaseOf } from '../core/routing.js';
import type { Clock } from '../observe/clock.js';
import { Emitter } from '../observe/emitter.js';
import type { Listener } from '../observe/emitter.js';
import { LogLimiter } from '../observe/log-limiter.js';
import type { Logger } from '../observe/logger.js';
import { timeoutError, unwrap } from './bounded.js';
import { settleWithin } from '../bounded.js';
import type { DualWriteEvents, DualWriteStats, RepairResult } from './dual-write-events.js';
import type { DualWriteRepositoryOptions, ResolvedDualWriteOptions } from './dual-write-options.js';
import { resolveDualWriteOptions } from './dual-write-options.js';
import { KeyedQueue, keyId, requireKey } from './keys.js';
import type { RepairLog } from './repair-log.js';
import { RepairTracker } from './repair-replay.js';
import { RepairRunner } from './repair-runner.js';
import type { Repository } from './repository.js';
import { ShadowReads } from './shadow-reads.js';
import { DualReads } from './dual-reads.js';
import { DualWrites } from './dual-writes.js';
import type { TombstoneStore } from './tombstone-store.js';

export type { DualWriteRepositoryOptions } from './dual-write-options.js';

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
  readonly #limits: ResolvedDualWriteOptions<E, K>;
  readonly #emitter: Emitter<DualWriteEvents<E, K>>;
  readonly #shadow: ShadowReads<E, K>;
  readonly #writes = new KeyedQueue();
  readonly #tracker = new RepairTracker<K>();
  readonly #runner: RepairRunner<E, K>;
  readonly #reads: DualReads<E, K>;
  #repairing: Promise<RepairResult> | undefined;
  readonly #dual: DualWrites<E, K>;

  /** @throws InvalidOptionError naming the bad option; MigrationConfigError for a bad static config. */
  constructor(options: DualWriteRepositoryOptions<E, K>) {
    const o = resolveDualWriteOptions(options);
    this.name = o.name;
    this.#old = o.old;
    this.#new = o.new;
    this.#keyOf = o.keyOf;
    this.#provider = o.provider;
    this.#repairLog = o.repairLog;
    this.#tombstones = o.tombstones;
    this.#limits = o;
    this.#clock = o.clock;
    this.#logger = o.logger;
    this.#limitedLog = new LogLimiter(this.#logger, this.#clock);
    this.#emitter = new Emitter(this.#logger);
    this.#shadow = new ShadowReads({
      name: this.name,
      old: this.#old,
      new: this.#new,
      comparator: toComparator(o.comparator),
      timeoutMs: o.shadow.timeoutMs,
      maxInFlight: o.shadow.maxInFlight,
      emitter: this.#emitter,
      log: this.#limitedLog,
    });
    this.#reads = new DualReads({ name: this.name, old: this.#old, new: this.#new, timeoutMs: o.timeoutMs, shadow: this.#shadow, emitter: this.#emitter, log: this.#limitedLog });
    this.#runner = new RepairRunner({
      name: this.name,
      old: this.#old,
      new: this.#new,
      repairLog: this.#repairLog,
      tracker: this.#tracker,
      writes: this.#writes,
      timeoutMs: o.timeoutMs,
      secondaryTimeoutMs: o.secondaryTimeoutMs,
      logger: this.#logger,
      limitedLog: this.#limitedLog,
      emitter: this.#emitter,
    });
    this.#dual = new DualWrites({
      name: this.name,
      old: this.#old,
      new: this.#new,
      timeoutMs: o.timeoutMs,
      secondaryTimeoutMs: o.secondaryTimeoutMs,
      tombstones: this.#tombstones,
      runner: this.#runner,
      tracker: this.#tracker,
      emitter: this.#emitter,
      logger: this.#logger,
      log: this.#limitedLog,
      clock: this.#clock,
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
    return this.#reads.get(key, this.#provider.current());
  }

  /**
   * Writes the primary, then the secondary (see the class table). Rejects with
   * the primary's error, unchanged, or ERR_TIMEOUT when the primary did not
   * answer within `timeoutMs` (the write may still land there); rejects with
   * keyOf's error, or ERR_INVALID_KEY when keyOf returns no usable key.
   */
  async save(entity: E): Promise<void> {
    const key = requireKey(this.#keyOf(entity), 'the key keyOf returned');
    return this.#writes.run(keyId(key), () => this.#dual.write(key, { op: 'save', row: entity }, this.#provider.current(), (store) => store.save(entity)));
  }

  /**
   * Deletes from the primary, leaves a tombstone (while dual writing), then
   * deletes from the secondary. Rejects as `save` does.
   */
  async delete(key: K): Promise<void> {
    requireKey(key, 'the key');
    return this.#writes.run(keyId(key), () => this.#dual.write(key, { op: 'delete' }, this.#provider.current(), (store) => store.delete(key)));
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
    this.#repairing ??= this.#runner.replay().finally(() => {
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
    const c = this.#dual.counts;
    const s = this.#shadow.counts;
    return {
      migration: this.name,
      phase: phaseOf(this.#provider.current()),
      reads: { ...this.#reads.counts },
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
        recorded: this.#runner.totals.recorded,
        replayed: this.#runner.totals.replayed,
        failed: this.#runner.totals.failed,
        unrecorded: this.#runner.totals.unrecorded,
        pending: this.#tracker.pending,
        lost: this.#runner.totals.lost,
      },
    };
  }
}
