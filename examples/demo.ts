/**
 * The whole migration, simulated on embedded defaults (no server): a
 * "pricing" service and its price table on PGlite move from v1 to v2.
 * Preparation, dual write and backfill, shadow (a real rounding mismatch,
 * fixed), a four-week ramp judged by the sequential rollback guard (steps
 * held until the evidence is in, a bad release rolled back automatically at
 * 25 %), full, grace, cleanup. Ends with the checklist and an HTML report.
 *
 *   npm run demo                 # or: npx tsx examples/demo.ts
 *   npm run demo -- --help
 */
import fs from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { PGlite } from '@electric-sql/pglite';
import {
  DualWriteRepository,
  InMemoryConfigStore,
  MigrationGlue,
  MigrationJournal,
  RampController,
  RollbackGuard,
  backfill,
  phases,
  renderChecklist,
  renderReport,
  verify,
} from '../src/index.js';
import type { GuardResult, Notification } from '../src/index.js';
import { sqlRepository } from '../src/sql/index.js';
import { ManualClock, seededRandom } from '../src/testing/index.js';

const help = `migration-glue demo: the pricing service and its table move from v1 to v2.

Options:
  --seed <n>        seed of the simulated traffic (default 42)
  --speed <s>       max (default): no pauses; normal or slow: pause between lines to read along
  --fault <f>       the bad release at 25 %: errors (default), latency, or none
  --per-day <n>     quotes a simulated day, at most (default 60000): the judge holds a step until it has enough
  --out <file>      where the HTML report goes (default migration-report.html)
  --journal <file>  also write the journal as JSON lines (for npx migration-glue checklist/report)
  -h, --help        this help`;

const { values } = parseArgs({
  options: {
    seed: { type: 'string', default: '42' },
    speed: { type: 'string', default: 'max' },
    fault: { type: 'string', default: 'errors' },
    'per-day': { type: 'string', default: '60000' },
    out: { type: 'string', default: 'migration-report.html' },
    journal: { type: 'string' },
    help: { type: 'boolean', short: 'h', default: false },
  },
});
if (values.help) {
  console.log(help);
  process.exit(0);
}
const seed = Number(values.seed);
const perDay = Number(values['per-day']);
const pauses: Record<string, number> = { max: 0, normal: 120, slow: 400 };
if (!Number.isInteger(seed) || !(values.speed in pauses) || !['errors', 'latency', 'none'].includes(values.fault) || !(Number.isInteger(perDay) && perDay >= 1_000)) {
  console.error(`invalid option\n\n${help}`);
  process.exit(2);
}
const pause = pauses[values.speed] ?? 0;
const fault = values.fault as 'errors' | 'latency' | 'none';

const day = 24 * 60 * 60 * 1000;
const clock = new ManualClock({ start: Date.UTC(2026, 2, 2, 9) });
const random = seededRandom(seed);
const quiet = { debug() {}, info() {}, warn() {}, error() {} };
const date = () => new Date(clock.now()).toISOString().slice(0, 10);
async function say(line: string): Promise<void> {
  console.log(`${date()}  ${line}`);
  if (pause > 0) await new Promise((resolve) => setTimeout(resolve, pause));
}
const notify = (n: Notification) => void say(`${n.kind.padEnd(9)}${n.message}`);

// ---------------------------------------------------------------- the systems
type Price = { sku: string; cents: number; vat: number };
type Quote = { userId: string; sku: string; quantity: number };
type Total = { sku: string; quantity: number; total: number; currency: string };

const db = new PGlite();
await db.query('CREATE TABLE prices_v1 (sku text PRIMARY KEY COLLATE "C", cents integer NOT NULL, vat real NOT NULL)');
await db.query('CREATE TABLE prices_v2 (sku text PRIMARY KEY COLLATE "C", cents integer NOT NULL, vat real NOT NULL)');
await db.query(
  `INSERT INTO prices_v1 SELECT 'sku-' || lpad(i::text, 5, '0'), 99 + (i * 37) % 9000, CASE WHEN i % 3 = 0 THEN 0.07 ELSE 0.19 END FROM generate_series(1, 2000) AS i`,
);
const skus = Array.from({ length: 2000 }, (_, i) => `sku-${String(i + 1).padStart(5, '0')}`);

const dataConfig = new InMemoryConfigStore(phases.preparation());
const oldTable = sqlRepository<Price, string>({ query: db, table: 'prices_v1', key: 'sku' });
const newTable = sqlRepository<Price, string>({ query: db, table: 'prices_v2', key: 'sku' });
const prices = new DualWriteRepository<Price, string>({ name: 'prices', old: oldTable, new: newTable, keyOf: (p) => p.sku, config: dataConfig, logger: quiet, clock });

