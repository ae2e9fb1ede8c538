import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verify } from '../../src/data/verify.js';
import { silentLogger } from '../../src/observe/logger.js';
import type { SqlQuery, SqlRow } from '../../src/sql/sql-client.js';
import { quoteTable, rowsOf, toSqlQuery } from '../../src/sql/sql-client.js';
import { sqlRepository } from '../../src/sql/sql-repository.js';
import type { SqlConnection } from './sql-suite.js';
import { freshName } from './sql-suite.js';

/** The table shape of the benchmark: a bigint key and values that a JS double or Date would change. */
const shape = '(id bigint PRIMARY KEY, account text, amount numeric(38,10), updated_at timestamptz, payload jsonb)';

const seedSql = (table: string, rows: number): string =>
  `INSERT INTO ${table} SELECT i, 'acct-' || (i % 97), (i * 1.0000000001)::numeric(38,10), '2024-01-01 00:00:00.000001+00'::timestamptz + i * interval '1 second',
   ('{"n": ' || i || ', "precise": 12345678901234567890.' || i || '}')::jsonb FROM generate_series(1, ${rows}) AS i`;

/** One planted difference: what it does to the copy, and where verify must list it. */
const edits = {
  amount: (t: string, id: number) => [`UPDATE ${t} SET amount = amount + 0.0000000001 WHERE id = ${id}`, 'different'],
  micro: (t: string, id: number) => [`UPDATE ${t} SET updated_at = updated_at + interval '1 microsecond' WHERE id = ${id}`, 'different'],
  jsonDigit: (t: string, id: number) => [`UPDATE ${t} SET payload = jsonb_set(payload, '{precise}', '12345678901234567890.0000000001'::jsonb) WHERE id = ${id}`, 'different'],
  missing: (t: string, id: number) => [`DELETE FROM ${t} WHERE id = ${id}`, 'missing'],
  extra: (t: string, id: number) => [`INSERT INTO ${t} VALUES (${id}0000000000000, 'x', 1, now(), '{}')`, 'extra'],
} as const;

type Edit = keyof typeof edits;

/** Verify by checksums on a real database: planted differences found exactly, equal tables never read. */
export function describeSqlChecksums(name: string, connect: () => Promise<SqlConnection>): void {
  describe(`verify by checksums on ${name}`, () => {
    let connection: SqlConnection | undefined;
    const query: SqlQuery = (sql, params) => toSqlQuery((connection as SqlConnection).query)(sql, params);
    beforeAll(async () => {
      connection = await connect();
    }, 60_000);
    afterAll(async () => {
      await connection?.close();
    });

    const tables = async (rows: number) => {
      const [a, b] = [freshName('sum_old'), freshName('sum_new')].map((t) => quoteTable(t)) as [string, string];
      await query(`CREATE TABLE ${a} ${shape}`, []);
      await query(`CREATE TABLE ${b} ${shape}`, []);
      await query(seedSql(a, rows), []);
      await query(`INSERT INTO ${b} SELECT * FROM ${a}`, []);
      const reads = { rows: 0 };
      const repo = (table: string) => {
        const inner = sqlRepository<SqlRow, string>({ query, table: table.slice(1, -1), key: 'id' });
        // Counts every row verify reads; checksums are not rows.
        return {
          ...inner,
          getBatch: async (after: string | null, limit: number) => {
            const page = await inner.getBatch(after, limit);
            reads.rows += page.length;
            return page;
          },
          get: async (key: string) => {
            reads.rows += 1;
            return inner.get(key);
          },
        };
      };
      return { a, b, old: repo(a), fresh: repo(b), reads };
    };

    it('bulkInsert (one array parameter a column) keeps every value a text array could garble', async () => {
      const [a, b] = [freshName('odd_src'), freshName('odd_dst')].map((t) => quoteTable(t)) as [string, string];
      const odd = `(id text COLLATE "C" PRIMARY KEY, label text, flag boolean, n integer, big bigint, amount numeric, at timestamptz, doc jsonb, blob bytea, ratio double precision)`;
      await query(`CREATE TABLE ${a} ${odd}`, []);
      await query(`CREATE TABLE ${b} ${odd}`, []);
      const labels = ['NULL', '', '{}', '{a,b}', 'with "quote"', 'back\\slash', 'comma, here', ' lead', 'trail ', '\u00e9\u{1F600}', null];
      for (const [i, label] of labels.entries()) {
        await query(`INSERT INTO ${a} VALUES ($1, $2, $3, $4::int, 9223372036854775807 - $4::int, 0.1 + $4::int, '2024-02-29 23:59:59.999999+00', '{"x": 1.10, "y": "{\\"}"}', '\\x00ff7b7d', 0.1)`, [
          `k${i}`,
          label,
          i % 2 === 0,
          i,
        ]);
      }
      await query(`INSERT INTO ${a} (id) VALUES ('nulls')`, []);
      const from = sqlRepository<SqlRow, string>({ query, table: a.slice(1, -1), key: 'id' });
      const to = sqlRepository<SqlRow, string>({ query, table: b.slice(1, -1), key: 'id' });
      expect(await to.bulkInsert(await from.getBatch(null, 100))).toHaveLength(labels.length + 1);
      const sum = async (t: string) => rowsOf(await query(`SELECT md5(string_agg(t::text, E'\\n' ORDER BY id)) AS h FROM ${t} t`, []))[0]?.h;
      expect(await sum(b)).toBe(await sum(a));
    });

    it('reads no row of two equal tables, only checksums', async () => {
      const { old, fresh, reads } = await tables(3_000);
      const report = await verify({ old, new: fresh, keyOf: (r) => r.id as string, logger: silentLogger, chunkRows: 1_000 });
      expect(report).toMatchObject({ checked: 3_000, missing: { count: 0 }, extra: { count: 0 }, different: { count: 0 } });
      expect(reads.rows).toBe(0);
    });

    it('finds exactly the planted differences (a microsecond, a numeric digit, a jsonb digit, missing and extra rows), reading only rows near them (property)', async () => {
      await fc.assert(
        fc.asyncProperty(
          fc.uniqueArray(fc.integer({ min: 1, max: 2_000 }), { maxLength: 8 }),
          fc.array(fc.constantFrom<Edit>('amount', 'micro', 'jsonDigit', 'missing', 'extra'), { minLength: 8, maxLength: 8 }),
          async (ids, kinds) => {
            const { b, old, fresh, reads } = await tables(2_000);
            const truth: Record<string, string[]> = { different: [], missing: [], extra: [] };
            for (const [i, id] of ids.entries()) {
              const kind = kinds[i] as Edit;
              const [sql, list] = edits[kind](b, id) as [string, string];
              await query(sql, []);
              (truth[list] as string[]).push(kind === 'extra' ? `${id}0000000000000` : String(id));
            }
            const report = await verify({ old, new: fresh, keyOf: (r) => r.id as string, logger: silentLogger, sleep: async () => {}, chunkRows: 500, leafRows: 16 });
            const byValue = (x: string, y: string) => (BigInt(x) < BigInt(y) ? -1 : 1);
            expect([...report.different.keys]).toEqual(truth.different?.sort(byValue));
            expect([...report.missing.keys]).toEqual(truth.missing?.sort(byValue));
            expect([...report.extra.keys]).toEqual(truth.extra?.sort(byValue));
            expect(reads.rows).toBeLessThanOrEqual(ids.length * (2 * 17 + 4));
          },
        ),
        { numRuns: 6 },
      );
    }, 120_000);
  });
}
