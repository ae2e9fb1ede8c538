import type { Comparator } from '../compare/comparator.js';
import { toComparator } from '../compare/to-comparator.js';
import { describeValue, InvalidOptionError } from '../errors.js';
import type { Clock } from '../observe/clock.js';
import type { Logger } from '../observe/logger.js';
import { safeLogger } from '../observe/logger.js';
import type { CheckpointStore } from './checkpoint-store.js';
import { keyId } from './keys.js';
import type { Sleep } from './options.js';
import { optionalFunction, optionalPositiveNumber, positiveInteger, requireFunction, requireObject, resolveClock } from '../options.js';
import { optionalSignal, realSleep, requireRepository, throwIfAborted } from './options.js';
import type { Repository } from './repository.js';
import type { TombstoneStore } from './tombstone-store.js';

/** What a throttle hook answers: `false` or `0` go on; `true` waits `throttleDelayMs` and asks again; a number of ms waits that long and asks again. */
export type ThrottleAnswer = boolean | number;

/** Reported after each batch. */
export interface BackfillProgress<K> {
  /** Rows written to `to` so far (this run and the runs it resumes). */
  readonly copied: number;
  /** Rows left alone: already in `to`, tombstoned, or refused by `overwrite`. */
  readonly skipped: number;
  readonly batches: number;
  /** The last key of the last batch written; the checkpoint resumes after it. */
  readonly lastKey: K | null;
  /** Rows read per second in this run, throttling included. */
  readonly rowsPerSecond: number;
  /** Estimated time left in ms, when `totalRows` was given and a rate is known. */
  readonly etaMs?: number;
  /** Time since this run started, in ms. */
  readonly elapsedMs: number;
}

/** What backfill did, counted across the runs a checkpoint links. */
export interface BackfillResult<K> {
  /** Rows written to `to` and still there: never a row it did not write. */
  readonly copied: number;
  readonly skipped: number;
  readonly batches: number;
  readonly lastKey: K | null;
}

/** Options of backfill. Validated before the first read. */
export interface BackfillOptions<E, K> {
  /** The source, read in key order with `getBatch`. Required. */
  readonly from: Repository<E, K>;
  /** The target. Its `bulkInsert`, when present, does insert-if-absent in one call per batch. Required. */
  readonly to: Repository<E, K>;
  /** The key of an entity. Required. */
  readonly keyOf: (entity: E) => K;
  /** Rows per batch, at least 1. @default 1000 */
  readonly batchSize?: number;
  /** Progress is saved here after each batch is written, and resumed from. @default none (starts from the beginning) */
  readonly checkpoint?: CheckpointStore;
  /** Aborting stops before the next batch; the promise rejects with AbortedError (code ERR_ABORTED). */
  readonly signal?: AbortSignal;
  /** Called after each batch. A listener that throws is logged. */
  readonly onProgress?: (progress: BackfillProgress<K>) => void;
  /** Upper bound on rows read per second, averaged over the run. @default none */
  readonly maxRowsPerSecond?: number;
  /** Asked before each batch whether to slow down (e.g. the target's p99 or the event loop's lag is too high); see ThrottleAnswer. */
  readonly throttle?: () => ThrottleAnswer | Promise<ThrottleAnswer>;
  /** How long to wait when `throttle` answers `true`, in ms. @default 100 */
  readonly throttleDelayMs?: number;
  /**
   * When `to` already holds the key: `false` leaves it (a dual write put it
   * there, and it is newer); `true` replaces it; a function decides per row.
   * @default false (or newer-version-wins when `versionOf` is given)
   */
  readonly overwrite?: boolean | ((existing: E, incoming: E) => boolean);
  /** A row's version or timestamp: with it, a row in `to` is replaced only by a strictly newer one. Not combined with `overwrite`. */
  readonly versionOf?: (entity: E) => number | bigint | string | Date;
  /** The tombstones of the DualWriteRepository: rows deleted while dual writing are never copied back. */
  readonly tombstones?: TombstoneStore<K>;
  /** The expected number of rows in `from`, for `etaMs`. */
  readonly totalRows?: number;
  /** @default pino at `info` */
  readonly logger?: Logger;
  /** @default systemClock */
  readonly clock?: Clock;
  /** Waits between batches; inject a fake in tests. @default a real timer */
  readonly sleep?: Sleep;
}

interface BackfillState<K> {
  readonly kind: 'backfill';
  readonly lastKey: K | null;
  readonly copied: number;
  readonly skipped: number;
  readonly batches: number;
  readonly done: boolean;
}

type Decide<E> = 'never' | 'always' | ((existing: E, incoming: E) => boolean);

interface Plan<E, K> {
  readonly from: Repository<E, K>;
  readonly to: Repository<E, K>;
  readonly keyOf: (entity: E) => K;
  readonly decide: Decide<E>;
  readonly tombstones: TombstoneStore<K> | undefined;
  readonly same: Comparator<E>;
}

