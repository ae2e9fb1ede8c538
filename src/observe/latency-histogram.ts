/** Upper boundary of the first bucket, in milliseconds: 1 µs. Smaller values (0 included) land there. */
const FIRST_UPPER_MS = 0.001;
/** Ratio between consecutive boundaries: a bucket is at most 5 % wide. */
const GROWTH = 1.05;
/** The range the finite buckets must cover, in milliseconds: one hour. */
const RANGE_MS = 3_600_000;

const LOG_FIRST = Math.log(FIRST_UPPER_MS);
const LOG_GROWTH = Math.log(GROWTH);
/** Number of finite buckets; one more, the overflow bucket, follows them. */
const FINITE = Math.ceil(Math.log(RANGE_MS / FIRST_UPPER_MS) / LOG_GROWTH) + 1;
const OVERFLOW = FINITE;

/** Upper boundaries of the finite buckets, shared by every histogram. Bucket i holds (UPPER[i-1], UPPER[i]]. */
const UPPER = new Float64Array(FINITE);
for (let i = 0; i < FINITE; i++) UPPER[i] = FIRST_UPPER_MS * GROWTH ** i;
const TOP = UPPER[FINITE - 1] as number;

/** The bucket of a value already clamped to >= 0; O(1). */
function bucketIndex(ms: number): number {
  if (ms <= FIRST_UPPER_MS) return 0;
  if (ms > TOP) return OVERFLOW;
  let i = Math.ceil((Math.log(ms) - LOG_FIRST) / LOG_GROWTH);
  if (i < 1) i = 1;
  else if (i > FINITE - 1) i = FINITE - 1;
  // Math.log and GROWTH ** i round differently near a boundary: nudge by one.
  while (ms > (UPPER[i] as number)) i++;
  while (ms <= (UPPER[i - 1] as number)) i--;
  return i;
}

/** Negative and NaN durations count as 0. */
function clamp(ms: number): number {
  return ms > 0 ? ms : 0;
}

/**
 * The duration a histogram records for `ms` (negative and NaN become 0) and
 * its bucket: for `recordInBucket`, when one sample goes to several histograms.
 * @internal
 */
export function clampDuration(ms: number): number {
  return clamp(ms);
}

/** The bucket of a duration returned by `clampDuration`. @internal */
export function latencyBucketOf(value: number): number {
  return bucketIndex(value);
}

/**
 * The upper boundary, in milliseconds, of the bucket that `ms` falls into:
 * what a percentile reports at most when the true value is `ms` (a value
 * never exceeds 5 % above it). `Infinity` for values above the last finite
 * bucket (about one hour), 0.001 for values at or below 1 µs.
 */
export function bucketUpperBound(ms: number): number {
  const index = bucketIndex(clamp(ms));
  return index === OVERFLOW ? Infinity : (UPPER[index] as number);
}

/** Rank (1-based) of the nearest-rank `q`-quantile among `count` samples. */
function rankOf(q: number, count: number): number {
  // 0.07 * 100 is 7.000000000000001 in binary floating point: shave the error
  // off so an exact product keeps its integer rank.
  const rank = Math.ceil(q * count * (1 - 1e-12));
  return rank < 1 ? 1 : rank > count ? count : rank;
}

/**
 * Latency distribution in constant memory: counts in fixed log-scale buckets
 * from 1 µs to about one hour, each at most 5 % wide, plus an overflow bucket.
 * Recording is O(1) and allocates nothing; reading a percentile scans only
 * the buckets between the lowest and the highest sample, however many
 * samples there are. All durations are in milliseconds.
 */
export class LatencyHistogram {
  /** Number of buckets of every histogram (the finite ones plus the overflow bucket). */
  static readonly bucketCount: number = FINITE + 1;

  readonly #counts = new Float64Array(FINITE + 1);
  #count = 0;
  #max = 0;
  /** Lowest and highest non-empty buckets: reads scan only between them. */
  #low = OVERFLOW + 1;
  #high = -1;

  /** Records one duration in milliseconds; negative and NaN values count as 0. */
  record(ms: number): void {
    const value = clamp(ms);
    this.recordInBucket(bucketIndex(value), value);
  }

