/**
 * The migration in miniature: one glue taken through every phase of the
 * workflow on embedded defaults (no server), printing what happens.
 * Run with `npm run demo`.
 */
import { InMemoryConfigStore, MigrationGlue, phases } from '../src/index.js';
import type { MigrationConfig } from '../src/index.js';

type Quote = { userId: string; amount: number };
type Price = { total: number; currency: string };

// The old pricing code rounds half up; the first cut of the new one forgot to round.
const oldPricing = async ({ amount }: Quote): Promise<Price> => ({ total: Math.round(amount * 1.2 * 100) / 100, currency: 'EUR' });
let newPricingFixed = false;
const newPricing = async ({ amount }: Quote): Promise<Price> => ({
  total: newPricingFixed ? Math.round(amount * 1.2 * 100) / 100 : amount * 1.2,
  currency: 'EUR',
});

const store = new InMemoryConfigStore(phases.preparation());
const glue = new MigrationGlue<Quote, Price>({
  name: 'pricing',
  oldService: oldPricing,
  newService: newPricing,
  config: store,
  logger: { debug() {}, info() {}, warn() {}, error() {} },
});

let mismatches = 0;
glue.on('mismatch', (event) => {
  mismatches += 1;
  if (mismatches <= 2) {
    const first = event.comparison.diff[0];
    console.log(`  mismatch for ${String(event.key)}: ${first?.path} old=${JSON.stringify(first?.old)} new=${JSON.stringify(first?.new)}`);
  }
});
glue.on('rollback', (event) => console.log(`  rolled back: ${event.reason}`));

async function traffic(calls: number): Promise<void> {
  for (let i = 0; i < calls; i++) {
    await glue.process({ userId: `user-${i}`, amount: 10 + (i % 97) * 0.37 });
  }
  await glue.drain();
}

let previous = glue.stats();

async function phase(title: string, config: MigrationConfig, calls = 2_000): Promise<void> {
  await store.save(config);
  mismatches = 0;
  await traffic(calls);
  const now = glue.stats();
  const compared = now.shadow.compared - previous.shadow.compared;
  const mismatched = now.shadow.mismatched - previous.shadow.mismatched;
  const shadowNote = compared === 0 ? '' : `, shadow compared ${compared}, mismatches ${((mismatched / compared) * 100).toFixed(1)} %`;
  console.log(
    `${title.padEnd(14)} old served ${String(now.old.calls - previous.old.calls).padStart(4)}, new served ${String(now.new.calls - previous.new.calls).padStart(4)}${shadowNote}`,
  );
  previous = now;
}

console.log('migration-glue demo: pricing v1 -> v2\n');
await phase('preparation', phases.preparation());
await phase('shadow', phases.shadow());
console.log('  fix the new service (round to cents) and shadow again');
newPricingFixed = true;
await phase('shadow (fixed)', phases.shadow());
for (const percentage of [1, 5, 10, 25, 50, 90]) await phase(`canary ${percentage} %`, phases.canary(percentage));
await phase('full', phases.full());
await glue.rollback('demo: showing an instant rollback');
await traffic(10);
console.log(`after rollback: new disabled, ${glue.stats().config.newSystemPercentage} % to new`);
await glue.close();
console.log('\ndone. Next: remove the glue once the grace period is over (phase 5, cleanup).');
