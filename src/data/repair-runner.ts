import { settleWithin } from '../bounded.js';
import type { LogLimiter } from '../observe/log-limiter.js';
import type { Logger } from '../observe/logger.js';
import { errorText, loggableError, timeoutError, unwrap } from './bounded.js';
import type { DualWriteEvents, RepairResult } from './dual-write-events.js';
import type { Emitter } from '../observe/emitter.js';
import { RepairLogError } from './data-errors.js';
import type { KeyedQueue } from './keys.js';
import { keyId } from './keys.js';
import type { LoggedRepair, RepairEntry, RepairLog, Side } from './repair-log.js';
import type { AckedWrite, RepairTracker } from './repair-replay.js';
import { replayAcked, replayEntry } from './repair-replay.js';
import type { Repository } from './repository.js';

/** What a DualWriteRepository shares with its repair runner. */
export interface RepairRunnerInit<E, K> {
  readonly name: string;
  readonly old: Repository<E, K>;
  readonly new: Repository<E, K>;
  readonly repairLog: RepairLog<K>;
  readonly tracker: RepairTracker<K>;
  /** The repository's per-key write lock: a replay of a key holds it like a write. */
  readonly writes: KeyedQueue;
  readonly timeoutMs: number;
  readonly secondaryTimeoutMs: number;
  readonly logger: Logger;
  readonly limitedLog: LogLimiter;
  readonly emitter: Emitter<DualWriteEvents<E, K>>;
}

const REPAIR_PAGE = 500;

/**
 * Replays a DualWriteRepository's repair log (see DualWriteRepository.repair):
 * per logged key, the latest entry decides, under the key's write lock.
 */
export class RepairRunner<E, K> {
  readonly #init: RepairRunnerInit<E, K>;
  /** Set once the log's keys are known to the tracker (needed before a write reaches one store only). */
  #loaded: Promise<void> | undefined;
  /** Totals since the repository was made. */
  readonly totals = { replayed: 0, failed: 0, recorded: 0, unrecorded: 0, lost: 0 };

  constructor(init: RepairRunnerInit<E, K>) {
    this.#init = init;
  }

