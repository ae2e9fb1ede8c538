import type { ComparatorLike } from '../compare/to-comparator.js';
import { toComparator } from '../compare/to-comparator.js';
import { describeValue, InvalidOptionError } from '../errors.js';
import type { Logger } from '../observe/logger.js';
import { safeLogger } from '../observe/logger.js';
import type { BoundedCall } from './bounded-call.js';
import { boundedCaller, defaultCallTimeoutMs } from './bounded-call.js';
import type { CheckpointStore } from './checkpoint-store.js';
import type { CompareKeys } from './keys.js';
import type { Sleep } from './options.js';
import { nonNegativeInteger, optionalBoolean, optionalFunction, optionalPositiveNumber, positiveInteger, requireFunction, requireObject } from '../options.js';
import { rejectUnknownOptions } from './known-options.js';
import { optionalSignal, realSleep, requireRepository, resolveKeyOrder, throwIfAborted } from './options.js';
import type { PageSource } from './read-page.js';
import { readPage } from './read-page.js';
import type { Repository } from './repository.js';

/** A count of keys and the first of them, up to `maxListed`. */
export interface KeyList<K> {
  /** Exact. */
  readonly count: number;
  /** In key order, at most `maxListed`. */
  readonly keys: readonly K[];
}

/** What verify found, counted across the runs a checkpoint links. */
export interface VerifyReport<K> {
  /** Distinct keys examined (present in old, new or both). */
  readonly checked: number;
  /** In old, not in new. */
  readonly missing: KeyList<K>;
  /** In new, not in old. */
  readonly extra: KeyList<K>;
  /** In both, different by the comparator. */
  readonly different: KeyList<K>;
  /** Rows fixed in new: missing ones written, different ones replaced, extra ones deleted (with `deleteExtra`). */
  readonly repaired: number;
  /** Keys that differed at first but agreed when re-checked (a live write was in flight): not counted above. */
  readonly transient: number;
}

/** How a difference is re-checked before it is reported. */
export interface RecheckOptions {
  /** Re-reads of both stores, at least 0. @default 2 */
  readonly attempts?: number;
  /** Wait before each re-read, in ms. @default 100 */
  readonly delayMs?: number;
}

/** Options of verify. Validated before the first read. */
export interface VerifyOptions<E, K> {
  /** The source of truth. Required. */
  readonly old: Repository<E, K>;
  /** The store being checked; the only one `repair` writes to. Required. */
  readonly new: Repository<E, K>;
  /** The key of an entity. Required. */
  readonly keyOf: (entity: E) => K;
  /** How rows are compared. A function `(old, new) => boolean` is accepted. @default deepEqualComparator() */
  readonly comparator?: ComparatorLike<E>;
  /** Rows per page read from each store, and keys per checkpoint. @default 1000 */
  readonly batchSize?: number;
  /** Write old's row to new where it is missing or different. @default false */
  readonly repair?: boolean;
  /** With `repair`, also delete from new the rows old does not hold (they may be acknowledged writes: check first). @default false */
  readonly deleteExtra?: boolean;
  /** How many keys each list holds; counts stay exact. @default 100 */
  readonly maxListed?: number;
  /**
   * Re-check of differences while live writes go on; `false` reports the
   * first read. The wait before a re-read is a real timer: a loop in the same
   * process that awaits without ever yielding to the event loop stalls it
   * (yield there with `await setImmediate()` from `node:timers/promises`).
   * @default { attempts: 2, delayMs: 100 }
   */
  readonly recheck?: RecheckOptions | false;
  /** Progress is saved here after each batch of keys, and resumed from. @default none */
  readonly checkpoint?: CheckpointStore;
  /** Aborting stops at once, even inside a pending store call; the promise rejects with AbortedError (code ERR_ABORTED). */
  readonly signal?: AbortSignal;
  /** The order both stores return keys in. @default compareKeys (numbers numerically, strings by code point) */
  readonly compareKeys?: CompareKeys<K>;
  /** Called after each batch of keys with the report so far, not awaited. A listener that throws (or whose promise rejects) is logged. */
  readonly onProgress?: (report: VerifyReport<K>) => void;
  /** @default pino at `info` */
  readonly logger?: Logger;
  /** Waits before re-checks; inject a fake in tests. @default a real timer */
  readonly sleep?: Sleep;
  /**
   * The longest wait for one call to user code: a store or the checkpoint
   * store, in ms. A call still pending then fails the run with ERR_TIMEOUT
   * (resumable from the checkpoint). @default 60000
   */
  readonly timeoutMs?: number;
}

