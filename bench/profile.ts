/**
 * `node --cpu-prof --import tsx bench/profile.ts <scenario> [seconds]`: runs one
 * scenario of scenarios.ts in a loop, for a CPU profile of the glue's hot path.
 */
import { buildScenarios } from './scenarios.js';
import type { ScenarioId } from './scenarios.js';

const id = (process.argv[2] ?? 'preparation') as ScenarioId;
const seconds = Number(process.argv[3] ?? 5);
const { batches, close } = await buildScenarios();
const batch = batches[id];
if (batch === undefined) throw new Error(`unknown scenario ${id}; one of ${Object.keys(batches).join(', ')}`);
const until = performance.now() + seconds * 1000;
let runs = 0;
while (performance.now() < until) {
  await batch.run();
  runs += 1;
}
close();
console.log(`${id}: ${runs} batches of ${batch.calls} calls`);
