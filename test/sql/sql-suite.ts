import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { backfill } from '../../src/data/backfill.js';
import { DualWriteRepository } from '../../src/data/dual-write-repository.js';
import { verify } from '../../src/data/verify.js';
import { phases } from '../../src/config/phases.js';
import { silentLogger } from '../../src/observe/logger.js';
import type { SqlQuery, SqlQueryable, SqlTableName } from '../../src/sql/sql-client.js';
import { quoteTable, toSqlQuery } from '../../src/sql/sql-client.js';
import { sqlCheckpointStore } from '../../src/sql/sql-checkpoint-store.js';
import { sqlRepairLog } from '../../src/sql/sql-repair-log.js';
import { sqlRepository } from '../../src/sql/sql-repository.js';
import { sqlTombstoneStore } from '../../src/sql/sql-tombstone-store.js';
import type { Item } from '../data/repository-conformance.js';
import { describeRepository, item, itemKey, readAll } from '../data/repository-conformance.js';

/** A database connection for the suite, opened once per file. */
export interface SqlConnection {
  readonly query: SqlQueryable;
  readonly close: () => Promise<void>;
}

let counter = 0;
const run = `${process.pid.toString(36)}_${Date.now().toString(36)}`;

/** A table name no other test (or run) uses. */
export function freshName(prefix: string): string {
  counter += 1;
  return `${prefix}_${run}_${counter}`;
}

async function createItems(query: SqlQuery, table: SqlTableName, collate = ' COLLATE "C"'): Promise<void> {
  await query(`CREATE TABLE ${quoteTable(table)} (id text${collate} PRIMARY KEY, name text NOT NULL, qty integer NOT NULL)`, []);
}

