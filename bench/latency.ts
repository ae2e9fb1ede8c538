/**
 * Shadow with old and new each taking about 1 ms through real timers: the
 * caller's latency through the glue against the direct old call. Calls
 * alternate one by one (direct, glue, glue, direct, ...), so both meet the
 * same phases of libuv's 1 ms timer clock and the same spells of a noisy
 * machine; each side's figure is the median of its per-call latencies.
 */
import { MigrationGlue, phases, silentLogger } from '../src/index.js';
import type { Input } from './fixtures.js';
import { INPUT_MASK, inputs, sink, timedService } from './fixtures.js';
import { median } from './measure.js';

/** Median caller latency in ms per call, for the direct call and for the glue in shadow (default options). */
export async function timerLatency(pairs = 1_200): Promise<{ directMs: number; glueMs: number }> {
  const old = timedService(1);
  const glue = new MigrationGlue({
    name: 'timers',
    oldService: old,
    newService: timedService(1),
    config: phases.shadow(),
    logger: silentLogger,
  });
  const direct: number[] = [];
  const glued: number[] = [];
  const timeDirect = async (input: Input): Promise<number> => {
    const start = performance.now();
    sink.value = await old(input);
    return performance.now() - start;
  };
  const timeGlue = async (input: Input): Promise<number> => {
    const start = performance.now();
    sink.value = await glue.process(input);
    return performance.now() - start;
  };
  // The first 50 pairs warm both paths up and are not counted.
  for (let i = -50; i < pairs; i++) {
    const input = inputs[i & INPUT_MASK] as Input;
    const first = i % 2 === 0;
    const a = first ? await timeDirect(input) : await timeGlue(input);
    const b = first ? await timeGlue(input) : await timeDirect(input);
    if (i >= 0) {
      direct.push(first ? a : b);
      glued.push(first ? b : a);
    }
  }
  await glue.close();
  return { directMs: median(direct), glueMs: median(glued) };
}
