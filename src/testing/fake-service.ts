import type { Outcome } from '../compare/comparator.js';
import type { Service } from '../core/service.js';
import { z } from 'zod';
import { describeValue } from '../errors.js';
import type { Clock } from '../observe/clock.js';
import { field, parseOptions } from '../option-schema.js';
import type { FakeScript } from './fake-script.js';
import { checkScript, latencyOf, makeError, outputOf, scriptShape, selected } from './fake-script.js';
import { deriveSeed, seededRandom } from './random.js';

export type { CallSelector, FakeScript, LatencyScript } from './fake-script.js';

/** A clock that can wait in simulated time, such as ManualClock. */
export interface SleepingClock extends Clock {
  sleep(ms: number): Promise<void>;
}

/** Options of fakeService: the script, plus what stays fixed for the fake's life. */
export interface FakeServiceOptions<I, O> extends FakeScript<I, O> {
  /** Named in default errors; mixed into the seed, so two fakes with different names draw differently. @default 'fake' */
  readonly name?: string;
  /** Seed of every random draw (latency, failRate, hangRate). @default 1 */
  readonly seed?: number;
  /**
   * Simulated time: latency is waited with `clock.sleep(ms)` (no real
   * waiting with a ManualClock) and calls are stamped with `clock.now()`.
   * @default real timers (`setTimeout`) and `Date.now()`
   */
  readonly clock?: SleepingClock;
}

/**
 * How a fake call went: `pending` while it waits out its latency, `hang` when
 * it will never settle. Every call that settles leaves `pending`: `error` also
 * when the clock's `sleep` threw or rejected.
 */
export type FakeCallStatus = 'pending' | 'ok' | 'error' | 'hang';

/** One recorded call of a fake service. Updated in place when the call settles. */
export interface FakeCall<I, O> {
  /** 0-based, counted over the fake's life (across `setScript`). */
  readonly index: number;
  /** The input as received (the same object). */
  readonly input: I;
  /** Clock time when the call started, in ms since the epoch. */
  readonly startedAt: number;
  readonly status: FakeCallStatus;
  /** The scripted latency in ms; undefined for a hang. */
  readonly latencyMs: number | undefined;
  /** The value or error given; undefined while pending and for a hang. */
  readonly outcome: Outcome<O> | undefined;
  /** Clock time from start to settling, in ms; undefined while pending and for a hang. */
  readonly durationMs: number | undefined;
}

/** A scripted Service that records every call. `process` may be passed around unbound. */
export interface FakeService<I, O> extends Service<I, O> {
  /** Every call so far, in order of arrival. */
  readonly calls: readonly FakeCall<I, O>[];
  /** The script in force. */
  readonly script: FakeScript<I, O>;
  /** The seed in force (the default included), to replay a run. */
  readonly seed: number;
  /**
   * Replaces the script (not merged: spread `fake.script` to change one
   * field). Call indices, recorded calls and the random streams carry on.
   * @throws InvalidOptionError like fakeService.
   */
  setScript(script: FakeScript<I, O>): void;
  /** Forgets the recorded calls; call indices carry on. */
  clearCalls(): void;
}

interface MutableCall<I, O> {
  index: number;
  input: I;
  startedAt: number;
  status: FakeCallStatus;
  latencyMs: number | undefined;
  outcome: Outcome<O> | undefined;
  durationMs: number | undefined;
}

const realTime: SleepingClock = {
  now: () => Date.now(),
  sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
};

const isSleepingClock = (value: unknown): boolean =>
  typeof value === 'object' && value !== null && typeof (value as Partial<SleepingClock>).now === 'function' && typeof (value as Partial<SleepingClock>).sleep === 'function';

const optionsSchema = z.strictObject({
  ...scriptShape,
  name: field<string>((value) => typeof value === 'string', 'a string').default('fake'),
  seed: field<number>((value) => typeof value === 'number' && Number.isInteger(value), 'an integer').default(1),
  // A fake's clock must also sleep; it is used as given (a ManualClock), never wrapped.
  clock: z
    .custom<SleepingClock>(isSleepingClock, { error: (issue) => `must have now() and sleep(ms) methods (a ManualClock), got ${describeValue(issue.input)}` })
    .default(realTime),
});

/**
 * A fake Service for tests: scripted outputs, latency, failures and hangs,
 * deterministic under `seed`, recording every call.
 * @example
 * const clock = new ManualClock();
 * const pricing = fakeService<Cart, Price>({
 *   output: (cart) => ({ total: cart.items.length * 10 }),
 *   latency: { kind: 'normal', mean: 40, sd: 10 },
 *   failRate: 0.02,
 *   seed: 7,
 *   clock,
 * });
 * @throws InvalidOptionError naming the bad option and the value received.
 */
export function fakeService<I, O>(options: FakeServiceOptions<I, O>): FakeService<I, O> {
  const { name, seed, clock } = parseOptions(optionsSchema, options, 'fakeService');
  const random = {
    latency: seededRandom(deriveSeed(seed, name, 'latency')),
    fail: seededRandom(deriveSeed(seed, name, 'fail')),
    hang: seededRandom(deriveSeed(seed, name, 'hang')),
  };
  const { name: _name, seed: _seed, clock: _clock, ...initial } = options;
  let script: FakeScript<I, O> = Object.freeze({ ...initial });
  const calls: MutableCall<I, O>[] = [];
  let nextIndex = 0;

  async function run(call: MutableCall<I, O>, current: FakeScript<I, O>, fails: boolean): Promise<O> {
    const latency = call.latencyMs ?? 0;
    // The wait is inside the try: a clock whose sleep throws or rejects fails the call and settles its record, never leaving it pending.
    try {
      if (latency > 0) await clock.sleep(latency);
      if (fails) throw makeError(current.error, call.input, call.index, name);
      const value = await outputOf(current, call.input, call.index);
      settle(call, { ok: true, value });
      return value;
    } catch (error) {
      settle(call, { ok: false, error });
      throw error;
    }
  }

  function settle(call: MutableCall<I, O>, outcome: Outcome<O>): void {
    call.status = outcome.ok ? 'ok' : 'error';
    call.outcome = outcome;
    call.durationMs = clock.now() - call.startedAt;
  }

  return {
    process(input: I): Promise<O> {
      const index = nextIndex++;
      const current = script;
      const call: MutableCall<I, O> = {
        index,
        input,
        startedAt: clock.now(),
        status: 'pending',
        latencyMs: undefined,
        outcome: undefined,
        durationMs: undefined,
      };
      calls.push(call);
      // Every stream draws once per call whatever the script uses, so changing one rate never shifts another's draws.
      const hangDraw = random.hang();
      const failDraw = random.fail();
      let latency: number;
      let fails: boolean;
      try {
        latency = latencyOf(current.latency, input, index, random.latency);
        if (selected(current.hang, input, index) || hangDraw < (current.hangRate ?? 0)) {
          call.status = 'hang';
          return new Promise<O>(() => {});
        }
        fails = selected(current.failOn, input, index) || failDraw < (current.failRate ?? 0);
      } catch (error) {
        // A script function that throws (or a bad latency) fails the call, never the caller synchronously.
        settle(call, { ok: false, error });
        return Promise.reject(error);
      }
      call.latencyMs = latency;
      return run(call, current, fails);
    },
    get calls() {
      return calls;
    },
    get script() {
      return script;
    },
    seed,
    setScript(next: FakeScript<I, O>): void {
      script = checkScript(next);
    },
    clearCalls(): void {
      calls.length = 0;
    },
  };
}
