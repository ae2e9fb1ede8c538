import { describeValue, InvalidOptionError } from '../errors.js';
import type { BoundedCall } from './bounded-call.js';
import type { Sleep } from './options.js';
import { throwIfAborted } from './options.js';
import type { Repository } from './repository.js';
import type { KeyList, VerifyReport } from './verify-options.js';

/** A key whose rows differed when first read; re-read before it is reported. */
export interface Suspect<E, K> {
  readonly key: K;
  old: E | undefined;
  new: E | undefined;
}

/** What one step of a verify examined: `checked` keys up to `lastKey`, the suspects among them. */
export interface Segment<E, K> {
  readonly checked: number;
  readonly suspects: Suspect<E, K>[];
  readonly lastKey: K | null;
  /** True for the last segment: nothing lies after `lastKey` in either store. */
  readonly last: boolean;
}

/** A verify's progress, as saved in its checkpoint. */
export interface VerifyState<K> extends VerifyReport<K> {
  readonly kind: 'verify';
  readonly lastKey: K | null;
  readonly done: boolean;
}

/** What re-checks need: both stores, the comparison, the wait. */
export interface RecheckIo<E, K> {
  readonly oldStore: Repository<E, K>;
  readonly newStore: Repository<E, K>;
  readonly same: (a: E | undefined, b: E | undefined) => boolean;
  readonly sleep: Sleep;
  readonly signal: AbortSignal | undefined;
  readonly call: BoundedCall;
  readonly attempts: number;
  readonly delayMs: number;
}

const RECHECK_CONCURRENCY = 8;

/** Re-reads suspects until they agree or the attempts run out; returns the ones still differing, rows updated. */
export async function settle<E, K>(suspects: readonly Suspect<E, K>[], io: RecheckIo<E, K>): Promise<Suspect<E, K>[]> {
  let open = [...suspects];
  for (let attempt = 0; attempt < io.attempts && open.length > 0; attempt++) {
    await io.sleep(io.delayMs, io.signal);
    throwIfAborted(io.signal, 'verify');
    await forEachLimited(open, RECHECK_CONCURRENCY, async (suspect) => {
      const [o, n] = await Promise.all([io.call('old.get', () => io.oldStore.get(suspect.key)), io.call('new.get', () => io.newStore.get(suspect.key))]);
      suspect.old = o;
      suspect.new = n;
    });
    open = open.filter((suspect) => !io.same(suspect.old, suspect.new));
  }
  return open;
}

/** The state after a segment: its confirmed differences listed and counted. */
export function tally<K, E>(state: VerifyState<K>, confirmed: readonly Suspect<E, K>[], checked: number, transient: number, maxListed: number): VerifyState<K> {
  let { missing, extra, different } = state;
  for (const { key, old, new: current } of confirmed) {
    if (current === undefined) missing = add(missing, key, maxListed);
    else if (old === undefined) extra = add(extra, key, maxListed);
    else different = add(different, key, maxListed);
  }
  return { ...state, checked: state.checked + checked, missing, extra, different, transient: state.transient + transient };
}

function add<K>(list: KeyList<K>, key: K, maxListed: number): KeyList<K> {
  return { count: list.count + 1, keys: list.keys.length < maxListed ? [...list.keys, key] : list.keys };
}

async function forEachLimited<T>(items: readonly T[], limit: number, task: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const item = items[next++] as T;
      await task(item);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}

/** The report part of a state. */
export function reportOf<K>(state: VerifyState<K>): VerifyReport<K> {
  const { checked, missing, extra, different, repaired, transient } = state;
  return { checked, missing, extra, different, repaired, transient };
}

const emptyList = { count: 0, keys: [] };

/** A checkpoint's content as a verify state (a fresh one when there is none). @throws InvalidOptionError (`checkpoint`) for anything else. */
export function parseState<K>(value: unknown): VerifyState<K> {
  if (value === undefined || value === null) {
    return { kind: 'verify', lastKey: null, done: false, checked: 0, missing: emptyList, extra: emptyList, different: emptyList, repaired: 0, transient: 0 };
  }
  const state = value as Partial<VerifyState<K>>;
  const lastKey: unknown = state.lastKey;
  const validKey = lastKey === null || typeof lastKey === 'string' || (typeof lastKey === 'number' && Number.isFinite(lastKey));
  if (state.kind !== 'verify' || !validKey || typeof state.checked !== 'number' || typeof state.missing?.count !== 'number') {
    throw new InvalidOptionError('checkpoint', `holds something other than a verify checkpoint: ${describeValue(value)}`);
  }
  return state as VerifyState<K>;
}