  /** Reads the keys the repair log holds into the tracker, once; a log that fails is logged and skipped. */
  loadTracked(): Promise<void> {
    this.#loaded ??= this.#readLog().catch((err: unknown) => {
      this.#init.logger.error(
        { err: loggableError(err), migration: this.#init.name },
        'the repair log could not be read; a write to old alone may be overwritten by a later repair() of an older entry',
      );
    });
    return this.#loaded;
  }

  async #readLog(): Promise<void> {
    const found = new Map<string, RepairEntry<K>>();
    await this.#eachPage(this.#init.secondaryTimeoutMs, async (page) => {
      for (const entry of page) found.set(keyId(entry.key), entry);
    });
    const tracker = this.#init.tracker;
    for (const [id, entry] of found) if (tracker.get(id) === undefined) tracker.note(id, entry, true);
  }

  /** Pages through the repair log, each `list` bounded by `ms`; rejects on a failed list or one that does not move forward. */
  async #eachPage(ms: number, visit: (page: readonly LoggedRepair<K>[]) => Promise<void>): Promise<void> {
    let after: number | null = null;
    for (;;) {
      const from = after;
      const listed = await settleWithin(() => this.#init.repairLog.list(from, REPAIR_PAGE), ms);
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

  /**
   * Records an entry in the repair log (bounded) and makes it the key's latest.
   * When the log refuses it, the entry stays in memory for `repair()` and the
   * loss of durability is logged, counted and emitted; the caller is not told.
   */
  async record(key: K, write: AckedWrite, side: Side, error: string, at: number): Promise<boolean> {
    const op = write.op;
    const entry: RepairEntry<K> = Object.freeze({ key, op, side, at, error });
    const id = keyId(key);
    const tracked = this.#init.tracker.note(id, entry, false, write);
    const ms = this.#init.secondaryTimeoutMs;
    const appended = await settleWithin(() => this.#init.repairLog.append(entry), ms);
    if (appended.status === 'ok') {
      this.totals.recorded += 1;
      if (tracked) this.#init.tracker.note(id, entry, true);
      return true;
    }
    this.totals.unrecorded += 1;
    if (!tracked) this.totals.lost += 1;
    const cause = appended.status === 'error' ? appended.error : timeoutError('the repair log append()', ms);
    const where = tracked ? 'it is kept in memory until repair() (lost if the process exits)' : 'too many keys are pending, so it is LOST: run verify';
    this.#init.limitedLog.log(
      'error',
      'repair-log-failed',
      { err: loggableError(cause), migration: this.#init.name, key, op, side },
      `the repair log could not record that ${side} missed a ${op}; ${where}`,
    );
    const failure = new RepairLogError(`the repair log of "${this.#init.name}" could not record that ${side} missed a ${op}; ${where}`, { cause });
    this.#init.emitter.emit('repairLogFailure', { migration: this.#init.name, key, op, side, kept: tracked, error: failure });
    return false;
  }

  /** One replay of the whole log (and of the entries only memory holds). */
  async replay(): Promise<RepairResult> {
    const { repairLog, tracker, writes, timeoutMs } = this.#init;
    const tally = { replayed: 0, keys: 0, failed: 0 };
    // Entries the log refused: record them now if it takes them, so they survive a restart.
    for (const [id, { entry }] of tracker.unrecorded()) {
      const appended = await settleWithin(() => repairLog.append(entry), timeoutMs);
      if (appended.status === 'ok' && tracker.get(id)?.entry === entry) tracker.note(id, entry, true);
    }
    await this.#eachPage(timeoutMs, async (page) => {
      const byKey = new Map<string, { latest: RepairEntry<K>; ids: number[] }>();
      for (const entry of page) {
        const id = keyId(entry.key);
        const group = byKey.get(id) ?? { latest: entry, ids: [] };
        group.ids.push(entry.id);
        group.latest = entry;
        byKey.set(id, group);
      }
      for (const [id, group] of byKey) {
        const done = await writes.run(id, () => this.#replayKey(id, group.latest, group.ids));
        count(tally, done, group.ids.length);
      }
    });
    // Entries only this memory holds: the log still refuses them.
    for (const [id, known] of tracker.unrecorded()) {
      const done = await writes.run(id, () => this.#replayKey(id, known.entry, []));
      count(tally, done, 1);
    }
    this.totals.replayed += tally.replayed;
    this.totals.failed += tally.failed;
    const sized = await settleWithin(() => repairLog.size(), timeoutMs);
    const remaining = Number(unwrap(sized, () => timeoutError('the repair log size()', timeoutMs))) + tracker.pending;
    if (tally.replayed > 0 || tally.failed > 0) {
      this.#init.logger.info({ migration: this.#init.name, ...tally, remaining }, 'repair log replayed');
    }
    return { ...tally, remaining };
  }

  /** Replays one key under its write lock; true when the stores agree on it again and its entries are gone. */
  async #replayKey(id: string, logged: RepairEntry<K>, ids: readonly number[]): Promise<boolean> {
    const { name, tracker, timeoutMs: ms, limitedLog } = this.#init;
    const known = tracker.get(id);
    if (tracker.inDoubt(id)) {
      limitedLog.log('warn', 'repair-in-doubt', { migration: name, key: logged.key }, 'a timed-out write of this key has not answered yet; it stays in the repair log');
      return false;
    }
    // This process's latest entry of the key is newer than any it appended to the log. Copying from the
    // store that acknowledged it keeps a newer write of another instance; only after a late write may
    // have overwritten that store too is the acknowledged write itself put back.
    const entry = known?.entry ?? logged;
    const last = known?.suspect === true ? known.last : undefined;
    const { old, new: fresh } = this.#init;
    const copied = last === undefined ? await replayEntry(entry, old, fresh, ms) : await replayAcked(entry.key, last, old, fresh, ms);
    if (copied.status === 'ok' && ids.length > 0) {
      const removed = await settleWithin(() => this.#init.repairLog.remove(ids), ms);
      if (removed.status !== 'ok') {
        // The copy is done; the entries stay and a later replay repeats it harmlessly.
        const err = removed.status === 'error' ? loggableError(removed.error) : { message: 'timed out' };
        this.#init.logger.warn({ err, migration: name, key: entry.key }, 'repaired, but the repair log entries could not be removed');
        if (known === undefined) tracker.note(id, logged, true);
        return false;
      }
    }
    if (copied.status !== 'ok') {
      const err = copied.status === 'error' ? loggableError(copied.error) : { message: 'timed out' };
      limitedLog.log('warn', 'repair-failed', { migration: name, key: entry.key, err }, 'repair of a key failed; it stays in the repair log');
      if (known === undefined) tracker.note(id, logged, true);
      return false;
    }
    tracker.forget(id, entry);
    return true;
  }
}

function count(tally: { replayed: number; keys: number; failed: number }, done: boolean, entries: number): void {
  if (done) {
    tally.replayed += entries;
    tally.keys += 1;
  } else {
    tally.failed += entries;
  }
}

function isEntry(value: unknown): boolean {
  if (typeof value !== 'object' || value === null) return false;
  const entry = value as Partial<LoggedRepair<unknown>>;
  return typeof entry.id === 'number' && (entry.side === 'old' || entry.side === 'new');
}
