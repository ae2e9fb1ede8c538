/**
 * The per-call scenarios, each a batch of BATCH calls awaited one after the
 * other. Every loop is written out, not built by a shared helper: one shared
 * loop would see many call targets and turn megamorphic, slowing every
 * scenario (the direct reference included) by the helper's own dispatch.
 */
import murmur from 'murmurhash3js-revisited';
import { MigrationGlue, bucketOf, deepEqualComparator, murmur3Hasher, phases, silentLogger, systemClock } from '../src/index.js';
import type { MigrationConfig, ShadowOptions } from '../src/index.js';
import type { Input, Output } from './fixtures.js';
import { INPUT_COUNT, INPUT_MASK, inputs, newService, oldService, sink } from './fixtures.js';
import type { Batch } from './measure.js';
import { launchDarkly, scientistShadow, tzientistShadow } from './peers.js';
import { cloneInput } from '../src/core/clone-input.js';

/** Calls per batch: large enough that the per-batch costs (mitata's own, one drain) vanish per call. */
export const BATCH = 1_000;
/** The salt of the bucketOf rows: a glue's name. */
const SALT = 'checkout-pricing';

/** A glue on the shared services, silent, with the given config and shadow options. */
export function glueOf(config: MigrationConfig, shadow?: ShadowOptions<Input, Output>): MigrationGlue<Input, Output> {
  return new MigrationGlue<Input, Output>({
    name: SALT,
    oldService,
    newService,
    config,
    logger: silentLogger,
    ...(shadow === undefined ? {} : { shadow }),
  });
}

/** Scenario ids, in the order they are measured within a round. */
export type ScenarioId =
  | 'direct'
  | 'preparation'
  | 'full'
  | 'canary1'
  | 'canary50'
  | 'canary99'
  | 'shadowNone'
  | 'shadowClone'
  | 'tzientist'
  | 'ldOff'
  | 'ldShadow'
  | 'scientist'
  | 'bucketOf'
  | 'bareMurmur'
  | 'libraryMurmur'
  | 'stats'
  | 'clock'
  | 'clone'
  | 'compare';

