import { bucketUpperBound } from '../observe/latency-histogram.js';

/**
 * A latency histogram as it travels between instances: `[upper, count]`
 * pairs, `upper` the bucket's upper boundary in ms as LatencyHistogram
 * draws it (null for the overflow bucket, above about one hour), and the
 * largest sample. Boundaries are computed the same way in every process, so
 * pairs from different instances with the same `upper` are the same bucket.
 */
export interface SerializedHistogram {
  readonly buckets: readonly (readonly [number | null, number])[];
  readonly max: number;
}

/** Nearest-rank rank (1-based) of the `q`-quantile among `count` samples, as LatencyHistogram computes it. */
function rankOf(q: number, count: number): number {
  const rank = Math.ceil(q * count * (1 - 1e-12));
  return rank < 1 ? 1 : rank > count ? count : rank;
}

/**
 * Bucket counts keyed by upper boundary: what LatencyHistogram holds, in a
 * form that can be exported, merged across instances and read back with the
 * same percentile rule (the bucket's upper boundary, capped at `max`).
 * @internal
 */
export class FleetHistogram {
  readonly #counts = new Map<number, number>();
  #count = 0;
  #max = 0;

  /** Number of samples. */
  get count(): number {
    return this.#count;
  }

  /** Records one duration in ms; negative and NaN count as 0. */
  record(ms: number): void {
    const value = ms > 0 ? ms : 0;
    this.addBucket(bucketUpperBound(value), 1, value);
  }

  /** Adds `count` samples to the bucket whose upper boundary is `upper`; `max` is their largest. */
  addBucket(upper: number, count: number, max: number): void {
    if (!(count > 0)) return;
    this.#counts.set(upper, (this.#counts.get(upper) ?? 0) + count);
    this.#count += count;
    if (max > this.#max) this.#max = max;
  }

  /** Adds every sample of `other`. */
  add(other: FleetHistogram): void {
    for (const [upper, count] of other.#counts) this.#counts.set(upper, (this.#counts.get(upper) ?? 0) + count);
    this.#count += other.#count;
    if (other.#max > this.#max) this.#max = other.#max;
  }

  /** Adds a histogram received from another instance; malformed pairs are skipped. */
  addSerialized(value: SerializedHistogram): void {
    const max = typeof value.max === 'number' && Number.isFinite(value.max) && value.max > 0 ? value.max : 0;
    if (!Array.isArray(value.buckets)) return;
    for (const pair of value.buckets) {
      if (!Array.isArray(pair)) continue;
      const [upper, count] = pair;
      if (typeof count !== 'number' || !Number.isFinite(count) || count <= 0) continue;
      if (upper === null) this.addBucket(Infinity, count, max);
      else if (typeof upper === 'number' && Number.isFinite(upper) && upper > 0) this.addBucket(upper, count, Math.min(max, upper));
    }
    if (max > this.#max && this.#count > 0) this.#max = max;
  }

  /** The form sent to Redis. */
  serialize(): SerializedHistogram {
    const buckets: [number | null, number][] = [];
    for (const [upper, count] of this.#counts) buckets.push([upper === Infinity ? null : upper, count]);
    return { buckets, max: this.#max };
  }

  /** p50, p95 and p99 in ms, by LatencyHistogram's rule; zeros when empty. */
  percentiles(): { p50: number; p95: number; p99: number } {
    if (this.#count === 0) return { p50: 0, p95: 0, p99: 0 };
    const uppers = [...this.#counts.keys()].sort((a, b) => a - b);
    const ranks = [rankOf(0.5, this.#count), rankOf(0.95, this.#count), rankOf(0.99, this.#count)];
    const found: number[] = [];
    let seen = 0;
    for (const upper of uppers) {
      seen += this.#counts.get(upper) ?? 0;
      while (found.length < ranks.length && seen >= (ranks[found.length] as number)) {
        found.push(upper === Infinity || upper > this.#max ? this.#max : upper);
      }
      if (found.length === ranks.length) break;
    }
    while (found.length < ranks.length) found.push(this.#max);
    return { p50: found[0] as number, p95: found[1] as number, p99: found[2] as number };
  }

  /** Forgets every sample. */
  clear(): void {
    this.#counts.clear();
    this.#count = 0;
    this.#max = 0;
  }
}
