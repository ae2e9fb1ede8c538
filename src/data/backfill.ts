import { toComparator } from '../compare/to-comparator.js';
import { describeValue, InvalidOptionError } from '../errors.js';
import { maxTimerMs } from '../options.js';
import type { BackfillOptions, BackfillProgress, BackfillResult } from './backfill-options.js';
import { resolveBackfillOptions } from './backfill-options.js';
import type { CopyPlan } from './backfill-copy.js';
import { copyBatch } from './backfill-copy.js';
import { BatchSizer, isTimeout, pause, waitForThrottle } from './backfill-pace.js';
import type { BoundedCall } from './bounded-call.js';
import { boundedCaller } from './bounded-call.js';
import type { CheckpointStore } from './checkpoint-store.js';
import { notifyProgress, resolveKeyOrder, throwIfAborted } from './options.js';
import type { Page, PageSource } from './read-page.js';
import { readPage } from './read-page.js';

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
 * (insert-if-absent), the next page is read while a batch is written. Running it again on a finished checkpoint does
 * nothing; clear the checkpoint to start over.
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
  const pipelined = typeof to.bulkInsert === 'function' && o.decide === 'never';
  const start = clock.now();
  let readThisRun = 0;
  let ahead: { readonly after: K | null; readonly page: Promise<Page<E, K>> } | undefined;
  const read = (after: K | null): Promise<Page<E, K>> => {
    // A page read ahead keeps the size it was read with: the new size applies from the next read.
    const next = ahead !== undefined && ahead.after === after ? ahead.page : readPage(source, after, sizer.size);
    ahead = undefined;
    return next;
  };

  for (;;) {
    throwIfAborted(signal, 'backfill');
    if (throttle !== undefined) await waitForThrottle(throttle, o.throttleDelayMs, sleep, signal, call);
    const page = await read(state.lastKey);
    if (page.rows.length === 0) {
      state = { ...state, done: true };
      await saveCheckpoint(checkpoint, state, call);
      break;
    }
    throwIfAborted(signal, 'backfill');
    const lastKey = page.keys[page.keys.length - 1] as K;
    if (pipelined) {
      // The next page is read while this one is written; a failure is seen when it is used.
      ahead = { after: lastKey, page: readPage(source, lastKey, sizer.size) };
      ahead.page.catch(() => {});
    }
    const began = clock.now();
    let outcome: { copied: number; skipped: number };
    try {
      outcome = await copyBatch(plan, page.rows.map((row, i) => ({ row, key: page.keys[i] as K })));
    } catch (err) {
      if (!isTimeout(err) || !sizer.timedOut()) throw err;
      logger.warn({ err, batchSize: sizer.size }, 'backfill: a batch write timed out; retrying it in smaller batches');
      ahead = undefined;
      continue;
    }
    const backoffMs = sizer.written(page.rows.length, clock.now() - began);
    state = {
      kind: 'backfill',
      lastKey,
      copied: state.copied + outcome.copied,
      skipped: state.skipped + outcome.skipped,
      batches: state.batches + 1,
      done: false,
    };
    // Only after the batch is written: a crash before this line redoes the batch, never skips it.
    await saveCheckpoint(checkpoint, state, call);
    readThisRun += page.rows.length;
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
