import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { backfill } from '../../src/data/backfill.js';
import { InMemoryCheckpointStore } from '../../src/data/checkpoint-store.js';
import { DualWriteRepository } from '../../src/data/dual-write-repository.js';
import type { Repository } from '../../src/data/repository.js';
import { InMemoryTombstoneStore } from '../../src/data/tombstone-store.js';
import { phases } from '../../src/config/phases.js';
import { silentLogger } from '../../src/observe/logger.js';
import { ManualClock } from '../../src/testing/index.js';
import type { SqlQuery, SqlRow } from '../../src/sql/sql-client.js';
import { quoteTable, rowsOf, toSqlQuery } from '../../src/sql/sql-client.js';
import { sqlRepository } from '../../src/sql/sql-repository.js';
import type { SqlConnection } from './sql-suite.js';
import { freshName } from './sql-suite.js';

/** The benchmark's shape: a bigint key and values a JS double or Date would change. */
const shape = '(id bigint PRIMARY KEY, account text, amount numeric(38,10), updated_at timestamptz, payload jsonb)';

const seedSql = (table: string, rows: number): string =>
  `INSERT INTO ${table} SELECT i, 'acct-' || (i % 97), (i * 1.0000000001)::numeric(38,10), '2024-01-01 00:00:00.000001+00'::timestamptz + i * interval '1 second',
   ('{"n": ' || i || ', "precise": 12345678901234567890.' || i || '}')::jsonb FROM generate_series(1, ${rows}) AS i`;

type Row = SqlRow & { id: string };
const keyOf = (row: Row): string => row.id;

