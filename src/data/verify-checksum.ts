import { describeValue, InvalidOptionError, MigrationGlueError } from '../errors.js';
import type { BoundedCall } from './bounded-call.js';
import { throwIfAborted } from './options.js';
import type { KeyRange, RangeChecksum, Repository } from './repository.js';
import type { RowJob } from './verify-rows.js';
import { compareRange } from './verify-rows.js';
import type { Segment, Suspect } from './verify-state.js';

/** What the checksum comparison needs beyond the row comparison. */
export interface ChecksumJob<E, K> extends RowJob<E, K> {
  readonly call: BoundedCall;
  /** Keys per top-level chunk. */
  readonly chunkRows: number;
  /** A differing range with at most this many rows on either side is compared row by row. */
  readonly leafRows: number;
}

type Side = 'old' | 'new';

/** True when both stores can checksum a key range. */
export function canChecksum(old: Repository<unknown, unknown>, fresh: Repository<unknown, unknown>): boolean {
  return typeof old.checksum === 'function' && typeof fresh.checksum === 'function';
}

/**
 * Compares both stores after `after` chunk by chunk, by checksums the
 * stores compute (pt-table-checksum's method): old's next `chunkRows` keys
 * fix a chunk's upper bound, new checksums the same key range, and while
 * new works old already checksums the next chunk. Equal checksums (row
 * count and hash) mean equal rows, which are never read; a chunk whose
 * checksums differ is bisected (bisect) until a range holds at most
 * `leafRows` rows on either side, and only those rows are read and
 * compared one by one. Yields one segment per chunk, the last one covering
 * everything after old's last key (so rows only new holds are found).
 */
export async function* checksumSegments<E, K>(job: ChecksumJob<E, K>, after: K | null): AsyncGenerator<Segment<E, K>> {
  let start = after;
  let next: Promise<RangeChecksum<K>> = checksumOf(job, 'old', { after: start, limit: job.chunkRows });
  for (;;) {
    throwIfAborted(job.signal, 'verify');
    const oldSum = await next;
    const last = oldSum.count < job.chunkRows;
    const upTo = last ? null : oldSum.last;
    if (!last) {
      next = checksumOf(job, 'old', { after: oldSum.last, limit: job.chunkRows });
      // Awaited on the next turn; until then a failure must not count as unhandled.
      next.catch(() => {});
    }
    const newSum = await checksumOf(job, 'new', { after: start, upTo });
    const found = { checked: 0, suspects: [] as Suspect<E, K>[] };
    await bisect(job, start, upTo, oldSum, newSum, found);
    yield { ...found, lastKey: upTo ?? lastOf(start, oldSum, newSum, job), last };
    if (last) return;
    start = upTo;
  }
}

/** The key the final segment ends on: the greatest key either store holds past `start` (for the checkpoint). */
function lastOf<E, K>(start: K | null, oldSum: RangeChecksum<K>, newSum: RangeChecksum<K>, job: ChecksumJob<E, K>): K | null {
  const keys = [start, oldSum.last, newSum.last].filter((key): key is K => key !== null);
  return keys.reduce<K | null>((max, key) => (max === null || job.compare(key, max) > 0 ? key : max), null);
}

/**
 * Finds the differing rows of (`after`, `upTo`] given both stores'
 * checksums of it: nothing when they agree; the rows compared one by one
 * when the range is small; otherwise both stores checksum their first
 * half of the range at once, the range is split at the smaller of the two
 * halves' last keys, and each part is bisected again; the second part's
 * checksums are the whole's minus the first part's (the hash is a sum),
 * so where only values differ a split costs two checksums of half a
 * range, run in parallel (one more where rows are missing or extra). Each
 * split strictly lowers the rows of both stores together, so it ends; a
 * difference in a chunk of n rows costs about 2·log2(n / leafRows)
 * checksums, which together read about n rows of each store.
 */
