import { compareKeys, keyId } from '../data/keys.js';
import type { Repository } from '../data/repository.js';
import { z } from 'zod';
import { field, parseOptions } from '../option-schema.js';
import type { RepositoryOp, RepositoryOpSelector } from './injected-failure.js';
import { FailureRules, allOps } from './injected-failure.js';

export type { RepositoryOp, RepositoryOpSelector } from './injected-failure.js';
export { InjectedFailure } from './injected-failure.js';

/** Options of an InMemoryRepository. Checked once, in the constructor. */
export interface InMemoryRepositoryOptions<E, K> {
  /** The key of an entity: what `get`, `delete` and `getBatch` order by. */
  readonly keyOf: (entity: E) => K;
  /** Offer `bulkInsert` (insert-if-absent), as backfill prefers. @default true */
  readonly bulkInsert?: boolean;
  /** Names the store in injected errors (`old`, `new`). @default 'memory' */
  readonly name?: string;
}

const optionsSchema = z.strictObject({
  keyOf: field<(entity: never) => unknown>((value) => typeof value === 'function', 'a function (entity) => key'),
  bulkInsert: field<boolean>((value) => typeof value === 'boolean', 'a boolean').default(true),
  name: field<string>((value) => typeof value === 'string', 'a string').default('memory'),
});

/** Operations counted so far, plus the rows actually written (by `save` and `bulkInsert`). */
export type RepositoryCounts = Record<RepositoryOp, number> & { rowsWritten: number };

interface Row<E, K> {
  readonly key: K;
  readonly entity: E;
}

/**
 * A `Repository` in process memory for tests, which fails on command.
 *
 * - Rows are kept in key order (`compareKeys`: numbers numerically, strings
 *   by code point, as PostgreSQL's `C` collation), so `getBatch` pages like
 *   a real store. Entities are stored and handed out as structured clones: a
 *   caller can never change a stored row by mutating an object.
 * - Every operation is counted in `counts`, with the rows really written.
 * - `failNext`, `failKey` and `failMidBatch` make operations throw an
 *   `InjectedFailure` (or your own error); `heal()` forgets them.
 * - `beforeOp` lets a test run code (or wait) inside an operation, to stage
 *   a race with a concurrent write.
 *
 * Nothing is random: the same calls give the same rows, counts and failures.
 * @example
 * const store = new InMemoryRepository<Order, string>({ keyOf: (o) => o.id, name: 'new' }).seed(orders);
 * store.failNext('save', 2);      // the next two saves throw
 * store.failKey('order-7');       // every operation on order-7 throws until heal()
 * store.failMidBatch(25);         // the next bulkInsert writes 25 rows, then throws
 * @throws InvalidOptionError (constructor) naming the bad option and the value received.
 */
export class InMemoryRepository<E, K> implements Repository<E, K> {
  /** The `name` option: named in injected errors. */
  readonly name: string;
  /** Operations so far (a failed one counts too), and rows written. Reset with `resetCounts()`. */
  readonly counts: RepositoryCounts = { get: 0, save: 0, delete: 0, getBatch: 0, bulkInsert: 0, rowsWritten: 0 };
  /**
   * Called in every operation after it is counted and before it may fail or
   * touch the rows; awaited, so a test can interleave other work there.
   */
  beforeOp: ((op: RepositoryOp, key?: K) => void | Promise<void>) | undefined;
  /**
   * Inserts the entities whose keys are absent and resolves with those keys.
   * Undefined with `bulkInsert: false`. Writable, so a test can wrap it.
   */
  bulkInsert?: (entities: readonly E[]) => Promise<readonly K[]>;
  readonly #keyOf: (entity: E) => K;
  readonly #rows = new Map<string, Row<E, K>>();
  /** Rows in key order, rebuilt lazily after the key set changed. */
  #sorted: Row<E, K>[] | undefined;
  readonly #failures: FailureRules;

  constructor(options: InMemoryRepositoryOptions<E, K>) {
    const o = parseOptions(optionsSchema, options, 'InMemoryRepository');
    this.#keyOf = o.keyOf as (entity: E) => K;
    this.name = o.name;
    this.#failures = new FailureRules(o.name);
    if (o.bulkInsert) this.bulkInsert = (entities) => this.#bulkInsert(entities);
  }

  /** Number of rows stored. */
  get size(): number {
    return this.#rows.size;
  }

  /** Every row in key order, as copies; neither counted nor failed. */
  snapshot(): E[] {
    return this.#ordered().map((row) => structuredClone(row.entity));
  }

  /** Puts rows directly (upsert), without counting or failing: the data a test starts from. */
  seed(entities: Iterable<E>): this {
    for (const entity of entities) this.#put(entity);
    return this;
  }

