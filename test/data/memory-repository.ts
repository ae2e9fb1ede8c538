import type { Repository } from '../../src/data/repository.js';
import { compareKeys, keyId } from '../../src/data/keys.js';

/** An operation of a Repository, as counted and failed by MemoryRepository. */
export type RepositoryOp = 'get' | 'save' | 'delete' | 'getBatch' | 'bulkInsert';

/** Options of MemoryRepository. */
export interface MemoryRepositoryOptions<E, K> {
  readonly keyOf: (entity: E) => K;
  /** Offer `bulkInsert` (insert-if-absent). @default true */
  readonly bulkInsert?: boolean;
  /** A name for error messages. @default 'memory' */
  readonly name?: string;
}

/** The error a MemoryRepository throws when told to fail. */
export class InjectedFailure extends Error {
  constructor(readonly store: string, readonly op: RepositoryOp, readonly key?: unknown) {
    super(`${store}: injected ${op} failure${key === undefined ? '' : ` on ${String(key)}`}`);
    this.name = 'InjectedFailure';
  }
}

interface FailRule {
  readonly ops: ReadonlySet<RepositoryOp>;
  remaining: number;
  readonly key: string | undefined;
  readonly error: (() => unknown) | undefined;
}

/**
 * A Repository in memory for tests: keeps rows in key order, counts every
 * operation and every row written, and fails on command (the next N calls of
 * an operation, every call on a key, or in the middle of a bulkInsert).
 */
export class MemoryRepository<E, K> implements Repository<E, K> {
  readonly name: string;
  readonly counts: Record<RepositoryOp, number> & { rowsWritten: number } = {
    get: 0,
    save: 0,
    delete: 0,
    getBatch: 0,
    bulkInsert: 0,
    rowsWritten: 0,
  };
  /** Called before every operation, after it is counted: lets a test interleave other work. */
  beforeOp: ((op: RepositoryOp, key?: K) => void | Promise<void>) | undefined;
  bulkInsert?: (entities: readonly E[]) => Promise<readonly K[]>;
  readonly #keyOf: (entity: E) => K;
  readonly #rows = new Map<string, { key: K; entity: E }>();
  #sorted: { key: K; entity: E }[] | undefined;
  #rules: FailRule[] = [];
  #midBatch: { after: number } | undefined;

  constructor(options: MemoryRepositoryOptions<E, K>) {
    this.#keyOf = options.keyOf;
    this.name = options.name ?? 'memory';
    if (options.bulkInsert ?? true) this.bulkInsert = (entities) => this.#bulkInsert(entities);
  }

  /** Rows in key order (copies). */
  snapshot(): E[] {
    return this.#ordered().map((row) => structuredClone(row.entity));
  }

  get size(): number {
    return this.#rows.size;
  }

  /** Puts rows directly, without counting or failing. */
  seed(entities: Iterable<E>): this {
    for (const entity of entities) this.#put(entity);
    return this;
  }

  /** The next `times` calls of `ops` throw (all ops when 'any'; save and delete and bulkInsert when 'write'). */
  failNext(ops: RepositoryOp | 'any' | 'write' | readonly RepositoryOp[], times = 1, error?: () => unknown): this {
    this.#rules.push({ ops: opsOf(ops), remaining: times, key: undefined, error });
    return this;
  }

  /** Every call of `ops` on `key` throws until `heal()`. */
  failKey(key: K, ops: RepositoryOp | 'any' | 'write' | readonly RepositoryOp[] = 'any', error?: () => unknown): this {
    this.#rules.push({ ops: opsOf(ops), remaining: Infinity, key: keyId(key), error });
    return this;
  }

  /** The next bulkInsert (or run of saves) writes `after` rows, then throws. */
  failMidBatch(after: number): this {
    this.#midBatch = { after };
    return this;
  }

  /** Forgets every failure rule. */
  heal(): this {
    this.#rules = [];
    this.#midBatch = undefined;
    return this;
  }

  async get(key: K): Promise<E | undefined> {
    await this.#enter('get', key);
    const row = this.#rows.get(keyId(key));
    return row === undefined ? undefined : structuredClone(row.entity);
  }

  async save(entity: E): Promise<void> {
    const key = this.#keyOf(entity);
    await this.#enter('save', key);
    this.#midBatchTick();
    this.#put(entity);
    this.counts.rowsWritten += 1;
  }

  async delete(key: K): Promise<void> {
    await this.#enter('delete', key);
    if (this.#rows.delete(keyId(key))) this.#sorted = undefined;
  }

  async getBatch(afterKey: K | null, limit: number): Promise<readonly E[]> {
    await this.#enter('getBatch');
    const rows = this.#ordered();
    let start = 0;
    if (afterKey !== null) {
      // Binary search for the first key above afterKey.
      let lo = 0;
      let hi = rows.length;
      while (lo < hi) {
        const mid = (lo + hi) >> 1;
        if (compareKeys((rows[mid] as { key: K }).key, afterKey) <= 0) lo = mid + 1;
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
      this.#midBatchTick();
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

  #midBatchTick(): void {
    if (this.#midBatch === undefined) return;
    if (this.#midBatch.after <= 0) {
      this.#midBatch = undefined;
      throw new InjectedFailure(this.name, 'bulkInsert');
    }
    this.#midBatch.after -= 1;
  }

  #put(entity: E): void {
    const key = this.#keyOf(entity);
    const id = keyId(key);
    if (!this.#rows.has(id)) this.#sorted = undefined;
    this.#rows.set(id, { key, entity: structuredClone(entity) });
    if (this.#sorted !== undefined) {
      // Same key set: update the cached entry in place.
      const at = this.#sorted.findIndex((row) => keyId(row.key) === id);
      if (at >= 0) this.#sorted[at] = this.#rows.get(id) as { key: K; entity: E };
    }
  }

  #ordered(): { key: K; entity: E }[] {
    this.#sorted ??= [...this.#rows.values()].sort((a, b) => compareKeys(a.key, b.key));
    return this.#sorted;
  }
}

function opsOf(ops: RepositoryOp | 'any' | 'write' | readonly RepositoryOp[]): ReadonlySet<RepositoryOp> {
  if (ops === 'any') return new Set(['get', 'save', 'delete', 'getBatch', 'bulkInsert']);
  if (ops === 'write') return new Set(['save', 'delete', 'bulkInsert']);
  return new Set(typeof ops === 'string' ? [ops] : ops);
}
