import { setImmediate as yieldOnce } from 'node:timers/promises';
import { PGlite } from '@electric-sql/pglite';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CheckpointStore } from '../../src/data/checkpoint-store.js';
import { backfillPartitioned } from '../../src/data/partition-backfill.js';
import { InMemoryPartitionLeases } from '../../src/data/partition-memory-leases.js';
import type { KeySplitter, PartitionLeases } from '../../src/data/partition.js';
import { silentLogger } from '../../src/observe/logger.js';
import type { SqlQueryable, SqlRow } from '../../src/sql/sql-client.js';
import { sqlAdvisoryLeases } from '../../src/sql/sql-advisory-leases.js';
import { sqlCheckpointStore } from '../../src/sql/sql-checkpoint-store.js';
import { sqlRepository } from '../../src/sql/sql-repository.js';
import { sqlKeySplitter, sqlSplitKeys } from '../../src/sql/sql-split-keys.js';
import { toSqlQuery } from '../../src/sql/sql-client.js';
import { freshName } from './sql-suite.js';

const shape = '(id bigint PRIMARY KEY, account text, amount numeric(38,10), updated_at timestamptz, payload jsonb)';
const seed = (table: string, rows: number) =>
  `INSERT INTO ${table} SELECT i, 'acct-' || i, i * 1.0000000001, '2024-01-01 00:00:00.000001+00'::timestamptz + i * interval '1 ms', ('{"n": ' || i || '.10}')::jsonb FROM generate_series(1, ${rows}) AS i`;
const checksum = (table: string) => `SELECT count(*)::int8::text AS n, md5(string_agg(t::text, '|' ORDER BY id)) AS h FROM ${table} t`;

/** A partitioned run by `workers` workers at once between two tables, each worker with its own leases object. */
async function runWorkers(source: SqlQueryable, target: SqlQueryable, from: string, to: string, leasesOf: (worker: number) => PartitionLeases, workers: number, partitions: number) {
  const job = freshName('job');
  const checkpointFor = (name: string): CheckpointStore => sqlCheckpointStore({ query: target, name: `${job}:${name}` });
  const old = { ...sqlRepository<SqlRow, string>({ query: source, table: from, key: 'id' }), ...sqlKeySplitter<string>({ query: source, table: from, key: 'id' }) };
  const fresh = sqlRepository<SqlRow, string>({ query: target, table: to, key: 'id' });
  const ranges = new Map<number, string>();
  return Promise.all(
    Array.from({ length: workers }, (_, i) =>
      backfillPartitioned({
        from: old,
        to: fresh,
        keyOf: (row) => row.id as string,
        batchSize: 100,
        partitions,
        leases: leasesOf(i),
        checkpointFor,
        workerId: `w${i}`,
        retryMs: 20,
        logger: silentLogger,
        onProgress: (p) => {
          if (p.rangeDone) return;
          const owner = ranges.get(p.range);
          // A range is worked by one worker only (none of them loses its lease here).
          if (owner !== undefined && owner !== p.worker) throw new Error(`range ${p.range} worked by ${owner} and ${p.worker}`);
          ranges.set(p.range, p.worker);
        },
      }),
    ),
  ).then((results) => ({ results, ranges }));
}

describe('sqlSplitKeys on PGlite', () => {
  let db: PGlite;
  beforeAll(async () => {
    db = new PGlite();
    await db.exec(`CREATE TABLE big ${shape}; ${seed('big', 1000)};
      CREATE TABLE words (w text COLLATE "C" PRIMARY KEY); INSERT INTO words SELECT chr(97 + i % 26) || i FROM generate_series(0, 99) AS i;
      CREATE TABLE empty (id int PRIMARY KEY);`);
  }, 60_000);
  afterAll(async () => db.close());
  const query = () => toSqlQuery(db);

  it('splits a bigint key into ranges of equal size, keys read as the repository reads them (text)', async () => {
    expect(await sqlSplitKeys(query(), '"big"', 'id', undefined, 4)).toEqual(['250', '500', '750']);
    expect(await sqlSplitKeys(query(), '"big"', 'id', undefined, 3)).toEqual(['333', '666']);
    expect(await sqlSplitKeys(query(), '"big"', 'id', undefined, 1)).toEqual([]);
  });

  it('follows the key order of the server (text under C), and gives fewer keys than asked on a small table', async () => {
    const keys = (await sqlSplitKeys(query(), '"words"', 'w', undefined, 5)) as string[];
    const all = (await db.query<{ w: string }>('SELECT w FROM words ORDER BY w')).rows.map((r) => r.w);
    expect(keys).toEqual([all[19], all[39], all[59], all[79]]);
    expect(await sqlSplitKeys(query(), '"empty"', 'id', undefined, 4)).toEqual([]);
    await db.exec('INSERT INTO empty VALUES (1), (2)');
    expect(await sqlSplitKeys(query(), '"empty"', 'id', undefined, 4)).toEqual([1]);
  });

  it('sqlRepository itself splits its keys (the KeySplitter capability)', async () => {
    const repository = sqlRepository<SqlRow, string>({ query: db, table: 'big', key: 'id' }) as unknown as KeySplitter<string>;
    expect(await repository.splitKeys(4)).toEqual(['250', '500', '750']);
  });

  it('sqlKeySplitter checks its options', () => {
    expect(() => sqlKeySplitter({ query: db, table: 'big', key: '' })).toThrow(/option `key`/);
    expect(() => sqlKeySplitter({ query: db, table: 'big', key: 'id', colation: 'C' } as never)).toThrow(/did you mean `collation`/);
  });

  it('three workers over in-process leases copy the table as one backfill would', async () => {
    const target = new PGlite();
    await target.exec(`CREATE TABLE big ${shape}`);
    const leases = new InMemoryPartitionLeases();
    // PGlite settles without I/O: let the event loop turn between queries so the workers interleave.
    const yielding = (client: PGlite): SqlQueryable => async (sql, params) => {
      await yieldOnce();
      return client.query(sql, params);
    };
    const { results, ranges } = await runWorkers(yielding(db), yielding(target), 'big', 'big', () => leases, 3, 5);
    for (const result of results) expect(result).toEqual(results[0]);
    expect(results[0]?.copied).toBe(1000);
    expect(results[0]?.ranges.map((r) => r.upTo)).toEqual(['200', '400', '600', '800', null]);
    expect(new Set(ranges.values()).size).toBeGreaterThan(1);
    expect((await target.query(checksum('big'))).rows).toEqual((await db.query(checksum('big'))).rows);
    await target.close();
  }, 60_000);
});