/**
 * Copies every row of `from` into `to`, in key order and in batches,
 * resumable from `checkpoint`. By default a row `to` already holds is left
 * alone (a dual write put it there and it is newer); a row deleted while
 * dual writing (a tombstone) is never copied back. Rows rewritten with
 * `save` are re-read from `from` afterwards, and a row that changed
 * meanwhile is copied again, so the newer value wins. Running it again on a
 * finished checkpoint does nothing; clear the checkpoint to start over.
 * @throws InvalidOptionError (synchronously rejected) on a bad option.
 * @throws AbortedError (ERR_ABORTED) when `signal` aborts; the stores' errors unchanged.
 */
export async function backfill<E, K>(options: BackfillOptions<E, K>): Promise<BackfillResult<K>> {
  requireObject(options, 'the backfill options');
  const from = requireRepository(options.from, 'from');
  const to = requireRepository(options.to, 'to');
  const keyOf = requireFunction(options.keyOf, 'keyOf');
  const batchSize = positiveInteger(options.batchSize, 'batchSize', 1000);
  const maxRowsPerSecond = optionalPositiveNumber(options.maxRowsPerSecond, 'maxRowsPerSecond');
  const throttle = optionalFunction(options.throttle, 'throttle');
  const throttleDelayMs = optionalPositiveNumber(options.throttleDelayMs, 'throttleDelayMs') ?? 100;
  const onProgress = optionalFunction(options.onProgress, 'onProgress');
  const totalRows = optionalPositiveNumber(options.totalRows, 'totalRows');
  const signal = optionalSignal(options.signal);
  const clock = resolveClock(options.clock);
  const sleep = optionalFunction(options.sleep, 'sleep') ?? realSleep;
  const logger = safeLogger(options.logger);
  const checkpoint = options.checkpoint;
  if (checkpoint !== undefined && (typeof checkpoint.load !== 'function' || typeof checkpoint.save !== 'function')) {
    throw new InvalidOptionError('checkpoint', `must be a CheckpointStore (load, save, clear), got ${describeValue(checkpoint)}`);
  }
  const tombstones = options.tombstones;
  if (tombstones !== undefined && typeof tombstones.has !== 'function') {
    throw new InvalidOptionError('tombstones', `must be a TombstoneStore (add, remove, has, clear), got ${describeValue(tombstones)}`);
  }
  const plan: Plan<E, K> = { from, to, keyOf, decide: resolveDecide(options), tombstones, same: toComparator<E>(undefined) };

  let state = parseState<K>(checkpoint === undefined ? undefined : await checkpoint.load());
  if (state.done) return resultOf(state);
  const start = clock.now();
  let readThisRun = 0;

  for (;;) {
    throwIfAborted(signal, 'backfill');
    if (throttle !== undefined) await waitForThrottle(throttle, throttleDelayMs, sleep, signal);
    const rows = await from.getBatch(state.lastKey, batchSize);
    if (rows.length === 0) {
      state = { ...state, done: true };
      await checkpoint?.save(state);
      break;
    }
    throwIfAborted(signal, 'backfill');
    const outcome = await copyBatch(plan, rows);
    const last = rows[rows.length - 1] as E;
    state = {
      kind: 'backfill',
      lastKey: keyOf(last),
      copied: state.copied + outcome.copied,
      skipped: state.skipped + outcome.skipped,
      batches: state.batches + 1,
      done: false,
    };
    // Only after the batch is written: a crash before this line redoes the batch, never skips it.
    await checkpoint?.save(state);
    readThisRun += rows.length;
    const elapsedMs = clock.now() - start;
    if (onProgress !== undefined) report(onProgress, progressOf(state, readThisRun, elapsedMs, totalRows), logger);
    if (maxRowsPerSecond !== undefined) {
      const wait = (readThisRun * 1000) / maxRowsPerSecond - elapsedMs;
      if (wait > 0) await sleep(wait, signal);
    }
  }
  logger.info({ copied: state.copied, skipped: state.skipped, batches: state.batches }, 'backfill done');
  return resultOf(state);
}

async function copyBatch<E, K>(plan: Plan<E, K>, rows: readonly E[]): Promise<{ copied: number; skipped: number }> {
  const { to, keyOf, decide, tombstones } = plan;
  const dead = tombstones === undefined ? new Set<string>() : new Set((await tombstones.has(rows.map(keyOf))).map(keyId));
  const live = rows.filter((row) => !dead.has(keyId(keyOf(row))));
  const inserted: E[] = [];
  const saved: E[] = [];
  let rest: readonly E[] = live;
  if (decide !== 'always' && to.bulkInsert !== undefined && live.length > 0) {
    const keys = new Set((await to.bulkInsert(live)).map(keyId));
    for (const row of live) if (keys.has(keyId(keyOf(row)))) inserted.push(row);
    rest = decide === 'never' ? [] : live.filter((row) => !keys.has(keyId(keyOf(row))));
  }
  for (const row of rest) {
    if (decide === 'always') {
      await to.save(row);
      saved.push(row);
      continue;
    }
    const existing = await to.get(keyOf(row));
    // Absent after a refused bulkInsert means a delete raced us: leave the key to the dual write.
    if (existing === undefined ? to.bulkInsert === undefined : decide !== 'never' && decide(existing, row)) {
      await to.save(row);
      saved.push(row);
    }
  }
  let copied = inserted.length + saved.length;
  const undone = await settleRaces(plan, inserted, saved);
  copied -= undone;
  return { copied, skipped: rows.length - copied };
}

