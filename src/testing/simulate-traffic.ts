import type { Arm } from '../core/events.js';
import type { MigrationGlue } from '../core/migration-glue.js';
import type { MigrationStats } from '../core/stats.js';
import { z } from 'zod';
import { InvalidOptionError, describeValue } from '../errors.js';
import { field, parseOptions } from '../option-schema.js';
import type { RoutingKey } from '../hashing/hasher.js';
import { seededRandom } from './random.js';

/** Which side served a key's calls during a simulation. */
export type KeySide = Arm | 'both';

/** How simulateTraffic picks the key of each call. */
export type KeyOrder = 'round-robin' | 'random';

interface BaseTrafficOptions<K> {
  /**
   * The keys to drive: a count `n` (the strings `user-0` … `user-{n-1}`) or
   * the keys themselves: routing keys, or any values that `input` turns
   * into inputs.
   */
  readonly keys: number | readonly K[];
  /** Calls to make in all. @default one per key */
  readonly calls?: number;
  /** Calls in flight at once. @default 1 */
  readonly concurrency?: number;
  /**
   * `round-robin`: call `i` uses key `i % keys`, so every key is used once
   * before any twice; `random`: each call draws a key under `seed`.
   * @default 'round-robin'
   */
  readonly order?: KeyOrder;
  /** Seed of the key draws with `order: 'random'`. @default 1 */
  readonly seed?: number;
}

/**
 * Options of simulateTraffic. `input(key, i)` builds the input of call `i`;
 * it may be left out when the glue's input accepts `{ userId: key }`, which
 * is then the input.
 */
export type SimulateTrafficOptions<I, K = string> = BaseTrafficOptions<K> &
  ({ readonly userId: K } extends I
    ? { readonly input?: (key: K, callIndex: number) => I }
    : { readonly input: (key: K, callIndex: number) => I });

/** A call whose caller got an error. */
export interface SimulatedError<K> {
  readonly key: K;
  /** Index of the call in the simulation, 0-based. */
  readonly call: number;
  /** Which side gave the error, or undefined when the glue refused the call before routing it (e.g. closed). */
  readonly arm: Arm | undefined;
  /** The error, unchanged. */
  readonly error: unknown;
}

/** What simulateTraffic returns. Counts cover the simulation's own calls only. */
export interface TrafficResult<K> {
  readonly calls: number;
  /** Calls answered (value or error) by each side; a call that fell back counts for old. */
  readonly servedBy: { readonly old: number; readonly new: number };
  /** For each key called, the side that answered all its calls, or `both`. */
  readonly byKey: ReadonlyMap<K, KeySide>;
  /** Keys per entry of `byKey`. */
  readonly keysBy: { readonly old: number; readonly new: number; readonly both: number };
  /** Calls where new failed and old served. */
  readonly fallbacks: number;
  /** Shadow mismatches reported while the simulation ran, up to the end of `drain()`. */
  readonly mismatches: number;
  /** Calls whose caller got an error, in order of settling. */
  readonly errors: readonly SimulatedError<K>[];
  /** `glue.stats()` once every call and shadow call is done. */
  readonly stats: MigrationStats;
}

const optionsSchema = z.strictObject({
  // Checked by resolveKeys, whose messages say what a key list must be.
  keys: z.custom<number | readonly unknown[]>(() => true),
  calls: field<number>((value) => Number.isSafeInteger(value) && (value as number) >= 0, 'an integer >= 0').optional(),
  concurrency: field<number>((value) => Number.isSafeInteger(value) && (value as number) >= 1, 'an integer >= 1').default(1),
  order: field<KeyOrder>((value) => value === 'round-robin' || value === 'random', "'round-robin' or 'random'").default('round-robin'),
  seed: field<number>((value) => typeof value === 'number' && Number.isInteger(value), 'an integer').default(1),
  input: field<(key: never, callIndex: number) => unknown>((value) => typeof value === 'function', 'a function (key, callIndex) => input').optional(),
});

interface CallState<K> {
  readonly key: K;
  readonly index: number;
  routingKey: RoutingKey | undefined;
  arm: Arm | undefined;
  fellBack: boolean;
}

/**
 * Drives many keys through `glue`, at most `concurrency` calls at a time,
 * awaits `glue.drain()`, and reports which side served each call and key,
 * from the glue's own `route` and `fallback` events. Other traffic through
 * the same glue meanwhile is not counted (but it is in `stats`).
 * @example
 * const result = await simulateTraffic(glue, { keys: 10_000, concurrency: 20 });
 * expect(result.keysBy.new / 10_000).toBeCloseTo(0.05, 2);
 * @throws InvalidOptionError naming the bad option and the value received.
 */
