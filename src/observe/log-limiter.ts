import type { Clock } from './clock.js';
import type { Logger } from './logger.js';

/**
 * Logs the first `perInterval` occurrences of each kind of line in full,
 * then only counts them; the count of suppressed lines is reported with the
 * first line of the next interval. Keeps a fallback storm or a mismatch flood
 * from drowning the log while every occurrence is still counted elsewhere.
 */
export class LogLimiter {
  readonly #logger: Logger;
  readonly #clock: Clock;
  readonly #perInterval: number;
  readonly #intervalMs: number;
  readonly #kinds = new Map<string, { start: number; logged: number; suppressed: number }>();
  static readonly #maxKinds = 1_000;

  constructor(logger: Logger, clock: Clock, perInterval = 10, intervalMs = 60_000) {
    this.#logger = logger;
    this.#clock = clock;
    this.#perInterval = perInterval;
    this.#intervalMs = intervalMs;
  }

  /** Logs at `level` unless this kind already logged `perInterval` lines in the current interval. */
  log(level: 'info' | 'warn' | 'error', kind: string, context: Record<string, unknown>, message: string): boolean {
    const now = this.#clock.now();
    let state = this.#kinds.get(kind);
    if (state === undefined || now - state.start >= this.#intervalMs) {
      const suppressed = state?.suppressed ?? 0;
      if (state === undefined && this.#kinds.size >= LogLimiter.#maxKinds) this.#kinds.clear();
      state = { start: now, logged: 0, suppressed: 0 };
      this.#kinds.set(kind, state);
      if (suppressed > 0) context = { ...context, suppressedSinceLastLine: suppressed };
    }
    if (state.logged >= this.#perInterval) {
      state.suppressed += 1;
      return false;
    }
    state.logged += 1;
    this.#logger[level](context, message);
    return true;
  }
}
