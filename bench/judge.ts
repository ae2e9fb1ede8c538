/**
 * `npm run bench:judge`: drives simulated migrations with a known truth
 * through the public API (a MigrationGlue on an in-memory store, the
 * RollbackGuard watching it, a simulated clock) and measures how often the
 * judge rolls back healthy migrations and how fast it catches bad ones.
 * The fixed-threshold rule the guard used before is measured on the same
 * traffic beside it. Writes the table between the judge markers of
 * docs/benchmarks.md.
 *
 *   npm run bench:judge                # every scenario, 40 seeds each
 *   SEEDS=5 npm run bench:judge        # quicker
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { InMemoryConfigStore, MigrationGlue, RollbackGuard, phases, silentLogger } from '../src/index.js';
import type { MigrationConfig } from '../src/index.js';
import { seededRandom } from '../src/testing/random.js';
import { ThresholdGuard } from './threshold-guard.js';

const MINUTE = 60_000;

/** How one side behaves: its error rate, its latency draw, and (new only) how often it answers differently. */
interface Behaviour {
  readonly errorRate: number;
  readonly latency: (random: () => number) => number;
  readonly mismatchRate?: number;
}

interface Scenario {
  readonly name: string;
  readonly healthy: boolean;
  readonly callsPerMinute: number;
  readonly old: Behaviour;
  readonly new: Behaviour;
  /** The bad behaviour of new, from this step index on (0 = shadow, 1 = 1 %, ...). */
  readonly regression?: { readonly fromStep: number; readonly new: Behaviour };
}

/** Log-normal latency with median `median` ms and shape `sigma`. */
function logNormal(median: number, sigma: number): (random: () => number) => number {
  return (random) => {
    const u = Math.max(1e-12, random());
    const v = random();
    return median * Math.exp(sigma * Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v));
  };
}

/** Pareto latency (heavy tail) with scale `scale` ms and shape `shape`. */
function pareto(scale: number, shape: number): (random: () => number) => number {
  return (random) => scale / Math.pow(Math.max(1e-12, 1 - random()), 1 / shape);
}

const base = logNormal(20, 0.5);
const steps: readonly MigrationConfig[] = [
  phases.shadow(),
  phases.canary(1),
  phases.canary(5),
  phases.canary(10),
  phases.canary(25),
  phases.canary(50),
  phases.full(),
];
const stepNames = ['shadow', '1 %', '5 %', '10 %', '25 %', '50 %', '100 %'];

const scenarios: readonly Scenario[] = [
  { name: 'healthy, 300 calls/min, 0.3 % errors on both', healthy: true, callsPerMinute: 300, old: { errorRate: 0.003, latency: base }, new: { errorRate: 0.003, latency: base } },
  { name: 'healthy, 30 calls/min, 0.3 % errors on both', healthy: true, callsPerMinute: 30, old: { errorRate: 0.003, latency: base }, new: { errorRate: 0.003, latency: base } },
  { name: 'healthy, heavy-tailed latency (Pareto 1.5)', healthy: true, callsPerMinute: 300, old: { errorRate: 0.003, latency: pareto(5, 1.5) }, new: { errorRate: 0.003, latency: pareto(5, 1.5) } },
  { name: 'healthy, new twice as fast', healthy: true, callsPerMinute: 300, old: { errorRate: 0.003, latency: base }, new: { errorRate: 0.002, latency: logNormal(10, 0.5) } },
  { name: 'healthy, new 0.2 points more errors (within the 0.5 allowed)', healthy: true, callsPerMinute: 300, old: { errorRate: 0.003, latency: base }, new: { errorRate: 0.005, latency: base } },
  { name: 'regression: 20 % errors from 5 %', healthy: false, callsPerMinute: 300, old: { errorRate: 0.003, latency: base }, new: { errorRate: 0.003, latency: base }, regression: { fromStep: 2, new: { errorRate: 0.2, latency: base } } },
  { name: 'regression: 3 % errors from 25 %', healthy: false, callsPerMinute: 300, old: { errorRate: 0.003, latency: base }, new: { errorRate: 0.003, latency: base }, regression: { fromStep: 4, new: { errorRate: 0.03, latency: base } } },
  { name: 'regression: 3x slower from 10 %', healthy: false, callsPerMinute: 300, old: { errorRate: 0.003, latency: base }, new: { errorRate: 0.003, latency: base }, regression: { fromStep: 3, new: { errorRate: 0.003, latency: logNormal(60, 0.5) } } },
  { name: 'regression: 1 % wrong answers in shadow', healthy: false, callsPerMinute: 300, old: { errorRate: 0.003, latency: base }, new: { errorRate: 0.003, latency: base, mismatchRate: 0 }, regression: { fromStep: 0, new: { errorRate: 0.003, latency: base, mismatchRate: 0.01 } } },
  { name: 'regression at low traffic: 20 % errors from 1 %, 50 calls/min', healthy: false, callsPerMinute: 50, old: { errorRate: 0.003, latency: base }, new: { errorRate: 0.003, latency: base }, regression: { fromStep: 1, new: { errorRate: 0.2, latency: base } } },
];

