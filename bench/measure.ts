import { measure } from 'mitata';

/** A unit of work mitata times: `calls` calls, awaited one after the other, plus whatever settles them (drain). */
export interface Batch {
  readonly calls: number;
  readonly run: () => Promise<void> | void;
}

/**
 * mitata options: each sample is one whole batch (>= 65 µs, so mitata does
 * not batch further), at least 12 samples and about 0.25 s of CPU per
 * measurement. Garbage collection is left to V8, as in production.
 */
const options = { min_cpu_time: 250e6, min_samples: 12, warmup_samples: 4, max_samples: 2_000 } as const;

/** Median time of one batch, divided by its calls: nanoseconds per call. */
export async function nsPerCall(batch: Batch): Promise<number> {
  const stats = await measure(batch.run, options);
  return stats.p50 / batch.calls;
}

/** Median of numbers (the middle one, or the mean of the two middle ones). */
export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? (sorted[mid] as number) : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}
