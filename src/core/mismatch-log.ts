import type { Logger } from '../observe/logger.js';

const intervalMs = 60_000;

/**
 * Rate limit of the mismatch lines: at most `perFingerprint` lines per
 * fingerprint and `total` lines over all fingerprints per minute. The rest
 * are only counted, and the count of lines left out is reported with the
 * first line of the next minute. Memory is bounded by `total`: only
 * fingerprints that logged this minute are remembered.
 */
export class MismatchLog {
  readonly #logger: Logger;
  readonly #perFingerprint: number;
  readonly #total: number;
  #start = Number.NEGATIVE_INFINITY;
  #logged = 0;
  #suppressed = 0;
  readonly #byFingerprint = new Map<string, number>();

  constructor(logger: Logger, perFingerprint: number, total: number) {
    this.#logger = logger;
    this.#perFingerprint = perFingerprint;
    this.#total = total;
  }

  /** Logs a warn line unless a limit is reached; `now` in ms. `context` is built only when the line is written. */
  log(now: number, fingerprint: string, context: () => Record<string, unknown>, message: string): boolean {
    if (!(now - this.#start < intervalMs) || now < this.#start) {
      this.#start = now;
      this.#logged = 0;
      this.#byFingerprint.clear();
    }
    const count = this.#byFingerprint.get(fingerprint) ?? 0;
    if (this.#logged >= this.#total || count >= this.#perFingerprint) {
      this.#suppressed += 1;
      return false;
    }
    this.#logged += 1;
    this.#byFingerprint.set(fingerprint, count + 1);
    const line = context();
    if (this.#suppressed > 0) {
      line['suppressedSinceLastLine'] = this.#suppressed;
      this.#suppressed = 0;
    }
    this.#logger.warn(line, message);
    return true;
  }
}
