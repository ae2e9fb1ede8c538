import { toComparator } from '../compare/to-comparator.js';
import { describeValue, InvalidOptionError } from '../errors.js';
import { maxTimerMs } from '../options.js';
import type { BackfillOptions, BackfillProgress, BackfillResult } from './backfill-options.js';
import { resolveBackfillOptions } from './backfill-options.js';
import type { CopyPlan } from './backfill-copy.js';
import { copyBatch, countsOnly } from './backfill-copy.js';
import { BatchSizer, isTimeout, pause, waitForThrottle } from './backfill-pace.js';
import type { BoundedCall } from './bounded-call.js';
import { boundedCaller } from './bounded-call.js';
import type { CheckpointStore } from './checkpoint-store.js';
import { notifyProgress, resolveKeyOrder, throwIfAborted } from './options.js';
import type { Page, PageSource } from './read-page.js';
import { readPage } from './read-page.js';
import type { RangeBatch } from './backfill-range.js';
import { copyRangeBatch } from './backfill-range.js';

export type { BackfillOptions, BackfillProgress, BackfillResult, ThrottleAnswer } from './backfill-options.js';

interface BackfillState<K> {
  readonly kind: 'backfill';
  readonly lastKey: K | null;
  readonly copied: number;
  readonly skipped: number;
  readonly batches: number;
  readonly done: boolean;
}

/**
 * Copies every row of `from` into `to`, in key order and in batches,
 * resumable from `checkpoint`. By default a row `to` already holds is left
 * alone (a dual write put it there and it is newer); a row deleted while
 * dual writing (a tombstone) is never copied back. Rows rewritten with
 * `save` are re-read from `from` afterwards, and a row that changed
 * meanwhile is copied again, so the newer value wins. With `bulkInsert`
 * (insert-if-absent), the next page is read while a batch is written.
 * When `from.copyRangeTo` can copy into `to` (two tables of one database),
 * each batch is copied there instead, with the same guarantees, and no row
 * passes through the process. Running it again on a finished checkpoint
 * does nothing; clear the checkpoint to start over.
 * @throws InvalidOptionError (synchronously rejected) on a bad option.
 * @throws AbortedError (ERR_ABORTED) when `signal` aborts; the stores' errors unchanged.
 */
export async function backfill<E, K>(options: BackfillOptions<E, K>): Promise<BackfillResult<K>> {
  const o = resolveBackfillOptions(options);
  const { from, to, keyOf, checkpoint, signal, clock, logger, sleep, throttle } = o;
  const call = boundedCaller('backfill', o.timeoutMs, signal);
  const plan: CopyPlan<E, K> = { from, to, decide: o.decide, tombstones: o.tombstones, same: toComparator<E>(undefined), call };
  const sizer = new BatchSizer(o);

  throwIfAborted(signal, 'backfill');
  const compare = await resolveKeyOrder(o.compareKeys, from, 'from', call, true);
  const source: PageSource<E, K> = { store: from, option: 'from', keyOf, compare, call };
  let state = parseState<K>(checkpoint === undefined ? undefined : await call('checkpoint.load', () => checkpoint.load()));
  if (state.done) return resultOf(state);
  // On the insert-if-absent path a batch is one bulkInsert: reading ahead overlaps the two round trips.
  // Row by row (get + save per row) the reads are a small share of the time, and are not overlapped.
  const pipelined = (typeof to.bulkInsert === 'function' || countsOnly(plan)) && o.decide === 'never';
  // Where both stores are tables of one database, each batch is copied there (insert-if-absent only).
  let inStore = o.decide === 'never' && typeof from.copyRangeTo === 'function';
  if (inStore) logger.debug({}, 'backfill: copying each batch inside the store when from.copyRangeTo can');
  const start = clock.now();
  let readThisRun = 0;
  let ahead: { readonly after: K | null; readonly page: Promise<Page<E, K>>; readonly asked: number } | undefined;
  /** The page after `after` and the size it was asked with: a page read ahead keeps its size, the new one applies from the next read. */
  const read = (after: K | null): { readonly page: Promise<Page<E, K>>; readonly asked: number } => {
    const next = ahead !== undefined && ahead.after === after ? ahead : { page: readPage(source, after, sizer.size), asked: sizer.size };
    ahead = undefined;
    return next;
  };
  /** A write that timed out is retried smaller when the sizer allows it ('retry'); any other error fails the run. */
  const retryable = (err: unknown): 'retry' => {
    if (!isTimeout(err) || !sizer.timedOut()) throw err;
    logger.warn({ err, batchSize: sizer.size }, 'backfill: a batch write timed out; retrying it in smaller batches');
    ahead = undefined;
    return 'retry';
  };
  const rowBatch = async (after: K | null): Promise<Batch<K>> => {
    const { page: reading, asked } = read(after);
    const page = await reading;
    if (page.rows.length === 0) return 'end';
    throwIfAborted(signal, 'backfill');
    const lastKey = page.keys[page.keys.length - 1] as K;
    if (pipelined) {
      // The next page is read while this one is written; a failure is seen when it is used.
      ahead = { after: lastKey, page: readPage(source, lastKey, sizer.size), asked: sizer.size };
      ahead.page.catch(() => {});
    }
    const began = clock.now();
    try {
      const outcome = await copyBatch(plan, page.rows.map((row, i) => ({ row, key: page.keys[i] as K })));
      return { rows: page.rows.length, asked, lastKey, ...outcome, writeMs: clock.now() - began };
    } catch (err) {
      return retryable(err);
    }
  };
  const storeBatch = async (after: K | null): Promise<Batch<K>> => {
    const began = clock.now();
    const asked = sizer.size;
    let range: RangeBatch<K> | undefined;
    try {
      range = await copyRangeBatch(plan, compare, after, asked);
    } catch (err) {
      return retryable(err);
    }
    if (range === undefined) {
      inStore = false;
      return rowBatch(after);
    }
    if (range.lastKey === null) return 'end';
    return { ...range, asked, lastKey: range.lastKey, writeMs: clock.now() - began };
  };

  for (;;) {
    throwIfAborted(signal, 'backfill');
    if (throttle !== undefined) await waitForThrottle(throttle, o.throttleDelayMs, sleep, signal, call);
    const batch = inStore ? await storeBatch(state.lastKey) : await rowBatch(state.lastKey);
    if (batch === 'retry') continue;
    if (batch === 'end') {
      state = { ...state, done: true };
      await saveCheckpoint(checkpoint, state, call);
      break;
    }
    const { lastKey, rows: read } = batch;
    const backoffMs = sizer.written(read, batch.writeMs, batch.asked);
    state = {
      kind: 'backfill',
      lastKey,
      copied: state.copied + batch.copied,
      skipped: state.skipped + batch.skipped,
      batches: state.batches + 1,
      done: false,
    };
    // Only after the batch is written: a crash before this line redoes the batch, never skips it.
    await saveCheckpoint(checkpoint, state, call);
    readThisRun += read;
    const elapsedMs = clock.now() - start;
    if (o.onProgress !== undefined) {
      notifyProgress(o.onProgress, progressOf(state, readThisRun, elapsedMs, o.totalRows, sizer.size), (err, message) => logger.warn({ err }, message), 'backfill');
    }
    const rateWait = o.maxRowsPerSecond === undefined ? 0 : Math.min((readThisRun * 1000) / o.maxRowsPerSecond - elapsedMs, maxTimerMs);
    if (backoffMs > 0) logger.debug({ backoffMs: Math.round(backoffMs), batchSize: sizer.size }, 'backfill: the target slowed down; backing off');
    const wait = Math.max(rateWait, backoffMs);
    if (wait > 0) await pause(sleep, wait, signal, clock, logger);
  }
  logger.info({ copied: state.copied, skipped: state.skipped, batches: state.batches }, 'backfill done');
  return resultOf(state);
}

