import type { Comparator } from '../compare/comparator.js';
import { toComparator } from '../compare/to-comparator.js';
import { describeValue, InvalidOptionError } from '../errors.js';
import type { Clock } from '../observe/clock.js';
import type { Logger } from '../observe/logger.js';
import { safeLogger } from '../observe/logger.js';
import type { BoundedCall } from './bounded-call.js';
import { boundedCaller, defaultCallTimeoutMs } from './bounded-call.js';
import type { CheckpointStore } from './checkpoint-store.js';
import type { CompareKeys } from './keys.js';
import { keyId } from './keys.js';
import type { Sleep } from './options.js';
import { optionalFunction, optionalPositiveNumber, positiveInteger, requireFunction, requireObject, resolveClock } from '../options.js';
import { optionalSignal, realSleep, requireRepository, resolveKeyOrder, throwIfAborted } from './options.js';
import { rejectUnknownOptions } from './known-options.js';
import type { PageSource } from './read-page.js';
import { readPage } from './read-page.js';
import type { Repository } from './repository.js';
import type { TombstoneStore } from './tombstone-store.js';

/** What a throttle hook answers: `false` or a number of ms of 0 or less go on; `true` waits `throttleDelayMs` and asks again; a positive number of ms waits that long and asks again. */
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
  /**
   * Aborting stops at once, even inside a pending store call; the promise
   * rejects with AbortedError (code ERR_ABORTED). The batch in flight may be
   * partly written: the checkpoint still points before it, so a resume
   * redoes it (insert-if-absent finds its rows in place).
   */
  readonly signal?: AbortSignal;
  /** Called after each batch, not awaited. A listener that throws (or returns a promise that rejects) is logged. */
  readonly onProgress?: (progress: BackfillProgress<K>) => void;
  /**
   * Upper bound on rows read per second, averaged over the run. The pause
   * after a batch that ran ahead is a real timer: it ends only when the
   * event loop turns. A loop in the same process that awaits only promises
   * settled without I/O (PGlite, in-memory stores) never lets a timer fire
   * and stalls the backfill for as long as it runs: in such a loop, yield
   * once per iteration with `await setImmediate()` from `node:timers/promises`.
   * @default none
   */
  readonly maxRowsPerSecond?: number;
  /**
   * Asked before each batch whether to slow down (e.g. the target's p99 or
   * the event loop's lag is too high); see ThrottleAnswer. Bounded by
   * `timeoutMs`; a throw, a rejection or an answer other than a boolean or
   * a finite number of ms up to 2147483647 fails the run (resumable).
   */
  readonly throttle?: () => ThrottleAnswer | Promise<ThrottleAnswer>;
  /** How long to wait when `throttle` answers `true`, in ms; a real timer, like `maxRowsPerSecond`'s pause. @default 100 */
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
  /**
   * The order `from` returns keys in. Each page must hold keys strictly
   * greater than the last key of the page before, ascending by it: a store
   * that ignores `afterKey` fails the run with ERR_INVALID_KEY instead of
   * being read for ever. @default compareKeys (numbers numerically, strings by code point)
   */
  readonly compareKeys?: CompareKeys<K>;
  /**
   * The longest wait for one call to user code: a store, the checkpoint
   * store, the tombstone store or `throttle`, in ms. A call still pending
   * then fails the run with ERR_TIMEOUT (resumable from the checkpoint).
   * @default 60000
   */
  readonly timeoutMs?: number;
}

const knownOptions: readonly (keyof BackfillOptions<unknown, unknown>)[] = [
  'from', 'to', 'keyOf', 'batchSize', 'checkpoint', 'signal', 'onProgress', 'maxRowsPerSecond', 'throttle', 'throttleDelayMs',
  'overwrite', 'versionOf', 'tombstones', 'totalRows', 'logger', 'clock', 'sleep', 'compareKeys', 'timeoutMs',
];

/** Longest wait setTimeout honours; longer ones fire at once. */
const maxTimerMs = 2_147_483_647;

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
  readonly call: BoundedCall;
}

/** A row of the batch and its key, computed once. */
interface Keyed<E, K> {
  readonly row: E;
  readonly key: K;
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
  rejectUnknownOptions(options, knownOptions, 'backfill');
  const from = requireRepository(options.from, 'from');
  const to = requireRepository(options.to, 'to');
  const keyOf = requireFunction(options.keyOf, 'keyOf');
  const batchSize = positiveInteger(options.batchSize, 'batchSize', 1000);
  const maxRowsPerSecond = optionalPositiveNumber(options.maxRowsPerSecond, 'maxRowsPerSecond');
  const throttle = optionalFunction(options.throttle, 'throttle');
  const throttleDelayMs = waitMs(optionalPositiveNumber(options.throttleDelayMs, 'throttleDelayMs') ?? 100, 'throttleDelayMs');
  const onProgress = optionalFunction(options.onProgress, 'onProgress');
  const totalRows = optionalPositiveNumber(options.totalRows, 'totalRows');
  const signal = optionalSignal(options.signal);
  const clock = resolveClock(options.clock);
  const sleep = optionalFunction(options.sleep, 'sleep') ?? realSleep;
  const givenOrder = optionalFunction(options.compareKeys, 'compareKeys');
  const timeoutMs = waitMs(optionalPositiveNumber(options.timeoutMs, 'timeoutMs') ?? defaultCallTimeoutMs, 'timeoutMs');
  const logger = safeLogger(options.logger);
  const checkpoint = options.checkpoint;
  if (checkpoint !== undefined && (typeof checkpoint?.load !== 'function' || typeof checkpoint.save !== 'function')) {
    throw new InvalidOptionError('checkpoint', `must be a CheckpointStore (load, save, clear), got ${describeValue(checkpoint)}`);
  }
  const tombstones = options.tombstones;
  if (tombstones !== undefined && typeof tombstones?.has !== 'function') {
    throw new InvalidOptionError('tombstones', `must be a TombstoneStore (add, remove, has, clear), got ${describeValue(tombstones)}`);
  }
  const call = boundedCaller('backfill', timeoutMs, signal);
  const plan: Plan<E, K> = { from, to, keyOf, decide: resolveDecide(options), tombstones, same: toComparator<E>(undefined), call };

