import type { BackfillProgress, BackfillResult } from './backfill-options.js';

/**
 * An optional Repository capability: boundary keys that split the store's
 * key space into parts of about the same number of rows, computed where the
 * rows are (sqlRepository: one pass over the key index). backfillPartitioned
 * calls it once per run, when it plans the ranges.
 */
export interface KeySplitter<K> {
  /**
   * Up to `parts - 1` keys in ascending key order, each the last key of a
   * part (fewer when the store holds fewer rows than parts; none when empty).
   * Keys must be JSON values (strings or numbers): the plan is saved.
   */
  splitKeys(parts: number): Promise<readonly K[]>;
}

/** One range of a partitioned run: the keys strictly after `after` up to and including `upTo` (null: open end). */
export interface PartitionRange<K> {
  /** The range's position in the plan, from 0. */
  readonly index: number;
  /** Exclusive lower bound; null for the first range. */
  readonly after: K | null;
  /** Inclusive upper bound; null for the last range. */
  readonly upTo: K | null;
}

/**
 * Where the workers of a partitioned run claim ranges: a lease per name that
 * at most one worker holds at a time, and that a worker which dies loses
 * (after a TTL, or with its connection). Implementations: InMemoryPartitionLeases
 * (one process), redisPartitionLeases, sqlAdvisoryLeases (PostgreSQL).
 */
export interface PartitionLeases {
  /**
   * Takes the lease `name` (`plan` or `range-<index>`) for `owner` when no
   * one holds it. Resolves the lease, or undefined when another holder has
   * it. Called before a range is worked; must not wait for the lease.
   */
  acquire(name: string, owner: string): Promise<PartitionLease | undefined>;
}

/** A lease a worker holds, from PartitionLeases.acquire. */
export interface PartitionLease {
  /**
   * Extends the lease and resolves true while this holder still has it;
   * false once it lost it (expired, taken over, connection gone). Called
   * after each batch is written, before its checkpoint is saved.
   */
  renew(): Promise<boolean>;
  /** Gives the lease back when still held (a no-op otherwise). Called when the range is finished, failed or abandoned. */
  release(): Promise<void>;
}

/** Reported after each batch a worker writes: the range's own progress (see BackfillProgress) and which range it is. */
export type PartitionProgress<K> = BackfillProgress<K> & {
  /** The range's index in the plan. */
  readonly range: number;
  /** How many ranges the plan has. */
  readonly ranges: number;
  /** The worker that wrote the batch (or found the range done). */
  readonly worker: string;
  /**
   * False after a batch; true on the one report of a range's totals when
   * the worker finds it done (finished now or by an earlier run), with
   * `rowsPerSecond` and `elapsedMs` 0.
   */
  readonly rangeDone: boolean;
};

/** What a partitioned backfill did: every range's result (whichever worker did it), and their sums. */
export interface PartitionedBackfillResult<K> {
  /** Rows written, summed over the ranges. */
  readonly copied: number;
  /** Rows left alone, summed over the ranges. */
  readonly skipped: number;
  /** Batches, summed over the ranges. */
  readonly batches: number;
  /** Each range and its result, in key order. */
  readonly ranges: readonly (PartitionRange<K> & BackfillResult<K>)[];
}
