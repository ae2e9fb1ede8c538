/** What the timers need of a shadow call: the links of its cohort's list. */
export interface Timed<T extends Timed<T>> {
  cohort: Cohort<T> | undefined;
  prev: T | undefined;
  next: T | undefined;
}

/**
 * Calls that took off within the same millisecond of real time (and the
 * same turn of the event loop) share one timer, as Node's own timers share one
 * list per duration: a timer per call would cost more than the rest of a
 * shadow call. A call may time out up to 1 ms before `timeoutMs` has passed
 * since its own start, the granularity of Node's timers anyway.
 */
export interface Cohort<T> {
  /** Real-time reading when the cohort opened. */
  readonly openedAt: number;
  /** False once a check phase of the event loop has passed since it opened. */
  open: boolean;
  timer: ReturnType<typeof setTimeout> | undefined;
  head: T | undefined;
  tail: T | undefined;
}

/** Milliseconds of real time during which new calls join the same cohort. */
const cohortSpanMs = 1;

/**
 * The shadow timeouts. Timers do not keep the process alive, except while
 * someone awaits them (`hold()`, for `drain()` and `close()`): a script that
 * awaits `close()` then runs the code after it instead of exiting early.
 */
export class ShadowTimers<T extends Timed<T>> {
  readonly #timeoutMs: number;
  readonly #onTimeout: (item: T) => void;
  /** Cohorts whose timer is set. */
  readonly #live = new Set<Cohort<T>>();
  /** The cohort new calls join, while it is young enough. */
  #current: Cohort<T> | undefined;
  #held = false;
  readonly #expire = (cohort: Cohort<T>): void => {
    this.#live.delete(cohort);
    if (this.#current === cohort) this.#current = undefined;
    let item = cohort.head;
    while (item !== undefined) {
      const next = item.next;
      this.#onTimeout(item);
      item = next;
    }
  };
  readonly #close = (cohort: Cohort<T>): void => {
    cohort.open = false;
  };

  /** `onTimeout` is called for each item still in a cohort when its timer fires; it must `leave` it. */
  constructor(timeoutMs: number, onTimeout: (item: T) => void) {
    this.#timeoutMs = timeoutMs;
    this.#onTimeout = onTimeout;
  }

  /** Puts the item in the current cohort, or opens one (one timer) when there is none young enough. */
  join(item: T, realNow: number): void {
    let cohort = this.#current;
    if (cohort === undefined || !cohort.open || !(realNow - cohort.openedAt < cohortSpanMs) || realNow < cohort.openedAt) {
      if (cohort !== undefined && cohort.head === undefined) this.#clear(cohort);
      cohort = { openedAt: realNow, open: true, timer: undefined, head: undefined, tail: undefined };
      cohort.timer = setTimeout(this.#expire, this.#timeoutMs, cohort);
      if (!this.#held) cohort.timer.unref?.();
      if (typeof setImmediate === 'function') setImmediate(this.#close, cohort).unref?.();
      this.#live.add(cohort);
      this.#current = cohort;
    }
    item.cohort = cohort;
    item.prev = cohort.tail;
    if (cohort.tail === undefined) cohort.head = item;
    else cohort.tail.next = item;
    cohort.tail = item;
  }

  /** Takes an item out of its cohort; a past cohort left empty drops its timer. */
  leave(item: T): void {
    const cohort = item.cohort;
    if (cohort === undefined) return;
    if (item.prev === undefined) cohort.head = item.next;
    else item.prev.next = item.next;
    if (item.next === undefined) cohort.tail = item.prev;
    else item.next.prev = item.prev;
    item.cohort = undefined;
    item.prev = undefined;
    item.next = undefined;
    if (cohort.head === undefined && cohort !== this.#current) this.#clear(cohort);
  }

  /** Makes the timers keep the process alive (someone awaits the calls in flight) until `release()`. */
  hold(): void {
    if (this.#held) return;
    this.#held = true;
    for (const cohort of this.#live) cohort.timer?.ref?.();
  }

  /** Undoes `hold()`: the timers no longer keep the process alive. */
  release(): void {
    if (!this.#held) return;
    this.#held = false;
    for (const cohort of this.#live) cohort.timer?.unref?.();
  }

  #clear(cohort: Cohort<T>): void {
    clearTimeout(cohort.timer);
    this.#live.delete(cohort);
  }
}
