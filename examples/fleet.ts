/**
 * A small fleet on one Redis: three instances of an app (here in one
 * process, each with its own connections) share a RedisConfigStore, publish
 * their figures with FleetStats, and run a LeasedRampController each, of
 * which only the lease holder advances the ramp. When new starts failing, a
 * RollbackGuard judging the fleet's totals rolls back, and every instance
 * serves old on its next call.
 *
 *   npm run redis:start    # prints REDIS_URL=redis://127.0.0.1:63790
 *   REDIS_URL=redis://127.0.0.1:63790 npx tsx examples/fleet.ts
 *
 * In a real project the imports read 'migration-glue' and 'migration-glue/redis'.
 */
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { MigrationGlue, RollbackGuard, phases, silentLogger } from '../src/index.js';
import { FleetStats, LeasedRampController, RedisConfigStore, RedisLease } from '../src/redis/index.js';

const url = process.env.REDIS_URL;
if (url === undefined || url === '') {
  console.log('examples/fleet.ts needs a Redis: run `npm run redis:start` and set REDIS_URL to the URL it prints. Skipped.');
  process.exit(0);
}

const prefix = `example:fleet:${randomBytes(4).toString('hex')}`;
let newIsBroken = false;

async function startInstance(name: string) {
  const redis = new Redis(url as string);
  const store = await RedisConfigStore.connect({ redis, key: `${prefix}:config`, initial: phases.preparation() });
  const glue = new MigrationGlue<{ userId: string }, string>({
    name: 'recommendations',
    oldService: async () => 'old',
    newService: async () => {
      if (newIsBroken) throw new Error('new recommendations are down');
      return 'new';
    },
    config: store,
    logger: silentLogger,
    windowMs: 60_000,
  });
  const fleet = new FleetStats({ redis, key: `${prefix}:fleet`, glue, intervalMs: 100 });
  const lease = new RedisLease({ redis, key: `${prefix}:ramp-lease`, ttlMs: 1000, owner: name });
  const ramp = new LeasedRampController({
    store,
    lease,
    plan: [1, 5, 25, 50].map((percentage) => ({ percentage, holdMs: 150 })),
    logger: silentLogger,
    name: 'recommendations',
  });
  return { name, redis, store, glue, fleet, ramp };
}

const instances = await Promise.all(['web-1', 'web-2', 'web-3'].map(startInstance));
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

let announced = 0;
// Every instance serves a little traffic and ticks its ramp; only the lease holder moves it.
async function serve(rounds: number): Promise<void> {
  for (let round = 0; round < rounds; round++) {
    for (const instance of instances) {
      for (let i = 0; i < 10; i++) await instance.glue.process({ userId: `${instance.name}-user-${i}` }).catch(() => undefined);
      const status = await instance.ramp.tick();
      if (status.leader && status.percentage !== announced) {
        announced = status.percentage;
        console.log(`${instance.name} leads the ramp: ${status.percentage} % on new`);
      }
    }
    await sleep(50);
  }
}

await serve(20);
console.log(`every instance serves ${instances.map((i) => i.store.current().newSystemPercentage).join(' / ')} % on new`);

// The guard judges the fleet's totals: each instance alone would have too few calls.
await Promise.all(instances.map((i) => i.fleet.refresh()));
const guard = new RollbackGuard(instances[0]!.fleet, { windowMs: 60_000, minSamples: 60 }, { logger: silentLogger });
const stopWatching = guard.watch();
console.log(`fleet: ${instances[0]!.fleet.instances} instances, ${instances[0]!.fleet.stats().new.window.calls} calls on new in the window`);

newIsBroken = true;
console.log('new starts failing...');
const deadline = Date.now() + 10_000;
while (instances.some((i) => i.store.current().newSystemEnabled) && Date.now() < deadline) await serve(1);
stopWatching();

for (const instance of instances) {
  const served = await instance.glue.process({ userId: 'after-rollback' });
  console.log(`${instance.name}: rolled back = ${instance.store.info().rolledBack}, next call served by ${served}`);
}

for (const instance of instances) {
  await instance.ramp.close();
  await instance.fleet.close();
  await instance.glue.close();
  await instance.store.close();
}
const cleanup = instances[0]!.redis;
await cleanup.del(`${prefix}:config`);
for (const instance of instances) instance.redis.disconnect();
