import { ignoreRejection } from '../errors.js';
import type { Logger } from '../observe/logger.js';
import { requireListener } from './store-options.js';

const noop = (): void => {};

/**
 * The listeners of one kind of change in a store (the config, the ramp
 * state). A listener is checked when added; each call is guarded: one that
 * throws is logged at `warn` and skipped, one that returns a rejected
 * promise never becomes an unhandled rejection. After `close()`, adding is
 * a no-op and nobody is called.
 */
export class Listeners<T> {
  readonly #set = new Set<(value: T) => void>();
  readonly #logger: Logger;
  readonly #message: string;
  readonly #context: object;
  #closed = false;

  /** `message` is what a throwing listener is logged as, e.g. "config listener threw"; `context` goes with it. */
  constructor(logger: Logger, message: string, context: object = {}) {
    this.#logger = logger;
    this.#message = message;
    this.#context = context;
  }

  /**
   * Adds `listener`; returns a function that removes it.
   * @throws InvalidOptionError when `listener` is not a function.
   */
  add(listener: (value: T) => void): () => void {
    requireListener(listener);
    if (this.#closed) return noop;
    this.#set.add(listener);
    return () => {
      this.#set.delete(listener);
    };
  }

  /** Calls every listener with `value`, those added during the round included only from the next. */
  notify(value: T): void {
    if (this.#closed) return;
    for (const listener of [...this.#set]) {
      try {
        ignoreRejection(listener(value));
      } catch (err) {
        this.#logger.warn({ ...this.#context, err }, this.#message);
      }
    }
  }

  /** Drops every listener; later `add` calls are no-ops. Idempotent. */
  close(): void {
    this.#closed = true;
    this.#set.clear();
  }
}
