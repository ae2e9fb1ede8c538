/** A source of time in milliseconds since the epoch (fractions allowed). Inject a manual one in tests. */
export interface Clock {
  now(): number;
}

const origin = performance.timeOrigin;

/** The real clock: wall time with sub-millisecond precision, monotonic within a process. */
export const systemClock: Clock = Object.freeze({
  now: () => origin + performance.now(),
});
