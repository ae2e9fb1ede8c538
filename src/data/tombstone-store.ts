import { keyId } from './keys.js';

/**
 * Remembers the keys a DualWriteRepository deleted while dual writing, so
 * that a backfill that read the row before the delete does not copy it back.
 * Pass the same store to the DualWriteRepository and to backfill. Keys must
 * survive JSON (strings or numbers) for durable stores.
 */
export interface TombstoneStore<K> {
  /** Records that `key` was deleted at clock time `at` (ms). Called by every dual-written delete, after the primary. */
  add(key: K, at: number): Promise<void>;
  /** Forgets the tombstone of `key`: it was saved again. Called by every dual-written save, after the primary. */
  remove(key: K): Promise<void>;
  /** The subset of `keys` that have a tombstone. Called by backfill once or twice per batch. */
  has(keys: readonly K[]): Promise<readonly K[]>;
  /** Forgets every tombstone: once the migration is done (and no backfill runs). */
  clear(): Promise<void>;
}

/** A TombstoneStore in process memory: the default. Grows by one entry per deleted key until `clear()`. */
export class InMemoryTombstoneStore<K> implements TombstoneStore<K> {
  readonly #keys = new Map<string, number>();

  async add(key: K, at: number): Promise<void> {
    this.#keys.set(keyId(key), at);
  }

  async remove(key: K): Promise<void> {
    this.#keys.delete(keyId(key));
  }

  async has(keys: readonly K[]): Promise<readonly K[]> {
    return keys.filter((key) => this.#keys.has(keyId(key)));
  }

  async clear(): Promise<void> {
    this.#keys.clear();
  }

  /** How many tombstones are held. */
  get size(): number {
    return this.#keys.size;
  }
}