export async function simulateTraffic<I, O, K = string>(
  glue: MigrationGlue<I, O>,
  options: SimulateTrafficOptions<I, K>,
): Promise<TrafficResult<K>> {
  if (typeof glue !== 'object' || glue === null || typeof glue.process !== 'function' || typeof glue.on !== 'function') {
    throw new InvalidOptionError('glue', `must be a MigrationGlue, got ${describeValue(glue)}`);
  }
  const o = parseOptions(optionsSchema, options, 'simulateTraffic');
  const keys = resolveKeys<K>(o.keys as BaseTrafficOptions<K>['keys']);
  const calls = o.calls ?? keys.length;
  const { concurrency, order, seed } = o;
  const makeInput = (o.input ?? ((key: K) => ({ userId: key }) as I)) as (key: K, callIndex: number) => I;
  const random = seededRandom(seed);
  const keyOf = (index: number): K => keys[order === 'random' ? Math.floor(random() * keys.length) : index % keys.length] as K;

  /** Calls in flight, by routing key, oldest first: where a `fallback` event (which names the key only) belongs. */
  const inFlight = new Map<RoutingKey | undefined, CallState<K>[]>();
  let routing: CallState<K> | undefined;
  let mismatches = 0;
  let fallbacks = 0;
  const unsubscribe = [
    glue.on('route', (event) => {
      // process() routes before its first await, so the call being started owns the event.
      if (routing === undefined || routing.arm !== undefined) return;
      routing.arm = event.arm;
      routing.routingKey = event.key;
    }),
    glue.on('fallback', (event) => {
      const call = inFlight.get(event.key)?.find((state) => state.arm === 'new' && !state.fellBack);
      if (call === undefined) return;
      call.fellBack = true;
      fallbacks += 1;
    }),
    glue.on('mismatch', () => {
      mismatches += 1;
    }),
  ];

  const servedBy = { old: 0, new: 0 };
  const byKey = new Map<K, KeySide>();
  const errors: SimulatedError<K>[] = [];
  let next = 0;

  const one = async (index: number): Promise<void> => {
    const key = keyOf(index);
    const state: CallState<K> = { key, index, routingKey: undefined, arm: undefined, fellBack: false };
    let pending: Promise<O>;
    routing = state;
    try {
      pending = glue.process(makeInput(key, index));
    } catch (error) {
      // process() never throws synchronously, but a user's input function may.
      pending = Promise.reject(error);
    } finally {
      routing = undefined;
    }
    let queue = inFlight.get(state.routingKey);
    if (queue === undefined) inFlight.set(state.routingKey, (queue = []));
    queue.push(state);
    let failed = false;
    let error: unknown;
    try {
      await pending;
    } catch (caught) {
      failed = true;
      error = caught;
    }
    queue.splice(queue.indexOf(state), 1);
    if (queue.length === 0) inFlight.delete(state.routingKey);
    const arm = state.arm === undefined ? undefined : state.fellBack ? 'old' : state.arm;
    if (failed) errors.push({ key, call: index, arm, error });
    if (arm === undefined) return;
    servedBy[arm] += 1;
    const before = byKey.get(key);
    byKey.set(key, before === undefined || before === arm ? arm : 'both');
  };

  const worker = async (): Promise<void> => {
    while (next < calls) await one(next++);
  };

  try {
    await Promise.all(Array.from({ length: Math.min(concurrency, calls) }, worker));
    await glue.drain();
  } finally {
    for (const stop of unsubscribe) stop();
  }
  const keysBy = { old: 0, new: 0, both: 0 };
  for (const side of byKey.values()) keysBy[side] += 1;
  return { calls, servedBy, byKey, keysBy, fallbacks, mismatches, errors, stats: glue.stats() };
}

function resolveKeys<K>(keys: number | readonly K[]): readonly K[] {
  if (typeof keys === 'number') {
    if (!Number.isSafeInteger(keys) || keys < 1) {
      throw new InvalidOptionError('keys', `must be a count >= 1 or a non-empty array of keys, got ${describeValue(keys)}`);
    }
    return Array.from({ length: keys }, (_, i) => `user-${i}` as K);
  }
  if (!Array.isArray(keys) || keys.length === 0) {
    throw new InvalidOptionError('keys', `must be a count >= 1 or a non-empty array of keys, got ${describeValue(keys)}`);
  }
  return keys;
}
