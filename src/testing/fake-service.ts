import type { Outcome } from '../compare/comparator.js';
import type { Service } from '../core/service.js';
import { InvalidOptionError, describeValue } from '../errors.js';
import type { Clock } from '../observe/clock.js';
import type { Random } from './random.js';
import { deriveSeed, normalFrom, seededRandom } from './random.js';

/**
 * How long a fake call takes, in ms: a fixed number, a seeded distribution
 * (samples below 0 count as 0), or a function of the input and call index.
 */
export type LatencyScript<I> =
  | number
  | { readonly kind: 'normal'; readonly mean: number; readonly sd: number }
  | { readonly kind: 'uniform'; readonly min: number; readonly max: number }
  | { readonly kind: 'exponential'; readonly mean: number }
  | ((input: I, callIndex: number) => number);

/** Which calls of a fake fail or hang: a list of call indices (0-based), or a predicate. */
export type CallSelector<I> = readonly number[] | ((input: I, callIndex: number) => boolean);

/**
 * What a fake service does. Everything but `output` is optional; a fake
 * without latency, failures or hangs answers at once. For each call, in this
 * order: a hang wins over a failure, a failure over an output.
 */
export interface FakeScript<I, O> {
  /**
   * The answer: a function of the input and the call index (0-based, counted
   * over the fake's life), or a list. A list gives its items in order, then
   * repeats its last item for ever (`outputs: 'cycle'` starts over instead).
   * A function may throw or return a promise: the call then fails or settles
   * with it, after the latency.
   */
  readonly output: ((input: I, callIndex: number) => O | Promise<O>) | readonly O[];
  /** What a list of outputs does once exhausted. @default 'repeat-last' */
  readonly outputs?: 'repeat-last' | 'cycle';
  /** @default 0 (answers without waiting) */
  readonly latency?: LatencyScript<I>;
  /** Share of calls that fail, 0 to 1, drawn under the seed. @default 0 */
  readonly failRate?: number;
  /** Calls that fail whatever `failRate` says. @default none */
  readonly failOn?: CallSelector<I>;
  /**
   * What a failing call rejects with: any value, or, when a function, a
   * factory called with the input and the call index.
   * @default an Error "fake service failed on call N"
   */
  readonly error?: unknown;
  /** Calls that never settle: `true` for all of them, or a selector. @default false */
  readonly hang?: boolean | CallSelector<I>;
  /** Share of calls that never settle, 0 to 1, drawn under the seed. @default 0 */
  readonly hangRate?: number;
}

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