async function bisect<E, K>(
  job: ChecksumJob<E, K>,
  after: K | null,
  upTo: K | null,
  oldSum: RangeChecksum<K>,
  newSum: RangeChecksum<K>,
  found: { checked: number; suspects: Suspect<E, K>[] },
): Promise<void> {
  if (oldSum.count === newSum.count && oldSum.hash === newSum.hash) {
    found.checked += oldSum.count;
    return;
  }
  const larger = Math.max(oldSum.count, newSum.count);
  if (larger <= job.leafRows) {
    const rows = await compareRange(job, after, upTo, job.leafRows + 1);
    found.checked += rows.checked;
    found.suspects.push(...rows.suspects);
    return;
  }
  throwIfAborted(job.signal, 'verify');
  // Both stores take their first `half` keys at once; the split is at the smaller of the two last keys, so that
  // where only values differ (the usual case) both halves are known from these two checksums, taken in parallel.
  const half = Math.floor(larger / 2);
  const [oldHead, newHead] = await Promise.all([checksumOf(job, 'old', { after, upTo, limit: half }), checksumOf(job, 'new', { after, upTo, limit: half })]);
  const middle = [oldHead.last, newHead.last].reduce<K | null>((min, key) => (key === null ? min : min === null || job.compare(key, min) < 0 ? key : min), null);
  if (middle === null) {
    // Both stores' rows were deleted since their checksums (live writes): compare what is left row by row.
    const rows = await compareRange(job, after, upTo, job.leafRows + 1);
    found.checked += rows.checked;
    found.suspects.push(...rows.suspects);
    return;
  }
  // A store whose first part ran past the middle is checksummed again up to it (rows missing or extra on one side).
  const upToMiddle = (side: Side, head: RangeChecksum<K>): Promise<RangeChecksum<K>> | RangeChecksum<K> =>
    head.last === null || job.compare(head.last, middle) === 0 ? head : checksumOf(job, side, { after, upTo: middle });
  const [oldFirst, newFirst] = await Promise.all([upToMiddle('old', oldHead), upToMiddle('new', newHead)]);
  await bisect(job, after, middle, oldFirst, newFirst, found);
  // The checksums are sums, so the rest of the range is the whole minus its first part, without reading it again;
  // a range that changed meanwhile (fewer rows than its checksum said, or a negative rest) is checksummed afresh.
  let oldRest = minus(oldSum, oldFirst);
  let newRest = minus(newSum, newFirst);
  const shrank = oldHead.count < Math.min(half, oldSum.count) || newHead.count < Math.min(half, newSum.count);
  if (shrank || oldRest.count < 0 || newRest.count < 0) {
    [oldRest, newRest] = await Promise.all([checksumOf(job, 'old', { after: middle, upTo }), checksumOf(job, 'new', { after: middle, upTo })]);
  }
  await bisect(job, middle, upTo, oldRest, newRest, found);
}

function minus<K>(whole: RangeChecksum<K>, part: RangeChecksum<K>): RangeChecksum<K> {
  return { count: whole.count - part.count, hash: whole.hash - part.hash, last: whole.last };
}

/** A store's checksum of `range`, bounded and checked against the contract. */
async function checksumOf<E, K>(job: ChecksumJob<E, K>, side: Side, range: KeyRange<K>): Promise<RangeChecksum<K>> {
  const store = job[side].store;
  const sum: unknown = await job.call(`${side}.checksum`, () => (store.checksum as (range: KeyRange<K>) => Promise<RangeChecksum<K>>).call(store, range));
  const { count, hash, last } = (sum ?? {}) as Partial<RangeChecksum<K>>;
  if (typeof sum !== 'object' || sum === null || !Number.isSafeInteger(count) || (count as number) < 0 || typeof hash !== 'bigint' || last === undefined) {
    throw new InvalidOptionError(side, `breaks the Repository contract: checksum resolved with ${describeValue(sum)}, not { count, hash, last }`);
  }
  const empty = count === 0;
  const inside = last !== null && (range.after === null || job.compare(last, range.after) > 0) && (range.upTo === undefined || range.upTo === null || job.compare(last, range.upTo) <= 0);
  if (empty ? last !== null : !inside || (range.limit !== undefined && (count as number) > range.limit)) {
    throw new MigrationGlueError(
      'ERR_INVALID_KEY',
      `${side}.checksum of keys after ${describeValue(range.after)} up to ${describeValue(range.upTo ?? null)} answered ${describeValue(count)} rows ending at ${describeValue(last)}: outside the range it was asked for`,
    );
  }
  return sum as RangeChecksum<K>;
}
