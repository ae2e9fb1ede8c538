import type { CheckpointStore } from './checkpoint-store.js';
import type { CompareKeys } from './keys.js';
import { LeaseLostError } from './partition-errors.js';
import type { PartitionLease, PartitionRange } from './partition.js';
import type { Repository } from './repository.js';

/**
 * `from` seen through one range: `getBatch` starts after the range's lower
 * bound and stops at its upper bound (the rows of the page beyond it are
 * dropped, and the next call answers the end without asking `from`). Reads
 * and writes of single keys pass through; `keyOrder` too, so that backfill
 * checks pages in the same order, and `copyRangeTo` (the copy inside the
 * database) with the range's bounds.
 */
export function rangeView<E, K>(from: Repository<E, K>, range: PartitionRange<K>, keyOf: (entity: E) => K, compare: CompareKeys<K>): Repository<E, K> {
  const { after: lower, upTo } = range;
  let endedAfter: { readonly key: K } | undefined;
  const view: Repository<E, K> = {
    get: (key) => from.get(key),
    save: (entity) => from.save(entity),
    delete: (key) => from.delete(key),
    async getBatch(afterKey, limit) {
      if (endedAfter !== undefined && afterKey !== null && compare(afterKey, endedAfter.key) >= 0) return [];
      const rows = await from.getBatch(afterKey ?? lower, limit);
      if (upTo === null) return rows;
      const beyond = rows.findIndex((row) => compare(keyOf(row), upTo) > 0);
      if (beyond === -1) return rows;
      const kept = rows.slice(0, beyond);
      // The page ran past the range: the next page (after its last row kept) is empty.
      endedAfter = { key: kept.length > 0 ? keyOf(kept[kept.length - 1] as E) : upTo };
      return kept;
    },
  };
  const keyOrder = from.keyOrder;
  if (typeof keyOrder === 'function') view.keyOrder = () => keyOrder.call(from);
  const copyRangeTo = from.copyRangeTo;
  if (typeof copyRangeTo === 'function') {
    // The copy inside the database, bounded to the range as well (a same-database partitioned run stays server-side).
    view.copyRangeTo = (target, copy) => {
      const bound = copy.upTo === undefined || copy.upTo === null || (upTo !== null && compare(upTo, copy.upTo) < 0) ? upTo : copy.upTo;
      return copyRangeTo.call(from, target, { ...copy, after: copy.after ?? lower, upTo: bound });
    };
  }
  return view;
}

/**
 * A checkpoint store that saves only while `lease` is held: each save
 * renews the lease first and, when it is lost, throws LeaseLostError
 * instead of saving, so that a worker that lost its range never moves that
 * range's checkpoint (the new holder's progress stays as it saved it).
 */
export function leasedCheckpoint(store: CheckpointStore, lease: PartitionLease, name: string): CheckpointStore {
  return {
    load: () => store.load(),
    async save(state: unknown): Promise<void> {
      if (!(await lease.renew())) throw new LeaseLostError(`the lease of ${name} was lost; this worker stops that range after the batch it wrote`);
      await store.save(state);
    },
    clear: () => store.clear(),
  };
}
