import { z } from 'zod';
import type { ComparatorLike } from '../compare/to-comparator.js';
import { toComparator } from '../compare/to-comparator.js';
import { loggerOption } from '../observe/logger.js';
import type { Logger } from '../observe/logger.js';
import { option, parseOptions } from '../option-schema.js';
import { defaultCallTimeoutMs } from './bounded-call.js';
import type { CheckpointStore } from './checkpoint-store.js';
import type { CompareKeys } from './keys.js';
import type { Sleep } from './options.js';
import { dataOption } from './options.js';
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
  /** Rows per page read from each store, and keys per checkpoint when rows are compared one by one. @default 1000 */
  readonly batchSize?: number;
  /**
   * Compare chunk checksums computed by the stores (`Repository.checksum`,
   * e.g. sqlRepository's, in the database) when both stores have them, and
   * read only the rows of chunks that differ (bisected down to `leafRows`).
   * `false` compares every row in JavaScript. A comparator that ignores
   * some fields makes every chunk differ: pass `false` with one.
   * @default true
   */
  readonly checksum?: boolean;
  /** Keys per checksum chunk (and per checkpoint) when checksums are compared. @default 10000 */
  readonly chunkRows?: number;
  /** A differing range of at most this many rows is read and compared row by row instead of bisected further. @default 64 */
  readonly leafRows?: number;
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
  /** The order both stores return keys in. @default old's `keyOrder()`, else compareKeys (numbers numerically, strings by code point) */
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

const recheck = z.preprocess(
  (value) => (value === false ? { attempts: 0, delayMs: 0 } : value),
  z
    .strictObject({ attempts: option.nonNegativeInteger().default(2), delayMs: option.nonNegativeInteger().default(100) })
    .default({ attempts: 2, delayMs: 100 }),
);

const schema = z.strictObject({
  old: dataOption.repository<unknown, unknown>(),
  new: dataOption.repository<unknown, unknown>(),
  keyOf: option.fn<(entity: unknown) => unknown>(),
  comparator: z.custom<ComparatorLike<unknown>>().optional(),
  batchSize: option.positiveInteger().default(1000),
  checksum: option.boolean().default(true),
  chunkRows: option.positiveInteger().default(10_000),
  leafRows: option.positiveInteger().default(64),
  repair: option.boolean().default(false),
  deleteExtra: option.boolean().default(false),
  maxListed: option.nonNegativeInteger().default(100),
  recheck,
  checkpoint: dataOption.checkpoint(),
  signal: dataOption.signal(),
  compareKeys: option.fn<CompareKeys<unknown>>().optional(),
  onProgress: option.fn<(report: VerifyReport<unknown>) => void>().optional(),
  logger: loggerOption('pino'),
  sleep: dataOption.sleep(),
  timeoutMs: option.timerMs().default(defaultCallTimeoutMs),
});

/** VerifyOptions with defaults resolved, the comparator normalised. */
export type ResolvedVerifyOptions<E, K> = Omit<z.output<typeof schema>, 'old' | 'new' | 'keyOf' | 'comparator' | 'compareKeys' | 'onProgress'> & {
  readonly old: Repository<E, K>;
  readonly new: Repository<E, K>;
  readonly keyOf: (entity: E) => K;
  readonly same: (a: E | undefined, b: E | undefined) => boolean;
  readonly compareKeys: CompareKeys<K> | undefined;
  readonly onProgress: ((report: VerifyReport<K>) => void) | undefined;
};

/** Checks verify's options once and resolves their defaults. @throws InvalidOptionError naming the bad or unknown option. */
export function resolveVerifyOptions<E, K>(options: VerifyOptions<E, K>): ResolvedVerifyOptions<E, K> {
  const parsed = parseOptions(schema, options, 'verify');
  const comparator = toComparator(parsed.comparator as ComparatorLike<E> | undefined);
  const same = (a: E | undefined, b: E | undefined): boolean =>
    a === undefined || b === undefined ? a === b : comparator.compare({ ok: true, value: a }, { ok: true, value: b }).equal;
  return { ...(parsed as unknown as ResolvedVerifyOptions<E, K>), same };
}