/** Everything the SQL adapters promise, on one database. */
export function describeSqlAdapters(name: string, connect: () => Promise<SqlConnection>): void {
  let connection: SqlConnection | undefined;
  const query: SqlQuery = (sql, params) => toSqlQuery((connection as SqlConnection).query)(sql, params);
  // The client itself for repositories: a node-postgres Pool runs their statements prepared.
  const client = (): SqlQueryable => (connection as SqlConnection).query;

  beforeAll(async () => {
    connection = await connect();
  }, 60_000);
  afterAll(async () => {
    await connection?.close();
  });

  describeRepository(`sqlRepository on ${name}`, async () => {
    const table = freshName('items');
    await createItems(query, table);
    return { repo: sqlRepository<Item, string>({ query: client(), table, key: 'id' }) };
  });

  describeRepository(`sqlRepository on ${name}, schema-qualified, explicit columns and collation`, async () => {
    const schema = freshName('s');
    await query(`CREATE SCHEMA ${quoteTable(schema)}`, []);
    const table = { schema, name: 'items' };
    await createItems(query, table, '');
    return {
      repo: sqlRepository<Item, string>({ query: client(), table, key: 'id', columns: ['id', 'name', 'qty'], collation: 'C' }),
      close: async () => {
        await query(`DROP SCHEMA ${quoteTable(schema)} CASCADE`, []);
      },
    };
  });

  /** `query`, recording the text of each statement it runs. */
  const recording = (run: SqlQuery): { readonly statements: string[]; readonly counting: SqlQuery } => {
    const statements: string[] = [];
    return {
      statements,
      counting: (sql, params) => {
        statements.push(sql);
        return run(sql, params);
      },
    };
  };

  describe(`SQL adapters on ${name}`, () => {
    it('quotes a table name holding quotes and SQL, and passes odd values as parameters', async () => {
      const table = `we"ird'; DROP TABLE x; -- ${freshName('t')}`;
      await createItems(query, table);
      const repo = sqlRepository<Item, string>({ query, table, key: 'id' });
      const odd: Item = { id: `'); DELETE FROM "items"; --`, name: `"; DROP TABLE "${table}"; --`, qty: 1 };
      await repo.save(odd);
      expect(await repo.bulkInsert([odd, { ...odd, id: `a"b'c` }])).toEqual([`a"b'c`]);
      expect(await readAll(repo, itemKey)).toEqual([{ ...odd, id: `'); DELETE FROM "items"; --` }, { ...odd, id: `a"b'c` }].sort((a, b) => (a.id < b.id ? -1 : 1)));
      expect(repo.table).toBe(`"${table.replaceAll('"', '""')}"`);
    });

    it('splits a bulkInsert that would exceed the parameter limit into several statements', async () => {
      const table = freshName('chunks');
      await createItems(query, table);
      const { statements, counting } = recording(query);
      const repo = sqlRepository<Item, string>({ query: counting, table, key: 'id', maxParameters: 30 });
      const rows = Array.from({ length: 25 }, (_, i) => item(i));
      expect(await repo.bulkInsert(rows)).toHaveLength(25);
      // 3 columns, 30 parameters: 10 rows per statement.
      expect(statements.filter((sql) => sql.startsWith('INSERT'))).toHaveLength(3);
      expect(await readAll(repo, itemKey)).toEqual(rows);
    });

    it('bulkInsertCount inserts what is absent and counts it, in as many statements as bulkInsert, with or without unnest', async () => {
      const table = freshName('counted');
      await createItems(query, table);
      const { statements, counting } = recording(query);
      const repo = sqlRepository<Item, string>({ query: counting, table, key: 'id', maxParameters: 30 });
      const rows = Array.from({ length: 25 }, (_, i) => item(i));
      await repo.save({ ...item(3), name: 'kept' });
      await repo.save({ ...item(17), name: 'kept' });
      expect(await repo.bulkInsertCount(rows)).toBe(23);
      expect(statements.filter((sql) => sql.includes('INSERT INTO') && sql.includes('unnest('))).toHaveLength(3);
      expect(await readAll(repo, itemKey)).toEqual(rows.map((row) => (row.id === item(3).id || row.id === item(17).id ? { ...row, name: 'kept' } : row)));
      expect(await repo.bulkInsertCount(rows)).toBe(0);
      expect(await repo.bulkInsertCount([])).toBe(0);
      // A column that is itself an array takes the VALUES list: counted all the same.
      const tagged = freshName('tagged');
      await query(`CREATE TABLE ${quoteTable(tagged)} (id text PRIMARY KEY, tags text[])`, []);
      const tags = sqlRepository<{ id: string; tags: string[] | null }, string>({ query, table: tagged, key: 'id' });
      await tags.save({ id: 'b', tags: ['x'] });
      expect(await tags.bulkInsertCount([{ id: 'a', tags: ['p', 'q'] }, { id: 'b', tags: [] }, { id: 'c', tags: null }])).toBe(2);
      const stored = await query(`SELECT id, tags::text AS tags FROM ${quoteTable(tagged)} ORDER BY id`, []);
      expect(stored.rows).toEqual([{ id: 'a', tags: '{p,q}' }, { id: 'b', tags: '{x}' }, { id: 'c', tags: null }]);
    });

    it('rejects bad options naming them', () => {
      expect(() => sqlRepository({ query, table: '', key: 'id' })).toThrow(/option `table`/);
      expect(() => sqlRepository({ query, table: 't', key: '' })).toThrow(/option `key`/);
      expect(() => sqlRepository({ query: {} as SqlQueryable, table: 't', key: 'id' })).toThrow(/option `query`/);
      expect(() => sqlRepository({ query, table: 't', key: 'id', columns: ['name'] })).toThrow(/option `columns`.*key column/);
      expect(() => sqlRepository({ query, table: 't', key: 'id', maxParameters: 0 })).toThrow(/option `maxParameters`/);
    });

    it('keeps a repair log in a table: append, list in order, remove, size', async () => {
      const table = freshName('repair_log');
      const log = sqlRepairLog<string | number>({ query, table, name: 'users' });
      const other = sqlRepairLog<string>({ query, table, name: 'orders' });
      await log.append({ key: 'a', op: 'save', side: 'new', at: 1, error: 'boom' });
      await log.append({ key: 7, op: 'delete', side: 'old', at: 2, error: `it's "bad"` });
      await other.append({ key: 'x', op: 'save', side: 'new', at: 3, error: '' });
      const entries = await log.list(null, 10);
      expect(entries.map(({ key, op, side, at, error }) => ({ key, op, side, at, error }))).toEqual([
        { key: 'a', op: 'save', side: 'new', at: 1, error: 'boom' },
        { key: 7, op: 'delete', side: 'old', at: 2, error: `it's "bad"` },
      ]);
      expect(await log.list(entries[0]?.id ?? 0, 10)).toHaveLength(1);
      await log.remove([entries[0]?.id ?? 0]);
      expect(await log.size()).toBe(1);
      expect(await other.size()).toBe(1);
    });

    it('keeps checkpoints and tombstones in tables', async () => {
      const checkpoints = sqlCheckpointStore({ query, table: freshName('checkpoints'), name: 'job' });
      expect(await checkpoints.load()).toBeUndefined();
      await checkpoints.save({ lastKey: 'k1', n: 1 });
      await checkpoints.save({ lastKey: 'k2', n: 2 });
      expect(await checkpoints.load()).toEqual({ lastKey: 'k2', n: 2 });
      await checkpoints.clear();
      expect(await checkpoints.load()).toBeUndefined();

      const tombstones = sqlTombstoneStore<string | number>({ query, table: freshName('tombstones'), name: 'users' });
      await tombstones.add('a', 1);
      await tombstones.add(2, 2);
      await tombstones.add('a', 3);
      expect(await tombstones.has(['a', 'b', 2, '2'])).toEqual(['a', 2]);
      await tombstones.clear();
      expect(await tombstones.has(['a'])).toEqual([]);
    });

    it('migrates a table end to end: dual write, backfill, verify', async () => {
      const oldTable = freshName('old_items');
      const newTable = freshName('new_items');
      await createItems(query, oldTable);
      await createItems(query, newTable);
      const oldRepo = sqlRepository<Item, string>({ query: client(), table: oldTable, key: 'id' });
      const newRepo = sqlRepository<Item, string>({ query: client(), table: newTable, key: 'id' });
      await oldRepo.bulkInsert(Array.from({ length: 300 }, (_, i) => item(i)));

      const repairLog = sqlRepairLog<string>({ query, table: freshName('log'), name: 'items' });
      const tombstones = sqlTombstoneStore<string>({ query, table: freshName('tomb'), name: 'items' });
      const dual = new DualWriteRepository({ name: 'items', old: oldRepo, new: newRepo, keyOf: itemKey, config: phases.shadow(), repairLog, tombstones, logger: silentLogger });
      await dual.save({ ...item(5), name: 'written during the migration' });
      await dual.delete(item(6).id);

      const checkpoint = sqlCheckpointStore({ query, table: freshName('cp'), name: 'items-backfill' });
      const result = await backfill({ from: oldRepo, to: newRepo, keyOf: itemKey, batchSize: 64, checkpoint, tombstones, logger: silentLogger });
      expect(result).toMatchObject({ copied: 298, skipped: 1, batches: 5 });
      expect(await newRepo.get(item(5).id)).toMatchObject({ name: 'written during the migration' });

      const report = await verify({ old: oldRepo, new: newRepo, keyOf: itemKey, batchSize: 64, logger: silentLogger });
      expect(report).toMatchObject({ checked: 299, missing: { count: 0 }, extra: { count: 0 }, different: { count: 0 } });
      expect(await readAll(newRepo, itemKey)).toEqual(await readAll(oldRepo, itemKey));
    });
  });
}
