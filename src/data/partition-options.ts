import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import { z } from 'zod';
import { InvalidOptionError } from '../errors.js';
import { field, option, parseOptions } from '../option-schema.js';
import type { BackfillOptions } from './backfill-options.js';
import type { ResolvedBackfillOptions } from './backfill-options.js';
import { resolveBackfillOptions } from './backfill-options.js';
import type { CheckpointStore } from './checkpoint-store.js';
import type { PartitionLeases, PartitionProgress } from './partition.js';

/**
 * Options of backfillPartitioned: backfill's (see BackfillOptions), less
 * `checkpoint` (one per range, from `checkpointFor`), `totalRows` and
 * backfill's `onProgress` (this one says which range), plus how to split
 * and claim the ranges. Checked before anything is read.
 */
export type PartitionedBackfillOptions<E, K> = Omit<BackfillOptions<E, K>, 'checkpoint' | 'onProgress' | 'totalRows'> & {
  /**
   * How many ranges to split the key space into, at the keys `from`'s
   * `splitKeys(n)` gives (sqlRepository has it). Give this or `splitAt`.
   */
  readonly partitions?: number;
  /** The boundary keys, ascending: range i holds the keys after `splitAt[i - 1]` up to and including `splitAt[i]`. Give this or `partitions`. */
  readonly splitAt?: readonly K[];
  /** Where workers claim ranges (InMemoryPartitionLeases, redisPartitionLeases, sqlAdvisoryLeases). Required. */
  readonly leases: PartitionLeases;
  /**
   * The checkpoint store of each part, by name: `plan` (the ranges, saved
   * by the first worker and read by the others) and `range-0`, `range-1`,
   * ... Every worker must get the same stores for the same names, e.g.
   * `(name) => sqlCheckpointStore({ query, name: \`users-backfill:${name}\` })`. Required.
   */
  readonly checkpointFor: (name: string) => CheckpointStore;
  /** Names this worker in leases and progress. @default `${hostname}:${pid}:<random>` */
  readonly workerId?: string;
  /** How long a worker waits before asking again for a range another worker holds, in ms (a real timer unless `sleep` is injected). @default 1000 */
  readonly retryMs?: number;
  /**
   * Called after each batch this worker writes, and once more with a
   * range's totals (`rangeDone: true`) when this worker finds it done:
   * finished now, by another worker, or by an earlier run (then it is the
   * only report of that range). Not awaited; a throw or a rejection is
   * logged. Summing each range's latest `copied + skipped` counts every
   * row of the ranges this worker saw, across resumes.
   */
  readonly onProgress?: (progress: PartitionProgress<K>) => void;
};

// backfill's own options, passed through to it (and checked by it): the compiler keeps this list complete.
const backfillKeys = {
  from: true,
  to: true,
  keyOf: true,
  batchSize: true,
  targetBatchMs: true,
  minBatchSize: true,
  maxBatchSize: true,
  signal: true,
  maxRowsPerSecond: true,
  throttle: true,
  throttleDelayMs: true,
  overwrite: true,
  versionOf: true,
  tombstones: true,
  logger: true,
  clock: true,
  sleep: true,
  compareKeys: true,
  timeoutMs: true,
} as const satisfies Record<Exclude<keyof BackfillOptions<unknown, unknown>, 'checkpoint' | 'onProgress' | 'totalRows'>, true>;

const schema = z.strictObject({
  ...Object.fromEntries(Object.keys(backfillKeys).map((key) => [key, z.unknown().optional()])),
  partitions: option.range(1, 10_000, true).optional(),
  splitAt: field<readonly unknown[]>(
    (value) => Array.isArray(value) && value.length < 10_000 && value.every((key) => typeof key === 'string' || (typeof key === 'number' && Number.isFinite(key))),
    'an array of fewer than 10000 keys, each a string or a finite number',
  ).optional(),
  leases: option.withMethods<PartitionLeases>('acquire'),
  checkpointFor: option.fn<(name: string) => CheckpointStore>(),
  workerId: option.string().optional(),
  retryMs: option.timerMs().default(1_000),
  onProgress: option.fn<(progress: PartitionProgress<unknown>) => void>().optional(),
});

/** PartitionedBackfillOptions resolved: backfill's options for each range, and the partitioning. */
export interface ResolvedPartitionOptions<E, K> {
  /** What every range's backfill gets (plus its `from` view and checkpoint). */
  readonly backfill: Omit<BackfillOptions<E, K>, 'checkpoint' | 'onProgress' | 'totalRows'>;
  /** The same, resolved by backfill's own rules. */
  readonly resolved: ResolvedBackfillOptions<E, K>;
  readonly partitions: number | undefined;
  readonly splitAt: readonly K[] | undefined;
  readonly leases: PartitionLeases;
  readonly checkpointFor: (name: string) => CheckpointStore;
  readonly workerId: string;
  readonly retryMs: number;
  readonly onProgress: ((progress: PartitionProgress<K>) => void) | undefined;
}

/** Checks the options once. @throws InvalidOptionError naming the bad or unknown option (backfill's own included). */
export function resolvePartitionOptions<E, K>(options: PartitionedBackfillOptions<E, K>): ResolvedPartitionOptions<E, K> {
  const parsed = parseOptions(schema, options, 'backfillPartitioned');
  if ((parsed.partitions === undefined) === (parsed.splitAt === undefined)) {
    throw new InvalidOptionError(parsed.partitions === undefined ? 'partitions' : 'splitAt', 'give exactly one of `partitions` (a number of ranges) and `splitAt` (the boundary keys)');
  }
  // backfill's options as zod read them (each getter once), for backfill to check and resolve.
  const source = parsed as Record<string, unknown>;
  const rest = Object.fromEntries(Object.keys(backfillKeys).filter((key) => key in source).map((key) => [key, source[key]])) as unknown as ResolvedPartitionOptions<E, K>['backfill'];
  const resolved = resolveBackfillOptions<E, K>(rest);
  return {
    backfill: rest,
    resolved,
    partitions: parsed.partitions,
    splitAt: parsed.splitAt as readonly K[] | undefined,
    leases: parsed.leases,
    checkpointFor: parsed.checkpointFor,
    workerId: parsed.workerId ?? `${hostname()}:${process.pid}:${randomBytes(4).toString('hex')}`,
    retryMs: parsed.retryMs,
    onProgress: parsed.onProgress as ((progress: PartitionProgress<K>) => void) | undefined,
  };
}