const url = process.env.PG_URL;
const underCi = process.env.CI !== undefined && process.env.CI !== '' && process.env.CI !== 'false';

if (url !== undefined && url !== '') {
  describe('sqlAdvisoryLeases and partitioned runs on PostgreSQL', () => {
    const clients: pg.Client[] = [];
    let pool: pg.Pool;
    const session = async (): Promise<pg.Client> => {
      const client = new pg.Client({ connectionString: url });
      client.on('error', () => {});
      await client.connect();
      clients.push(client);
      return client;
    };
    beforeAll(async () => {
      pool = new pg.Pool({ connectionString: url, max: 6 });
    });
    afterAll(async () => {
      for (const client of clients) await client.end().catch(() => {});
      await pool.end();
    });

    it('one session at a time holds a lease; release frees it; a second object on another session waits', async () => {
      const prefix = `${freshName('lease')}:`;
      const a = sqlAdvisoryLeases({ client: await session(), prefix });
      const b = sqlAdvisoryLeases({ client: await session(), prefix });
      const held = await a.acquire('range-0', 'a');
      expect(held).toBeDefined();
      expect(await b.acquire('range-0', 'b')).toBeUndefined();
      // The same object refuses a lease it already holds (the session's locks are reentrant).
      expect(await a.acquire('range-0', 'a')).toBeUndefined();
      expect(await held?.renew()).toBe(true);
      expect(await a.acquire('range-1', 'a')).toBeDefined();
      await held?.release();
      expect(await held?.renew()).toBe(false);
      const taken = await b.acquire('range-0', 'b');
      expect(taken).toBeDefined();
      expect(await taken?.renew()).toBe(true);
      await taken?.release();
    });

    it('a worker whose session dies loses its leases at once: renew fails, another session takes the range', async () => {
      const prefix = `${freshName('lease')}:`;
      const doomed = await session();
      const a = sqlAdvisoryLeases({ client: doomed, prefix });
      const held = await a.acquire('range-0', 'a');
      const pid = (await doomed.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0]?.pid;
      await pool.query('SELECT pg_terminate_backend($1)', [pid]);
      await expect(held?.renew()).rejects.toThrow();
      const b = sqlAdvisoryLeases({ client: await session(), prefix });
      // The server drops the dead session's locks when its backend exits: ask until it did.
      let taken = await b.acquire('range-0', 'b');
      for (let i = 0; taken === undefined && i < 500; i++) {
        await new Promise((resolve) => setTimeout(resolve, 10));
        taken = await b.acquire('range-0', 'b');
      }
      expect(taken).toBeDefined();
      await taken?.release();
    });

    it('refuses a pool: its queries run on any connection', () => {
      expect(() => sqlAdvisoryLeases({ client: pool, prefix: 'p:' })).toThrow(/option `client` must be one session/);
      expect(() => sqlAdvisoryLeases({ client: pool, prefix: '' })).toThrow(/option `prefix`/);
    });

    it('three workers, each with its own session for its leases, copy a table with splitKeys and end equal', async () => {
      const from = freshName('part_from');
      const to = freshName('part_to');
      await pool.query(`CREATE TABLE ${from} ${shape}`);
      await pool.query(`CREATE TABLE ${to} ${shape}`);
      await pool.query(seed(from, 3000));
      const prefix = `${freshName('lease')}:`;
      const sessions = [await session(), await session(), await session()];
      const { results, ranges } = await runWorkers(pool, pool, from, to, (i) => sqlAdvisoryLeases({ client: sessions[i] as pg.Client, prefix }), 3, 6);
      for (const result of results) expect(result).toEqual(results[0]);
      expect(results[0]?.copied).toBe(3000);
      expect(results[0]?.ranges.map((r) => r.upTo)).toEqual(['500', '1000', '1500', '2000', '2500', null]);
      expect(ranges.size).toBe(6);
      expect((await pool.query(checksum(to))).rows).toEqual((await pool.query(checksum(from))).rows);
    }, 60_000);
  });
} else if (underCi) {
  describe('partitioned runs on PostgreSQL', () => {
    it('has a server to test against (PG_URL)', () => {
      expect(url, 'PG_URL is not set: run scripts/postgres-start.sh and export the PG_URL it prints').toBeTruthy();
    });
  });
} else {
  describe.skip('sqlAdvisoryLeases on PostgreSQL (set PG_URL to run)', () => {
    it('runs against PostgreSQL', () => {});
  });
}
