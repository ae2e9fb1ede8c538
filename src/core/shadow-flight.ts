import type { Comparison, Outcome } from '../compare/comparator.js';
import type { RoutingKey } from '../hashing/hasher.js';
import type { Cohort, Timed } from './shadow-timer.js';

/** What a shadow call holds while in flight; dropped as a whole when it lands (compared or timed out). */
export interface Cargo<I, O> {
  readonly input: I;
  /** What new is given: a clone of `input` with `isolateInput: 'clone'`, else `input` itself. */
  newInput: I;
  /** A second clone, to tell whether new mutated `newInput`; undefined without cloning. */
  snapshot: I | undefined;
  old: Outcome<O> | undefined;
  new: Outcome<O> | undefined;
  /** With `rerunOldOnMismatch`: the mismatch waiting for old's second answer. */
  pending: Comparison | undefined;
}

/**
 * One shadow call. Continuations of pending service calls hold this small
 * object only: once it lands, `cargo` is dropped, so a new that never answers
 * pins nothing of the call (input, copies, old's output).
 */
export interface Flight<I, O> extends Timed<Flight<I, O>> {
  readonly key: RoutingKey | undefined;
  /** Clock reading when the flight took off (after the input was isolated): the start of the first call. */
  readonly start: number;
  done: boolean;
  cargo: Cargo<I, O> | undefined;
  oldMs: number;
  newMs: number;
  /** The clock reading at which the last side settled: the comparison's time in the window counts. */
  settledAt: number;
  /** With `new-first`: starts old; called when new settled or the flight landed, whichever first. */
  gate: (() => void) | undefined;
  cohort: Cohort<Flight<I, O>> | undefined;
  prev: Flight<I, O> | undefined;
  next: Flight<I, O> | undefined;
}

/** The cargo of a flight taking off with `input` (isolated next, see InputIsolation). */
export function newCargo<I, O>(input: I): Cargo<I, O> {
  return { input, newInput: input, snapshot: undefined, old: undefined, new: undefined, pending: undefined };
}

/** A flight taking off with `cargo` at clock reading `start`. */
export function newFlight<I, O>(key: RoutingKey | undefined, cargo: Cargo<I, O>, start: number): Flight<I, O> {
  return { key, start, done: false, cargo, oldMs: 0, newMs: 0, settledAt: 0, gate: undefined, cohort: undefined, prev: undefined, next: undefined };
}
