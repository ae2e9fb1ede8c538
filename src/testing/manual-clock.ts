import { z } from 'zod';
import { InvalidOptionError, describeValue } from '../errors.js';
import { field, parseOptions } from '../option-schema.js';
import type { Clock } from '../observe/clock.js';

/** Options of a ManualClock. */
export interface ManualClockOptions {
  /** The time the clock starts at: ms since the epoch, or a Date. @default 2026-01-01T00:00:00Z */
  readonly start?: number | Date;
  /**
   * When true, pending `sleep`s complete by themselves: as soon as nothing
   * but timers and I/O is left to run (all promise callbacks done), the clock
   * jumps to the earliest pending deadline and wakes its sleepers, then the
   * next, and so on. No real time passes, and concurrent sleeps end in
   * deadline order, each seeing exactly its own deadline as `now()`.
   * When false, a sleep only ends when `advance` or `set` reaches it.
   * Then a sleep whose deadline is already reached (`sleep(0)`) resolves
   * at once; with `autoAdvance` it ends on the next turn, like any other.
   * @default true
   */
  readonly autoAdvance?: boolean;
}

interface Sleeper {
  readonly at: number;
  readonly seq: number;
  readonly wake: () => void;
}

/** 2026-01-01T00:00:00Z, the default start of a ManualClock. */
export const defaultStartTime = Date.UTC(2026, 0, 1);

// Captured at load so that fake timers installed later (vi.useFakeTimers) cannot stall the auto-advance.
const realSetImmediate: (callback: () => void) => unknown =
  typeof globalThis.setImmediate === 'function' ? globalThis.setImmediate : (callback) => globalThis.setTimeout(callback, 0);

const timeExpected = 'a finite number of ms since the epoch or a valid Date';
const optionsSchema = z.strictObject({
  start: field<number | Date>((value) => toTimeOrUndefined(value) !== undefined, timeExpected)
    .optional()
    .transform((value) => (value === undefined ? defaultStartTime : (toTimeOrUndefined(value) as number))),
  autoAdvance: field<boolean>((value) => typeof value === 'boolean', 'a boolean').default(true),
});

/**
 * A `Clock` moved by hand, for the glue, the rollback guard, the ramp
 * controller and the journal in tests. `sleep(ms)` waits in simulated time:
 * fakeService uses it for latency, so thousands of slow calls run in
 * milliseconds of real time.
 * @throws InvalidOptionError when `start` is not a finite number or a valid Date.
 */
export class ManualClock implements Clock {
  #now: number;
  readonly #autoAdvance: boolean;
  /** Sorted by deadline, then by order of arrival. */
  readonly #sleepers: Sleeper[] = [];
  #seq = 0;
  #scheduled = false;

  constructor(options: ManualClockOptions = {}) {
    const o = parseOptions(optionsSchema, options, 'ManualClock');
    this.#now = o.start;
    this.#autoAdvance = o.autoAdvance;
  }

  /** The current simulated time, in ms since the epoch. */
  now(): number {
    return this.#now;
  }

  /**
   * Moves time forward by `ms` and wakes every sleeper whose deadline is
   * reached (they all see the new time).
   * @throws InvalidOptionError when `ms` is negative or not finite.
   */
  advance(ms: number): void {
    if (typeof ms !== 'number' || !Number.isFinite(ms) || ms < 0) {
      throw new InvalidOptionError('ms', `must be a finite number of milliseconds >= 0, got ${describeValue(ms)}`);
    }
    this.#now += ms;
    this.#wakeDue();
  }

  /**
   * Sets the time (ms since the epoch, or a Date) and wakes every sleeper
   * whose deadline is reached. Setting an earlier time is allowed (to test
   * a clock that steps back); pending sleepers then wait longer.
   * @throws InvalidOptionError when `time` is not a finite number or a valid Date.
   */
  set(time: number | Date): void {
    this.#now = toTime(time, 'time');
    this.#wakeDue();
  }

  /**
   * Resolves once the clock has reached `now() + ms`: by itself with
   * `autoAdvance` (the default), otherwise when `advance` or `set` gets there.
   * Without `autoAdvance`, a deadline already reached (`ms` 0, or so small
   * that `now() + ms` rounds to `now()`) resolves at once: nothing else would
   * wake it. It is never queued, so it ends after every sleep woken before
   * this call and before any woken later, the order `advance` keeps. With
   * `autoAdvance` it waits for the next turn, so a loop of `sleep(0)` still
   * lets I/O run. Fractional `ms` are kept as they are.
   * @throws InvalidOptionError when `ms` is negative or not finite.
   */
  sleep(ms: number): Promise<void> {
    if (typeof ms !== 'number' || !Number.isFinite(ms) || ms < 0) {
      throw new InvalidOptionError('ms', `must be a finite number of milliseconds >= 0, got ${describeValue(ms)}`);
    }
    const at = this.#now + ms;
    // Without autoAdvance, every queued sleeper is due strictly later than now(): advance and set wake the due ones at once, and so does this.
    if (at <= this.#now && !this.#autoAdvance) return Promise.resolve();
    return new Promise<void>((wake) => {
      const sleeper: Sleeper = { at, seq: this.#seq++, wake };
      let index = this.#sleepers.length;
      while (index > 0 && this.#sleepers[index - 1]!.at > sleeper.at) index -= 1;
      this.#sleepers.splice(index, 0, sleeper);
      if (this.#autoAdvance) this.#schedule();
    });
  }

  /** Number of sleeps not yet over. */
  get pendingSleeps(): number {
    return this.#sleepers.length;
  }

  #wakeDue(): void {
    let due = 0;
    while (due < this.#sleepers.length && this.#sleepers[due]!.at <= this.#now) due += 1;
    if (due === 0) return;
    for (const sleeper of this.#sleepers.splice(0, due)) sleeper.wake();
  }

  #schedule(): void {
    if (this.#scheduled) return;
    this.#scheduled = true;
    // An immediate runs only after every pending promise callback: by then all concurrent sleeps are registered.
    realSetImmediate(() => {
      this.#scheduled = false;
      const next = this.#sleepers[0];
      if (next === undefined) return;
      if (next.at > this.#now) this.#now = next.at;
      this.#wakeDue();
      if (this.#sleepers.length > 0) this.#schedule();
    });
  }
}

function toTimeOrUndefined(value: unknown): number | undefined {
  const time = value instanceof Date ? value.getTime() : value;
  return typeof time === 'number' && Number.isFinite(time) ? time : undefined;
}

function toTime(value: number | Date, option: string): number {
  const time = toTimeOrUndefined(value);
  if (time === undefined) throw new InvalidOptionError(option, `must be ${timeExpected}, got ${describeValue(value)}`);
  return time;
}
