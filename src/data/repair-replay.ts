import type { Settled } from '../bounded.js';
import { settleWithin } from '../bounded.js';
import type { RepairEntry, Side } from './repair-log.js';
import type { Repository } from './repository.js';

/** What this process knows of a key that has a repair entry. */
export interface TrackedKey<K> {
  /** The latest entry of the key made here (or read from the log): it decides the replay. */
  entry: RepairEntry<K>;
  /** False while the repair log has refused the entry: then only this memory holds it. */
  recorded: boolean;
  /**
   * The last write of the key acknowledged in this process since it was
   * tracked (the entity as passed to `save`, or a delete); undefined for keys
   * learnt from the log.
   */
  last: AckedWrite | undefined;
  /**
   * True once a timed-out write of the key landed after a later write was
   * acknowledged: it may have overwritten `last` in either store, so the
   * replay writes `last` itself rather than copying a store's row.
   */
  suspect: boolean;
}

/** A write acknowledged to the caller: a save of `row`, or a delete. */
export type AckedWrite = { readonly op: 'save'; readonly row: unknown } | { readonly op: 'delete' };

/** Keys tracked at most; beyond it a recorded entry is left to the log alone, an unrecorded one is lost (loudly). */
export const maxTrackedKeys = 10_000;

/**
 * The keys with repair entries that this process knows of, each with its
 * latest entry. A write to a tracked key that reaches one store only (in
 * preparation) records a new entry, so that a replay never puts an older
 * acknowledged value over a newer one.
 */
export class RepairTracker<K> {
  readonly #keys = new Map<string, TrackedKey<K>>();
  /** Per key, secondary writes that timed out and have not answered yet: they may still land. */
  readonly #inDoubt = new Map<string, number>();

  get(id: string): TrackedKey<K> | undefined {
    return this.#keys.get(id);
  }

  /** Makes `entry` the latest of its key (and `last` its last acknowledged write, when given); false when the key is not tracked (over the cap). */
  note(id: string, entry: RepairEntry<K>, recorded: boolean, last?: AckedWrite): boolean {
    const known = this.#keys.get(id);
    if (known !== undefined) {
      known.entry = entry;
      known.recorded = recorded;
      if (last !== undefined) known.last = last;
      return true;
    }
    if (this.#keys.size >= maxTrackedKeys) return false;
    this.#keys.set(id, { entry, recorded, last, suspect: false });
    return true;
  }

  /** Notes a write acknowledged to the caller, if its key is tracked. */
  acked(id: string, write: AckedWrite): void {
    const known = this.#keys.get(id);
    if (known !== undefined) known.last = write;
  }

  /** Forgets a key once its replay is done, unless a hung write of it may still land. */
  forget(id: string, entry: RepairEntry<K>): void {
    const known = this.#keys.get(id);
    if (known !== undefined && known.entry === entry && !this.inDoubt(id)) this.#keys.delete(id);
  }

  /** A secondary write of the key timed out and is still pending. */
  hang(id: string): void {
    this.#shift(id, 1);
  }

  /** A timed-out secondary `write` answered at last (possibly before `hang` was called for it). */
  land(id: string, write: AckedWrite): void {
    this.#shift(id, -1);
    const known = this.#keys.get(id);
    if (known !== undefined && known.last !== write) known.suspect = true;
  }

  /** True while a timed-out secondary write of the key may still land. */
  inDoubt(id: string): boolean {
    return (this.#inDoubt.get(id) ?? 0) > 0;
  }

  #shift(id: string, by: number): void {
    const count = (this.#inDoubt.get(id) ?? 0) + by;
    if (count === 0) this.#inDoubt.delete(id);
    else this.#inDoubt.set(id, count);
  }

  /** Entries the repair log refused, held only here. */
  unrecorded(): [string, TrackedKey<K>][] {
    return [...this.#keys].filter(([, known]) => !known.recorded);
  }

  /** How many entries the repair log refused and only this memory holds. */
  get pending(): number {
    let count = 0;
    for (const known of this.#keys.values()) if (!known.recorded) count += 1;
    return count;
  }
}

/** The store that missed a logged write, and the one that acknowledged it. */
export function storesOf<E, K>(side: Side, old: Repository<E, K>, fresh: Repository<E, K>): { missed: Repository<E, K>; holder: Repository<E, K> } {
  return side === 'new' ? { missed: fresh, holder: old } : { missed: old, holder: fresh };
}

/**
 * Puts the last acknowledged write of a key into both stores (the one that
 * has it takes it again, harmlessly). Each call is bounded by `timeoutMs`.
 */
export async function replayAcked<E, K>(key: K, last: AckedWrite, old: Repository<E, K>, fresh: Repository<E, K>, timeoutMs: number): Promise<Settled<void>> {
  for (const store of [old, fresh]) {
    const written = await settleWithin(() => (last.op === 'delete' ? store.delete(key) : store.save(last.row as E)), timeoutMs);
    if (written.status !== 'ok') return written;
  }
  return { status: 'ok', value: undefined };
}

/**
 * Replays a key's latest entry when this process does not know the
 * acknowledged write itself (an entry read from a durable log): copies the row of the store that acknowledged
 * the write (the entry's other side) onto the store that missed it, or
 * deletes it there when that store has no row. Never reads the primary of
 * the phase in force: after a rollback from full the acknowledged value is in
 * new, whichever store serves now. Each store call is bounded by `timeoutMs`.
 */
export async function replayEntry<E, K>(
  entry: RepairEntry<K>,
  old: Repository<E, K>,
  fresh: Repository<E, K>,
  timeoutMs: number,
): Promise<Settled<void>> {
  const { missed, holder } = storesOf(entry.side, old, fresh);
  const read = await settleWithin(() => holder.get(entry.key), timeoutMs);
  if (read.status !== 'ok') return read;
  const row = read.value;
  return settleWithin(() => (row === undefined ? missed.delete(entry.key) : missed.save(row)), timeoutMs);
}
