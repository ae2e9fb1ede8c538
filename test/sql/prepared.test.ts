import pg from 'pg';
import { describe, expect, it } from 'vitest';
import type { SqlClient, SqlResult } from '../../src/sql/sql-client.js';
import { isNodePostgres, preparedQuery } from '../../src/sql/sql-client.js';
import { sqlRepository } from '../../src/sql/sql-repository.js';
import { freshName } from './sql-suite.js';

/** A client that records what each query was given. */
function recordingClient(): SqlClient & { readonly seen: unknown[] } {
  const seen: unknown[] = [];
  return {
    seen,
    query: (async (config: unknown, params?: unknown[]) => {
      seen.push(params === undefined ? config : { text: config, values: params });
      return { rows: [] } satisfies SqlResult;
    }) as SqlClient['query'],
  };
}

describe('prepared statements', () => {
  it('names each statement text once, the same name for the same text, another for another text', async () => {
    const client = recordingClient();
    const query = preparedQuery(client);
    await query('SELECT 1 WHERE $1', [1]);
    await query('SELECT 1 WHERE $1', [2]);
    await query('SELECT 2 WHERE $1', [3]);
    const [a, b, c] = client.seen as { name?: string; text: string; values: unknown[] }[];
    expect(a).toMatchObject({ text: 'SELECT 1 WHERE $1', values: [1] });
    expect(a?.name).toMatch(/^mg_[0-9a-f]{32}$/);
    expect(b).toEqual({ name: a?.name, text: 'SELECT 1 WHERE $1', values: [2] });
    expect(c?.name).toMatch(/^mg_[0-9a-f]{32}$/);
    expect(c?.name).not.toBe(a?.name);
  });

  it('names at most 200 texts; later texts run unnamed, earlier ones keep their name', async () => {
    const client = recordingClient();
    const query = preparedQuery(client);
    for (let i = 0; i < 201; i++) await query(`SELECT ${i}`, []);
    await query('SELECT 0', []);
    const seen = client.seen as { name?: string; text: string }[];
    expect(seen.slice(0, 200).every((config) => config.name !== undefined)).toBe(true);
    expect(seen[200]).toEqual({ text: 'SELECT 200', values: [] });
    expect(seen[201]?.name).toBe(seen[0]?.name);
  });

  it('tells a node-postgres Pool or Client from other clients, and never throws', async () => {
    // PGlite's shape: query, exec, waitReady; no connection count or parameters.
    const pglite = { query: async () => ({ rows: [] }), exec: async () => [], waitReady: Promise.resolve() };
    const pool = new pg.Pool({ connectionString: 'postgres://127.0.0.1:1/none' });
    try {
      expect(isNodePostgres(pool)).toBe(true);
      expect(isNodePostgres(new pg.Client({ connectionString: 'postgres://127.0.0.1:1/none' }))).toBe(true);
      expect(isNodePostgres(pglite)).toBe(false);
      expect(isNodePostgres(async () => ({ rows: [] }))).toBe(false);
      const hostile = new Proxy({ query: async () => ({ rows: [] }) }, {
        get(target, property) {
          if (property === 'totalCount') throw new Error('trap');
          return Reflect.get(target, property);
        },
      });
      expect(isNodePostgres(hostile)).toBe(false);
      const { proxy, revoke } = Proxy.revocable({ query: async () => ({ rows: [] }) }, {});
      revoke();
      expect(isNodePostgres(proxy)).toBe(false);
    } finally {
      await pool.end();
    }
  });

  it('a client whose query getter starts throwing: ERR_INVALID_OPTION while the options are read, a rejected query later', async () => {
    const flaky = (goodReads: number): SqlClient => {
      let reads = 0;
      const client = {
        totalCount: 0,
        get query() {
          reads += 1;
          if (reads > goodReads) throw new Error('getter gone');
          return async () => ({ rows: [] });
        },
      };
      return client as unknown as SqlClient;
    };
    expect(() => sqlRepository({ query: flaky(1), table: 't', key: 'id' })).toThrow(expect.objectContaining({ code: 'ERR_INVALID_OPTION', option: 'query' }));
    const repo = sqlRepository<{ id: string }, string>({ query: flaky(2), table: 't', key: 'id' });
    await expect(repo.get('1')).rejects.toThrow('getter gone');
  });

  it('refuses `prepare: true` without a node-postgres client, naming the option', () => {
    const query = async () => ({ rows: [] });
    expect(() => sqlRepository({ query, table: 't', key: 'id', prepare: true })).toThrow(/option `prepare`.*node-postgres/);
    expect(() => sqlRepository({ query, table: 't', key: 'id', prepare: 'yes' as unknown as boolean })).toThrow(/option `prepare`/);
    expect(() => sqlRepository({ query, table: 't', key: 'id', prepare: false })).not.toThrow();
  });

  it('a query function or PGlite runs every statement as given (nothing named)', async () => {
    const client = recordingClient();
    const repo = sqlRepository<{ id: string }, string>({ query: (sql, params) => client.query(sql, params), table: 't', key: 'id' });
    await expect(repo.get('1')).rejects.toThrow();
    expect(client.seen.length).toBeGreaterThan(0);
    expect(client.seen.every((config) => typeof (config as { text: unknown }).text === 'string' && !('name' in (config as object)))).toBe(true);
  });
});

