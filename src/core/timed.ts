import { MigrationGlueError } from '../errors.js';
import type { Clock } from '../observe/clock.js';
import type { ServiceCall } from './service.js';

/**
 * Told how a call that `timed` ran ended. Called before the caller sees the
 * outcome; must not throw (the caller would get that error instead).
 * `end` is the clock reading the duration was computed from: a window that
 * records the call can move to it without reading the clock again.
 */
export interface CallSink<I, C> {
  settled(context: C, input: I, ok: boolean, result: unknown, durationMs: number, end: number): void;
}

/**
 * Calls `call(input)` and times it with `clock`: tells `sink` (with
 * `context`) the outcome and the duration, then resolves or rejects with
 * exactly what the call gave (a synchronous throw becomes a rejection). The
 * one place where a served call is timed and recorded. `start`: a reading
 * of `clock` taken just before, when the caller has one (the shadow runner's
 * take-off), saving one read on the shadow path. `recover`, when given,
 * answers in place of a failed call (the glue's fallback to old), in the
 * same async frame: measured, a second frame (or a `.catch`) around this
 * one made a call in full with fallback about 30 % slower.
 */
export async function timed<I, O, C>(
  clock: Clock,
  call: ServiceCall<I, O>,
  input: I,
  sink: CallSink<I, C>,
  context: C,
  start = clock.now(),
  recover?: (error: unknown) => Promise<O>,
): Promise<O> {
  let value: O;
  try {
    value = await call(input);
  } catch (error) {
    const end = clock.now();
    sink.settled(context, input, false, error, end - start, end);
    if (recover !== undefined) return recover(error);
    throw error;
  }
  const end = clock.now();
  sink.settled(context, input, true, value, end - start, end);
  return value;
}

/**
 * `timed` again, for the shadow runner's call of old: the same body, as a
 * function of its own so that its call sites (the service called, the sink
 * told) stay monomorphic, apart from the glue's served calls. Measured: a
 * shared function costs about 15 % of a shadow call when the glue's other
 * paths also run in the process.
 */
export async function timedShadowOld<I, O, C>(clock: Clock, call: ServiceCall<I, O>, input: I, sink: CallSink<I, C>, context: C, start = clock.now()): Promise<O> {
  let value: O;
  try {
    value = await call(input);
  } catch (error) {
    const end = clock.now();
    sink.settled(context, input, false, error, end - start, end);
    throw error;
  }
  const end = clock.now();
  sink.settled(context, input, true, value, end - start, end);
  return value;
}

/**
 * `timed` for a call nobody awaits (the shadow's call of new): the outcome
 * goes to `sink` only, and nothing is returned, so a failure needs no
 * handler of its own. Saves the promise `timed` would return (measured: a
 * few % of a shadow call).
 */
export function timedInBackground<I, O, C>(clock: Clock, call: ServiceCall<I, O>, input: I, sink: CallSink<I, C>, context: C, start = clock.now()): void {
  let answer: Promise<O>;
  try {
    answer = Promise.resolve(call(input));
  } catch (error) {
    answer = Promise.reject(error);
  }
  answer.then(
    (value) => settle(clock, sink, context, input, true, value, start),
    (error: unknown) => settle(clock, sink, context, input, false, error, start),
  );
}

function settle<I, C>(clock: Clock, sink: CallSink<I, C>, context: C, input: I, ok: boolean, result: unknown, start: number): void {
  const end = clock.now();
  sink.settled(context, input, ok, result, end - start, end);
}

/**
 * `call` bounded by `timeoutMs` of real time: past it, the call rejects with
 * ERR_TIMEOUT (`what` names the side in the message). The abandoned call's
 * late rejection is handled, never left unhandled.
 */
export function withTimeout<I, O>(call: ServiceCall<I, O>, timeoutMs: number, what: string): ServiceCall<I, O> {
  return async (input) => {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const answer = (async () => call(input))();
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new MigrationGlueError('ERR_TIMEOUT', `${what} took longer than ${timeoutMs} ms`)), timeoutMs);
    });
    try {
      return await Promise.race([answer, timeout]);
    } finally {
      clearTimeout(timer);
      answer.catch(() => {});
    }
  };
}
