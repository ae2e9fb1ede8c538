import { describeValue, InvalidOptionError, MigrationGlueError } from '../errors.js';
import { hasMethods } from '../option-schema.js';
import { backfill } from './backfill.js';
import type { BackfillResult } from './backfill-options.js';
import type { BoundedCall } from './bounded-call.js';
import { boundedCaller } from './bounded-call.js';
import type { CheckpointStore } from './checkpoint-store.js';
import type { CompareKeys } from './keys.js';
import { compareKeys as defaultCompareKeys } from './keys.js';
import { notifyProgress, throwIfAborted } from './options.js';
import type { PartitionedBackfillOptions } from './partition-options.js';
import { resolvePartitionOptions } from './partition-options.js';
import { planRanges } from './partition-plan.js';
import { leasedCheckpoint, rangeView } from './partition-range.js';
import type { KeySplitter, PartitionedBackfillResult, PartitionProgress, PartitionRange } from './partition.js';
import type { Repository } from './repository.js';

export type { PartitionedBackfillOptions } from './partition-options.js';

/**
 * A backfill split into key ranges that several workers (processes, or
 * connections of one process) run at once, each range claimed with a lease
 * from `leases` and resumable on its own checkpoint (`checkpointFor`).
 * Every worker calls it with the same options: the first plans the ranges
 * (`splitAt`, or `from.splitKeys(partitions)`) and saves the plan; then
 * each worker takes a free range, backfills it (as `backfill` does, reading
 * `from` only within the range), releases it, and takes the next. A range
 * another worker holds is asked for again every `retryMs`: when that worker
 * died, its lease expires and the range is resumed from its checkpoint.
 * A worker whose lease was lost stops that range after the batch in flight,
 * without saving its checkpoint. A range saved as done is never redone.
 * Resolves when every range is done, whoever did it, with the same rows
 * copied as one `backfill` and the results summed over the ranges.
 * @throws InvalidOptionError (synchronously rejected) on a bad option.
 * @throws AbortedError (ERR_ABORTED) when `signal` aborts; the stores' and leases' errors unchanged.
 */
export async function backfillPartitioned<E, K>(options: PartitionedBackfillOptions<E, K>): Promise<PartitionedBackfillResult<K>> {
  const o = resolvePartitionOptions(options);
  const { from, keyOf, signal, logger, sleep, timeoutMs } = o.resolved;
  const call = boundedCaller('backfillPartitioned', timeoutMs, signal);
  throwIfAborted(signal, 'backfillPartitioned');
  const compare = await rangeOrder(o.resolved.compareKeys, from, call);
  const ranges = await planRanges({
    from: from as Repository<E, K> & Partial<KeySplitter<K>>,
    partitions: o.partitions,
    splitAt: o.splitAt,
    store: storeFor(o.checkpointFor, 'plan'),
    leases: o.leases,
    owner: o.workerId,
    compare,
    call,
    sleep,
    retryMs: o.retryMs,
    signal,
    logger,
  });
  const results = new Map<number, BackfillResult<K>>();
  const run = async (range: PartitionRange<K>): Promise<void> => {
    const name = `range-${range.index}`;
    const lease = await call(`leases.acquire(${name})`, () => o.leases.acquire(name, o.workerId));
    if (lease === undefined) return;
    try {
      const onProgress = o.onProgress;
      const result = await backfill<E, K>({
        ...o.backfill,
        from: rangeView(from, range, keyOf, compare),
        checkpoint: leasedCheckpoint(storeFor(o.checkpointFor, name), lease, name),
        ...(onProgress === undefined ? {} : { onProgress: (progress) => onProgress({ ...progress, range: range.index, ranges: ranges.length, worker: o.workerId, rangeDone: false }) }),
      });
      results.set(range.index, result);
      // The range's totals once more, also for a range an earlier run finished (backfill reports no batch for it): a sum of the latest reports per range counts every row.
      if (onProgress !== undefined) {
        const totals: PartitionProgress<K> = { ...result, rowsPerSecond: 0, elapsedMs: 0, range: range.index, ranges: ranges.length, worker: o.workerId, rangeDone: true };
        notifyProgress(onProgress, totals, (err, message) => logger.warn({ err }, message), 'backfillPartitioned');
      }
    } catch (err) {
      if (!MigrationGlueError.is(err, 'ERR_LEASE_LOST')) throw err;
      logger.warn({ range: range.index, worker: o.workerId }, 'backfillPartitioned: the lease of a range was lost; another worker goes on with it');
    } finally {
      await lease.release().catch((err: unknown) => logger.warn({ err, range: range.index }, 'backfillPartitioned: a range lease could not be released'));
    }
  };

  for (;;) {
    const before = results.size;
    for (const range of ranges) {
      throwIfAborted(signal, 'backfillPartitioned');
      if (!results.has(range.index)) await run(range);
    }
    if (results.size === ranges.length) break;
    // Every range left is held by another worker: ask again later (a dead worker's lease expires meanwhile).
    if (results.size === before) await sleep(o.retryMs, signal);
  }
  const done = ranges.map((range) => ({ ...range, ...(results.get(range.index) as BackfillResult<K>) }));
  const sum = (pick: (result: BackfillResult<K>) => number): number => done.reduce((total, result) => total + pick(result), 0);
  logger.info({ ranges: done.length, copied: sum((r) => r.copied), worker: o.workerId }, 'backfillPartitioned done');
  return { copied: sum((r) => r.copied), skipped: sum((r) => r.skipped), batches: sum((r) => r.batches), ranges: done };
}

/**
 * The order the range bounds are compared in: the caller's `compareKeys`,
 * else `from`'s `keyOrder()`, else JavaScript's for a store that has none.
 * A store that says it cannot reproduce its order is refused: a bound
 * compared in another order than the store's would skip or repeat rows.
 */
async function rangeOrder<E, K>(given: CompareKeys<K> | undefined, from: Repository<E, K>, call: BoundedCall): Promise<CompareKeys<K>> {
  if (given !== undefined) return given;
  const keyOrder = from.keyOrder;
  if (typeof keyOrder !== 'function') return defaultCompareKeys as CompareKeys<K>;
  const order: unknown = await call('from.keyOrder', () => keyOrder.call(from));
  if (typeof order === 'function') return order as CompareKeys<K>;
  throw new InvalidOptionError(
    'compareKeys',
    `is needed: from's keyOrder() resolved with ${describeValue(order)}, so range bounds cannot be compared in the store's order (for text keys, a C collation makes it known)`,
  );
}

function storeFor(checkpointFor: (name: string) => CheckpointStore, name: string): CheckpointStore {
  const store: unknown = checkpointFor(name);
  if (!hasMethods(store, ['load', 'save', 'clear'])) {
    throw new InvalidOptionError('checkpointFor', `must return a CheckpointStore (load, save, clear) for ${JSON.stringify(name)}, got ${describeValue(store)}`);
  }
  return store as CheckpointStore;
}
