import type { CompareKeys } from './keys.js';
import { throwIfAborted } from './options.js';
import type { PageSource } from './read-page.js';
import { readPage } from './read-page.js';
import type { Segment, Suspect } from './verify-state.js';

/** What comparing rows needs: both stores as page sources (same order) and the row comparison. */
export interface RowJob<E, K> {
  readonly old: PageSource<E, K>;
  readonly new: PageSource<E, K>;
  readonly compare: CompareKeys<K>;
  readonly same: (a: E | undefined, b: E | undefined) => boolean;
  readonly signal: AbortSignal | undefined;
}

/** A row and its key. */
interface Keyed<E, K> {
  readonly row: E;
  readonly key: K;
}

/** Reads one store page by page, up to an optional last key; readPage checks it keeps its promise of ascending keys. */
class Cursor<E, K> {
  readonly #source: PageSource<E, K>;
  readonly #pageSize: number;
  readonly #upTo: K | null;
  #rows: readonly E[] = [];
  #keys: readonly K[] = [];
  #at = 0;
  #after: K | null;
  #ended = false;

  constructor(source: PageSource<E, K>, after: K | null, pageSize: number, upTo: K | null = null) {
    this.#source = source;
    this.#after = after;
    this.#pageSize = pageSize;
    this.#upTo = upTo;
  }

  async peek(): Promise<Keyed<E, K> | undefined> {
    if (this.#at >= this.#rows.length) {
      if (this.#ended) return undefined;
      const page = await readPage(this.#source, this.#after, this.#pageSize);
      this.#rows = page.rows;
      this.#keys = page.keys;
      this.#at = 0;
      if (page.rows.length === 0) {
        this.#ended = true;
        return undefined;
      }
      this.#after = page.keys[page.keys.length - 1] as K;
    }
    const key = this.#keys[this.#at] as K;
    if (this.#upTo !== null && this.#source.compare(key, this.#upTo) > 0) {
      this.#ended = true;
      this.#rows = [];
      return undefined;
    }
    return { row: this.#rows[this.#at] as E, key };
  }

  take(): E | undefined {
    const row = this.#rows[this.#at];
    this.#at += 1;
    return row;
  }
}

/** One key of a merge: the row each store holds (undefined when it has none). */
interface Pair<E, K> {
  readonly key: K;
  readonly old: E | undefined;
  readonly new: E | undefined;
}

/**
 * Walks both stores together in key order (a merge join of two cursors),
 * after `after` and up to `upTo` (inclusive; null to the end), yielding
 * once per distinct key the row each store holds.
 */
async function* merge<E, K>(job: RowJob<E, K>, after: K | null, upTo: K | null, pageSize: number): AsyncGenerator<Pair<E, K>> {
  const oldCursor = new Cursor(job.old, after, pageSize, upTo);
  const newCursor = new Cursor(job.new, after, pageSize, upTo);
  for (;;) {
    throwIfAborted(job.signal, 'verify');
    const a = await oldCursor.peek();
    const b = await newCursor.peek();
    if (a === undefined && b === undefined) return;
    const order = a === undefined ? 1 : b === undefined ? -1 : job.compare(a.key, b.key);
    const key = order <= 0 ? (a as Keyed<E, K>).key : (b as Keyed<E, K>).key;
    yield { key, old: order <= 0 ? oldCursor.take() : undefined, new: order >= 0 ? newCursor.take() : undefined };
  }
}

/** Every row of both stores after `after`, compared in JavaScript, in segments of `batchSize` keys (the last one possibly empty). */
export async function* rowSegments<E, K>(job: RowJob<E, K>, after: K | null, batchSize: number): AsyncGenerator<Segment<E, K>> {
  let suspects: Suspect<E, K>[] = [];
  let checked = 0;
  let lastKey = after;
  for await (const pair of merge(job, after, null, batchSize)) {
    if (!job.same(pair.old, pair.new)) suspects.push({ key: pair.key, old: pair.old, new: pair.new });
    checked += 1;
    lastKey = pair.key;
    if (checked >= batchSize) {
      yield { checked, suspects, lastKey, last: false };
      suspects = [];
      checked = 0;
    }
  }
  yield { checked, suspects, lastKey, last: true };
}

/** The rows of both stores in (`after`, `upTo`], compared one by one: how many keys, and the ones that differ. */
export async function compareRange<E, K>(job: RowJob<E, K>, after: K | null, upTo: K | null, pageSize: number): Promise<{ checked: number; suspects: Suspect<E, K>[] }> {
  const suspects: Suspect<E, K>[] = [];
  let checked = 0;
  for await (const pair of merge(job, after, upTo, pageSize)) {
    checked += 1;
    if (!job.same(pair.old, pair.new)) suspects.push({ key: pair.key, old: pair.old, new: pair.new });
  }
  return { checked, suspects };
}
