/**
 * Migrating a table on PGlite end to end, Stripe-style: dual write on,
 * backfill (with live writes racing it), verify, move reads, move writes.
 * Run with `npx tsx examples/migrate-table.ts`.
 */
import { setImmediate as yieldToEventLoop } from 'node:timers/promises';
import { PGlite } from '@electric-sql/pglite';
import { DualWriteRepository, InMemoryConfigStore, backfill, phases, verify } from '../src/index.js';
import type { Repository } from '../src/index.js';
import { sqlCheckpointStore, sqlRepairLog, sqlRepository, sqlTombstoneStore } from '../src/sql/index.js';

type User = { id: number; email: string; plan: string };

const quiet = { debug() {}, info() {}, warn() {}, error() {} };
const db = new PGlite();
for (const table of ['users', 'users_v2']) {
  await db.query(`CREATE TABLE ${table} (id integer PRIMARY KEY, email text NOT NULL, plan text NOT NULL)`);
}
await db.query(`INSERT INTO users SELECT i, 'user' || i || '@example.com', 'free' FROM generate_series(1, 3000) AS i`);

const oldUsers: Repository<User, number> = sqlRepository<User, number>({ query: db, table: 'users', key: 'id' });
const newUsers = sqlRepository<User, number>({ query: db, table: 'users_v2', key: 'id' });
const config = new InMemoryConfigStore(phases.preparation());
const users = new DualWriteRepository({
  name: 'users',
  old: oldUsers,
  new: newUsers,
  keyOf: (user) => user.id,
  config,
  repairLog: sqlRepairLog({ query: db, name: 'users' }),
  tombstones: sqlTombstoneStore({ query: db, name: 'users' }),
  logger: quiet,
});

// 1. Dual write: every write from now on reaches both tables, old first.
await config.save(phases.shadow());
console.log('1. dual write on (shadow): writes go to old, then new');

// The application keeps writing while the copy runs: updates and deletes race the backfill.
// PGlite answers without I/O, so a loop of awaits on it never lets a timer fire: it yields to
// the event loop once per iteration, or the backfill's rate-limit pause would never end.
let live = 0;
let copying = true;
const traffic = (async () => {
  while (copying) {
    live += 1;
    const id = 1 + ((live * 7919) % 3000);
    if (live % 5 === 0) await users.delete(id);
    else await users.save({ id, email: `user${id}@example.com`, plan: 'pro' });
    await yieldToEventLoop();
  }
})();

// 2. Backfill the rows that existed before dual writing, resumably, at a capped rate. Over a
// store that answers without I/O the copy itself never yields; its pauses are where the
// application's own work (the traffic above) gets the event loop.
const copy = await backfill({
  from: oldUsers,
  to: newUsers,
  keyOf: (user) => user.id,
  batchSize: 250,
  maxRowsPerSecond: 2_000,
  totalRows: 3000,
  checkpoint: sqlCheckpointStore({ query: db, name: 'users-backfill' }),
  tombstones: users.tombstones,
  logger: quiet,
  onProgress: (p) => {
    if (p.batches % 4 === 0) console.log(`   backfill: ${p.copied + p.skipped} rows, ${Math.round(p.rowsPerSecond)} rows/s, ~${Math.round(p.etaMs ?? 0)} ms left`);
  },
});
copying = false;
await traffic;
console.log(`2. backfill done: ${copy.copied} copied, ${copy.skipped} skipped (already written by dual writes or deleted), ${live} live writes meanwhile`);

// 3. Verify: old is the source of truth; repair fixes new only.
const report = await verify({ old: oldUsers, new: newUsers, keyOf: (user) => user.id, repair: true, logger: quiet });
console.log(`3. verify: ${report.checked} rows checked, ${report.missing.count} missing, ${report.extra.count} extra, ${report.different.count} different`);

// 4. Move reads: a sticky share of keys read from new.
await config.save(phases.canary(50));
for (let id = 1; id <= 200; id++) await users.get(id);
const { reads } = users.stats();
console.log(`4. reads moved (canary 50 %): ${reads.new} reads from new, ${reads.old} from old`);

// 5. Move writes: new becomes the primary, old is kept current for rollback.
await config.save(phases.full());
await users.save({ id: 42, email: 'answer@example.com', plan: 'team' });
const [inOld, inNew] = await Promise.all([oldUsers.get(42), newUsers.get(42)]);
console.log(`5. full: new is primary; both tables hold user 42 as ${inNew?.plan}/${inOld?.plan}; repair log: ${await users.repairLog.size()} entries`);
console.log('6. remove old: once the grace period passes, drop the glue and the old table');
await db.close();
