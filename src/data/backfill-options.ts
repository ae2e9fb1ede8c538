import { z } from 'zod';
import { InvalidOptionError, describeValue } from '../errors.js';
import type { Clock } from '../observe/clock.js';
import type { Logger } from '../observe/logger.js';
import { loggerOption } from '../observe/logger.js';
import { field, option, parseOptions } from '../option-schema.js';
import { defaultCallTimeoutMs } from './bounded-call.js';
import type { CheckpointStore } from './checkpoint-store.js';
import type { CompareKeys } from './keys.js';
import type { Sleep } from './options.js';
import { dataOption } from './options.js';
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
  /** Rows the next batch will read (changes with `targetBatchMs`). */
  readonly batchSize?: number;
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
  /** Rows per batch, at least 1; with `targetBatchMs`, the first batch's size. @default 1000 */
  readonly batchSize?: number;
  /**
   * Adapt the batch size so that writing a batch takes about this long, in
   * ms (pt-online-schema-change's `--chunk-time`, 500 ms there): it grows
   * (at most doubling) while batches are faster, shrinks when they are
   * slower, and halves (and the batch is retried) when a write fails with
   * a timeout (ERR_TIMEOUT or PostgreSQL's statement timeout). When the
   * write latency per row rises above twice the best of the run, the
   * run also pauses after the batch in proportion (see docs). @default none (a fixed `batchSize`)
   */
  readonly targetBatchMs?: number;
  /** The smallest batch `targetBatchMs` may choose; a timeout at this size fails the run. @default 10 */
  readonly minBatchSize?: number;
  /** The largest batch `targetBatchMs` may choose. @default 20000 */
  readonly maxBatchSize?: number;
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
   * Asked before each batch is written whether to slow down (e.g. replica
   * lag, the target's p99 or the event loop's lag is too high); see
   * ThrottleAnswer. Bounded by `timeoutMs`; a throw, a rejection or an
   * answer other than a boolean or a finite number of ms up to 2147483647
   * fails the run (resumable).
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
  /** Measures batches and the run's rate. @default systemClock */
  readonly clock?: Clock;
  /** Waits between batches; inject a fake in tests. @default a real timer */
  readonly sleep?: Sleep;
  /**
   * The order `from` returns keys in. Each page must hold keys strictly
   * greater than the last key of the page before, ascending by it: a store
   * that ignores `afterKey` fails the run with ERR_INVALID_KEY instead of
   * being read for ever. @default from's `keyOrder()`, else trusted (only a repeated key fails)
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

const schema = z.strictObject({
  from: dataOption.repository<unknown, unknown>(),
  to: dataOption.repository<unknown, unknown>(),
  keyOf: option.fn<(entity: unknown) => unknown>(),
  batchSize: option.positiveInteger().default(1000),
  targetBatchMs: option.timerMs().optional(),
  minBatchSize: option.positiveInteger().default(10),
  maxBatchSize: option.positiveInteger().default(20_000),
  checkpoint: dataOption.checkpoint(),
  signal: dataOption.signal(),
  onProgress: option.fn<(progress: BackfillProgress<unknown>) => void>().optional(),
  maxRowsPerSecond: option.positiveNumber().optional(),
  throttle: option.fn<() => ThrottleAnswer | Promise<ThrottleAnswer>>().optional(),
  throttleDelayMs: option.timerMs().default(100),
  overwrite: field<boolean | ((existing: unknown, incoming: unknown) => boolean)>(
    (value) => typeof value === 'boolean' || typeof value === 'function',
    'true, false or a function (existing, incoming) => boolean',
  ).optional(),
  versionOf: option.fn<(entity: unknown) => number | bigint | string | Date>().optional(),
  tombstones: option.withMethods<TombstoneStore<unknown>>('has').optional(),
  totalRows: option.positiveNumber().optional(),
  logger: loggerOption('pino'),
  clock: option.clock(),
  sleep: dataOption.sleep(),
  compareKeys: option.fn<CompareKeys<unknown>>().optional(),
  timeoutMs: option.timerMs().default(defaultCallTimeoutMs),
});

/** How a row already in `to` is treated: left, replaced, or decided per row. */
export type Decide<E> = 'never' | 'always' | ((existing: E, incoming: E) => boolean);

type Parsed = z.output<typeof schema>;

/** BackfillOptions with defaults resolved and `overwrite` / `versionOf` folded into `decide`. */
export type ResolvedBackfillOptions<E, K> = Omit<Parsed, 'from' | 'to' | 'keyOf' | 'onProgress' | 'tombstones' | 'compareKeys' | 'overwrite' | 'versionOf'> & {
  readonly from: Repository<E, K>;
  readonly to: Repository<E, K>;
  readonly keyOf: (entity: E) => K;
  readonly onProgress: ((progress: BackfillProgress<K>) => void) | undefined;
  readonly tombstones: TombstoneStore<K> | undefined;
  readonly compareKeys: CompareKeys<K> | undefined;
  readonly decide: Decide<E>;
};

/** Checks backfill's options once and resolves their defaults. @throws InvalidOptionError naming the bad or unknown option. */
export function resolveBackfillOptions<E, K>(options: BackfillOptions<E, K>): ResolvedBackfillOptions<E, K> {
  const parsed = parseOptions(schema, options, 'backfill');
  if (parsed.minBatchSize > parsed.maxBatchSize) {
    throw new InvalidOptionError('minBatchSize', `must be at most maxBatchSize (${parsed.maxBatchSize}), got ${parsed.minBatchSize}`);
  }
  return { ...(parsed as unknown as ResolvedBackfillOptions<E, K>), decide: decideOf(parsed.overwrite, parsed.versionOf) as Decide<E> };
}

function decideOf(overwrite: Parsed['overwrite'], versionOf: Parsed['versionOf']): Decide<unknown> {
  if (versionOf !== undefined) {
    if (overwrite !== undefined) {
      throw new InvalidOptionError('versionOf', `cannot be combined with \`overwrite\` (got overwrite ${describeValue(overwrite)}); give one of them`);
    }
    return (existing, incoming) => compareVersions(versionOf(incoming), versionOf(existing)) > 0;
  }
  if (overwrite === undefined || overwrite === false) return 'never';
  return overwrite === true ? 'always' : overwrite;
}

function compareVersions(a: number | bigint | string | Date, b: number | bigint | string | Date): number {
  const x = a instanceof Date ? a.getTime() : a;
  const y = b instanceof Date ? b.getTime() : b;
  return x > y ? 1 : x < y ? -1 : 0;
}
