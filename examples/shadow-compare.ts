/**
 * Shadow mode: old serves, new is compared in the background. Shows the
 * noise floor (A/A), ignore and normalize rules, mismatch fingerprints and
 * glueService policies. Run with `npx tsx examples/shadow-compare.ts`.
 */
import { MigrationGlue, deepEqualComparator, glueService, phases } from '../src/index.js';

type Cart = { userId: string; items: { sku: string; price: number }[] };
type Quote = { total: number; computedAt: string; lines: { sku: string; price: number }[] };

const quietLogger = { debug() {}, info() {}, warn() {}, error() {} };
const oldQuote = async (cart: Cart): Promise<Quote> => ({
  total: Math.round(cart.items.reduce((sum, item) => sum + item.price, 0) * 100) / 100,
  computedAt: new Date().toISOString(),
  lines: cart.items,
});
// The new service forgets to round, and lists lines in another order.
const newQuote = async (cart: Cart): Promise<Quote> => ({
  total: cart.items.reduce((sum, item) => sum + item.price, 0),
  computedAt: new Date().toISOString(),
  lines: [...cart.items].reverse(),
});

function carts(n: number): Cart[] {
  return Array.from({ length: n }, (_, i) => ({
    userId: `user-${i}`,
    items: [
      { sku: 'A', price: 0.1 * (i % 7) },
      { sku: 'B', price: 0.2 },
    ],
  }));
}

async function measure(title: string, glue: MigrationGlue<Cart, Quote>): Promise<void> {
  for (const cart of carts(500)) await glue.process(cart);
  await glue.drain();
  const shadow = glue.stats().shadow;
  console.log(`${title}: ${shadow.compared} compared, mismatch rate ${(shadow.mismatchRate * 100).toFixed(1)} %`);
  for (const group of shadow.fingerprints) console.log(`  ${group.description}: ${group.count} times`);
}

// 1. A/A: old against old. computedAt differs between two calls: that is noise.
await measure('A/A, naive comparator', new MigrationGlue({ name: 'quote', oldService: oldQuote, newService: newQuote, config: phases.shadow(), logger: quietLogger, shadow: { aa: true } }));

const comparator = deepEqualComparator<Quote>({ ignore: ['computedAt'], normalize: { unorderedArrays: ['lines'] } });
await measure('A/A, computedAt ignored', new MigrationGlue({ name: 'quote', oldService: oldQuote, newService: newQuote, config: phases.shadow(), logger: quietLogger, comparator, shadow: { aa: true } }));

// 2. Old against new with the same rules: what remains is a real difference.
await measure('old vs new', new MigrationGlue({ name: 'quote', oldService: oldQuote, newService: newQuote, config: phases.shadow(), logger: quietLogger, comparator }));

// 3. Precision normalisation makes the rounding difference go away (if that is acceptable).
const lenient = deepEqualComparator<Quote>({ ignore: ['computedAt'], normalize: { unorderedArrays: ['lines'], precision: 2 } });
await measure('old vs new, 2 decimals', new MigrationGlue({ name: 'quote', oldService: oldQuote, newService: newQuote, config: phases.shadow(), logger: quietLogger, comparator: lenient }));

// 4. A whole service: reads shadowed, writes dual-written, emails sent once.
interface Carts {
  quote(cart: Cart): Promise<Quote>;
  save(cart: Cart): Promise<void>;
  email(cart: Cart): Promise<void>;
}
const sent: string[] = [];
const service = glueService<Carts>({
  name: 'carts',
  oldService: { quote: oldQuote, save: async () => {}, email: async (c) => void sent.push(`old:${c.userId}`) },
  newService: { quote: newQuote, save: async () => {}, email: async (c) => void sent.push(`new:${c.userId}`) },
  config: phases.shadow(),
  logger: quietLogger,
  comparator: deepEqualComparator({ ignore: ['computedAt'], normalize: { unorderedArrays: ['lines'], precision: 2 } }),
  policies: { quote: 'shadow', save: 'dualWrite', email: 'oldOnly' },
});
const [cart] = carts(1);
await service.quote(cart!);
await service.save(cart!);
await service.email(cart!);
await service.migration.drain();
console.log(`glueService in shadow: emails sent ${JSON.stringify(sent)} (once, by old); quote compared ${service.migration.stats().quote?.shadow.compared}`);
