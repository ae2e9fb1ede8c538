import { describeValue, InvalidOptionError, MigrationGlueError } from '../errors.js';
import type { BoundedCall } from './bounded-call.js';
import type { CompareKeys } from './keys.js';
import type { Repository } from './repository.js';

/** A page of rows and their keys, checked. */
export interface Page<E, K> {
  readonly rows: readonly E[];
  /** `keyOf` of each row, in the same order. */
  readonly keys: readonly K[];
}

/** Where a page comes from, and how its keys are checked. */
export interface PageSource<E, K> {
  readonly store: Repository<E, K>;
  /** The option naming the store in errors (`from`, `old`, `new`). */
  readonly option: string;
  readonly keyOf: (entity: E) => K;
  readonly compare: CompareKeys<K>;
  readonly call: BoundedCall;
}

/**
 * Reads the page of `source.store` after `after` and checks that it keeps
 * the Repository contract: an array, every key a string, a finite number or
 * a bigint, strictly ascending by `compare` and strictly past `after`. A
 * store that pages wrong (ignores `afterKey`, repeats or reorders rows)
 * would make a job loop for ever or skip rows; it fails the job instead.
 * @throws MigrationGlueError ERR_INVALID_KEY on a bad key or order;
 *   InvalidOptionError naming the store when the page is not an array.
 */
export async function readPage<E, K>(source: PageSource<E, K>, after: K | null, limit: number): Promise<Page<E, K>> {
  const { store, option, keyOf, compare, call } = source;
  const rows: unknown = await call(`${option}.getBatch`, () => store.getBatch(after, limit));
  if (!Array.isArray(rows)) {
    throw new InvalidOptionError(option, `breaks the Repository contract: getBatch resolved with ${describeValue(rows)}, not an array`);
  }
  const keys: K[] = [];
  let previous = after;
  for (const row of rows as readonly E[]) {
    const key = keyOfRow(keyOf, row, option);
    if (previous !== null && !(compare(key, previous) > 0)) {
      const where = previous === after ? `after afterKey ${describeValue(after)}` : `after ${describeValue(previous)} in the same page`;
      throw new MigrationGlueError(
        'ERR_INVALID_KEY',
        `${option} returned key ${describeValue(key)} ${where}: getBatch must return keys strictly greater than afterKey, ascending by compareKeys ` +
          '(a store that ignores afterKey would be read for ever; for text keys in PostgreSQL, use a "C" collation)',
      );
    }
    keys.push(key);
    previous = key;
  }
  return { rows: rows as readonly E[], keys };
}

/**
 * `keyOf(row)`, checked: a string, a finite number or a bigint.
 * @throws MigrationGlueError ERR_INVALID_KEY when keyOf throws (its error as `cause`) or returns anything else.
 */
function keyOfRow<E, K>(keyOf: (entity: E) => K, row: E, option: string): K {
  let key: K;
  try {
    key = keyOf(row);
  } catch (err) {
    throw new MigrationGlueError('ERR_INVALID_KEY', `keyOf threw on a row of ${option}`, { cause: err });
  }
  if (typeof key === 'string' || typeof key === 'bigint' || (typeof key === 'number' && Number.isFinite(key))) return key;
  throw new MigrationGlueError('ERR_INVALID_KEY', `keyOf returned ${describeValue(key)} for a row of ${option}: a key must be a string, a finite number or a bigint`);
}
