import type { Comparator } from '../compare/comparator.js';
import { describeValue, InvalidOptionError } from '../errors.js';
import type { Decide } from './backfill-options.js';
import type { BoundedCall } from './bounded-call.js';
import { keyId } from './keys.js';
import type { Repository } from './repository.js';
import type { TombstoneStore } from './tombstone-store.js';

/** What writing a batch needs, fixed for the run. */
export interface CopyPlan<E, K> {
  readonly from: Repository<E, K>;
  readonly to: Repository<E, K>;
  readonly decide: Decide<E>;
  readonly tombstones: TombstoneStore<K> | undefined;
  readonly same: Comparator<E>;
  readonly call: BoundedCall;
}

/** A row of the batch and its key, computed once. */
export interface Keyed<E, K> {
  readonly row: E;
  readonly key: K;
}

/**
 * Writes one batch into `to`: tombstoned rows are dropped; the rest go
 * through `bulkInsert` (insert-if-absent) when `to` has it and rows are not
 * always replaced, else `get` + `save` per row as `decide` says; then the
 * races with live writes are closed (settleRaces). Counts only rows it
 * wrote and left in place as copied. With no tombstone store and nothing
 * replaced there is nothing to close: one `bulkInsertCount`, when `to` has
 * it, does the whole batch.
 */
export async function copyBatch<E, K>(plan: CopyPlan<E, K>, batch: readonly Keyed<E, K>[]): Promise<{ copied: number; skipped: number }> {
  const { to, decide, call } = plan;
  if (countsOnly(plan) && batch.length > 0) {
    // Nothing to re-check after writing (no tombstones, nothing replaced): the count is all the run needs.
    const bulkInsertCount = to.bulkInsertCount as (entities: readonly E[]) => Promise<number>;
    const count: unknown = await call('to.bulkInsertCount', () => bulkInsertCount.call(to, batch.map((entry) => entry.row)));
    if (typeof count !== 'number' || !Number.isSafeInteger(count) || count < 0 || count > batch.length) {
      throw new InvalidOptionError('to', `breaks the Repository contract: bulkInsertCount resolved with ${describeValue(count)}, not a count of at most the ${batch.length} rows given`);
    }
    return { copied: count, skipped: batch.length - count };
  }
  const dead = await tombstoned(plan, batch.map((entry) => entry.key));
  const live = batch.filter((entry) => !dead.has(keyId(entry.key)));
  const inserted: Keyed<E, K>[] = [];
  const saved: Keyed<E, K>[] = [];
  let rest: readonly Keyed<E, K>[] = live;
  const bulkInsert = to.bulkInsert;
  if (decide !== 'always' && bulkInsert !== undefined && live.length > 0) {
    const returned: unknown = await call('to.bulkInsert', () => bulkInsert.call(to, live.map((entry) => entry.row)));
    if (!Array.isArray(returned)) {
      throw new InvalidOptionError('to', `breaks the Repository contract: bulkInsert resolved with ${describeValue(returned)}, not an array of the keys it inserted`);
    }
    const keys = new Set(returned.map(keyId));
    for (const entry of live) if (keys.has(keyId(entry.key))) inserted.push(entry);
    rest = decide === 'never' ? [] : live.filter((entry) => !keys.has(keyId(entry.key)));
  }
  for (const entry of rest) {
    if (decide === 'always') {
      await call('to.save', () => to.save(entry.row));
      saved.push(entry);
      continue;
    }
    const existing = await call('to.get', () => to.get(entry.key));
    // Absent after a refused bulkInsert means a delete raced us: leave the key to the dual write.
    if (existing === undefined ? bulkInsert === undefined : decide !== 'never' && decide(existing, entry.row)) {
      await call('to.save', () => to.save(entry.row));
      saved.push(entry);
    }
  }
  const copied = inserted.length + saved.length - (await settleRaces(plan, inserted, saved));
  return { copied, skipped: batch.length - copied };
}

/** True when a batch is one `bulkInsertCount`: insert-if-absent with no tombstone store, into a store that has it. */
export function countsOnly<E, K>(plan: CopyPlan<E, K>): boolean {
  return plan.decide === 'never' && plan.tombstones === undefined && typeof plan.to.bulkInsertCount === 'function';
}

/** The ids (keyId) of the keys that carry a tombstone. */
export async function tombstoned<E, K>(plan: CopyPlan<E, K>, keys: readonly K[]): Promise<Set<string>> {
  const { tombstones, call } = plan;
  if (tombstones === undefined || keys.length === 0) return new Set();
  const dead: unknown = await call('tombstones.has', () => tombstones.has(keys));
  if (!Array.isArray(dead)) {
    throw new InvalidOptionError('tombstones', `breaks the TombstoneStore contract: has resolved with ${describeValue(dead)}, not an array of keys`);
  }
  return new Set(dead.map(keyId));
}

/**
 * Closes the races with live writes. A row we inserted while it carries a
 * tombstone was deleted after we read it and not saved again (a save
 * removes the tombstone): it is removed from `to` again. A row we replaced
 * with `save` is compared with `from`'s current row, and re-copied (or
 * removed) when it changed meanwhile. Returns how many rows it removed.
 */
async function settleRaces<E, K>(plan: CopyPlan<E, K>, inserted: readonly Keyed<E, K>[], saved: readonly Keyed<E, K>[]): Promise<number> {
  const { from, to, same, call } = plan;
  let removed = 0;
  const dead = await tombstoned(plan, [...inserted, ...saved].map((entry) => entry.key));
  for (const { key } of inserted) {
    if (!dead.has(keyId(key))) continue;
    await call('to.delete', () => to.delete(key));
    removed += 1;
  }
  for (const { row, key } of saved) {
    const current = dead.has(keyId(key)) ? undefined : await call('from.get', () => from.get(key));
    if (current === undefined) {
      await call('to.delete', () => to.delete(key));
      removed += 1;
    } else if (!same.compare({ ok: true, value: current }, { ok: true, value: row }).equal) {
      await call('to.save', () => to.save(current));
    }
  }
  return removed;
}
