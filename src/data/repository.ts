/**
 * A store of entities of type E keyed by K: the unit that dual write,
 * backfill and verify work on. Keys must have a total order that
 * `getBatch` follows (numbers or strings; strings compare as the store does,
 * e.g. bytewise in PostgreSQL with the C collation).
 */
export interface Repository<E, K> {
  /** The entity with this key, or undefined when there is none. */
  get(key: K): Promise<E | undefined>;
  /** Inserts or replaces the entity (upsert by key). */
  save(entity: E): Promise<void>;
  /** Removes the entity with this key; removing an absent key is not an error. */
  delete(key: K): Promise<void>;
  /**
   * Up to `limit` entities with keys strictly greater than `afterKey`
   * (from the start when null), in ascending key order. An empty array means
   * the end. Called by backfill and verify with a cursor, never an offset.
   */
  getBatch(afterKey: K | null, limit: number): Promise<readonly E[]>;
  /**
   * Optional: inserts many entities at once, leaving existing keys untouched
   * (insert-if-absent), and resolves with the keys it actually inserted.
   * Backfill uses it when present, `get` + `save` per row otherwise.
   */
  bulkInsert?(entities: readonly E[]): Promise<readonly K[]>;
  /**
   * Optional: `bulkInsert` that resolves only how many entities it
   * inserted, not their keys (no key sent back per row). Backfill uses it
   * instead of `bulkInsert` when it needs no keys: insert-if-absent without
   * a tombstone store.
   */
  bulkInsertCount?(entities: readonly E[]): Promise<number>;
  /**
   * Optional: how keys compare in the order `getBatch` returns them (the
   * database's order, e.g. `"10"` after `"9"` for bigint keys that arrive as
   * strings), or undefined when the store cannot reproduce it in JavaScript.
   * Backfill and verify call it once per run, before the first page, unless
   * given `compareKeys`.
   */
  keyOrder?(): Promise<KeyOrder<K> | undefined>;
  /**
   * Optional: a checksum of the rows in a key range, computed where the
   * rows are (in the database), so that verify compares ranges without
   * reading them. Two stores holding the same rows in the same key range
   * must give the same `hash`; any difference in a row must change it.
   * Verify uses it only when both stores have it.
   */
  checksum?(range: KeyRange<K>): Promise<RangeChecksum<K>>;
  /**
   * Optional: copies a key range of this store straight into `target`
   * where both live (two tables of one database: one `INSERT ... SELECT
   * ... ON CONFLICT DO NOTHING`), so that no row passes through the
   * process. It must do exactly what backfill's own copy does with
   * `bulkInsert`: insert-if-absent (a key `target` holds is left alone),
   * in this store's key order, each value unchanged, and never copy a key
   * `range.exclude` names. It resolves undefined, without writing, when it
   * cannot copy into this `target` (another database, another kind of
   * store, mapped rows): backfill then reads and writes rows itself.
   * Backfill calls it once per batch, with insert-if-absent only (not with
   * `overwrite` or `versionOf`).
   */
  copyRangeTo?(target: Repository<E, K>, range: CopyRange<K>): Promise<RangeCopy<K> | undefined>;
}

/** A key range to copy: this store's next `limit` keys after `after`. */
export interface CopyRange<K> {
  /** Exclusive lower bound; null from the first key. */
  readonly after: K | null;
  /** The range ends at the `limit`-th key after `after` (or the last key). At least 1. */
  readonly limit: number;
  /** Inclusive upper bound, for a part of the key space (a partition); null (or absent) to the last key. */
  readonly upTo?: K | null;
  /**
   * Called once with the range's keys (ascending) before anything is
   * written; resolves with the keys not to copy (backfill's tombstones).
   * When given, the copy also resolves with `insertedKeys`, so that the
   * caller can re-check them after writing.
   */
  exclude?(keys: readonly K[]): Promise<readonly K[]>;
}

/** What a range copy did. */
export interface RangeCopy<K> {
  /** Keys of the range in this store (copied, excluded, or already in the target). */
  readonly count: number;
  /** The range's last key, where the next range starts; null when the range is empty (the end). */
  readonly last: K | null;
  /** Rows inserted into the target: the keys it did not hold. */
  readonly inserted: number;
  /** The keys inserted, when `exclude` was given. */
  readonly insertedKeys?: readonly K[];
}

/** A range of keys in the store's order: strictly after `after`, up to and including `upTo`, at most `limit` keys. */
export interface KeyRange<K> {
  /** Exclusive lower bound; null from the first key. */
  readonly after: K | null;
  /** Inclusive upper bound; null (or absent) to the last key. */
  readonly upTo?: K | null;
  /** Only the first `limit` keys of the range, in key order; absent for all of them. */
  readonly limit?: number;
}

/**
 * The checksum of a key range. `hash` is additive: the sum over the range's
 * rows of a wide hash of each row's canonical form (as pt-table-checksum
 * combines its per-row CRC32s with BIT_XOR), so it does not depend on the
 * order rows are visited in, and the checksum of a range minus that of its
 * first part is the checksum of the rest. Verify relies on that to bisect.
 */
export interface RangeChecksum<K> {
  /** Rows in the range. */
  readonly count: number;
  /** The sum of the rows' hashes (0n for an empty range). */
  readonly hash: bigint;
  /** The last key in the range, null when it is empty: the upper bound of a chunk taken with `limit`. */
  readonly last: K | null;
}

/**
 * A comparison of two keys (negative, 0, positive), as `keyOrder()` gives
 * it. Declared as a method so that a `Repository<E, K>` stays covariant in
 * `K` and type inference of the options that take one is unchanged.
 */
export type KeyOrder<K> = { compare(a: K, b: K): number }['compare'];