const knownOptions: readonly (keyof VerifyOptions<unknown, unknown>)[] = [
  'old', 'new', 'keyOf', 'comparator', 'batchSize', 'repair', 'deleteExtra', 'maxListed', 'recheck', 'checkpoint', 'signal',
  'compareKeys', 'onProgress', 'logger', 'sleep', 'timeoutMs',
];

interface VerifyState<K> extends VerifyReport<K> {
  readonly kind: 'verify';
  readonly lastKey: K | null;
  readonly done: boolean;
}

interface Suspect<E, K> {
  readonly key: K;
  old: E | undefined;
  new: E | undefined;
}

const RECHECK_CONCURRENCY = 8;

/**
 * Walks old and new together in key order (a merge join of two cursors) and
 * reports the rows missing from new, extra in new, and different. Old is the
 * source of truth: `repair` writes to new only, and extra rows are deleted
 * only with `deleteExtra`. A difference is re-read from both stores after a
 * short delay (up to `recheck.attempts` times) before it is reported, so rows
 * mid-write on a busy table are not called divergent.
 * @throws InvalidOptionError on a bad option; AbortedError (ERR_ABORTED) on abort;
 *   MigrationGlueError ERR_INVALID_KEY when a store returns keys out of `compareKeys` order
 *   or not past the page before, or keyOf throws; ERR_TIMEOUT when a call to a store or the
 *   checkpoint store outlasts `timeoutMs`; the stores' errors unchanged.
 */