interface RunOutcome {
  /** Step index of the rollback, or undefined. */
  readonly rolledBackAt: number | undefined;
  /** Ms after the regression began (or the run began) when it rolled back. */
  readonly msToRollback: number | undefined;
  /** Calls new served between the regression's start and the rollback. */
  readonly newCallsToRollback: number | undefined;
  /** True when a regression scenario rolled back before its regression began (a false rollback). */
  readonly early: boolean;
}

type Judge = 'sequential' | 'threshold';

async function run(scenario: Scenario, seed: number, judge: Judge, stepMs: number): Promise<RunOutcome> {
  const random = seededRandom(seed);
  let now = Date.UTC(2026, 0, 1);
  const clock = { now: () => now };
  const store = new InMemoryConfigStore(phases.preparation());
  let stepIndex = -1;
  let bad = false;
  let newOut: { fail: boolean; latency: number; differs: boolean } = { fail: false, latency: 0, differs: false };
  let oldOut = { fail: false, latency: 0 };
  let inShadow = false;
  const glue = new MigrationGlue<{ userId: string }, number>({
    name: 'bench-judge',
    oldService: async () => {
      now += oldOut.latency;
      if (oldOut.fail) throw new Error('old failed');
      return 1;
    },
    newService: async () => {
      if (!inShadow) now += newOut.latency;
      if (newOut.fail) throw new Error('new failed');
      return newOut.differs ? 2 : 1;
    },
    config: store,
    clock,
    logger: silentLogger,
    shadow: { timeoutMs: 60_000 },
  });
  let rolledBack = false;
  glue.on('rollback', () => {
    rolledBack = true;
  });
  let stop: () => void;
  if (judge === 'sequential') {
    const guard = new RollbackGuard(glue, {}, { logger: silentLogger, clock });
    stop = guard.watch();
  } else {
    stop = new ThresholdGuard(glue).watch();
  }
  const gap = MINUTE / scenario.callsPerMinute;
  let regressionStart: number | undefined;
  let newCallsAtRegression = 0;
  const phaseEnds = [30 * MINUTE, ...steps.map((_, i) => 30 * MINUTE + (i + 1) * stepMs)];
  const start = now;
  let phase = 0;
  while (now - start < (phaseEnds[phaseEnds.length - 1] as number) && !rolledBack) {
    const offset = now - start;
    while (offset >= (phaseEnds[phase] as number)) {
      phase++;
      stepIndex = phase - 1;
      await store.save(steps[stepIndex] as MigrationConfig);
      inShadow = stepIndex === 0;
      if (scenario.regression !== undefined && stepIndex === scenario.regression.fromStep && !bad) {
        bad = true;
        regressionStart = now;
        newCallsAtRegression = glue.stats().new.calls;
      }
    }
    if (rolledBack) break;
    const behaviour = bad && scenario.regression !== undefined ? scenario.regression.new : scenario.new;
    oldOut = { fail: random() < scenario.old.errorRate, latency: scenario.old.latency(random) };
    newOut = { fail: random() < behaviour.errorRate, latency: behaviour.latency(random), differs: random() < (behaviour.mismatchRate ?? 0) };
    await glue.process({ userId: `u${Math.floor(random() * 200_000)}` }).catch(() => {});
    if (inShadow) await glue.drain();
    now += gap * -Math.log(Math.max(1e-12, random()));
  }
  stop();
  await glue.close();
  if (!rolledBack) return { rolledBackAt: undefined, msToRollback: undefined, newCallsToRollback: undefined, early: false };
  const from = regressionStart ?? start;
  return {
    rolledBackAt: stepIndex,
    msToRollback: now - from,
    newCallsToRollback: glue.stats().new.calls - newCallsAtRegression,
    early: scenario.regression !== undefined && regressionStart === undefined,
  };
}

