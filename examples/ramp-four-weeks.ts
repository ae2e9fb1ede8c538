/**
 * A ramp through four simulated weeks on a manual clock: shadow, then
 * 1 → 100 % under a rollback guard and an approval gate, a bad release
 * rolled back on its own at 25 %, a fix and a resume, and the checklist.
 * Run with `npx tsx examples/ramp-four-weeks.ts`.
 */
import { InMemoryConfigStore, MigrationGlue, MigrationJournal, RampController, RollbackGuard, defaultRamp, defaultRollbackCriteria, phases, renderChecklist } from '../src/index.js';

const day = 24 * 60 * 60 * 1000;
const clock = { time: Date.UTC(2026, 0, 5), now() { return this.time; } };
const quiet = { debug() {}, info() {}, warn() {}, error() {} };

type Search = { userId: string; query: string };
let badRelease = false;
let calls = 0;
const oldSearch = async ({ query }: Search) => {
  clock.time += 8; // 8 ms of simulated latency
  return query.toUpperCase();
};
const newSearch = async ({ query }: Search) => {
  clock.time += 6;
  if (badRelease && calls++ % 8 === 0) throw new Error('index shard unavailable');
  return query.toUpperCase();
};

const print = (n: { at: number; kind: string; message: string }) => console.log(`${new Date(n.at).toISOString().slice(0, 10)}  ${n.kind.padEnd(8)} ${n.message}`);
const store = new InMemoryConfigStore(phases.shadow());
const glue = new MigrationGlue<Search, string>({ name: 'search', oldService: oldSearch, newService: newSearch, config: store, clock, logger: quiet, notifier: print });
const journal = new MigrationJournal({ clock });
journal.attach(glue);
console.log(`criteria: ${JSON.stringify(defaultRollbackCriteria)}`);
const guard = new RollbackGuard(glue, defaultRollbackCriteria);
guard.watch();
const ramp = new RampController({
  store,
  guard,
  journal,
  clock,
  name: 'search',
  logger: quiet,
  // An approval gate: here automatic; in production a chat prompt or a ticket state.
  approve: (step) => step.percentage <= 100,
  notifier: print,
});

async function traffic(n: number) {
  for (let i = 0; i < n; i++) await glue.process({ userId: `user-${i % 20_000}`, query: `q${i}` }).catch(() => undefined);
  await glue.drain();
}

let released = false;
for (let d = 0; d < 90 && ramp.status().blockedBy !== 'done'; d++) {
  // A bad release of new goes out on the first day at 25 %.
  if (store.current().newSystemPercentage === 25 && !released) {
    released = true;
    badRelease = true;
  }
  await traffic(12_000);
  if (ramp.status().blockedBy === 'rolledBack') {
    console.log(`${new Date(clock.time).toISOString().slice(0, 10)}  fix      new release fixed; resuming the ramp`);
    badRelease = false;
    await ramp.resume();
  }
  await ramp.tick();
  clock.time += day;
}

console.log(`\nplan: ${defaultRamp.map((s) => `${s.percentage} %`).join(' → ')}; status: ${ramp.status().blockedBy}`);
console.log(`\n${renderChecklist(journal, { oldSystem: 'search v1', newSystem: 'search v2' })}`);
