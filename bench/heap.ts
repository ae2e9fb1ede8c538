/**
 * Run in a child process with --expose-gc (see run.ts): one million shadow
 * calls whose new service never settles. Prints one JSON line: the heap
 * growth after a full GC, at its highest over the run and at the end, in MB.
 */
import { MigrationGlue, phases, silentLogger } from '../src/index.js';
import type { Input, Output } from './fixtures.js';
import { INPUT_MASK, inputs, neverSettles, oldService, sink } from './fixtures.js';

const CALLS = 1_000_000;
const CHECKPOINTS = 10;

const gc = (globalThis as { gc?: () => void }).gc;
if (gc === undefined) throw new Error('run with --expose-gc');

function heapMb(): number {
  (gc as () => void)();
  (gc as () => void)();
  return process.memoryUsage().heapUsed / 1_048_576;
}

const glue = new MigrationGlue<Input, Output>({
  name: 'never',
  oldService,
  newService: neverSettles,
  config: phases.shadow(),
  logger: silentLogger,
});
// Warm the path before the baseline, so compiled code is not counted as growth.
for (let i = 0; i < 10_000; i++) sink.value = await glue.process(inputs[i & INPUT_MASK] as Input);
const before = heapMb();
let peak = 0;
const started = performance.now();
for (let checkpoint = 0; checkpoint < CHECKPOINTS; checkpoint++) {
  for (let i = 0; i < CALLS / CHECKPOINTS; i++) sink.value = await glue.process(inputs[i & INPUT_MASK] as Input);
  peak = Math.max(peak, heapMb() - before);
}
const seconds = (performance.now() - started) / 1000;
const stats = glue.stats().shadow;
console.log(
  JSON.stringify({
    calls: CALLS,
    seconds,
    peakGrowthMb: peak,
    endGrowthMb: heapMb() - before,
    inFlight: stats.inFlight,
    overCapacity: stats.skippedBy.overCapacity,
  }),
);
process.exit(0);
