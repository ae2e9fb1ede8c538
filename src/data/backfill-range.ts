import { describeValue, InvalidOptionError, MigrationGlueError } from '../errors.js';
import type { CopyPlan } from './backfill-copy.js';
import { tombstoned } from './backfill-copy.js';
import type { CompareKeys } from './keys.js';
import { keyId, requireKey } from './keys.js';
import type { CopyRange, RangeCopy } from './repository.js';

/** One batch copied where the rows are: how many keys it covered, where it ended, what it wrote. */
export interface RangeBatch<K> {
  readonly rows: number;
  /** Null: the range was empty, the copy is done. */
  readonly lastKey: K | null;
  readonly copied: number;
  readonly skipped: number;
}

/**
 * Copies `from`'s next `limit` keys after `after` into `to` with
 * `from.copyRangeTo` (insert-if-absent, in the database), keeping what
 * the row-by-row copy guarantees: keys with a tombstone are excluded
 * before anything is written, and the keys inserted are checked against
 * the tombstones once more afterwards, a row deleted meanwhile being
 * removed from `to` again. Resolves undefined when `from` cannot copy
 * into `to` (nothing was written).
 * @throws InvalidOptionError (`from`) when the answer breaks the contract;
 *   MigrationGlueError ERR_INVALID_KEY when its last key is not past `after`.
 */
export async function copyRangeBatch<E, K>(plan: CopyPlan<E, K>, compare: CompareKeys<K>, after: K | null, limit: number): Promise<RangeBatch<K> | undefined> {
  const { from, to, tombstones, call } = plan;
  const copyRangeTo = from.copyRangeTo as (target: typeof to, range: CopyRange<K>) => Promise<RangeCopy<K> | undefined>;
  const range: CopyRange<K> =
    tombstones === undefined
      ? { after, limit }
      : {
          after,
          limit,
          exclude: async (keys) => {
            const dead = await tombstoned(plan, keys);
            return keys.filter((key) => dead.has(keyId(key)));
          },
        };
  const answer: unknown = await call('from.copyRangeTo', () => copyRangeTo.call(from, to, range));
  if (answer === undefined) return undefined;
  const copy = checked<K>(answer, tombstones !== undefined);
  if (copy.last !== null) requireKey(copy.last, 'the last key from.copyRangeTo answered');
  if (copy.last !== null && after !== null && !(compare(copy.last, after) > 0)) {
    throw new MigrationGlueError('ERR_INVALID_KEY', `from.copyRangeTo after ${describeValue(after)} ended at ${describeValue(copy.last)}, not past it`);
  }
  let removed = 0;
  if (copy.insertedKeys !== undefined && copy.insertedKeys.length > 0) {
    // Deleted (tombstoned) after the range was read: remove it again, as the row-by-row copy does.
    const dead = await tombstoned(plan, copy.insertedKeys);
    for (const key of copy.insertedKeys) {
      if (!dead.has(keyId(key))) continue;
      await call('to.delete', () => to.delete(key));
      removed += 1;
    }
  }
  const copied = copy.inserted - removed;
  return { rows: copy.count, lastKey: copy.last, copied, skipped: copy.count - copied };
}

function checked<K>(answer: unknown, withKeys: boolean): RangeCopy<K> {
  const { count, inserted, last, insertedKeys } = (answer ?? {}) as Partial<RangeCopy<K>>;
  const valid =
    typeof answer === 'object' &&
    answer !== null &&
    Number.isSafeInteger(count) &&
    Number.isSafeInteger(inserted) &&
    (inserted as number) >= 0 &&
    (inserted as number) <= (count as number) &&
    last !== undefined &&
    (last === null) === (count === 0) &&
    (!withKeys || (Array.isArray(insertedKeys) && insertedKeys.length === inserted));
  if (!valid) {
    throw new InvalidOptionError('from', `breaks the Repository contract: copyRangeTo resolved with ${describeValue(answer)}, not { count, last, inserted${withKeys ? ', insertedKeys' : ''} }`);
  }
  return answer as RangeCopy<K>;
}
