import type { Logger } from './logger.js';

/** A listener of one event; what it returns is ignored, what it throws is logged. */
export type Listener<P> = (payload: P) => void;

/**
 * A synchronous, typed event emitter. A listener that throws is logged and
 * never stops the others nor reaches the code that emitted.
 */
export class Emitter<Events extends object> {
  readonly #listeners = new Map<keyof Events, Set<Listener<never>>>();
  readonly #logger: Logger;

  constructor(logger: Logger) {
    this.#logger = logger;
  }

  /** Adds a listener; returns a function that removes it. */
  on<E extends keyof Events>(event: E, listener: Listener<Events[E]>): () => void {
    let set = this.#listeners.get(event);
    if (set === undefined) {
      set = new Set();
      this.#listeners.set(event, set);
    }
    set.add(listener as Listener<never>);
    return () => {
      const current = this.#listeners.get(event);
      if (current === undefined) return;
      current.delete(listener as Listener<never>);
      if (current.size === 0) this.#listeners.delete(event);
    };
  }

  /** True when someone listens to `event`: lets the hot path skip building a payload. */
  has(event: keyof Events): boolean {
    return this.#listeners.has(event);
  }

  emit<E extends keyof Events>(event: E, payload: Events[E]): void {
    const set = this.#listeners.get(event);
    if (set === undefined) return;
    for (const listener of set) {
      try {
        (listener as Listener<Events[E]>)(payload);
      } catch (err) {
        this.#logger.warn({ err, event: String(event) }, 'event listener threw');
      }
    }
  }

  clear(): void {
    this.#listeners.clear();
  }
}