/** Backfill between two tables of one database, copied by the server (Repository.copyRangeTo). */
export function describeSqlServerCopy(name: string, connect: () => Promise<SqlConnection>): void {
  describe(`backfill inside one database on ${name}`, () => {
    let connection: SqlConnection | undefined;
    const query: SqlQuery = (sql, params) => toSqlQuery((connection as SqlConnection).query)(sql, params);
    beforeAll(async () => {
      connection = await connect();
    }, 60_000);
    afterAll(async () => {
      await connection?.close();
    });

    /** Two tables, the source seeded; `to` on its own query function (the copy must recognise the database); reads through the process counted. */
    const tables = async (rows: number, targetShape = shape) => {
      const [a, b] = [freshName('copy_src'), freshName('copy_dst')];
      await query(`CREATE TABLE ${quoteTable(a)} ${shape}`, []);
      await query(`CREATE TABLE ${quoteTable(b)} ${targetShape}`, []);
      await query(seedSql(quoteTable(a), rows), []);
      const statements: string[] = [];
      const targetQuery: SqlQuery = (sql, params) => {
        statements.push(sql);
        return query(sql, params);
      };
      const inner = sqlRepository<Row, string>({ query, table: a, key: 'id' });
      const reads = { rows: 0 };
      const from: Repository<Row, string> = {
        ...inner,
        getBatch: async (after, limit) => {
          const page = await inner.getBatch(after, limit);
          reads.rows += page.length;
          return page;
        },
      };
      const to = sqlRepository<Row, string>({ query: targetQuery, table: b, key: 'id' });
      const sum = async (table: string) => rowsOf(await query(`SELECT count(*)::int AS n, md5(string_agg(t::text, E'\\n' ORDER BY id)) AS h FROM ${quoteTable(table)} t`, []))[0];
      return { a, b, from, to, reads, statements, sum };
    };

    it('copies every row in the database: none read through the process, the server checksum equal', async () => {
      const { a, b, from, to, reads, statements, sum } = await tables(250);
      const result = await backfill({ from, to, keyOf, batchSize: 100, logger: silentLogger });
      expect(result).toEqual({ copied: 250, skipped: 0, batches: 3, lastKey: '250' });
      expect(reads.rows).toBe(0);
      expect(statements.filter((sql) => sql.startsWith('WITH r AS'))).toHaveLength(4);
      expect(await sum(b)).toEqual(await sum(a));
    });

    it('leaves the rows the target holds (insert-if-absent), counts them skipped, and resumes from its checkpoint', async () => {
      const { a, b, from, to, sum } = await tables(120);
      await query(`INSERT INTO ${quoteTable(b)} SELECT * FROM ${quoteTable(a)} WHERE id IN (5, 60, 119)`, []);
      await query(`UPDATE ${quoteTable(b)} SET account = 'written by the application' WHERE id = 60`, []);
      const checkpoint = new InMemoryCheckpointStore();
      const controller = new AbortController();
      const stopped = backfill({ from, to, keyOf, batchSize: 50, checkpoint, signal: controller.signal, logger: silentLogger, onProgress: () => controller.abort() });
      await expect(stopped).rejects.toMatchObject({ code: 'ERR_ABORTED' });
      expect(await checkpoint.load()).toMatchObject({ lastKey: '50', copied: 49, skipped: 1 });

      const result = await backfill({ from, to, keyOf, batchSize: 50, checkpoint, logger: silentLogger });
      expect(result).toEqual({ copied: 117, skipped: 3, batches: 3, lastKey: '120' });
      expect(rowsOf(await query(`SELECT account FROM ${quoteTable(b)} WHERE id = 60`, []))[0]?.account).toBe('written by the application');
      await query(`UPDATE ${quoteTable(b)} SET account = 'acct-' || (60 % 97) WHERE id = 60`, []);
      expect(await sum(b)).toEqual(await sum(a));
    });

    it('never copies a tombstoned row, and removes one deleted while its range was copied', async () => {
      const { b, from, to, statements } = await tables(40);
      const tombstones = new InMemoryTombstoneStore<string>();
      await tombstones.add('7', 1);
      await tombstones.add('31', 1);
      // Key 31's tombstone is seen only after the insert (a delete that raced the copy); key 7's before.
      let asked = 0;
      const racing = {
        ...tombstones,
        add: tombstones.add.bind(tombstones),
        remove: tombstones.remove.bind(tombstones),
        clear: tombstones.clear.bind(tombstones),
        has: async (keys: readonly string[]) => {
          asked += 1;
          const dead = await tombstones.has(keys);
          return asked === 3 ? dead.filter((key) => key !== '31') : dead;
        },
      };
      const result = await backfill({ from, to, keyOf, batchSize: 25, tombstones: racing, logger: silentLogger });
      expect(result).toEqual({ copied: 38, skipped: 2, batches: 2, lastKey: '40' });
      const ids = rowsOf(await query(`SELECT id::text AS id FROM ${quoteTable(b)} ORDER BY id`, [])).map((row) => row.id);
      expect(ids).toHaveLength(38);
      expect(ids).not.toContain('7');
      expect(ids).not.toContain('31');
      // 7 was never inserted; 31 was, and was deleted again.
      expect(statements.filter((sql) => sql.startsWith('DELETE'))).toHaveLength(1);
    });

    it('keeps what dual writes did while the copy ran: a save is not overwritten, a delete not undone (property)', async () => {
      await fc.assert(
        fc.asyncProperty(
          fc.array(fc.record({ id: fc.integer({ min: 1, max: 60 }), op: fc.constantFrom('save', 'delete'), at: fc.integer({ min: 0, max: 4 }) }), { maxLength: 12 }),
          async (writes) => {
            const { a, b, from, to } = await tables(60);
            const oldRepo = sqlRepository<Row, string>({ query, table: a, key: 'id' });
            const tombstones = new InMemoryTombstoneStore<string>();
            const dual = new DualWriteRepository({ name: 'copy', old: oldRepo, new: to, keyOf, config: phases.shadow(), tombstones, logger: silentLogger });
            let batch = 0;
            // Asked before each batch: the writes due at that point run then, between two server-side copies.
            const throttle = async (): Promise<boolean> => {
              for (const write of writes.filter((w) => w.at === batch)) {
                if (write.op === 'delete') await dual.delete(String(write.id));
                else await dual.save({ id: String(write.id), account: `live ${batch}`, amount: '1', updated_at: '2030-01-01 00:00:00+00', payload: '{}' });
              }
              batch += 1;
              return false;
            };
            await backfill({ from, to, keyOf, batchSize: 15, tombstones, throttle, logger: silentLogger });
            const rowsOfTable = async (table: string) => rowsOf(await query(`SELECT t::text AS row FROM ${quoteTable(table)} t ORDER BY id`, [])).map((row) => row.row);
            expect(await rowsOfTable(b)).toEqual(await rowsOfTable(a));
          },
        ),
        { numRuns: 8 },
      );
    }, 120_000);

    it('converts a column whose type differs through its text, as the row-by-row copy does', async () => {
      const other = '(id bigint PRIMARY KEY, account varchar(40), amount text, updated_at text, payload json)';
      const server = await tables(30, other);
      const rowByRow = await tables(30, other);
      await backfill({ from: server.from, to: server.to, keyOf, batchSize: 7, logger: silentLogger });
      const generic = sqlRepository<Row, string>({ query, table: rowByRow.a, key: 'id', serverCopy: false });
      await backfill({ from: generic, to: rowByRow.to, keyOf, batchSize: 7, logger: silentLogger });
      expect(server.reads.rows).toBe(0);
      expect(await server.sum(server.b)).toEqual(await rowByRow.sum(rowByRow.b));
    });

    it('copies row by row where it cannot copy inside: serverCopy false, mapped rows, another key column, a column the source lacks', async () => {
      const cases = [
        { from: { serverCopy: false }, to: {} },
        { from: { fromRow: (row: SqlRow) => row as Row }, to: {} },
        { from: {}, to: { toRow: (row: Row) => row } },
        { from: {}, to: {}, targetShape: '(id bigint PRIMARY KEY, account text, amount numeric(38,10), updated_at timestamptz, payload jsonb, extra text)', columns: ['id', 'account', 'extra'] },
        { from: {}, to: {}, targetShape: '(id text PRIMARY KEY, account text, amount numeric(38,10), updated_at timestamptz, payload jsonb)' },
      ];
      for (const c of cases) {
        const { a, b, sum } = await tables(12, c.targetShape);
        const from = sqlRepository<Row, string>({ query, table: a, key: 'id', ...c.from });
        const to = sqlRepository<Row, string>({ query, table: b, key: 'id', ...(c.columns === undefined ? {} : { columns: c.columns }), ...c.to });
        expect(await from.copyRangeTo(to, { after: null, limit: 5 })).toBeUndefined();
        const result = await backfill({ from, to, keyOf, batchSize: 5, logger: silentLogger });
        expect(result).toMatchObject({ copied: 12, skipped: 0 });
        if (c.columns === undefined) expect((await sum(b))?.n).toBe(12);
      }
    });

    it('copies row by row when the target\'s role may not read the source (42501)', async () => {
      const { a, b, sum } = await tables(20);
      const from = sqlRepository<Row, string>({ query, table: a, key: 'id' });
      let refused = 0;
      const denied: SqlQuery = async (sql, params) => {
        if (sql.startsWith('WITH r AS') || (sql.startsWith('INSERT INTO') && sql.includes(` FROM ${quoteTable(a)}`))) {
          refused += 1;
          throw Object.assign(new Error(`permission denied for table ${a}`), { code: '42501' });
        }
        return query(sql, params);
      };
      const to = sqlRepository<Row, string>({ query: denied, table: b, key: 'id' });
      expect(await backfill({ from, to, keyOf, batchSize: 8, logger: silentLogger })).toEqual({ copied: 20, skipped: 0, batches: 3, lastKey: '20' });
      expect(refused).toBe(1);
      expect(await from.copyRangeTo(to, { after: null, limit: 5 })).toBeUndefined();
      expect(await sum(b)).toEqual(await sum(a));
    });

    it('copies a part of the key space: upTo bounds the range', async () => {
      const { b, from, to } = await tables(30);
      const copyRangeTo = from.copyRangeTo as NonNullable<typeof from.copyRangeTo>;
      expect(await copyRangeTo(to, { after: '10', upTo: '14', limit: 100 })).toEqual({ count: 4, inserted: 4, last: '14' });
      expect(await copyRangeTo(to, { after: '10', upTo: '20', limit: 100, exclude: async (keys) => keys.filter((key) => key === '17') })).toEqual({
        count: 10,
        inserted: 5,
        last: '20',
        insertedKeys: ['15', '16', '18', '19', '20'],
      });
      expect(rowsOf(await query(`SELECT count(*)::int AS n FROM ${quoteTable(b)}`, []))[0]?.n).toBe(9);
    });

    it('retries a batch that hit a statement timeout at half its size, and paces by maxRowsPerSecond', async () => {
      const { a, b, sum } = await tables(90);
      const from = sqlRepository<Row, string>({ query, table: a, key: 'id' });
      let failed = 0;
      const limits: unknown[] = [];
      const flaky: SqlQuery = async (sql, params) => {
        if (sql.startsWith('WITH r AS')) limits.push(params.at(-1));
        if (sql.startsWith('WITH r AS') && failed === 0) {
          failed += 1;
          throw Object.assign(new Error('canceling statement due to statement timeout'), { code: '57014' });
        }
        return query(sql, params);
      };
      const to = sqlRepository<Row, string>({ query: flaky, table: b, key: 'id' });
      const clock = new ManualClock({ start: 0 });
      const sleeps: number[] = [];
      const result = await backfill({
        from,
        to,
        keyOf,
        batchSize: 40,
        targetBatchMs: 500,
        minBatchSize: 5,
        maxRowsPerSecond: 10,
        clock,
        sleep: async (ms) => {
          sleeps.push(ms);
          clock.advance(ms);
        },
        logger: silentLogger,
      });
      expect(failed).toBe(1);
      expect(result).toMatchObject({ copied: 90, skipped: 0 });
      // The batch that timed out is redone at half its size.
      expect(limits.slice(0, 2)).toEqual([40, 20]);
      expect(sleeps[0]).toBe(2_000);
      expect(await sum(b)).toEqual(await sum(a));
    });
  });
}