/** Builds every per-call scenario; `close()` releases the LaunchDarkly client. */
export async function buildScenarios(): Promise<{ readonly batches: Record<ScenarioId, Batch>; close(): void }> {
  const preparation = glueOf(phases.preparation());
  const full = glueOf(phases.full());
  const canary1 = glueOf(phases.canary(1));
  const canary50 = glueOf(phases.canary(50));
  const canary99 = glueOf(phases.canary(99));
  const shadowNone = glueOf(phases.shadow(), { isolateInput: 'none' });
  const shadowClone = glueOf(phases.shadow());
  const tzientist = tzientistShadow();
  const scientist = scientistShadow();
  const ld = await launchDarkly();

  const keys = inputs.map((input) => input.userId);
  const salted = keys.map((key) => `${SALT}:${key}`);
  const comparator = deepEqualComparator<Output>();
  const outcomes = await Promise.all(
    inputs.map(async (input) => ({ old: { ok: true as const, value: await oldService(input) }, new: { ok: true as const, value: await newService(input) } })),
  );
  const encoder = new TextEncoder();
  const scratch = new Uint8Array(256);

  // stats() reads a glue holding 10k calls in its window, both arms recording.
  const statsGlue = glueOf(phases.canary(50));
  for (let i = 0; i < 10_000; i++) await statsGlue.process(inputs[i & INPUT_MASK] as Input);

  const batches: Record<ScenarioId, Batch> = {
    direct: {
      calls: BATCH,
      async run() {
        for (let i = 0; i < BATCH; i++) sink.value = await oldService(inputs[i & INPUT_MASK] as Input);
      },
    },
    preparation: {
      calls: BATCH,
      async run() {
        for (let i = 0; i < BATCH; i++) sink.value = await preparation.process(inputs[i & INPUT_MASK] as Input);
      },
    },
    full: {
      calls: BATCH,
      async run() {
        for (let i = 0; i < BATCH; i++) sink.value = await full.process(inputs[i & INPUT_MASK] as Input);
      },
    },
    canary1: {
      calls: BATCH,
      async run() {
        for (let i = 0; i < BATCH; i++) sink.value = await canary1.process(inputs[i & INPUT_MASK] as Input);
      },
    },
    canary50: {
      calls: BATCH,
      async run() {
        for (let i = 0; i < BATCH; i++) sink.value = await canary50.process(inputs[i & INPUT_MASK] as Input);
      },
    },
    canary99: {
      calls: BATCH,
      async run() {
        for (let i = 0; i < BATCH; i++) sink.value = await canary99.process(inputs[i & INPUT_MASK] as Input);
      },
    },
    shadowNone: {
      calls: BATCH,
      async run() {
        for (let i = 0; i < BATCH; i++) sink.value = await shadowNone.process(inputs[i & INPUT_MASK] as Input);
        await shadowNone.drain();
      },
    },
    shadowClone: {
      calls: BATCH,
      async run() {
        for (let i = 0; i < BATCH; i++) sink.value = await shadowClone.process(inputs[i & INPUT_MASK] as Input);
        await shadowClone.drain();
      },
    },
    tzientist: {
      calls: BATCH,
      async run() {
        for (let i = 0; i < BATCH; i++) sink.value = await tzientist(inputs[i & INPUT_MASK] as Input);
      },
    },
    ldOff: {
      calls: BATCH,
      async run() {
        for (let i = 0; i < BATCH; i++) sink.value = await ld.off(inputs[i & INPUT_MASK] as Input);
      },
    },
    ldShadow: {
      calls: BATCH,
      async run() {
        for (let i = 0; i < BATCH; i++) sink.value = await ld.shadow(inputs[i & INPUT_MASK] as Input);
      },
    },
    scientist: {
      calls: BATCH,
      async run() {
        for (let i = 0; i < BATCH; i++) sink.value = await scientist.call(inputs[i & INPUT_MASK] as Input);
        await scientist.settled(BATCH);
      },
    },
    bucketOf: {
      calls: INPUT_COUNT,
      run() {
        let acc = 0;
        for (let i = 0; i < INPUT_COUNT; i++) acc += bucketOf(keys[i] as string, SALT);
        sink.value = acc;
      },
    },
    bareMurmur: {
      calls: INPUT_COUNT,
      run() {
        let acc = 0;
        for (let i = 0; i < INPUT_COUNT; i++) {
          const { written } = encoder.encodeInto(salted[i] as string, scratch);
          acc += murmur3Hasher.hash32(scratch.subarray(0, written)) % 10_000;
        }
        sink.value = acc;
      },
    },
    libraryMurmur: {
      calls: INPUT_COUNT,
      run() {
        let acc = 0;
        for (let i = 0; i < INPUT_COUNT; i++) {
          const { written } = encoder.encodeInto(salted[i] as string, scratch);
          acc += murmur.x86.hash32(scratch.subarray(0, written)) % 10_000;
        }
        sink.value = acc;
      },
    },
    stats: {
      calls: 100,
      run() {
        for (let i = 0; i < 100; i++) sink.value = statsGlue.stats();
      },
    },
    clock: {
      calls: INPUT_COUNT,
      run() {
        let acc = 0;
        for (let i = 0; i < INPUT_COUNT; i++) acc += systemClock.now();
        sink.value = acc;
      },
    },
    compare: {
      calls: INPUT_COUNT,
      run() {
        let equal = 0;
        for (let i = 0; i < INPUT_COUNT; i++) {
          const pair = outcomes[i] as (typeof outcomes)[number];
          if (comparator.compare(pair.old, pair.new).equal) equal++;
        }
        sink.value = equal;
      },
    },
    clone: {
      calls: 100,
      run() {
        for (let i = 0; i < 100; i++) sink.value = cloneInput(inputs[i] as Input);
      },
    },
  };
  return {
    batches,
    close() {
      ld.client.close();
    },
  };
}
