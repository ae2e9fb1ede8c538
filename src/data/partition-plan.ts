import { describeValue, InvalidOptionError } from '../errors.js';
import type { Logger } from '../observe/logger.js';
import type { BoundedCall } from './bounded-call.js';
import type { CheckpointStore } from './checkpoint-store.js';
import type { CompareKeys } from './keys.js';
import type { Sleep } from './options.js';
import type { KeySplitter, PartitionLeases, PartitionRange } from './partition.js';
import type { Repository } from './repository.js';

/** The ranges of a run, as saved under the name `plan`: every worker and every resume uses the same ones. */
interface SavedPlan {
  readonly kind: 'partition-plan';
  /** What was asked: a number of ranges, or -1 for explicit `splitAt`. */
  readonly parts: number;
  readonly splitAt: readonly unknown[];
}

/** What planning needs. */
export interface PlanInputs<E, K> {
  readonly from: Repository<E, K> & Partial<KeySplitter<K>>;
  readonly partitions: number | undefined;
  readonly splitAt: readonly K[] | undefined;
  readonly store: CheckpointStore;
  readonly leases: PartitionLeases;
  readonly owner: string;
  readonly compare: CompareKeys<K>;
  readonly call: BoundedCall;
  readonly sleep: Sleep;
  readonly retryMs: number;
  readonly signal: AbortSignal | undefined;
  readonly logger: Logger;
}

/**
 * The run's ranges: the saved plan when there is one, else made once, under
 * the lease `plan`, from `splitAt` or `from.splitKeys(partitions)`, and
 * saved before any range is worked. Ranges computed anew by each worker
 * would differ as the table changes, and a range found done under other
 * bounds would skip rows: the plan is therefore never recomputed.
 * @throws InvalidOptionError when the saved plan differs from what is asked
 *   (clear the checkpoints to start over), or `from` cannot split its keys.
 */
export async function planRanges<E, K>(p: PlanInputs<E, K>): Promise<PartitionRange<K>[]> {
  const parts = p.splitAt === undefined ? (p.partitions as number) : -1;
  for (;;) {
    const saved = parsePlan(await p.call('checkpointFor(plan).load', () => p.store.load()));
    if (saved !== undefined) return rangesOf(checkSaved(saved, parts, p.splitAt), p.compare);
    const lease = await p.call('leases.acquire(plan)', () => p.leases.acquire('plan', p.owner));
    if (lease === undefined) {
      // Another worker is making the plan: wait for it to be saved.
      await p.sleep(p.retryMs, p.signal);
      continue;
    }
    try {
      const again = parsePlan(await p.call('checkpointFor(plan).load', () => p.store.load()));
      if (again !== undefined) return rangesOf(checkSaved(again, parts, p.splitAt), p.compare);
      const splitAt = p.splitAt ?? (await splitKeys(p));
      const ranges = rangesOf(splitAt, p.compare);
      const plan: SavedPlan = { kind: 'partition-plan', parts, splitAt };
      await p.call('checkpointFor(plan).save', () => p.store.save(plan));
      p.logger.info({ ranges: ranges.length, worker: p.owner }, 'backfillPartitioned: planned the ranges');
      return ranges;
    } finally {
      await lease.release().catch((err: unknown) => p.logger.warn({ err }, 'backfillPartitioned: the plan lease could not be released'));
    }
  }
}

async function splitKeys<E, K>(p: PlanInputs<E, K>): Promise<readonly K[]> {
  const { from, partitions } = p;
  const split = from.splitKeys;
  if (typeof split !== 'function') {
    throw new InvalidOptionError('partitions', 'needs a `from` that can split its keys (splitKeys(n), as sqlRepository has); give the boundaries with `splitAt` instead');
  }
  const keys: unknown = await p.call('from.splitKeys', () => split.call(from, partitions as number));
  if (!Array.isArray(keys) || keys.length >= (partitions as number) || !keys.every((key) => typeof key === 'string' || (typeof key === 'number' && Number.isFinite(key)))) {
    throw new InvalidOptionError('from', `breaks the KeySplitter contract: splitKeys(${partitions}) resolved with ${describeValue(keys)}, not fewer than ${partitions} string or number keys`);
  }
  return keys as K[];
}

/** The ranges the boundary keys make. @throws InvalidOptionError when they are not strictly ascending. */
export function rangesOf<K>(splitAt: readonly K[], compare: CompareKeys<K>): PartitionRange<K>[] {
  for (let i = 1; i < splitAt.length; i++) {
    if (!(compare(splitAt[i - 1] as K, splitAt[i] as K) < 0)) {
      throw new InvalidOptionError('splitAt', `must be strictly ascending in the store's key order: ${describeValue(splitAt[i - 1])} is not before ${describeValue(splitAt[i])}`);
    }
  }
  return Array.from({ length: splitAt.length + 1 }, (_, index) => ({
    index,
    after: index === 0 ? null : (splitAt[index - 1] as K),
    upTo: index === splitAt.length ? null : (splitAt[index] as K),
  }));
}

function checkSaved<K>(saved: SavedPlan, parts: number, given: readonly K[] | undefined): readonly K[] {
  const same = parts === saved.parts && (given === undefined || JSON.stringify(given) === JSON.stringify(saved.splitAt));
  if (!same) {
    const option = given === undefined ? 'partitions' : 'splitAt';
    const was = saved.parts === -1 ? `splitAt ${JSON.stringify(saved.splitAt)}` : `partitions ${saved.parts}`;
    throw new InvalidOptionError(option, `differs from the plan this run's checkpoints were made with (${was}); keep it, or clear every checkpoint (plan and ranges) to start over`);
  }
  return saved.splitAt as readonly K[];
}

function parsePlan(value: unknown): SavedPlan | undefined {
  if (value === undefined || value === null) return undefined;
  const plan = value as Partial<SavedPlan>;
  if (plan.kind !== 'partition-plan' || typeof plan.parts !== 'number' || !Array.isArray(plan.splitAt)) {
    throw new InvalidOptionError('checkpointFor', `gave a \`plan\` store holding something other than a partition plan: ${describeValue(value)}`);
  }
  return plan as SavedPlan;
}
