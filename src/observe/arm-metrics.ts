import { InvalidOptionError, describeValue } from '../errors.js';
import { LatencyHistogram, clampDuration, latencyBucketOf } from './latency-histogram.js';
import { SlotRing, resolveWindowOptions } from './slot-ring.js';
import type { SlidingWindowOptions } from './slot-ring.js';

/** Figures of one arm (old or new) over a span: since creation, or over the sliding window. */
export interface ArmFigures {
  /** Calls recorded, failed ones included. */
  readonly calls: number;
  /** Calls that failed. */
  readonly errors: number;
  /** `errors / calls`, from 0 to 1; 0 when there were no calls. */
  readonly errorRate: number;
  /** Median latency in milliseconds (failed calls included), at most 5 % above the true value; 0 without calls. */
  readonly p50: number;
  /** 95th percentile latency in milliseconds, like `p50`. */
  readonly p95: number;
  /** 99th percentile latency in milliseconds, like `p50`. */
  readonly p99: number;
}

/** Options of ArmMetrics: the clock and the sliding window (`windowMs` default 300000, `slots` default 60). */
export type ArmMetricsOptions = SlidingWindowOptions;

function figures(calls: number, errors: number, histogram: LatencyHistogram): ArmFigures {
  const { p50, p95, p99 } = histogram.percentiles();
  return { calls, errors, errorRate: calls === 0 ? 0 : errors / calls, p50, p95, p99 };
}

/**
 * Calls, errors and latency of one arm, in total and over a sliding window,
 * in bounded memory. `record` is O(1) and allocates nothing once each slot
 * has been used; `total()` and `window()` cost O(buckets) whatever the
 * traffic. The window moves in steps of `windowMs / slots`, lazily, when
 * recording or reading.
 * @throws InvalidOptionError (`ERR_INVALID_OPTION`) when `clock`, `windowMs` or `slots` is invalid.
 */
export class ArmMetrics {
  readonly #ring: SlotRing;
  readonly #slotCalls: Float64Array;
  readonly #slotErrors: Float64Array;
  /** Allocated on a slot's first use, so an arm that never serves costs little. */
  readonly #slotLatency: (LatencyHistogram | undefined)[];
  #windowCalls = 0;
  #windowErrors = 0;
  readonly #windowLatency = new LatencyHistogram();
  #totalCalls = 0;
  #totalErrors = 0;
  readonly #totalLatency = new LatencyHistogram();

