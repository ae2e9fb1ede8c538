import type { Comparator, Comparison } from '../compare/comparator.js';
import { fingerprintOf } from '../compare/fingerprint.js';
import type { Emitter } from '../observe/emitter.js';
import type { LogLimiter } from '../observe/log-limiter.js';
import type { Settled } from '../bounded.js';
import { loggableError, timeoutError } from './bounded.js';
import { settleWithin } from '../bounded.js';
import type { DualWriteEvents } from './dual-write-events.js';
import type { Side } from './repair-log.js';
import type { Repository } from './repository.js';

/** Shadow-read figures, as `stats().shadow` shows them. */
export interface ShadowReadCounts {
  compared: number;
  mismatches: number;
  errors: number;
  timeouts: number;
  skipped: number;
}

/** What a ShadowReads works with, given by its DualWriteRepository. */
export interface ShadowReadsInit<E, K> {
  readonly name: string;
  readonly old: Repository<E, K>;
  readonly new: Repository<E, K>;
  readonly comparator: Comparator<E | undefined>;
  readonly timeoutMs: number;
  readonly maxInFlight: number;
  readonly emitter: Emitter<DualWriteEvents<E, K>>;
  readonly log: LogLimiter;
}

/**
 * Runs the shadow half of a shadow read: new's read (bounded by `timeoutMs`),
 * the comparison once old has answered, one re-read of both before a
 * mismatch counts. At most `maxInFlight` at once; beyond that a read is not
 * shadowed and counts as skipped. Nothing here reaches the caller.
 */
export class ShadowReads<E, K> {
  readonly counts: ShadowReadCounts = { compared: 0, mismatches: 0, errors: 0, timeouts: 0, skipped: 0 };
  readonly #pending = new Set<Promise<void>>();
  readonly #init: ShadowReadsInit<E, K>;

  constructor(init: ShadowReadsInit<E, K>) {
    this.#init = init;
  }


  /** Comparisons in flight. */
  get inFlight(): number {
    return this.#pending.size;
  }

  /** Starts new's read of `key` now (if there is room) and compares it with `oldRead` when both are done. */
  follow(key: K, oldRead: Promise<Settled<E | undefined>>): void {
    if (this.#pending.size >= this.#init.maxInFlight) {
      this.counts.skipped += 1;
      return;
    }
    const newRead = this.#read(this.#init.new, key);
    const comparison = this.#compareLater(key, oldRead, newRead);
    this.#pending.add(comparison);
    void comparison.finally(() => this.#pending.delete(comparison));
  }

  /** Resolves when every comparison in flight has finished; each is bounded, so this is too. */
  async drain(): Promise<void> {
    while (this.#pending.size > 0) await Promise.all(this.#pending);
  }

  #read(store: Repository<E, K>, key: K): Promise<Settled<E | undefined>> {
    return settleWithin(() => store.get(key), this.#init.timeoutMs);
  }

  async #compareLater(key: K, oldRead: Promise<Settled<E | undefined>>, newRead: Promise<Settled<E | undefined>>): Promise<void> {
    try {
      const [oldValue, newValue] = await Promise.all([oldRead, newRead]);
      // Old failed: the caller saw that error; there is nothing to compare.
      if (oldValue.status !== 'ok') return;
      if (newValue.status !== 'ok') return this.#error(key, newValue);
      this.counts.compared += 1;
      if (this.#compare(oldValue.value, newValue.value).equal) return;
      // A write may have landed between the two reads: re-read both before calling it a mismatch.
      const [oldAgain, newAgain] = await Promise.all([this.#read(this.#init.old, key), this.#read(this.#init.new, key)]);
      if (oldAgain.status !== 'ok') return this.#error(key, oldAgain, 'old');
      if (newAgain.status !== 'ok') return this.#error(key, newAgain);
      const second = this.#compare(oldAgain.value, newAgain.value);
      if (second.equal) return;
      this.counts.mismatches += 1;
      const fingerprint = fingerprintSafely(second);
      const { name, emitter, log } = this.#init;
      log.log('warn', `mismatch:${fingerprint}`, { migration: name, key, fingerprint }, 'shadow read: old and new disagree');
      emitter.emit('mismatch', { migration: name, key, old: oldAgain.value, new: newAgain.value, comparison: second, fingerprint });
    } catch (error) {
      this.#error(key, { status: 'error', error });
    }
  }

  /** The comparator's verdict; a comparator that throws or answers without a boolean `equal` throws here. */
  #compare(oldValue: E | undefined, newValue: E | undefined): Comparison {
    const comparison: unknown = this.#init.comparator.compare({ ok: true, value: oldValue }, { ok: true, value: newValue });
    if (typeof comparison !== 'object' || comparison === null || typeof (comparison as { equal?: unknown }).equal !== 'boolean') {
      throw new TypeError('the comparator must return a Comparison ({ equal: boolean, diff, truncated })');
    }
    return comparison as Comparison;
  }

  /** `side`: the store whose read failed (old only in the re-read of a difference). */
  #error(key: K, outcome: Exclude<Settled<unknown>, { status: 'ok' }>, side: Side = 'new'): void {
    const error = outcome.status === 'error' ? outcome.error : timeoutError(`shadow read of ${side} in "${this.#init.name}"`, this.#init.timeoutMs);
    if (outcome.status === 'timeout') this.counts.timeouts += 1;
    this.counts.errors += 1;
    this.#init.log.log('warn', 'shadow-error', { migration: this.#init.name, key, err: loggableError(error) }, `shadow read from ${side} failed`);
    this.#init.emitter.emit('shadowError', { migration: this.#init.name, key, error });
  }
}

function fingerprintSafely(comparison: Comparison): string {
  try {
    return fingerprintOf(comparison);
  } catch {
    return ':changed';
  }
}
