import { describeValue, InvalidOptionError, MigrationGlueError } from '../errors.js';
import type { Clock } from '../observe/clock.js';
import type { Logger } from '../observe/logger.js';
import { maxTimerMs } from '../options.js';
import type { ThrottleAnswer } from './backfill-options.js';
import type { BoundedCall } from './bounded-call.js';
import type { Sleep } from './options.js';
import { throwIfAborted } from './options.js';

/** How the batch size follows the target's write latency. */
export interface SizerOptions {
  readonly batchSize: number;
  /** Undefined: the size stays `batchSize`, and nothing pauses. */
  readonly targetBatchMs?: number | undefined;
  readonly minBatchSize: number;
  readonly maxBatchSize: number;
}

/** A write latency per row above this many times the run's baseline slows the run down (see written). */
const slowdownThreshold = 2;
/** The baseline is the median latency per row of the run's first full batches, this many. */
const baselineBatches = 5;
/** The longest backoff pause, in batches of `targetBatchMs`. */
const maxBackoffBatches = 10;

/**
 * The batch size of a backfill, adapted to a target write time as
 * pt-online-schema-change sizes chunks to `--chunk-time`: after each batch
 * the next size is the rows that would have taken `targetBatchMs` at this
 * batch's rate, at most double this batch, within min and max. It also backs
 * off when the target slows down, the way gh-ost throttles on load: when a
 * batch's write latency per row is more than twice the run's baseline, the
 * run pauses after it for `writeMs × (slowdown − 1)` (at most ten target
 * batches), so a store k times slower gets about k times fewer rows per
 * second from the copy on top of the smaller batches. The baseline is the
 * median of the first five full batches (nothing pauses before them), as pt-online-schema-change takes
 * its load thresholds from the server's state at start: the median, not
 * the best, since the fastest of many noisy batches is far below what the
 * store usually does and made every later batch look slow.
 */
export class BatchSizer {
  readonly #options: SizerOptions;
  #size: number;
  /** Latencies per row of the first full batches, until there are `baselineBatches`; then their median is the baseline. */
  readonly #early: number[] = [];

  constructor(options: SizerOptions) {
    this.#options = options;
    const { batchSize, targetBatchMs, minBatchSize, maxBatchSize } = options;
    this.#size = targetBatchMs === undefined ? batchSize : Math.min(maxBatchSize, Math.max(minBatchSize, batchSize));
  }

  /** Rows to read for the next batch. */
  get size(): number {
    return this.#size;
  }

  /**
   * Takes a written batch into account; returns how long to pause before
   * the next one, in ms (0: none). `asked`: the size its page was read with
   * (a page read ahead was asked for before the last batch changed the size).
   */
  written(rows: number, writeMs: number, asked = this.#size): number {
    const target = this.#options.targetBatchMs;
    if (target === undefined || rows === 0) return 0;
    const msPerRow = Math.max(writeMs, 0) / rows;
    // Only a batch as large as the size asked for says anything about the rate (the last one may be short).
    const full = rows >= asked;
    if (full) {
      const ideal = msPerRow > 0 ? target / msPerRow : Infinity;
      this.#size = clamp(Math.round(Math.min(ideal, rows * 2)), this.#options.minBatchSize, this.#options.maxBatchSize);
    }
    if (msPerRow <= 0) return 0;
    if (this.#early.length < baselineBatches) {
      // Still learning what the store usually does: nothing to compare with yet.
      if (full) this.#early.push(msPerRow);
      return 0;
    }
    const baseline = median(this.#early);
    if (baseline === undefined || baseline <= 0) return 0;
    const slowdown = msPerRow / baseline;
    return slowdown > slowdownThreshold ? Math.min(writeMs * (slowdown - 1), target * maxBackoffBatches) : 0;
  }

  /** A write timed out: halves the size; false when it was already the smallest (the run must fail). */
  timedOut(): boolean {
    if (this.#options.targetBatchMs === undefined || this.#size <= this.#options.minBatchSize) return false;
    this.#size = Math.max(this.#options.minBatchSize, Math.floor(this.#size / 2));
    return true;
  }
}

/** The median of the values (the lower middle one of an even count); undefined for none. */
function median(values: readonly number[]): number | undefined {
  if (values.length === 0) return undefined;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor((sorted.length - 1) / 2)];
}

function clamp(value: number, min: number, max: number): number {
  return Math.min(max, Math.max(min, value));
}

/** True for a write that failed by running out of time: our ERR_TIMEOUT, or PostgreSQL's statement or lock timeout (57014, 55P03). */
export function isTimeout(error: unknown): boolean {
  if (MigrationGlueError.is(error) && (error as MigrationGlueError).code === 'ERR_TIMEOUT') return true;
  const code = typeof error === 'object' && error !== null ? (error as { code?: unknown }).code : undefined;
  return code === '57014' || code === '55P03';
}

/** Asks `throttle` until it says go on, waiting as it answers. @throws InvalidOptionError (`throttle`) on an answer it cannot read. */
export async function waitForThrottle(
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

/**
 * Sleeps `ms`, then warns when the pause overran badly: the event loop was
 * blocked (a loop that awaits without yielding, or synchronous work), which
 * also stalls every timer the application has.
 */
export async function pause(sleep: Sleep, ms: number, signal: AbortSignal | undefined, clock: Clock, logger: Logger): Promise<void> {
  const before = clock.now();
  await sleep(Math.min(ms, maxTimerMs), signal);
  const slept = clock.now() - before;
  if (slept > ms + Math.max(1000, ms)) {
    logger.warn(
      { expectedMs: Math.round(ms), sleptMs: Math.round(slept) },
      'backfill: a pause overran; the event loop was blocked (a loop that awaits without yielding starves timers: yield with setImmediate)',
    );
  }
}