/** A batch written: the keys it covered, what it wrote and how long the write took; or the end, or a retry at a smaller size. */
type Batch<K> = { readonly rows: number; readonly asked: number; readonly lastKey: K; readonly copied: number; readonly skipped: number; readonly writeMs: number } | 'end' | 'retry';

async function saveCheckpoint<K>(checkpoint: CheckpointStore | undefined, state: BackfillState<K>, call: BoundedCall): Promise<void> {
  if (checkpoint !== undefined) await call('checkpoint.save', () => checkpoint.save(state));
}

function progressOf<K>(state: BackfillState<K>, readThisRun: number, elapsedMs: number, totalRows: number | undefined, batchSize: number): BackfillProgress<K> {
  const rowsPerSecond = elapsedMs > 0 ? (readThisRun * 1000) / elapsedMs : 0;
  const done = state.copied + state.skipped;
  const progress = { copied: state.copied, skipped: state.skipped, batches: state.batches, lastKey: state.lastKey, rowsPerSecond, elapsedMs, batchSize };
  if (totalRows === undefined || rowsPerSecond === 0) return progress;
  return { ...progress, etaMs: (Math.max(0, totalRows - done) / rowsPerSecond) * 1000 };
}

function resultOf<K>(state: BackfillState<K>): BackfillResult<K> {
  return { copied: state.copied, skipped: state.skipped, batches: state.batches, lastKey: state.lastKey };
}

function parseState<K>(value: unknown): BackfillState<K> {
  if (value === undefined || value === null) return { kind: 'backfill', lastKey: null, copied: 0, skipped: 0, batches: 0, done: false };
  const state = value as Partial<BackfillState<K>>;
  if (
    state.kind !== 'backfill' ||
    !('lastKey' in state) ||
    typeof state.copied !== 'number' ||
    typeof state.skipped !== 'number' ||
    typeof state.batches !== 'number' ||
    typeof state.done !== 'boolean' ||
    !(state.lastKey === null || typeof state.lastKey === 'string' || (typeof state.lastKey === 'number' && Number.isFinite(state.lastKey)))
  ) {
    throw new InvalidOptionError('checkpoint', `holds something other than a backfill checkpoint: ${describeValue(value)}`);
  }
  return state as BackfillState<K>;
}