  throwIfAborted(signal, 'backfill');
  const compare = await resolveKeyOrder(givenOrder, from, 'from', call, true);
  const source: PageSource<E, K> = { store: from, option: 'from', keyOf, compare, call };
  let state = parseState<K>(checkpoint === undefined ? undefined : await call('checkpoint.load', () => checkpoint.load()));
  if (state.done) return resultOf(state);
  const start = clock.now();
  let readThisRun = 0;

  for (;;) {
    throwIfAborted(signal, 'backfill');
    if (throttle !== undefined) await waitForThrottle(throttle, throttleDelayMs, sleep, signal, call);
    const page = await readPage(source, state.lastKey, batchSize);
    if (page.rows.length === 0) {
      state = { ...state, done: true };
      await saveCheckpoint(checkpoint, state, call);
      break;
    }
    throwIfAborted(signal, 'backfill');
    const batch = page.rows.map((row, i) => ({ row, key: page.keys[i] as K }));
    const outcome = await copyBatch(plan, batch);
    state = {
      kind: 'backfill',
      lastKey: page.keys[page.keys.length - 1] as K,
      copied: state.copied + outcome.copied,
      skipped: state.skipped + outcome.skipped,
      batches: state.batches + 1,
      done: false,
    };
    // Only after the batch is written: a crash before this line redoes the batch, never skips it.
    await saveCheckpoint(checkpoint, state, call);
    readThisRun += page.rows.length;
    const elapsedMs = clock.now() - start;
    if (onProgress !== undefined) report(onProgress, progressOf(state, readThisRun, elapsedMs, totalRows), logger);
    if (maxRowsPerSecond !== undefined) {
      const wait = Math.min((readThisRun * 1000) / maxRowsPerSecond - elapsedMs, maxTimerMs);
      if (wait > 0) await pause(sleep, wait, signal, clock, logger);
    }
  }
  logger.info({ copied: state.copied, skipped: state.skipped, batches: state.batches }, 'backfill done');
  return resultOf(state);
}

async function saveCheckpoint<K>(checkpoint: CheckpointStore | undefined, state: BackfillState<K>, call: BoundedCall): Promise<void> {
  if (checkpoint !== undefined) await call('checkpoint.save', () => checkpoint.save(state));
}

/**
 * Sleeps `ms`, then warns when the pause overran badly: the event loop was
 * blocked (a loop that awaits without yielding, or synchronous work), which
 * also stalls every timer the application has.
 */
async function pause(sleep: Sleep, ms: number, signal: AbortSignal | undefined, clock: Clock, logger: Logger): Promise<void> {
  const before = clock.now();
  await sleep(ms, signal);
  const slept = clock.now() - before;
  if (slept > ms + Math.max(1000, ms)) {
    logger.warn(
      { expectedMs: Math.round(ms), sleptMs: Math.round(slept) },
      'backfill: a pause overran; the event loop was blocked (a loop that awaits without yielding starves timers: yield with setImmediate)',
    );
  }
}

/** A wait option as a timer delay: at most 2147483647 ms, which setTimeout honours. */
function waitMs(value: number, option: string): number {
  if (value > maxTimerMs) throw new InvalidOptionError(option, `must be at most ${maxTimerMs} ms, got ${value}`);
  return value;
}

async function copyBatch<E, K>(plan: Plan<E, K>, batch: readonly Keyed<E, K>[]): Promise<{ copied: number; skipped: number }> {
  const { to, decide, call } = plan;
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
  let copied = inserted.length + saved.length;
  const undone = await settleRaces(plan, inserted, saved);
  copied -= undone;
  return { copied, skipped: batch.length - copied };
}

/** The ids (keyId) of the keys that carry a tombstone. */
async function tombstoned<E, K>(plan: Plan<E, K>, keys: readonly K[]): Promise<Set<string>> {
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
async function settleRaces<E, K>(plan: Plan<E, K>, inserted: readonly Keyed<E, K>[], saved: readonly Keyed<E, K>[]): Promise<number> {
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
  call: BoundedCall,
): Promise<void> {
  for (;;) {
    const answer: unknown = await call('throttle', throttle);
    const wait = answer === true ? delayMs : answer === false ? 0 : answer;
    if (typeof wait !== 'number' || !Number.isFinite(wait) || wait > maxTimerMs) {
      throw new InvalidOptionError('throttle', `must answer true, false or a number of ms up to ${maxTimerMs}, answered ${describeValue(answer)}`);
    }
    if (wait <= 0) return;
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
    const result: unknown = onProgress(progress);
    // An async listener: its rejection must not become an unhandled one.
    if (typeof (result as PromiseLike<unknown> | undefined)?.then === 'function') {
      Promise.resolve(result).catch((err: unknown) => logger.warn({ err }, 'backfill onProgress rejected'));
    }
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
    typeof state.done !== 'boolean' ||
    !(state.lastKey === null || typeof state.lastKey === 'string' || (typeof state.lastKey === 'number' && Number.isFinite(state.lastKey)))
  ) {
    throw new InvalidOptionError('checkpoint', `holds something other than a backfill checkpoint: ${describeValue(value)}`);
  }
  return state as BackfillState<K>;
}
