import type { Logger } from './logger.js';

/** A listener of one event; what it returns is ignored, what it throws (or a promise it returns rejects with) is logged. */
export type Listener<P> = (payload: P) => void;

/**
 * A synchronous, typed event emitter. A listener that throws, or returns a
 * promise that rejects, is logged and never stops the others nor reaches the
 * code that emitted. An emit calls the listeners registered when it began:
 * one added or removed by a listener takes effect from the next emit.
 */
export class Emitter<Events extends object> {
  // Copy-on-write arrays: emit iterates a snapshot without copying it.
  readonly #listeners = new Map<keyof Events, readonly Listener<never>[]>();
  readonly #logger: Logger;

  constructor(logger: Logger) {
    this.#logger = logger;
  }

  /** Adds a listener; returns a function that removes it. */
  on<E extends keyof Events>(event: E, listener: Listener<Events[E]>): () => void {
    const entry = listener as Listener<never>;
    this.#listeners.set(event, [...(this.#listeners.get(event) ?? []), entry]);
    let removed = false;
    return () => {
      if (removed) return;
      removed = true;
      const current = this.#listeners.get(event);
      if (current === undefined) return;
      const index = current.indexOf(entry);
      if (index === -1) return;
      const next = current.filter((_, i) => i !== index);
      if (next.length === 0) this.#listeners.delete(event);
      else this.#listeners.set(event, next);
    };
  }

  /** True when someone listens to `event`: lets the hot path skip building a payload. */
  has(event: keyof Events): boolean {
    return this.#listeners.has(event);
  }

  emit<E extends keyof Events>(event: E, payload: Events[E]): void {
    const listeners = this.#listeners.get(event);
    if (listeners === undefined) return;
    for (const listener of listeners) {
      try {
        const result: unknown = (listener as Listener<Events[E]>)(payload);
        if (result !== undefined) this.#watch(result, event);
      } catch (err) {
        this.#failed(err, event);
      }
    }
  }

  clear(): void {
    this.#listeners.clear();
  }

  /** An async listener: its rejection must be logged, not left unhandled. */
  #watch(result: unknown, event: keyof Events): void {
    if ((typeof result !== 'object' && typeof result !== 'function') || result === null) return;
    const then = (result as { then?: unknown }).then;
    if (typeof then !== 'function') return;
    then.call(result, undefined, (err: unknown) => this.#failed(err, event));
  }

  #failed(err: unknown, event: keyof Events): void {
    this.#logger.warn({ err, event: String(event) }, 'event listener threw');
  }
}
