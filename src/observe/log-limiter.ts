import type { Clock } from './clock.js';
import type { Logger } from './logger.js';

/**
 * Logs the first `perInterval` occurrences of each kind of line in full,
 * then only counts them; the count of suppressed lines is reported with the
 * first line of the next interval. Keeps a fallback storm or a mismatch flood
 * from drowning the log while every occurrence is still counted elsewhere.
 * All kinds together write at most `totalPerInterval` lines per interval, so
 * kinds that are all different (a fingerprint holding an id) cannot flood
 * the log either; what that shared budget dropped is reported as
 * `suppressedOverall` on the next line written.
 */
export class LogLimiter {
  readonly #logger: Logger;
  readonly #clock: Clock;
  readonly #perInterval: number;
  readonly #intervalMs: number;
  readonly #totalPerInterval: number;
  readonly #kinds = new Map<string, { start: number; logged: number; suppressed: number; unreported: number }>();
  readonly #total = { start: Number.NEGATIVE_INFINITY, logged: 0, suppressed: 0 };
  /** Lines suppressed by the total budget in past intervals, not yet reported. */
  #unreported = 0;
  static readonly #maxKinds = 1_000;

  constructor(logger: Logger, clock: Clock, perInterval = 10, intervalMs = 60_000, totalPerInterval = perInterval * 5) {
    this.#logger = logger;
    this.#clock = clock;
    this.#perInterval = perInterval;
    this.#intervalMs = intervalMs;
    this.#totalPerInterval = totalPerInterval;
  }

  /**
   * Logs at `level` unless this kind (or all kinds together) already logged
   * their share of lines in the current interval. `lineContext` may be a function,
   * called only when the line is written.
   */
  log(level: 'info' | 'warn' | 'error', kind: string, lineContext: Record<string, unknown> | (() => Record<string, unknown>), message: string): boolean {
    const now = this.#now();
    const total = this.#total;
    if (!(now - total.start < this.#intervalMs)) {
      this.#unreported += total.suppressed;
      total.start = now;
      total.logged = 0;
      total.suppressed = 0;
    }
    let state = this.#kinds.get(kind);
    if (state === undefined || !(now - state.start < this.#intervalMs)) {
      if (state === undefined && this.#kinds.size >= LogLimiter.#maxKinds) this.#kinds.clear();
      // Suppressed lines of the last interval carry over until a line of this kind is written.
      state = { start: now, logged: 0, suppressed: 0, unreported: (state?.suppressed ?? 0) + (state?.unreported ?? 0) };
      this.#kinds.set(kind, state);
    }
    if (state.logged >= this.#perInterval) {
      state.suppressed += 1;
      return false;
    }
    if (total.logged >= this.#totalPerInterval) {
      total.suppressed += 1;
      return false;
    }
    state.logged += 1;
    total.logged += 1;
    let context = typeof lineContext === 'function' ? buildContext(lineContext) : lineContext;
    if (state.unreported > 0) {
      context = { ...context, suppressedSinceLastLine: state.unreported };
      state.unreported = 0;
    }
    if (this.#unreported > 0) {
      context = { ...context, suppressedOverall: this.#unreported };
      this.#unreported = 0;
    }
    this.#logger[level](context, message);
    return true;
  }

  #now(): number {
    try {
      const now = this.#clock.now();
      return Number.isFinite(now) ? now : Date.now();
    } catch {
      return Date.now();
    }
  }
}

function buildContext(build: () => Record<string, unknown>): Record<string, unknown> {
  try {
    return build();
  } catch {
    return {};
  }
}