// The services keep a price cache, filled from the table and refreshed on every update, as pricing services do.
const cache = new Map<string, Price>();
async function priceOf(sku: string): Promise<Price> {
  let price = cache.get(sku);
  if (price === undefined) {
    price = await prices.get(sku);
    if (price === undefined) throw new Error(`unknown sku ${sku}`);
    cache.set(sku, price);
  }
  return price;
}

// v1 rounds to cents; v2's first cut rounds down (a real rounding difference), and a later release breaks.
const state = { rounding: 'floor' as 'floor' | 'round', broken: false, calls: 0 };
async function priceV1(quote: Quote): Promise<Total> {
  clock.advance(12 + random() * 6);
  const price = await priceOf(quote.sku);
  const total = Math.round(price.cents * quote.quantity * (1 + price.vat)) / 100;
  return { sku: quote.sku, quantity: quote.quantity, total, currency: 'EUR' };
}
async function priceV2(quote: Quote): Promise<Total> {
  const slow = state.broken && fault === 'latency';
  clock.advance((slow ? 60 : 8) + random() * 4);
  if (state.broken && fault === 'errors' && state.calls++ % 12 === 0) throw new Error('pricing v2: rules cache unavailable');
  const price = await priceOf(quote.sku);
  const raw = price.cents * quote.quantity * (1 + price.vat);
  const total = (state.rounding === 'round' ? Math.round(raw) : Math.floor(raw)) / 100;
  return { sku: quote.sku, quantity: quote.quantity, total, currency: 'EUR' };
}

const store = new InMemoryConfigStore(phases.preparation());
const glue = new MigrationGlue<Quote, Total>({
  name: 'pricing',
  oldService: priceV1,
  newService: priceV2,
  config: store,
  clock,
  logger: quiet,
  notifier: notify,
  shadow: { isolateInput: 'none' },
});
const journal = new MigrationJournal({ clock });
journal.attach(glue);
journal.check('Glue layer deployed (100% old)');
// The default criteria: the judge rolls back only on evidence, and a step passes only on evidence.
const guard = new RollbackGuard(glue, {}, { clock, notifier: notify, logger: quiet });

let rolledBack = false;
glue.on('rollback', () => {
  rolledBack = true;
});
let shown = 0;
glue.on('mismatch', (m) => {
  if (shown++ < 2) {
    const d = m.comparison.diff[0];
    void say(`  mismatch  ${m.input.sku} x${m.input.quantity}: ${d?.path} old ${JSON.stringify(d?.old)} new ${JSON.stringify(d?.new)}`);
  }
});

let quotes = 0;
/** A burst of quotes, and a price update (dual-written) every 40 quotes of the first thousands, then every thousand. */
async function traffic(calls: number): Promise<void> {
  for (let i = 0; i < calls; i++) {
    const sku = skus[Math.floor(random() * skus.length)] as string;
    quotes += 1;
    if (quotes % (quotes < 5_000 ? 40 : 1_000) === 0) {
      const current = await prices.get(sku);
      if (current !== undefined) {
        const updated = { ...current, cents: current.cents + 1 };
        await prices.save(updated);
        cache.set(sku, updated);
      }
    }
    await glue.process({ userId: `user-${Math.floor(random() * 50_000)}`, sku, quantity: 1 + Math.floor(random() * 3) }).catch(() => undefined);
  }
  await glue.drain();
}

/** A simulated day of quotes, cut short once the judge has a verdict on the step in force (to keep the demo quick). */
async function aDay(): Promise<GuardResult> {
  let result = guard.check();
  if (result.verdict !== 'inconclusive') return result;
  for (let done = 0; done < perDay && result.verdict === 'inconclusive' && !rolledBack; done += 1_000) {
    await traffic(1_000);
    result = guard.check();
  }
  journal.snapshot(glue);
  return result;
}

// -------------------------------------------------------------- the migration
console.log('migration-glue demo: pricing v1 -> v2 (simulated time; run with --help for options)\n');

await say('phase 1   preparation: the glue routes 100 % to v1');
await traffic(1_500);
journal.snapshot(glue);
const baseline = glue.stats().old.window;
journal.check('Baseline metrics captured');
journal.check('Behavior verified unchanged');
await say(`          baseline of v1: ${baseline.calls} calls, error rate ${pct(baseline.errorRate)}, p95 ${baseline.p95.toFixed(1)} ms`);

clock.advance(day);
await dataConfig.save(phases.shadow());
journal.check('Dual-write enabled');
await say('data      dual write on: every price update goes to prices_v1, then prices_v2');
const copy = await backfill({
  from: oldTable,
  to: newTable,
  keyOf: (p) => p.sku,
  batchSize: 200,
  totalRows: skus.length,
  tombstones: prices.tombstones,
  logger: quiet,
  onProgress: (p) => {
    journal.record('backfill', { data: { copied: p.copied + p.skipped, total: skus.length } });
    const done = Math.min(1, (p.copied + p.skipped) / skus.length);
    console.log(`${date()}  backfill  [${'#'.repeat(Math.round(done * 30)).padEnd(30, '.')}] ${String(Math.round(done * 100)).padStart(3)} %  ${p.copied + p.skipped}/${skus.length} rows`);
  },
});
const check = await verify({ old: oldTable, new: newTable, keyOf: (p) => p.sku, logger: quiet });
await say(`data      backfill copied ${copy.copied} rows (${copy.skipped} already there); verify: ${check.checked} checked, ${check.missing.count} missing, ${check.different.count} different`);
await dataConfig.save(phases.canary(100));
await say('data      reads move to prices_v2; writes still go to prices_v1 first');