/**
 * Closes the races with live writes. A row we inserted while it carries a
 * tombstone was deleted after we read it and not saved again (a save
 * removes the tombstone): it is removed from `to` again. A row we replaced
 * with `save` is compared with `from`'s current row, and re-copied (or
 * removed) when it changed meanwhile. Returns how many rows it removed.
 */
async function settleRaces<E, K>(plan: Plan<E, K>, inserted: readonly E[], saved: readonly E[]): Promise<number> {
  const { from, to, keyOf, tombstones, same } = plan;
  let removed = 0;
  const written = [...inserted, ...saved];
  const dead = tombstones === undefined || written.length === 0 ? new Set<string>() : new Set((await tombstones.has(written.map(keyOf))).map(keyId));
  for (const row of inserted) {
    if (!dead.has(keyId(keyOf(row)))) continue;
    await to.delete(keyOf(row));
    removed += 1;
  }
  for (const row of saved) {
    const key = keyOf(row);
    const current = dead.has(keyId(key)) ? undefined : await from.get(key);
    if (current === undefined) {
      await to.delete(key);
      removed += 1;
    } else if (!same.compare({ ok: true, value: current }, { ok: true, value: row }).equal) {
      await to.save(current);
    }
  }
  return removed;
}

function resolveDecide<E, K>(options: BackfillOptions<E, K>): Decide<E> {
  const { overwrite, versionOf } = options;
  if (versionOf !== undefined) {
    if (typeof versionOf !== 'function') throw new InvalidOptionError('versionOf', `must be a function, got ${describeValue(versionOf)}`);
    if (overwrite !== undefined) {
      throw new InvalidOptionError('versionOf', `cannot be combined with \`overwrite\` (got overwrite ${describeValue(overwrite)}); give one of them`);
    }
    return (existing, incoming) => compareVersions(versionOf(incoming), versionOf(existing)) > 0;
  }
  if (overwrite === undefined || overwrite === false) return 'never';
  if (overwrite === true) return 'always';
  if (typeof overwrite === 'function') return overwrite;
  throw new InvalidOptionError('overwrite', `must be true, false or a function (existing, incoming) => boolean, got ${describeValue(overwrite)}`);
}

function compareVersions(a: number | bigint | string | Date, b: number | bigint | string | Date): number {
  const x = a instanceof Date ? a.getTime() : a;
  const y = b instanceof Date ? b.getTime() : b;
  return x > y ? 1 : x < y ? -1 : 0;
}

async function waitForThrottle(
  throttle: () => ThrottleAnswer | Promise<ThrottleAnswer>,
  delayMs: number,
  sleep: Sleep,
  signal: AbortSignal | undefined,
): Promise<void> {
  for (;;) {
    const answer = await throttle();
    const wait = answer === true ? delayMs : typeof answer === 'number' && Number.isFinite(answer) && answer > 0 ? answer : 0;
    if (wait === 0) return;
    await sleep(wait, signal);
    throwIfAborted(signal, 'backfill');
  }
}

function progressOf<K>(state: BackfillState<K>, readThisRun: number, elapsedMs: number, totalRows: number | undefined): BackfillProgress<K> {
  const rowsPerSecond = elapsedMs > 0 ? (readThisRun * 1000) / elapsedMs : 0;
  const done = state.copied + state.skipped;
  const progress = { copied: state.copied, skipped: state.skipped, batches: state.batches, lastKey: state.lastKey, rowsPerSecond, elapsedMs };
  if (totalRows === undefined || rowsPerSecond === 0) return progress;
  return { ...progress, etaMs: (Math.max(0, totalRows - done) / rowsPerSecond) * 1000 };
}

function report<K>(onProgress: (progress: BackfillProgress<K>) => void, progress: BackfillProgress<K>, logger: Logger): void {
  try {
    onProgress(progress);
  } catch (err) {
    logger.warn({ err }, 'backfill onProgress threw');
  }
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
    typeof state.done !== 'boolean'
  ) {
    throw new InvalidOptionError('checkpoint', `holds something other than a backfill checkpoint: ${describeValue(value)}`);
  }
  return state as BackfillState<K>;
}