  /**
   * The next `times` calls of `ops` throw `error()` (default an
   * InjectedFailure), then they work again. Rules stack: each failing call
   * uses up the oldest rule that matches it.
   * @throws InvalidOptionError when `ops` names no operation or `times` is not an integer >= 1.
   */
  failNext(ops: RepositoryOpSelector, times = 1, error?: () => unknown): this {
    this.#failures.failNext(ops, times, error);
    return this;
  }

  /**
   * Every call of `ops` on `key` throws until `heal()`; inside a
   * `bulkInsert`, the batch fails when it reaches that key, after writing
   * the rows before it. `getBatch` has no key and never matches.
   * @throws InvalidOptionError when `ops` names no operation.
   */
  failKey(key: K, ops: RepositoryOpSelector = 'any', error?: () => unknown): this {
    this.#failures.failKey(key, ops, error);
    return this;
  }

  /**
   * The next `bulkInsert` (or run of `save`s) writes `after` rows, then
   * throws an InjectedFailure: a batch that dies half way.
   * @throws InvalidOptionError when `after` is not an integer >= 0.
   */
  failMidBatch(after: number): this {
    this.#failures.failMidBatch(after);
    return this;
  }

  /** Forgets every failure rule (failNext, failKey, failMidBatch). */
  heal(): this {
    this.#failures.heal();
    return this;
  }

  /** Sets every count back to 0. */
  resetCounts(): this {
    for (const op of allOps) this.counts[op] = 0;
    this.counts.rowsWritten = 0;
    return this;
  }

  /** A copy of the entity with this key, or undefined. */
  async get(key: K): Promise<E | undefined> {
    await this.#enter('get', key);
    const row = this.#rows.get(keyId(key));
    return row === undefined ? undefined : structuredClone(row.entity);
  }

  /** Stores a copy of the entity (upsert by key). */
  async save(entity: E): Promise<void> {
    const key = this.#keyOf(entity);
    await this.#enter('save', key);
    this.#midBatchTick('save', key);
    this.#put(entity);
    this.counts.rowsWritten += 1;
  }

  /** Removes the row; an absent key is not an error. */
  async delete(key: K): Promise<void> {
    await this.#enter('delete', key);
    if (this.#rows.delete(keyId(key))) this.#sorted = undefined;
  }

  /** Up to `limit` copies of the rows with keys above `afterKey` (from the start when null), in key order. */
  async getBatch(afterKey: K | null, limit: number): Promise<readonly E[]> {
    await this.#enter('getBatch');
    const rows = this.#ordered();
    let start = 0;
    if (afterKey !== null) {
      let lo = 0;
      let hi = rows.length;
      while (lo < hi) {
        const mid = (lo + hi) >> 1;
        if (compareKeys((rows[mid] as Row<E, K>).key, afterKey) <= 0) lo = mid + 1;
        else hi = mid;
      }
      start = lo;
    }
    return rows.slice(start, start + limit).map((row) => structuredClone(row.entity));
  }

  async #bulkInsert(entities: readonly E[]): Promise<readonly K[]> {
    await this.#enter('bulkInsert');
    const inserted: K[] = [];
    for (const entity of entities) {
      const key = this.#keyOf(entity);
      this.#checkKeyRule('bulkInsert', key);
      this.#midBatchTick('bulkInsert', key);
      if (this.#rows.has(keyId(key))) continue;
      this.#put(entity);
      this.counts.rowsWritten += 1;
      inserted.push(key);
    }
    return inserted;
  }

  async #enter(op: RepositoryOp, key?: K): Promise<void> {
    this.counts[op] += 1;
    if (this.beforeOp !== undefined) await this.beforeOp(op, key);
    this.#failures.enter(op, key);
  }

  #checkKeyRule(op: RepositoryOp, key: K): void {
    this.#failures.checkKey(op, key);
  }

  #midBatchTick(op: RepositoryOp, key: K): void {
    this.#failures.midBatchTick(op, key);
  }

  #put(entity: E): void {
    const key = this.#keyOf(entity);
    const id = keyId(key);
    const row: Row<E, K> = { key, entity: structuredClone(entity) };
    const existed = this.#rows.has(id);
    this.#rows.set(id, row);
    if (!existed) {
      this.#sorted = undefined;
    } else if (this.#sorted !== undefined) {
      // Same key set: replace the cached entry in place rather than sort again.
      const at = this.#sorted.findIndex((cached) => keyId(cached.key) === id);
      if (at >= 0) this.#sorted[at] = row;
    }
  }

  #ordered(): Row<E, K>[] {
    this.#sorted ??= [...this.#rows.values()].sort((a, b) => compareKeys(a.key, b.key));
    return this.#sorted;
  }
}
