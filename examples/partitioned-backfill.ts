/**
 * A backfill split into key ranges that three workers run at once, on
 * PGlite: the ranges come from the source table (sqlRepository's splitKeys), each is
 * claimed with a lease and resumable on its own checkpoint. One worker
 * "crashes" mid-range; the others take its range over when its lease
 * expires. Across processes, use redisPartitionLeases or sqlAdvisoryLeases
 * (PostgreSQL) instead of the in-memory leases.
 * Run with `npx tsx examples/partitioned-backfill.ts`.
 */
import { setImmediate as yieldToEventLoop } from 'node:timers/promises';
import { PGlite } from '@electric-sql/pglite';
import { InMemoryPartitionLeases, backfillPartitioned } from '../src/index.js';
import type { PartitionLeases } from '../src/index.js';
import type { SqlQuery } from '../src/sql/index.js';
import { sqlCheckpointStore, sqlRepository } from '../src/sql/index.js';

type Order = { id: number; customer: string; total: string };

const quiet = { debug() {}, info() {}, warn() {}, error() {} };
const db = new PGlite();
await db.exec(`CREATE TABLE orders (id integer PRIMARY KEY, customer text NOT NULL, total numeric(12,2) NOT NULL);
  CREATE TABLE orders_v2 (LIKE orders INCLUDING ALL);
  INSERT INTO orders SELECT i, 'customer-' || (i % 97), (i * 1.25)::numeric(12,2) FROM generate_series(1, 6000) AS i;`);
// PGlite answers without I/O: yield once per statement so that the workers take turns, as they would on a server.
const query: SqlQuery = async (sql, params) => {
  await yieldToEventLoop();
  return db.query(sql, params);
};

const from = sqlRepository<Order, number>({ query, table: 'orders', key: 'id' });
const to = sqlRepository<Order, number>({ query, table: 'orders_v2', key: 'id' });
// Leases expire on this clock: the example moves it on instead of waiting.
let now = 0;
const clock = { now: () => now };
const leases = new InMemoryPartitionLeases({ clock, ttlMs: 30_000 });

const worker = (id: string, workerLeases: PartitionLeases, failAfterBatches = Infinity) => {
  let batches = 0;
  return backfillPartitioned<Order, number>({
    from,
    to,
    keyOf: (order) => order.id,
    batchSize: 250,
    partitions: 6,
    leases: workerLeases,
    checkpointFor: (name) => sqlCheckpointStore({ query, name: `orders-backfill:${name}` }),
    workerId: id,
    clock,
    // Waiting for a range another worker holds: move the clock on (a real run sleeps `retryMs`).
    sleep: async (ms) => {
      now += ms;
      await yieldToEventLoop();
    },
    logger: quiet,
    // Asked before each batch: the crashing worker dies before its fourth.
    throttle: () => {
      if (++batches > failAfterBatches) throw new Error(`${id} crashed`);
      return false;
    },
  });
};

// A worker that dies keeps its leases until they expire: it never releases them.
const dying: PartitionLeases = {
  async acquire(name, owner) {
    const lease = await leases.acquire(name, owner);
    return lease && { renew: () => lease.renew(), release: async () => {} };
  },
};
const crashed = await worker('w-crash', dying, 3).catch((err: unknown) => (err as Error).message);
console.log('1.', crashed, 'after 3 batches; its range stays leased until the lease expires');

const [a, b] = await Promise.all([worker('w1', leases), worker('w2', leases)]);
console.log('2. w1 and w2 finished every range:', a.ranges.map((r) => `${r.after ?? '-∞'}..${r.upTo ?? '+∞'}`).join(' '));
console.log(`   copied ${a.copied} (the crashed worker's batches included), skipped ${a.skipped}; both report the same: ${JSON.stringify(a) === JSON.stringify(b)}`);

const sums = await db.query<{ same: boolean }>(
  `SELECT (SELECT md5(string_agg(t::text, '' ORDER BY id)) FROM orders t) = (SELECT md5(string_agg(t::text, '' ORDER BY id)) FROM orders_v2 t) AS same`,
);
console.log('3. the two tables are identical:', sums.rows[0]?.same);
if (sums.rows[0]?.same !== true) process.exitCode = 1;
await db.close();