  constructor(options: ArmMetricsOptions) {
    const window = resolveWindowOptions(options);
    this.#slotCalls = new Float64Array(window.slots);
    this.#slotErrors = new Float64Array(window.slots);
    this.#slotLatency = new Array<LatencyHistogram | undefined>(window.slots).fill(undefined);
    this.#ring = new SlotRing(
      window,
      (index) => this.#expireSlot(index),
      () => this.#clearWindow(),
    );
  }

  /**
   * Records one call that took `durationMs` milliseconds (negative or NaN count as 0); `failed` when it threw or rejected.
   * `now`, when given, is a reading of this metrics' clock taken as the call ended: it saves reading the clock again.
   */
  record(durationMs: number, failed: boolean, now?: number): void {
    const index = now === undefined ? this.#ring.advance() : this.#ring.advanceTo(now);
    (this.#slotCalls[index] as number)++;
    this.#windowCalls++;
    this.#totalCalls++;
    if (failed) {
      (this.#slotErrors[index] as number)++;
      this.#windowErrors++;
      this.#totalErrors++;
    }
    let slot = this.#slotLatency[index];
    if (slot === undefined) {
      slot = new LatencyHistogram();
      this.#slotLatency[index] = slot;
    }
    // One bucket lookup (a logarithm) for the three histograms.
    const value = clampDuration(durationMs);
    const bucket = latencyBucketOf(value);
    slot.recordInBucket(bucket, value);
    this.#windowLatency.recordInBucket(bucket, value);
    this.#totalLatency.recordInBucket(bucket, value);
  }

  /** Figures since creation (or the last `reset`). */
  total(): ArmFigures {
    return figures(this.#totalCalls, this.#totalErrors, this.#totalLatency);
  }

  /** Figures over the last `windowMs` milliseconds, to a slot's precision. `now`: a reading of the clock the caller just took. */
  window(now?: number): ArmFigures {
    if (now === undefined) this.#ring.advance();
    else this.#ring.advanceTo(now);
    return figures(this.#windowCalls, this.#windowErrors, this.#windowLatency);
  }

  /**
   * `{ ...total(), window: window(now) }`, built without the spread (stats() reads it often).
   * `now`: a reading of the clock the caller just took.
   */
  totalWithWindow(now?: number): ArmFigures & { readonly window: ArmFigures } {
    const window = this.window(now);
    const calls = this.#totalCalls;
    const errors = this.#totalErrors;
    const { p50, p95, p99 } = this.#totalLatency.percentiles();
    return { calls, errors, errorRate: calls === 0 ? 0 : errors / calls, p50, p95, p99, window };
  }

  /** Forgets everything: the window and the totals. */
  reset(): void {
    this.#clearWindow();
    this.#totalCalls = 0;
    this.#totalErrors = 0;
    this.#totalLatency.clear();
    this.#ring.restart();
  }

  #expireSlot(index: number): void {
    const calls = this.#slotCalls[index] as number;
    if (calls === 0) return;
    this.#windowCalls -= calls;
    this.#windowErrors -= this.#slotErrors[index] as number;
    this.#slotCalls[index] = 0;
    this.#slotErrors[index] = 0;
    const slot = this.#slotLatency[index];
    if (slot === undefined) return;
    // The remaining slots know the window's max exactly; the aggregate alone would not.
    let maxOfRest = 0;
    for (let i = 0; i < this.#slotLatency.length; i++) {
      const other = this.#slotLatency[i];
      if (i !== index && other !== undefined && other.max > maxOfRest) maxOfRest = other.max;
    }
    this.#windowLatency.subtract(slot, maxOfRest);
    slot.clear();
  }

  #clearWindow(): void {
    this.#slotCalls.fill(0);
    this.#slotErrors.fill(0);
    for (const slot of this.#slotLatency) slot?.clear();
    this.#windowCalls = 0;
    this.#windowErrors = 0;
    this.#windowLatency.clear();
  }
}

/** Options of WindowCounts: the clock and the sliding window (`windowMs` default 300000, `slots` default 60). */
export type WindowCountsOptions = SlidingWindowOptions;

/**
 * Named counters (e.g. shadow `compared` and `mismatched`), in total and over
 * a sliding window, in memory fixed at construction: `slots × names` numbers.
 * `add` is O(1) and allocates nothing.
 * @throws InvalidOptionError (`ERR_INVALID_OPTION`) when a name repeats, or `clock`, `windowMs` or `slots` is invalid.
 */
export class WindowCounts<K extends string> {
  readonly #names: readonly K[];
  readonly #indexOf = new Map<string, number>();
  readonly #ring: SlotRing;
  /** Slot-major: the counters of ring index s start at s × names. */
  readonly #slotCounts: Float64Array;
  readonly #windowCounts: Float64Array;
  readonly #totalCounts: Float64Array;

  constructor(names: readonly K[], options: WindowCountsOptions) {
    if (!Array.isArray(names)) throw new InvalidOptionError('names', `must be an array of strings, got ${describeValue(names)}`);
    for (const name of names) {
      if (typeof name !== 'string') throw new InvalidOptionError('names', `must hold strings only, got ${describeValue(name)}`);
      if (this.#indexOf.has(name)) throw new InvalidOptionError('names', `must not repeat a name, got ${describeValue(name)} twice`);
      this.#indexOf.set(name, this.#indexOf.size);
    }
    const window = resolveWindowOptions(options);
    this.#names = [...names];
    this.#slotCounts = new Float64Array(window.slots * names.length);
    this.#windowCounts = new Float64Array(names.length);
    this.#totalCounts = new Float64Array(names.length);
    this.#ring = new SlotRing(
      window,
      (index) => this.#expireSlot(index),
      () => this.#clearWindow(),
    );
  }

  /**
   * Adds `n` (default 1, any finite number) to the counter `name`, now (`now`, when
   * given, is a reading of this counter's clock the caller just took).
   * @throws RangeError when `name` was not given to the constructor or `n` is not finite.
   */
  add(name: K, n = 1, now?: number): void {
    const counter = this.#indexOf.get(name);
    if (counter === undefined) throw new RangeError(`[migration-glue] unknown counter ${describeValue(name)}`);
    if (!Number.isFinite(n)) throw new RangeError(`[migration-glue] a count must be a finite number, got ${describeValue(n)}`);
    const index = now === undefined ? this.#ring.advance() : this.#ring.advanceTo(now);
    (this.#slotCounts[index * this.#names.length + counter] as number) += n;
    (this.#windowCounts[counter] as number) += n;
    (this.#totalCounts[counter] as number) += n;
  }

  /** Each counter over the last `windowMs` milliseconds, to a slot's precision. `now`: a clock reading the caller just took. */
  window(now?: number): Readonly<Record<K, number>> {
    if (now === undefined) this.#ring.advance();
    else this.#ring.advanceTo(now);
    return this.#toRecord(this.#windowCounts);
  }

  /** Each counter since creation (or the last `reset`). */
  total(): Readonly<Record<K, number>> {
    return this.#toRecord(this.#totalCounts);
  }

  /** Sets every counter, in the window and in total, back to 0. */
  reset(): void {
    this.#clearWindow();
    this.#totalCounts.fill(0);
    this.#ring.restart();
  }

  #toRecord(counts: Float64Array): Readonly<Record<K, number>> {
    const record = {} as Record<K, number>;
    for (let i = 0; i < this.#names.length; i++) record[this.#names[i] as K] = counts[i] as number;
    return record;
  }

  #expireSlot(index: number): void {
    const width = this.#names.length;
    const start = index * width;
    for (let i = 0; i < width; i++) {
      (this.#windowCounts[i] as number) -= this.#slotCounts[start + i] as number;
      this.#slotCounts[start + i] = 0;
    }
  }

  #clearWindow(): void {
    this.#slotCounts.fill(0);
    this.#windowCounts.fill(0);
  }
}
