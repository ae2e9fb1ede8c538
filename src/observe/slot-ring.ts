import type { Clock } from './clock.js';
import { z } from 'zod';
import { field, option, parseOptions } from '../option-schema.js';

/** Options of a sliding window; shared by ArmMetrics and WindowCounts. */
export interface SlidingWindowOptions {
  /** Source of time, in milliseconds. */
  readonly clock: Clock;
  /**
   * Length of the window in milliseconds; finite, > 0.
   * @default 300000 (five minutes)
   */
  readonly windowMs?: number;
  /**
   * Number of time slots the window is divided into (integer, 1 to 3600): the
   * window moves in steps of `windowMs / slots`.
   * @default 60
   */
  readonly slots?: number;
}

/** Default window length in milliseconds: five minutes. */
export const DEFAULT_WINDOW_MS = 300_000;
/** Default number of slots per window. */
export const DEFAULT_SLOTS = 60;
const MAX_SLOTS = 3600;

/** Sliding-window options after defaults and checks. */
export interface ResolvedWindow {
  readonly clock: Clock;
  readonly windowMs: number;
  readonly slots: number;
}

const windowSchema = z.strictObject({
  // Checked, not wrapped: the owner (a glue) already guards its clock, and this one is read on every call.
  clock: field<Clock>((value) => typeof value === 'object' && value !== null && typeof (value as Partial<Clock>).now === 'function', 'an object with a now() method'),
  windowMs: field<number>((value) => typeof value === 'number' && Number.isFinite(value) && value > 0, 'a finite number of milliseconds > 0').default(
    DEFAULT_WINDOW_MS,
  ),
  slots: option.range(1, MAX_SLOTS, true).default(DEFAULT_SLOTS),
});

/** Applies defaults and validates; throws InvalidOptionError naming the option (or an unknown one) and the value received. */
export function resolveWindowOptions(options: SlidingWindowOptions): ResolvedWindow {
  return parseOptions(windowSchema, options, 'a sliding window');
}

/**
 * The time bookkeeping of a sliding window: a ring of `slots` slots, each
 * `windowMs / slots` long. The owner keeps the data per slot index;
 * `advance()` tells it, lazily, which slots left the window.
 * @internal
 */
export class SlotRing {
  readonly slots: number;
  readonly slotMs: number;
  readonly #clock: Clock;
  readonly #expireSlot: (index: number) => void;
  readonly #expireAll: () => void;
  /** Slot number (time / slotMs, floored) of the newest slot seen. */
  #current: number;
  #index: number;

  /**
   * @param expireSlot called with the ring index of each slot that leaves the window, oldest first.
   * @param expireAll called instead when the whole window has passed at once.
   */
  constructor(window: ResolvedWindow, expireSlot: (index: number) => void, expireAll: () => void) {
    this.slots = window.slots;
    this.slotMs = window.windowMs / window.slots;
    this.#clock = window.clock;
    this.#expireSlot = expireSlot;
    this.#expireAll = expireAll;
    this.#current = 0;
    this.#index = 0;
    this.restart();
  }

  /** Moves to the clock's current slot, expiring the slots that left the window; returns its ring index. */
  advance(): number {
    return this.advanceTo(this.#clock.now());
  }

  /**
   * Like `advance()`, for a caller that has just read this ring's clock:
   * `nowMs` is that reading, which saves reading the clock again.
   */
  advanceTo(nowMs: number): number {
    const now = Math.floor(nowMs / this.slotMs);
    // Also true for NaN and Infinity: a clock that stands still, steps back or breaks keeps the newest slot.
    if (!(now > this.#current) || now === Infinity) return this.#index;
    if (now - this.#current >= this.slots) {
      this.#expireAll();
    } else {
      // Slot number k reuses the ring index of k - slots, which now leaves the window.
      for (let k = this.#current + 1; k <= now; k++) this.#expireSlot(this.#indexOf(k));
    }
    this.#current = now;
    this.#index = this.#indexOf(now);
    return this.#index;
  }

  /** Re-anchors the ring at the clock's current slot, without expiring anything (the owner has cleared). */
  restart(): void {
    const now = this.#slotNow();
    if (!Number.isFinite(now)) return;
    this.#current = now;
    this.#index = this.#indexOf(now);
  }

  #slotNow(): number {
    return Math.floor(this.#clock.now() / this.slotMs);
  }

  #indexOf(slot: number): number {
    const index = slot % this.slots;
    return index < 0 ? index + this.slots : index;
  }
}
