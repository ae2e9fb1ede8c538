import { keyId } from '../data/keys.js';
import { InvalidOptionError, describeValue } from '../errors.js';

// The failures an InMemoryRepository injects on command: which operation
// fails next, on which key, and a batch that dies half way.

/** An operation of a Repository, as counted and failed by InMemoryRepository. */
export type RepositoryOp = 'get' | 'save' | 'delete' | 'getBatch' | 'bulkInsert';

/** Which operations a failure rule hits: one, a list, `any` (all five), or `write` (save, delete, bulkInsert). */
export type RepositoryOpSelector = RepositoryOp | 'any' | 'write' | readonly RepositoryOp[];

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

/** Every operation, in the order counts list them. */
export const allOps: readonly RepositoryOp[] = ['get', 'save', 'delete', 'getBatch', 'bulkInsert'];

/** The failure rules of one repository; `name` is put in the InjectedFailures thrown. */
export class FailureRules {
  #rules: FailRule[] = [];
  #midBatch: { after: number } | undefined;

  constructor(readonly name: string) {}

  /** See InMemoryRepository.failNext. */
  failNext(ops: RepositoryOpSelector, times: number, error: (() => unknown) | undefined): void {
    if (!Number.isSafeInteger(times) || times < 1) {
      throw new InvalidOptionError('times', `must be an integer >= 1, got ${describeValue(times)}`);
    }
    this.#rules.push({ ops: opsOf(ops), remaining: times, key: undefined, error: checkError(error) });
  }

  /** See InMemoryRepository.failKey. */
  failKey(key: unknown, ops: RepositoryOpSelector, error: (() => unknown) | undefined): void {
    this.#rules.push({ ops: opsOf(ops), remaining: Infinity, key: keyId(key), error: checkError(error) });
  }

  /** See InMemoryRepository.failMidBatch. */
  failMidBatch(after: number): void {
    if (!Number.isSafeInteger(after) || after < 0) {
      throw new InvalidOptionError('after', `must be an integer >= 0, got ${describeValue(after)}`);
    }
    this.#midBatch = { after };
  }

  /** Forgets every rule. */
  heal(): void {
    this.#rules = [];
    this.#midBatch = undefined;
  }

  /** Throws when a rule makes this call of `op` (on `key`) fail; uses up the oldest matching rule. */
  enter(op: RepositoryOp, key?: unknown): void {
    for (const rule of this.#rules) {
      if (rule.remaining <= 0 || !rule.ops.has(op)) continue;
      if (rule.key !== undefined && (key === undefined || rule.key !== keyId(key))) continue;
      rule.remaining -= 1;
      throw rule.error?.() ?? new InjectedFailure(this.name, op, key);
    }
    this.#rules = this.#rules.filter((rule) => rule.remaining > 0);
  }

  /** Throws when a key rule hits `key` inside a batch. */
  checkKey(op: RepositoryOp, key: unknown): void {
    for (const rule of this.#rules) {
      if (rule.key !== undefined && rule.ops.has(op) && rule.key === keyId(key)) throw rule.error?.() ?? new InjectedFailure(this.name, op, key);
    }
  }

  /** Counts one row written by a batch; throws once the mid-batch failure is due. */
  midBatchTick(op: RepositoryOp, key: unknown): void {
    if (this.#midBatch === undefined) return;
    if (this.#midBatch.after <= 0) {
      this.#midBatch = undefined;
      throw new InjectedFailure(this.name, op, key);
    }
    this.#midBatch.after -= 1;
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