const url = process.env.PG_URL;
const hasServer = url !== undefined && url !== '';
const underCi = process.env.CI !== undefined && process.env.CI !== '' && process.env.CI !== 'false';

if (!hasServer && underCi) {
  // Under CI a missing server is a failure, never a silent skip.
  describe('prepared statements on PostgreSQL', () => {
    it('has a server to test against (PG_URL)', () => {
      expect(url, 'PG_URL is not set: run scripts/postgres-start.sh and export the PG_URL it prints').toBeTruthy();
    });
  });
}

(hasServer ? describe : describe.skip)('prepared statements on PostgreSQL (PG_URL)', () => {
  const shape = '(id bigint PRIMARY KEY, at timestamptz NOT NULL, amount numeric NOT NULL)';

  async function withClient(run: (client: pg.Client, table: string) => Promise<void>): Promise<void> {
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    const table = freshName('prepared');
    try {
      await client.query(`CREATE TABLE ${table} ${shape}`);
      await run(client, table);
    } finally {
      await client.query(`DROP TABLE IF EXISTS ${table}`).catch(() => {});
      await client.end();
    }
  }

  const prepared = async (client: pg.Client): Promise<string[]> =>
    (await client.query<{ statement: string }>("SELECT statement FROM pg_prepared_statements WHERE name LIKE 'mg\\_%' ORDER BY statement")).rows.map((row) => row.statement);

  it('with a node-postgres client, pages, gets, saves and bulk inserts run prepared, and give the same rows', async () => {
    await withClient(async (client, table) => {
      const repo = sqlRepository<{ id: string; at: string; amount: string }, string>({ query: client, table, key: 'id' });
      const rows = [1, 2, 3].map((i) => ({ id: String(i), at: `2024-01-01 00:00:00.00000${i}+00`, amount: `${i}.1000000001` }));
      expect(await repo.bulkInsert(rows)).toEqual(['1', '2', '3']);
      expect(await repo.bulkInsert(rows)).toEqual([]);
      await repo.save({ id: '4', at: '2024-01-02 00:00:00.123456+00', amount: '-0.5' });
      expect(await repo.get('4')).toEqual({ id: '4', at: '2024-01-02 00:00:00.123456+00', amount: '-0.5' });
      expect((await repo.getBatch(null, 2)).map((row) => row.id)).toEqual(['1', '2']);
      expect((await repo.getBatch('2', 10)).map((row) => row.id)).toEqual(['3', '4']);
      await repo.delete('4');
      expect(await repo.get('4')).toBeUndefined();
      const statements = await prepared(client);
      expect(statements.some((sql) => sql.startsWith(`INSERT INTO "${table}"`) && sql.includes('unnest('))).toBe(true);
      expect(statements.some((sql) => sql.includes(`FROM "${table}"`) && sql.includes('LIMIT $2'))).toBe(true);
      expect(statements.some((sql) => sql.startsWith(`DELETE FROM "${table}"`))).toBe(true);
    });
  });

  it('prepared, a bulk insert goes in VALUES lists of 1,000 rows and the rest through unnest, each value exact', async () => {
    await withClient(async (client, table) => {
      const repo = sqlRepository<{ id: string; at: string; amount: string }, string>({ query: client, table, key: 'id' });
      const rows = Array.from({ length: 2_345 }, (_, i) => ({
        id: String(i + 1),
        at: `2024-01-01 00:00:00.${String(i).padStart(5, '0')}1+00`,
        amount: `${i}.${String(i).padStart(10, '0')}`,
      }));
      await repo.save({ ...(rows[1_500] as (typeof rows)[number]), amount: '-1' });
      const inserted = await repo.bulkInsert(rows.slice(0, 2_100));
      expect(inserted).toHaveLength(2_099);
      expect(inserted).not.toContain('1501');
      expect(await repo.bulkInsertCount(rows)).toBe(245);
      const all = await repo.getBatch(null, 5_000);
      expect(all).toEqual(rows.map((row) => (row.id === '1501' ? { ...row, amount: '-1' } : row)).sort((a, b) => Number(a.id) - Number(b.id)));
      const statements = await prepared(client);
      const lists = statements.filter((sql) => sql.includes(`INSERT INTO "${table}"`) && sql.includes(' VALUES (') && sql.includes('DO NOTHING'));
      // One VALUES text of 1,000 rows for the keys, one for the count; never a cast per value.
      expect(lists).toHaveLength(2);
      for (const sql of lists) {
        expect(sql).toContain('$3000)');
        expect(sql).not.toContain('$3001');
        expect(sql.slice(sql.indexOf(' VALUES ('), sql.indexOf(' ON CONFLICT'))).not.toContain('::');
      }
      expect(statements.filter((sql) => sql.includes(`INSERT INTO "${table}"`) && sql.includes('unnest('))).toHaveLength(2);
    });
  });

  it('`prepare: false` leaves every statement unnamed', async () => {
    await withClient(async (client, table) => {
      const repo = sqlRepository<{ id: string; at: string; amount: string }, string>({ query: client, table, key: 'id', prepare: false });
      await repo.bulkInsert([{ id: '1', at: '2024-01-01 00:00:00+00', amount: '1' }]);
      expect(await repo.get('1')).toMatchObject({ id: '1' });
      expect(await prepared(client)).toEqual([]);
    });
  });
});
