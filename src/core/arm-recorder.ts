import type { RoutingKey } from '../hashing/hasher.js';
import { ArmMetrics } from '../observe/arm-metrics.js';
import type { Clock } from '../observe/clock.js';
import type { Emitter } from '../observe/emitter.js';
import type { Arm, GlueEvents } from './events.js';
import type { ArmStats } from './stats.js';
import type { CallSink } from './timed.js';

/**
 * Where every call a glue serves is recorded, whichever path served it
 * (routing, fallback, or old's call in shadow mode): the metrics of its arm,
 * then the `settled` event (what the rollback guard listens to).
 */
export class ArmRecorder<I, O> implements CallSink<I, Arm> {
  readonly #name: string;
  readonly #emitter: Emitter<GlueEvents<I, O>>;
  readonly #keyOf: (input: I) => RoutingKey | undefined;
  readonly #old: ArmMetrics;
  readonly #new: ArmMetrics;

  constructor(init: {
    name: string;
    clock: Clock;
    windowMs: number;
    emitter: Emitter<GlueEvents<I, O>>;
    /** The routing key shown in `settled`; read only when someone listens. */
    keyOf: (input: I) => RoutingKey | undefined;
  }) {
    this.#name = init.name;
    this.#emitter = init.emitter;
    this.#keyOf = init.keyOf;
    this.#old = new ArmMetrics({ clock: init.clock, windowMs: init.windowMs });
    this.#new = new ArmMetrics({ clock: init.clock, windowMs: init.windowMs });
  }

  /** Records one served call. `end`: the clock reading the duration ended at. */
  settled(arm: Arm, input: I, ok: boolean, _result: unknown, durationMs: number, end: number): void {
    // A clock that stepped back gives a negative duration: count it as 0.
    const duration = durationMs > 0 ? durationMs : 0;
    (arm === 'old' ? this.#old : this.#new).record(duration, !ok, end);
    if (this.#emitter.has('settled')) {
      this.#emitter.emit('settled', { migration: this.#name, key: this.#keyOf(input), arm, ok, durationMs: duration });
    }
  }

  /** Both arms' figures, their windows moved to `now` (one reading for both). */
  stats(now: number): { readonly old: ArmStats; readonly new: ArmStats } {
    return { old: this.#old.totalWithWindow(now), new: this.#new.totalWithWindow(now) };
  }
}