interface Row {
  readonly scenario: string;
  readonly judge: Judge;
  readonly runs: number;
  readonly rolledBack: number;
  /** Regression scenarios: rolled back before the regression began. */
  readonly early: number;
  readonly medianMinutes: number | undefined;
  readonly worstMinutes: number | undefined;
  readonly medianCalls: number | undefined;
  readonly worstCalls: number | undefined;
  readonly steps: string;
}

function median(values: readonly number[]): number | undefined {
  if (values.length === 0) return undefined;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor((sorted.length - 1) / 2)];
}

async function measure(scenario: Scenario, judge: Judge, seeds: number, stepMs: number): Promise<Row> {
  const outcomes: RunOutcome[] = [];
  for (let seed = 1; seed <= seeds; seed++) outcomes.push(await run(scenario, seed * 7919, judge, stepMs));
  const rolled = outcomes.filter((o) => o.rolledBackAt !== undefined && !o.early);
  const early = outcomes.filter((o) => o.early).length;
  const minutes = rolled.map((o) => (o.msToRollback ?? 0) / MINUTE);
  const calls = rolled.map((o) => o.newCallsToRollback ?? 0);
  const where = new Map<string, number>();
  for (const o of rolled) {
    const name = stepNames[o.rolledBackAt ?? 0] ?? '?';
    where.set(name, (where.get(name) ?? 0) + 1);
  }
  return {
    scenario: scenario.name,
    judge,
    runs: outcomes.length,
    rolledBack: rolled.length,
    early,
    medianMinutes: median(minutes),
    worstMinutes: minutes.length > 0 ? Math.max(...minutes) : undefined,
    medianCalls: median(calls),
    worstCalls: calls.length > 0 ? Math.max(...calls) : undefined,
    steps: [...where].map(([name, n]) => `${name}: ${n}`).join(', '),
  };
}

function cell(value: number | undefined, digits = 0): string {
  return value === undefined ? '-' : value.toFixed(digits);
}

function render(rows: readonly Row[], seeds: number, stepMs: number): string {
  const lines = [
    `Each run: preparation 30 min, then shadow, 1, 5, 10, 25, 50 and 100 % for ${stepMs / MINUTE} min each, steps driven by hand; default criteria; ${seeds} seeds per scenario and judge; the same traffic for both judges. For a healthy scenario "rolled back" is the false-rollback count; for a regression it is the number caught after the regression began, times and calls counted from the start of the step where it began, and "before" counts runs rolled back before the regression began (false rollbacks too).`,
    '',
    '| scenario | judge | rolled back | before | median / worst minutes to rollback | median / worst new calls to rollback | where |',
    '|---|---|---|---|---|---|---|',
  ];
  for (const r of rows) {
    lines.push(
      `| ${r.scenario} | ${r.judge} | ${r.rolledBack} of ${r.runs} | ${r.early} | ${cell(r.medianMinutes, 1)} / ${cell(r.worstMinutes, 1)} | ${cell(r.medianCalls)} / ${cell(r.worstCalls)} | ${r.steps || '-'} |`,
    );
  }
  return lines.join('\n');
}

async function main(): Promise<void> {
  const seeds = Number(process.env.SEEDS ?? 40);
  const stepMs = Number(process.env.STEP_MINUTES ?? 120) * MINUTE;
  const only = process.env.SCENARIO;
  const rows: Row[] = [];
  for (const scenario of scenarios) {
    if (only !== undefined && !scenario.name.includes(only)) continue;
    for (const judge of ['sequential', 'threshold'] as const) {
      const row = await measure(scenario, judge, seeds, stepMs);
      rows.push(row);
      console.log(`${row.scenario} | ${row.judge} | rolled back ${row.rolledBack}/${row.runs} (${row.early} before) | median ${cell(row.medianMinutes, 1)} min | ${row.steps}`);
    }
  }
  const table = render(rows, seeds, stepMs);
  if (only !== undefined || process.env.NO_WRITE === '1') return;
  const file = join(dirname(fileURLToPath(import.meta.url)), '..', 'docs', 'benchmarks.md');
  const doc = readFileSync(file, 'utf8');
  const begin = '<!-- judge:begin -->';
  const end = '<!-- judge:end -->';
  const section = `${begin}\n${table}\n${end}`;
  const next = doc.includes(begin)
    ? doc.slice(0, doc.indexOf(begin)) + section + doc.slice(doc.indexOf(end) + end.length)
    : `${doc.trimEnd()}\n\n## The rollback judge (npm run bench:judge)\n\n${section}\n`;
  writeFileSync(file, next);
}

await main();
