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
   * Optional: how keys compare in the order `getBatch` returns them (the
   * database's order, e.g. `"10"` after `"9"` for bigint keys that arrive as
   * strings), or undefined when the store cannot reproduce it in JavaScript.
   * Backfill and verify call it once per run, before the first page, unless
   * given `compareKeys`.
   */
  keyOrder?(): Promise<KeyOrder<K> | undefined>;
}

/**
 * A comparison of two keys (negative, 0, positive), as `keyOrder()` gives
 * it. Declared as a method so that a `Repository<E, K>` stays covariant in
 * `K` and type inference of the options that take one is unchanged.
 */
export type KeyOrder<K> = { compare(a: K, b: K): number }['compare'];