  /**
   * Records `value` (already >= 0) whose bucket, `latencyBucketOf(value)`, the
   * caller computed once for several histograms.
   * @internal
   */
  recordInBucket(index: number, value: number): void {
    (this.#counts[index] as number)++;
    this.#count++;
    if (index < this.#low) this.#low = index;
    if (index > this.#high) this.#high = index;
    if (value > this.#max) this.#max = value;
  }

  /** Number of recorded samples. */
  get count(): number {
    return this.#count;
  }

  /** Largest recorded duration in milliseconds (0 when empty); an upper bound after `subtract` (see there). */
  get max(): number {
    return this.#max;
  }

  /** Length of this histogram's count array: always `LatencyHistogram.bucketCount`, whatever was recorded. */
  get bucketCount(): number {
    return this.#counts.length;
  }

  /** Adds every sample of `other` to this one. */
  add(other: LatencyHistogram): void {
    const counts = this.#counts;
    const theirs = other.#counts;
    for (let i = other.#low; i <= other.#high; i++) (counts[i] as number) += theirs[i] as number;
    this.#count += other.#count;
    if (other.#low < this.#low) this.#low = other.#low;
    if (other.#high > this.#high) this.#high = other.#high;
    if (other.#max > this.#max) this.#max = other.#max;
  }

  /**
   * Removes the samples of `other`, which must have been added to this one.
   * `maxOfRest` is the largest duration among the remaining samples when the
   * caller knows it (a sliding window can tell from its slots); without it,
   * `max` stays an upper bound of the remaining samples, tightened to the
   * boundary of the highest non-empty bucket.
   */
  subtract(other: LatencyHistogram, maxOfRest?: number): void {
    const counts = this.#counts;
    const theirs = other.#counts;
    let lowest = OVERFLOW + 1;
    let highest = -1;
    for (let i = this.#low; i <= this.#high; i++) {
      const left = (counts[i] as number) - (theirs[i] as number);
      counts[i] = left > 0 ? left : 0;
      if (left > 0) {
        if (i < lowest) lowest = i;
        highest = i;
      }
    }
    this.#low = lowest;
    this.#high = highest;
    this.#count = Math.max(0, this.#count - other.#count);
    if (this.#count === 0 || highest < 0) {
      this.clear();
    } else if (maxOfRest !== undefined) {
      this.#max = maxOfRest;
    } else if (highest !== OVERFLOW) {
      this.#max = Math.min(this.#max, UPPER[highest] as number);
    }
  }

  /** Forgets every sample. */
  clear(): void {
    if (this.#high >= 0) this.#counts.fill(0, this.#low, this.#high + 1);
    this.#count = 0;
    this.#max = 0;
    this.#low = OVERFLOW + 1;
    this.#high = -1;
  }

  /**
   * The nearest-rank `q`-quantile (`q` from 0 to 1, clamped) in milliseconds:
   * the upper boundary of the bucket holding the ⌈q·count⌉-th smallest
   * sample, or `max` when that is lower (so it never exceeds the largest
   * sample, and the overflow bucket reports `max`). Never below the true
   * value, at most 5 % above it. 0 when empty.
   */
  percentile(q: number): number {
    if (this.#count === 0) return 0;
    const rank = rankOf(q > 0 ? (q < 1 ? q : 1) : 0, this.#count);
    const counts = this.#counts;
    let seen = 0;
    for (let i = this.#low; i <= this.#high; i++) {
      seen += counts[i] as number;
      if (seen >= rank) return this.#report(i);
    }
    return this.#max;
  }

  /**
   * Samples certainly slower than `ms`: those in buckets whose lower
   * boundary is at or above it. Samples in the bucket that holds `ms` are
   * not counted, so the answer is never above the true count and at most one
   * bucket's samples (values within 5 % of `ms`) below it.
   */
  countAbove(ms: number): number {
    if (this.#count === 0) return 0;
    const first = bucketIndex(clamp(ms)) + 1;
    const counts = this.#counts;
    let above = 0;
    for (let i = first > this.#low ? first : this.#low; i <= this.#high; i++) above += counts[i] as number;
    return above;
  }

  /** p50, p95 and p99 in milliseconds, as `percentile` reports them, in one pass over the buckets. */
  percentiles(): { p50: number; p95: number; p99: number } {
    const count = this.#count;
    if (count === 0) return { p50: 0, p95: 0, p99: 0 };
    const r50 = rankOf(0.5, count);
    const r95 = rankOf(0.95, count);
    const r99 = rankOf(0.99, count);
    const counts = this.#counts;
    let p50 = -1;
    let p95 = -1;
    let seen = 0;
    for (let i = this.#low; i <= this.#high; i++) {
      seen += counts[i] as number;
      if (p50 < 0 && seen >= r50) p50 = this.#report(i);
      if (p95 < 0 && seen >= r95) p95 = this.#report(i);
      if (seen >= r99) return { p50, p95, p99: this.#report(i) };
    }
    return { p50: p50 < 0 ? this.#max : p50, p95: p95 < 0 ? this.#max : p95, p99: this.#max };
  }

  #report(index: number): number {
    if (index === OVERFLOW) return this.#max;
    const upper = UPPER[index] as number;
    return upper < this.#max ? upper : this.#max;
  }
}
