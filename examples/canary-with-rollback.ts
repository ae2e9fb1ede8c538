/**
 * A canary with fallback, then a rollback: the routing, events and stats of
 * one MigrationGlue. Run with `npx tsx examples/canary-with-rollback.ts`.
 */
import { InMemoryConfigStore, MigrationGlue, phases } from '../src/index.js';

type Lookup = { userId: string };
type Profile = { userId: string; plan: string };

const legacyProfiles = async ({ userId }: Lookup): Promise<Profile> => ({ userId, plan: 'pro' });

// The new service fails for one user in ten: fallback hides it from callers.
const newProfiles = async ({ userId }: Lookup): Promise<Profile> => {
  if (userId.endsWith('7')) throw new Error(`profile store timeout for ${userId}`);
  return { userId, plan: 'pro' };
};

const store = new InMemoryConfigStore(phases.preparation());
const glue = new MigrationGlue<Lookup, Profile>({
  name: 'profiles',
  oldService: legacyProfiles,
  newService: newProfiles,
  config: store,
  logger: { debug() {}, info() {}, warn() {}, error() {} },
  notifier: (notification) => console.log(`notify: ${notification.message}`),
});

let fallbacks = 0;
glue.on('fallback', () => {
  fallbacks += 1;
});

await store.save(phases.canary(25));
const served = { old: 0, new: 0 };
const off = glue.on('route', (event) => {
  served[event.arm] += 1;
});
for (let i = 0; i < 1_000; i++) await glue.process({ userId: `user-${i}` });
off();
const stats = glue.stats();
console.log(`canary 25 %: routed old ${served.old}, new ${served.new}; ${fallbacks} fallbacks, none seen by callers`);
console.log(`new error rate ${(stats.new.errorRate * 100).toFixed(1)} %, old p95 ${stats.old.p95.toFixed(3)} ms`);

// The error rate is far over 1 %: roll back. The very next call goes to old.
await glue.rollback(`new error rate ${(stats.new.errorRate * 100).toFixed(1)} % > 1 %`);
console.log('config after rollback:', JSON.stringify(store.current()));
const after = await glue.process({ userId: 'user-3' });
console.log(`user-3 now served by old: plan ${after.plan}`);
await glue.close();
