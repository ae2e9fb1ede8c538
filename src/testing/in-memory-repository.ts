import { compareKeys, keyId } from '../data/keys.js';
import type { Repository } from '../data/repository.js';
import { InvalidOptionError, describeValue } from '../errors.js';

/** An operation of a Repository, as counted and failed by InMemoryRepository. */
export type RepositoryOp = 'get' | 'save' | 'delete' | 'getBatch' | 'bulkInsert';

/** Which operations a failure rule hits: one, a list, `any` (all five), or `write` (save, delete, bulkInsert). */
export type RepositoryOpSelector = RepositoryOp | 'any' | 'write' | readonly RepositoryOp[];

/** Options of an InMemoryRepository. Checked once, in the constructor. */
export interface InMemoryRepositoryOptions<E, K> {
  /** The key of an entity: what `get`, `delete` and `getBatch` order by. */
  readonly keyOf: (entity: E) => K;
  /** Offer `bulkInsert` (insert-if-absent), as backfill prefers. @default true */
  readonly bulkInsert?: boolean;
  /** Names the store in injected errors (`old`, `new`). @default 'memory' */
  readonly name?: string;
}

/** Operations counted so far, plus the rows actually written (by `save` and `bulkInsert`). */
export type RepositoryCounts = Record<RepositoryOp, number> & { rowsWritten: number };

/**
 * What an InMemoryRepository throws when told to fail: a stand-in for a
 * store's own error, so it is no MigrationGlueError. Match it with
 * `InjectedFailure.is(err)` (by `code`) when two bundled copies of the kit
 * may meet.
 */
export class InjectedFailure extends Error {
  /** Always `ERR_INJECTED_FAILURE`. */
  readonly code = 'ERR_INJECTED_FAILURE';

  constructor(
    /** The `name` of the repository that failed. */
    readonly store: string,
    readonly op: RepositoryOp,
    /** The key the operation was on, when it had one. */
    readonly key?: unknown,
  ) {
    super(`${store}: injected ${op} failure${key === undefined ? '' : ` on ${String(key)}`}`);
    this.name = 'InjectedFailure';
  }

  /** True when `value` is an InjectedFailure, from this copy of the kit or another. */
  static is(value: unknown): value is InjectedFailure {
    return typeof value === 'object' && value !== null && (value as { code?: unknown }).code === 'ERR_INJECTED_FAILURE';
  }
}

interface FailRule {
  readonly ops: ReadonlySet<RepositoryOp>;
  remaining: number;
  readonly key: string | undefined;
  readonly error: (() => unknown) | undefined;
}

interface Row<E, K> {
  readonly key: K;
  readonly entity: E;
}

const allOps: readonly RepositoryOp[] = ['get', 'save', 'delete', 'getBatch', 'bulkInsert'];

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
  #rules: FailRule[] = [];
  #midBatch: { after: number } | undefined;

  constructor(options: InMemoryRepositoryOptions<E, K>) {
    if (typeof options !== 'object' || options === null) {
      throw new InvalidOptionError('options', `must be an object, got ${describeValue(options)}`);
    }
    if (typeof options.keyOf !== 'function') {
      throw new InvalidOptionError('keyOf', `must be a function (entity) => key, got ${describeValue(options.keyOf)}`);
    }
    if (options.name !== undefined && typeof options.name !== 'string') {
      throw new InvalidOptionError('name', `must be a string, got ${describeValue(options.name)}`);
    }
    if (options.bulkInsert !== undefined && typeof options.bulkInsert !== 'boolean') {
      throw new InvalidOptionError('bulkInsert', `must be a boolean, got ${describeValue(options.bulkInsert)}`);
    }
    this.#keyOf = options.keyOf;
    this.name = options.name ?? 'memory';
    if (options.bulkInsert ?? true) this.bulkInsert = (entities) => this.#bulkInsert(entities);
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
    if (!Number.isSafeInteger(times) || times < 1) {
      throw new InvalidOptionError('times', `must be an integer >= 1, got ${describeValue(times)}`);
    }
    this.#rules.push({ ops: opsOf(ops), remaining: times, key: undefined, error: checkError(error) });
    return this;
  }

  /**
   * Every call of `ops` on `key` throws until `heal()`; inside a
   * `bulkInsert`, the batch fails when it reaches that key, after writing
   * the rows before it. `getBatch` has no key and never matches.
   * @throws InvalidOptionError when `ops` names no operation.
   */
  failKey(key: K, ops: RepositoryOpSelector = 'any', error?: () => unknown): this {
    this.#rules.push({ ops: opsOf(ops), remaining: Infinity, key: keyId(key), error: checkError(error) });
    return this;
  }

  /**
   * The next `bulkInsert` (or run of `save`s) writes `after` rows, then
   * throws an InjectedFailure: a batch that dies half way.
   * @throws InvalidOptionError when `after` is not an integer >= 0.
   */
  failMidBatch(after: number): this {
    if (!Number.isSafeInteger(after) || after < 0) {
      throw new InvalidOptionError('after', `must be an integer >= 0, got ${describeValue(after)}`);
    }
    this.#midBatch = { after };
    return this;
  }

  /** Forgets every failure rule (failNext, failKey, failMidBatch). */
  heal(): this {
    this.#rules = [];
    this.#midBatch = undefined;
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
    for (const rule of this.#rules) {
      if (rule.remaining <= 0 || !rule.ops.has(op)) continue;
      if (rule.key !== undefined && (key === undefined || rule.key !== keyId(key))) continue;
      rule.remaining -= 1;
      throw rule.error?.() ?? new InjectedFailure(this.name, op, key);
    }
    this.#rules = this.#rules.filter((rule) => rule.remaining > 0);
  }

  #checkKeyRule(op: RepositoryOp, key: K): void {
    for (const rule of this.#rules) {
      if (rule.key !== undefined && rule.ops.has(op) && rule.key === keyId(key)) throw rule.error?.() ?? new InjectedFailure(this.name, op, key);
    }
  }

  #midBatchTick(op: RepositoryOp, key: K): void {
    if (this.#midBatch === undefined) return;
    if (this.#midBatch.after <= 0) {
      this.#midBatch = undefined;
      throw new InjectedFailure(this.name, op, key);
    }
    this.#midBatch.after -= 1;
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

function opsOf(ops: RepositoryOpSelector): ReadonlySet<RepositoryOp> {
  if (ops === 'any') return new Set(allOps);
  if (ops === 'write') return new Set(['save', 'delete', 'bulkInsert']);
  const list = typeof ops === 'string' ? [ops] : ops;
  if (!Array.isArray(list) || list.length === 0 || !list.every((op) => allOps.includes(op))) {
    throw new InvalidOptionError('ops', `must be ${allOps.join(', ')}, 'any', 'write' or a non-empty list of operations, got ${describeValue(ops)}`);
  }
  return new Set(list);
}

function checkError(error: (() => unknown) | undefined): (() => unknown) | undefined {
  if (error !== undefined && typeof error !== 'function') {
    throw new InvalidOptionError('error', `must be a function () => error, got ${describeValue(error)}`);
  }
  return error;
}
