/**
 * `npm run bench`: measures every benchmark target and rewrites
 * docs/benchmarks.md. Ratios use references measured in the same run.
 */
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { measureData } from './data.js';
import { measureDataPg } from './data-pg.js';
import type { PgDataResult } from './data-pg.js';
import type { DataResult } from './data.js';
import { timerLatency } from './latency.js';
import { median, nsPerCall } from './measure.js';
import { render } from './report.js';
import type { HeapResult, Measured, RunResult } from './report.js';
import { buildScenarios } from './scenarios.js';
import type { ScenarioId } from './scenarios.js';

const ROUNDS = 5;
const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..');

function heapInChild(): HeapResult {
  const child = spawnSync(process.execPath, ['--expose-gc', '--import', 'tsx', join(here, 'heap.ts')], {
    cwd: root,
    encoding: 'utf8',
    timeout: 120_000,
  });
  const line = child.stdout.trim().split('\n').pop() ?? '';
  if (child.status !== 0 || line === '') throw new Error(`heap benchmark failed (${String(child.status)}): ${child.stderr}`);
  return JSON.parse(line) as HeapResult;
}

function fleetInChild(): RunResult['fleet'] {
  if (process.env.REDIS_URL === undefined || process.env.REDIS_URL === '') return undefined;
  const child = spawnSync(process.execPath, ['--import', 'tsx', join(here, 'fleet-propagation.ts')], { cwd: root, encoding: 'utf8', timeout: 120_000 });
  const line = child.stdout.trim().split('\n').pop() ?? '';
  if (child.status !== 0 || line === '') throw new Error(`fleet propagation benchmark failed (${String(child.status)}): ${child.stderr}`);
  return JSON.parse(line) as RunResult['fleet'];
}

async function main(): Promise<void> {
  const started = performance.now();
  const loadAtStart = loadavg()[0] ?? 0;
  const log = (message: string) => console.log(`[bench ${((performance.now() - started) / 1000).toFixed(1)} s] ${message}`);
  const { batches, close } = await buildScenarios();
  const ids = Object.keys(batches) as ScenarioId[];
  const samples = new Map<ScenarioId, number[]>(ids.map((id) => [id, []]));
  // Rounds interleave the scenarios, so a slow spell of this noisy machine hits all of them alike.
  for (let round = 0; round < ROUNDS; round++) {
    for (const id of ids) (samples.get(id) as number[]).push(await nsPerCall(batches[id]));
    log(`round ${round + 1}/${ROUNDS} done`);
  }
  close();
  const ns = Object.fromEntries(ids.map((id) => [id, median(samples.get(id) as number[])])) as Measured;
  for (const id of ids) log(`${id}: ${ns[id].toFixed(1)} ns/call (rounds: ${(samples.get(id) as number[]).map((v) => v.toFixed(1)).join(', ')})`);

  const latency = await timerLatency();
  log(`1 ms timers: direct ${latency.directMs.toFixed(3)} ms, glue ${latency.glueMs.toFixed(3)} ms`);
  const heap = heapInChild();
  log(`heap: ${JSON.stringify(heap)}`);
  const data: readonly DataResult[] = await measureData();
  log(`data: ${JSON.stringify(data)}`);
  // 1M rows on real PostgreSQL: minutes, so only with a server (scripts/postgres-start.sh prints PG_URL).
  const pgUrl = process.env.PG_URL;
  const dataPg: readonly PgDataResult[] | undefined = pgUrl === undefined ? undefined : await measureDataPg(pgUrl, 1_000_000, 3, log);
  if (dataPg !== undefined) log(`data on PostgreSQL: ${JSON.stringify(dataPg)}`);
  const fleet = fleetInChild();
  log(`fleet: ${JSON.stringify(fleet)}`);

  const markdown = render({
    ns,
    latency,
    heap,
    data,
    dataPg,
    fleet,
    node: process.version,
    cpu: cpus()[0]?.model ?? 'unknown',
    cores: cpus().length,
    load: [loadAtStart, loadavg()[0] ?? 0],
    date: new Date().toISOString(),
    seconds: (performance.now() - started) / 1000,
  });
  writeFileSync(join(root, 'docs', 'benchmarks.md'), markdown);
  console.log(markdown);
  log('wrote docs/benchmarks.md');
}

await main();