export async function verify<E, K>(options: VerifyOptions<E, K>): Promise<VerifyReport<K>> {
  requireObject(options, 'the verify options');
  rejectUnknownOptions(options, knownOptions, 'verify');
  const oldStore = requireRepository(options.old, 'old');
  const newStore = requireRepository(options.new, 'new');
  const keyOf = requireFunction(options.keyOf, 'keyOf');
  const comparator = toComparator(options.comparator);
  const batchSize = positiveInteger(options.batchSize, 'batchSize', 1000);
  const repair = optionalBoolean(options.repair, 'repair', false);
  const deleteExtra = optionalBoolean(options.deleteExtra, 'deleteExtra', false);
  const maxListed = nonNegativeInteger(options.maxListed, 'maxListed', 100);
  const recheck = resolveRecheck(options.recheck);
  const signal = optionalSignal(options.signal);
  const givenOrder = optionalFunction(options.compareKeys, 'compareKeys');
  const onProgress = optionalFunction(options.onProgress, 'onProgress');
  const sleep = optionalFunction(options.sleep, 'sleep') ?? realSleep;
  const timeoutMs = optionalPositiveNumber(options.timeoutMs, 'timeoutMs') ?? defaultCallTimeoutMs;
  if (timeoutMs > 2_147_483_647) throw new InvalidOptionError('timeoutMs', `must be at most 2147483647 ms, got ${timeoutMs}`);
  const logger = safeLogger(options.logger);
  const checkpoint = options.checkpoint;
  if (checkpoint !== undefined && (typeof checkpoint?.load !== 'function' || typeof checkpoint.save !== 'function')) {
    throw new InvalidOptionError('checkpoint', `must be a CheckpointStore (load, save, clear), got ${describeValue(checkpoint)}`);
  }
  const call = boundedCaller('verify', timeoutMs, signal);

  throwIfAborted(signal, 'verify');
  // Both cursors and the merge follow old's order.
  const compare = await resolveKeyOrder(givenOrder, oldStore, 'old', call, false);
  let state = parseState<K>(checkpoint === undefined ? undefined : await call('checkpoint.load', () => checkpoint.load()));
  if (state.done) return reportOf(state);
  const same = (a: E | undefined, b: E | undefined): boolean =>
    a === undefined || b === undefined ? a === b : comparator.compare({ ok: true, value: a }, { ok: true, value: b }).equal;
  const oldCursor = new Cursor({ store: oldStore, option: 'old', keyOf, compare, call }, state.lastKey, batchSize);
  const newCursor = new Cursor({ store: newStore, option: 'new', keyOf, compare, call }, state.lastKey, batchSize);
  let suspects: Suspect<E, K>[] = [];
  let checked = 0;
  let lastKey = state.lastKey;

  const flush = async (done: boolean): Promise<void> => {
    const confirmed = await settle(suspects, recheck, { oldStore, newStore, same, sleep, signal, call });
    state = tally(state, confirmed, checked, suspects.length - confirmed.length, maxListed);
    for (const suspect of confirmed) {
      if (!repair) break;
      const row = suspect.old;
      if (row !== undefined) await call('new.save', () => newStore.save(row));
      else if (!deleteExtra) continue;
      else await call('new.delete', () => newStore.delete(suspect.key));
      state = { ...state, repaired: state.repaired + 1 };
    }
    state = { ...state, lastKey, done };
    suspects = [];
    checked = 0;
    if (checkpoint !== undefined) await call('checkpoint.save', () => checkpoint.save(state));
    if (onProgress !== undefined) notifyProgress(onProgress, reportOf(state), logger);
  };

  for (;;) {
    throwIfAborted(signal, 'verify');
    const a = await oldCursor.peek();
    const b = await newCursor.peek();
    if (a === undefined && b === undefined) break;
    const order = a === undefined ? 1 : b === undefined ? -1 : compare(a.key, b.key);
    const key = order <= 0 ? (a as Keyed<E, K>).key : (b as Keyed<E, K>).key;
    const oldRow = order <= 0 ? oldCursor.take() : undefined;
    const newRow = order >= 0 ? newCursor.take() : undefined;
    if (!same(oldRow, newRow)) suspects.push({ key, old: oldRow, new: newRow });
    checked += 1;
    lastKey = key;
    if (checked >= batchSize) await flush(false);
  }
  await flush(true);
  const report = reportOf(state);
  logger.info(
    { checked: report.checked, missing: report.missing.count, extra: report.extra.count, different: report.different.count, repaired: report.repaired },
    'verify done',
  );
  return report;
}

/** Re-reads suspects until they agree or the attempts run out; returns the ones still differing, rows updated. */
async function settle<E, K>(
  suspects: readonly Suspect<E, K>[],
  recheck: Required<RecheckOptions>,
  io: {
    oldStore: Repository<E, K>;
    newStore: Repository<E, K>;
    same: (a: E | undefined, b: E | undefined) => boolean;
    sleep: Sleep;
    signal: AbortSignal | undefined;
    call: BoundedCall;
  },
): Promise<Suspect<E, K>[]> {
  let open = [...suspects];
  for (let attempt = 0; attempt < recheck.attempts && open.length > 0; attempt++) {
    await io.sleep(recheck.delayMs, io.signal);
    throwIfAborted(io.signal, 'verify');
    await forEachLimited(open, RECHECK_CONCURRENCY, async (suspect) => {
      const [o, n] = await Promise.all([io.call('old.get', () => io.oldStore.get(suspect.key)), io.call('new.get', () => io.newStore.get(suspect.key))]);
      suspect.old = o;
      suspect.new = n;
    });
    open = open.filter((suspect) => !io.same(suspect.old, suspect.new));
  }
  return open;
}

function tally<K, E>(state: VerifyState<K>, confirmed: readonly Suspect<E, K>[], checked: number, transient: number, maxListed: number): VerifyState<K> {
  let { missing, extra, different } = state;
  for (const { key, old, new: current } of confirmed) {
    if (current === undefined) missing = add(missing, key, maxListed);
    else if (old === undefined) extra = add(extra, key, maxListed);
    else different = add(different, key, maxListed);
  }
  return { ...state, checked: state.checked + checked, missing, extra, different, transient: state.transient + transient };
}

