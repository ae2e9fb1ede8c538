import { boundedCaller } from './bounded-call.js';
import { notifyProgress, resolveKeyOrder, throwIfAborted } from './options.js';
import type { PageSource } from './read-page.js';
import type { VerifyOptions, VerifyReport } from './verify-options.js';
import { resolveVerifyOptions } from './verify-options.js';
import { canChecksum, checksumSegments } from './verify-checksum.js';
import { rowSegments } from './verify-rows.js';
import type { Segment, VerifyState } from './verify-state.js';
import { parseState, reportOf, settle, tally } from './verify-state.js';

export type { KeyList, RecheckOptions, VerifyOptions, VerifyReport } from './verify-options.js';

/**
 * Compares old and new in key order and reports the rows missing from new,
 * extra in new, and different. When both stores can checksum a key range
 * (sqlRepository computes it in the database), chunks are compared by
 * checksum and only the rows of differing chunks, bisected down, are read;
 * otherwise both stores are walked together (a merge join of two cursors)
 * and every row is compared. Old is the source of truth: `repair` writes to
 * new only, and extra rows are deleted only with `deleteExtra`. A
 * difference is re-read from both stores after a short delay (up to
 * `recheck.attempts` times) before it is reported, so rows mid-write on a
 * busy table are not called divergent.
 * @throws InvalidOptionError on a bad option; AbortedError (ERR_ABORTED) on abort;
 *   MigrationGlueError ERR_INVALID_KEY when a store returns keys out of `compareKeys` order
 *   or not past the page before, or keyOf throws; ERR_TIMEOUT when a call to a store or the
 *   checkpoint store outlasts `timeoutMs`; the stores' errors unchanged.
 */
export async function verify<E, K>(options: VerifyOptions<E, K>): Promise<VerifyReport<K>> {
  const o = resolveVerifyOptions(options);
  const { old: oldStore, new: newStore, keyOf, same, checkpoint, signal, logger } = o;
  const call = boundedCaller('verify', o.timeoutMs, signal);

  throwIfAborted(signal, 'verify');
  // Both cursors and the merge follow old's order.
  const compare = await resolveKeyOrder(o.compareKeys, oldStore, 'old', call, false);
  let state: VerifyState<K> = parseState<K>(checkpoint === undefined ? undefined : await call('checkpoint.load', () => checkpoint.load()));
  if (state.done) return reportOf(state);
  const source = (store: typeof oldStore, option: string): PageSource<E, K> => ({ store, option, keyOf, compare, call });
  const job = { old: source(oldStore, 'old'), new: source(newStore, 'new'), compare, same, signal, call, chunkRows: o.chunkRows, leafRows: o.leafRows };
  const segments = o.checksum && canChecksum(oldStore, newStore) ? checksumSegments(job, state.lastKey) : rowSegments(job, state.lastKey, o.batchSize);
  const recheckIo = { oldStore, newStore, same, sleep: o.sleep, signal, call, ...o.recheck };

  const flush = async (segment: Segment<E, K>): Promise<void> => {
    const confirmed = await settle(segment.suspects, recheckIo);
    state = tally(state, confirmed, segment.checked, segment.suspects.length - confirmed.length, o.maxListed);
    for (const suspect of confirmed) {
      if (!o.repair) break;
      const row = suspect.old;
      if (row !== undefined) await call('new.save', () => newStore.save(row));
      else if (!o.deleteExtra) continue;
      else await call('new.delete', () => newStore.delete(suspect.key));
      state = { ...state, repaired: state.repaired + 1 };
    }
    state = { ...state, lastKey: segment.lastKey, done: segment.last };
    if (checkpoint !== undefined) await call('checkpoint.save', () => checkpoint.save(state));
    if (o.onProgress !== undefined) notifyProgress(o.onProgress, reportOf(state), (err, message) => logger.warn({ err }, message), 'verify');
  };

  for await (const segment of segments) await flush(segment);
  const report = reportOf(state);
  logger.info(
    { checked: report.checked, missing: report.missing.count, extra: report.extra.count, different: report.different.count, repaired: report.repaired },
    'verify done',
  );
  return report;
}
