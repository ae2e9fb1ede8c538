import type { Arm } from '../core/events.js';
import { bucketOf } from '../hashing/hasher.js';

/**
 * Routing keys `user-0`, `user-1`, … for one canary step, each handed to the
 * side its bucket sends it to, so that the glue routes every call where the
 * replay meant it to go.
 *
 * The replay drives each side's calls at its own rate (old's are thinned
 * harder than new's at a small percentage), while the guard's sample-ratio
 * check compares the share of distinct keys new served with the
 * percentage. So both sides take keys in the pool's order and keep level:
 * a side that has covered more of the pool than the other serves its
 * earlier keys again instead of fresh ones. The distinct keys seen are then
 * always a prefix of the pool split by its buckets, a fair sample of the
 * hash, whatever the rates.
 */
export class StepKeys {
  readonly #salt: string;
  readonly #threshold: number;
  readonly #side: Record<Arm, string[]> = { old: [], new: [] };
  /** Pool index of each side's next fresh key. */
  readonly #frontier: Record<Arm, number> = { old: 0, new: 0 };
  readonly #used: Record<Arm, number> = { old: 0, new: 0 };
  readonly #again: Record<Arm, number> = { old: 0, new: 0 };
  #scanned = 0;

  /** `threshold`: the percentage in buckets (percentage × 100), strictly between 0 and 10000. */
  constructor(salt: string, threshold: number) {
    this.#salt = salt;
    this.#threshold = threshold;
    this.#frontier.old = this.#nextIndex('old', 0);
    this.#frontier.new = this.#nextIndex('new', 0);
  }

  /** A key the glue routes to `arm`. */
  next(arm: Arm): string {
    const other: Arm = arm === 'old' ? 'new' : 'old';
    const used = this.#used[arm];
    if (used > 0 && this.#frontier[arm] > this.#frontier[other]) {
      return this.#side[arm][this.#again[arm]++ % used] as string;
    }
    const key = this.#side[arm][used] as string;
    this.#used[arm] = used + 1;
    this.#frontier[arm] = this.#nextIndex(arm, used + 1);
    return key;
  }

  /** Pool index of `arm`'s key number `n`, scanning the pool as far as needed. */
  #nextIndex(arm: Arm, n: number): number {
    const list = this.#side[arm];
    while (list.length <= n) {
      const i = this.#scanned++;
      const bucket = bucketOf(`user-${i}`, this.#salt);
      (bucket < this.#threshold ? this.#side.new : this.#side.old).push(`user-${i}`);
    }
    return Number((list[n] as string).slice(5));
  }
}