function add<K>(list: KeyList<K>, key: K, maxListed: number): KeyList<K> {
  return { count: list.count + 1, keys: list.keys.length < maxListed ? [...list.keys, key] : list.keys };
}

async function forEachLimited<T>(items: readonly T[], limit: number, task: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const item = items[next++] as T;
      await task(item);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}

/** A row and its key. */
interface Keyed<E, K> {
  readonly row: E;
  readonly key: K;
}

/** Reads one store page by page; readPage checks it keeps its promise of ascending keys. */
class Cursor<E, K> {
  readonly #source: PageSource<E, K>;
  readonly #batchSize: number;
  #rows: readonly E[] = [];
  #keys: readonly K[] = [];
  #at = 0;
  #after: K | null;
  #ended = false;

  constructor(source: PageSource<E, K>, after: K | null, batchSize: number) {
    this.#source = source;
    this.#after = after;
    this.#batchSize = batchSize;
  }

  async peek(): Promise<Keyed<E, K> | undefined> {
    if (this.#at >= this.#rows.length) {
      if (this.#ended) return undefined;
      const page = await readPage(this.#source, this.#after, this.#batchSize);
      this.#rows = page.rows;
      this.#keys = page.keys;
      this.#at = 0;
      if (page.rows.length === 0) {
        this.#ended = true;
        return undefined;
      }
      this.#after = page.keys[page.keys.length - 1] as K;
    }
    return { row: this.#rows[this.#at] as E, key: this.#keys[this.#at] as K };
  }

  take(): E | undefined {
    const row = this.#rows[this.#at];
    this.#at += 1;
    return row;
  }
}

function notifyProgress<K>(onProgress: (report: VerifyReport<K>) => void, value: VerifyReport<K>, logger: Logger): void {
  try {
    const result: unknown = onProgress(value);
    // An async listener: its rejection must not become an unhandled one.
    if (typeof (result as PromiseLike<unknown> | undefined)?.then === 'function') {
      Promise.resolve(result).catch((err: unknown) => logger.warn({ err }, 'verify onProgress rejected'));
    }
  } catch (err) {
    logger.warn({ err }, 'verify onProgress threw');
  }
}

function resolveRecheck(value: RecheckOptions | false | undefined): Required<RecheckOptions> {
  if (value === false) return { attempts: 0, delayMs: 0 };
  if (value === undefined) return { attempts: 2, delayMs: 100 };
  if (typeof value !== 'object' || value === null) {
    throw new InvalidOptionError('recheck', `must be false or { attempts?, delayMs? }, got ${describeValue(value)}`);
  }
  return {
    attempts: nonNegativeInteger(value.attempts, 'recheck.attempts', 2),
    delayMs: nonNegativeInteger(value.delayMs, 'recheck.delayMs', 100),
  };
}

function reportOf<K>(state: VerifyState<K>): VerifyReport<K> {
  const { checked, missing, extra, different, repaired, transient } = state;
  return { checked, missing, extra, different, repaired, transient };
}

const emptyList = { count: 0, keys: [] };

function parseState<K>(value: unknown): VerifyState<K> {
  if (value === undefined || value === null) {
    return { kind: 'verify', lastKey: null, done: false, checked: 0, missing: emptyList, extra: emptyList, different: emptyList, repaired: 0, transient: 0 };
  }
  const state = value as Partial<VerifyState<K>>;
  const lastKey: unknown = state.lastKey;
  const validKey = lastKey === null || typeof lastKey === 'string' || (typeof lastKey === 'number' && Number.isFinite(lastKey));
  if (state.kind !== 'verify' || !validKey || typeof state.checked !== 'number' || typeof state.missing?.count !== 'number') {
    throw new InvalidOptionError('checkpoint', `holds something other than a verify checkpoint: ${describeValue(value)}`);
  }
  return state as VerifyState<K>;
}
