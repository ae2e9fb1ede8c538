import type { LogLimiter } from '../observe/log-limiter.js';
import { cloneInput } from './clone-input.js';
import type { Cargo, Flight } from './shadow-flight.js';
import { checkInput } from './input-check.js';

/**
 * With `isolateInput: 'clone'`: gives new a structured clone of the input
 * (so new can never change what old sees), keeps a second one to tell
 * whether new mutated its copy, and gives old's re-run a fresh copy. With
 * `none`, everyone gets the same object and nothing is checked.
 */
export class InputIsolation<I, O> {
  readonly #name: string;
  readonly #clone: boolean;
  readonly #log: LogLimiter;
  #mutations = 0;
  #cloneFailures = 0;

  constructor(init: { name: string; clone: boolean; log: LogLimiter }) {
    this.#name = init.name;
    this.#clone = init.clone;
    this.#log = init.log;
  }

  /** Shadow calls whose input new mutated. */
  get mutations(): number {
    return this.#mutations;
  }

  /** Sets the cargo's `newInput` and `snapshot`; an input that cannot be cloned is passed as is (warned once). */
  isolate(cargo: Cargo<I, O>): void {
    if (!this.#clone) return;
    try {
      cargo.newInput = cloneInput(cargo.input);
      cargo.snapshot = cloneInput(cargo.input);
    } catch (err) {
      cargo.newInput = cargo.input;
      cargo.snapshot = undefined;
      if (this.#cloneFailures++ === 0) {
        this.#log.log('warn', 'clone', { err, migration: this.#name }, 'shadow input cannot be cloned; new gets the same object (set shadow.isolateInput to none to silence)');
      }
    }
  }

  /** True (counted, logged) when new mutated its copy of the input; a copy that cannot be checked is logged only. */
  mutated(flight: Flight<I, O>, cargo: Cargo<I, O>): boolean {
    if (cargo.snapshot === undefined) return false;
    const found = checkInput(cargo.snapshot, cargo.newInput);
    if (found === 'same') return false;
    if (found === 'unchecked') {
      this.#log.log('warn', 'input-unchecked', { migration: this.#name, key: flight.key }, 'the shadow input could not be checked for mutation (too large, or new made it unreadable)');
      return false;
    }
    this.#mutations += 1;
    this.#log.log('warn', 'input-mutated', { migration: this.#name, key: flight.key }, 'the new service mutated its input');
    return true;
  }

  /** A fresh copy of the pristine input for old's second call, or the input itself. */
  rerunInput(cargo: Cargo<I, O>): I {
    if (!this.#clone || cargo.snapshot === undefined) return cargo.input;
    try {
      return cloneInput(cargo.snapshot);
    } catch {
      return cargo.input;
    }
  }
}
