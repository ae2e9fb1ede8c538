/** One side of a dual write. */
export type Side = 'old' | 'new';

/** A secondary write that failed and must be repaired. */
export interface RepairEntry<K> {
  /** The key that was written. */
  readonly key: K;
  /** What the failed write was. */
  readonly op: 'save' | 'delete';
  /** The store that failed (the secondary at the time). */
  readonly side: Side;
  /** Clock time of the failure, in ms. */
  readonly at: number;
  /** The failure's message, for people; never parsed. */
  readonly error: string;
}

/** A RepairEntry as stored, with the id the log gave it (ascending in append order). */
export interface LoggedRepair<K> extends RepairEntry<K> {
  readonly id: number;
}

/**
 * Where a DualWriteRepository records the secondary writes that failed, until
 * `repair()` replays them. Durable implementations (a file, a SQL table) keep
 * them across restarts. Keys must survive JSON (strings or numbers).
 */
export interface RepairLog<K> {
  /**
   * Records an entry. Called on the write path after the secondary failed (and
   * after a write reached old alone while the key had an entry), bounded by
   * `secondaryTimeoutMs`. A rejection or no answer never reaches the caller:
   * the entry is kept in memory, and the failure logged, counted and emitted
   * (`repairLogFailure`).
   */
  append(entry: RepairEntry<K>): Promise<void>;
  /**
   * Up to `limit` entries with ids greater than `afterId` (from the first when
   * null), oldest first. Called by `repair()`, and once by the first write in
   * preparation (to learn which keys have entries).
   */
  list(afterId: number | null, limit: number): Promise<readonly LoggedRepair<K>[]>;
  /** Removes the entries with these ids; unknown ids are ignored. Called by `repair()` after a successful replay. */
  remove(ids: readonly number[]): Promise<void>;
  /** How many entries the log holds. */
  size(): Promise<number>;
}

/** A RepairLog in process memory: the default. Lost when the process exits; use a file or SQL log in production. */
export class InMemoryRepairLog<K> implements RepairLog<K> {
  readonly #entries = new Map<number, LoggedRepair<K>>();
  #nextId = 1;

  async append(entry: RepairEntry<K>): Promise<void> {
    const id = this.#nextId++;
    this.#entries.set(id, Object.freeze({ ...entry, id }));
  }

  async list(afterId: number | null, limit: number): Promise<readonly LoggedRepair<K>[]> {
    return pageOf(this.#entries.values(), afterId, limit);
  }

  async remove(ids: readonly number[]): Promise<void> {
    for (const id of ids) this.#entries.delete(id);
  }

  async size(): Promise<number> {
    return this.#entries.size;
  }
}

/** Up to `limit` entries with an id above `afterId`, from entries in id order (a Map's insertion order). */
export function pageOf<K>(entries: Iterable<LoggedRepair<K>>, afterId: number | null, limit: number): LoggedRepair<K>[] {
  const found: LoggedRepair<K>[] = [];
  for (const entry of entries) {
    if (afterId !== null && entry.id <= afterId) continue;
    found.push(entry);
    if (found.length >= limit) break;
  }
  return found;
}