clock.advance(day);
await store.save(phases.shadow());
await say('phase 2   shadow: v1 serves, v2 is called too and compared');
await traffic(1_000);
journal.snapshot(glue);
const found = guard.check();
await say(`          the judge says ${found.verdict}: ${found.reasons[0] ?? ''}`);
await say(`          ${glue.stats().shadow.fingerprints[0]?.description ?? ''}`);
state.rounding = 'round';
// The fixed build is judged on its own calls: the broken build's mismatches no longer count.
guard.restartStep();
await say('fix       v2 rounds half up like v1; shadow again, judged afresh');
guard.watch();
clock.advance(day);
const clean = await aDay();
await say(`          shadow ${clean.verdict}: ${clean.samples.compared} comparisons, ${glue.stats().shadow.window.mismatched} mismatches in the last window`);
journal.check('New system implemented and tested');

// The ramp: the default plan, ticked once a simulated day, automatic approvals. A step advances
// once its hold is over and the judge has the evidence that new is within the limits.
const ramp = new RampController({ store, guard, journal, clock, notifier: notify, logger: quiet, name: 'pricing', approve: () => true });
let released = false;
for (let round = 0; round < 120 && ramp.status().blockedBy !== 'done'; round++) {
  if (ramp.status().percentage === 25 && !store.current().shadowMode && !released && fault !== 'none') {
    released = true;
    state.broken = true;
    await say(`release   v2.1 of pricing goes out (${fault === 'errors' ? 'a cache that fails one call in twelve' : 'six times slower'})`);
  }
  await aDay();
  if (rolledBack) {
    rolledBack = false;
    journal.issue(`pricing v2.1 ${fault === 'errors' ? 'failed one call in twelve' : 'p95 six times v1'} at 25 %`, { resolution: 'fixed in v2.2', owner: 'pricing team' });
    state.broken = false;
    clock.advance(2 * 60 * 60 * 1000);
    await say('fix       v2.2 deployed; the ramp resumes from shadow');
    await ramp.resume();
    await aDay();
  }
  const after = await ramp.tick();
  if (after.blockedBy === 'samples') {
    const held = guard.check();
    const more = held.needed === undefined ? '' : `; about ${held.needed.toLocaleString('en-US')} more calls on new needed`;
    await say(`hold      ${where()}: inconclusive, the ramp waits for evidence: ${held.reasons[0] ?? ''}${more}`);
  }
  clock.advance(day);
}

await dataConfig.save(phases.full());
const last = await verify({ old: oldTable, new: newTable, keyOf: (p) => p.sku, logger: quiet });
await say(`data      writes move to prices_v2 first (v1 kept current for rollback); verify: ${last.missing.count} missing, ${last.different.count} different`);
await say('phase 5   cleanup: drop the glue, write to prices_v2 only, decommission v1 (docs/cleanup.md)');

const stats = glue.stats();
console.log(`\n${renderChecklist(journal, { name: 'pricing', oldSystem: 'pricing v1', newSystem: 'pricing v2', owner: 'pricing team' })}`);
const out = path.resolve(values.out);
fs.writeFileSync(out, renderReport(journal, stats, { oldSystem: 'pricing v1', newSystem: 'pricing v2', owner: 'pricing team', criteria: guard.criteria }));
if (values.journal !== undefined) fs.writeFileSync(path.resolve(values.journal), `${journal.entries().map((e) => JSON.stringify(e)).join('\n')}\n`);
console.log(`report written to ${path.relative(process.cwd(), out) || out}`);
// In production the config (and the ramp's state) live in a shared store; these steer it from any shell.
const storeUrl = 'file:pricing-config.json'; // or redis://host:6379?key=pricing:config
console.log(`
Run it from a shell (no approval or rollback code needed), with the store in a file or Redis:
  npx migration-glue status --store ${storeUrl}
  npx migration-glue approve --store ${storeUrl} --comment "shadow clean for a day"
  npx migration-glue rollback --store ${storeUrl} --reason "p95 doubled"`);
await glue.close();
await db.close();

function where(): string {
  const config = store.current();
  return config.shadowMode ? 'shadow' : `${config.newSystemPercentage} %`;
}

function pct(rate: number): string {
  return `${Number((rate * 100).toFixed(2))} %`;
}