/** How a fake call went: `pending` while it waits out its latency, `hang` when it will never settle. */
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
  if (typeof options !== 'object' || options === null) {
    throw new InvalidOptionError('options', `must be an object, got ${describeValue(options)}`);
  }
  const name = options.name ?? 'fake';
  if (typeof name !== 'string') throw new InvalidOptionError('name', `must be a string, got ${describeValue(name)}`);
  const seed = options.seed ?? 1;
  if (typeof seed !== 'number' || !Number.isInteger(seed)) {
    throw new InvalidOptionError('seed', `must be an integer, got ${describeValue(seed)}`);
  }
  const clock = options.clock ?? realTime;
  if (typeof clock !== 'object' || clock === null || typeof clock.now !== 'function' || typeof clock.sleep !== 'function') {
    throw new InvalidOptionError('clock', `must have now() and sleep(ms) methods (a ManualClock), got ${describeValue(options.clock)}`);
  }
  const random = {
    latency: seededRandom(deriveSeed(seed, name, 'latency')),
    fail: seededRandom(deriveSeed(seed, name, 'fail')),
    hang: seededRandom(deriveSeed(seed, name, 'hang')),
  };
  const { name: _name, seed: _seed, clock: _clock, ...initial } = options;
  let script = checkScript<I, O>(initial);
  const calls: MutableCall<I, O>[] = [];
  let nextIndex = 0;

  async function run(call: MutableCall<I, O>, current: FakeScript<I, O>, fails: boolean): Promise<O> {
    const latency = call.latencyMs ?? 0;
    if (latency > 0) await clock.sleep(latency);
    try {
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

function selected<I>(selector: boolean | CallSelector<I> | undefined, input: I, index: number): boolean {
  if (selector === undefined || selector === false) return false;
  if (selector === true) return true;
  if (typeof selector === 'function') return selector(input, index);
  return selector.includes(index);
}

function outputOf<I, O>(script: FakeScript<I, O>, input: I, index: number): O | Promise<O> {
  const output = script.output;
  if (typeof output === 'function') return output(input, index);
  const position = script.outputs === 'cycle' ? index % output.length : Math.min(index, output.length - 1);
  return output[position] as O;
}

function makeError(error: unknown, input: unknown, index: number, name: string): unknown {
  if (error === undefined) return new Error(`${name} failed on call ${index}`);
  if (typeof error === 'function') return (error as (input: unknown, index: number) => unknown)(input, index);
  return error;
}

function latencyOf<I>(latency: LatencyScript<I> | undefined, input: I, index: number, random: Random): number {
  // Two draws per call for every distribution keeps the stream aligned when the distribution changes.
  const u = random();
  const v = random();
  if (latency === undefined) return 0;
  if (typeof latency === 'number') return latency;
  if (typeof latency === 'function') {
    const ms = latency(input, index);
    if (typeof ms !== 'number' || !Number.isFinite(ms) || ms < 0) {
      throw new InvalidOptionError('latency', `function must return a finite number of ms >= 0, got ${describeValue(ms)}`);
    }
    return ms;
  }
  switch (latency.kind) {
    case 'uniform':
      return latency.min + (latency.max - latency.min) * u;
    case 'normal':
      return Math.max(0, normalFrom(u, v, latency.mean, latency.sd));
    case 'exponential':
      return -latency.mean * Math.log(1 - u);
  }
}

function checkScript<I, O>(script: FakeScript<I, O>): FakeScript<I, O> {
  if (typeof script !== 'object' || script === null) {
    throw new InvalidOptionError('script', `must be an object, got ${describeValue(script)}`);
  }
  const { output } = script;
  if (typeof output !== 'function') {
    if (!Array.isArray(output) || output.length === 0) {
      throw new InvalidOptionError('output', `must be a function or a non-empty array, got ${describeValue(output)}`);
    }
  }
  if (script.outputs !== undefined && script.outputs !== 'repeat-last' && script.outputs !== 'cycle') {
    throw new InvalidOptionError('outputs', `must be 'repeat-last' or 'cycle', got ${describeValue(script.outputs)}`);
  }
  checkLatency(script.latency);
  checkRate(script.failRate, 'failRate');
  checkRate(script.hangRate, 'hangRate');
  checkSelector(script.failOn, 'failOn');
  if (typeof script.hang !== 'boolean') checkSelector(script.hang, 'hang');
  return Object.freeze({ ...script });
}

function checkLatency<I>(latency: LatencyScript<I> | undefined): void {
  if (latency === undefined || typeof latency === 'function') return;
  const bad = (message: string) => new InvalidOptionError('latency', message);
  if (typeof latency === 'number') {
    if (!isMs(latency)) throw bad(`must be a finite number of ms >= 0, got ${describeValue(latency)}`);
    return;
  }
  if (typeof latency !== 'object' || latency === null) {
    throw bad(`must be a number, a distribution or a function, got ${describeValue(latency)}`);
  }
  switch (latency.kind) {
    case 'uniform':
      if (!isMs(latency.min) || !isMs(latency.max) || latency.max < latency.min) {
        throw bad(`uniform needs 0 <= min <= max, got min ${describeValue(latency.min)}, max ${describeValue(latency.max)}`);
      }
      return;
    case 'normal':
      if (!isMs(latency.mean) || !isMs(latency.sd)) {
        throw bad(`normal needs mean >= 0 and sd >= 0, got mean ${describeValue(latency.mean)}, sd ${describeValue(latency.sd)}`);
      }
      return;
    case 'exponential':
      if (!isMs(latency.mean)) throw bad(`exponential needs mean >= 0, got ${describeValue(latency.mean)}`);
      return;
    default:
      throw bad(`kind must be 'normal', 'uniform' or 'exponential', got ${describeValue((latency as { kind?: unknown }).kind)}`);
  }
}

function isMs(value: unknown): value is number {
  return typeof value === 'number' && Number.isFinite(value) && value >= 0;
}

function checkRate(rate: number | undefined, option: string): void {
  if (rate === undefined) return;
  if (typeof rate !== 'number' || !(rate >= 0 && rate <= 1)) {
    throw new InvalidOptionError(option, `must be a number from 0 to 1, got ${describeValue(rate)}`);
  }
}

function checkSelector<I>(selector: CallSelector<I> | undefined, option: string): void {
  if (selector === undefined || typeof selector === 'function') return;
  if (!Array.isArray(selector) || !selector.every((index) => Number.isInteger(index) && index >= 0)) {
    throw new InvalidOptionError(option, `must be a list of call indices (integers >= 0) or a function, got ${describeValue(selector)}`);
  }
}
