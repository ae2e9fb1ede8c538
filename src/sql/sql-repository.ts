import type { CompareKeys } from '../data/keys.js';
import type { CopyRange, KeyRange, RangeChecksum, RangeCopy, Repository } from '../data/repository.js';
import { z } from 'zod';
import { InvalidOptionError, MigrationGlueError } from '../errors.js';
import { field, option, parseOptions } from '../option-schema.js';
import type { SqlClient, SqlQueryable, SqlRow, SqlTableName } from './sql-client.js';
import { isNodePostgres, preparedQuery, quoteIdentifier, quoteTable, rowsOf, toSqlQuery } from './sql-client.js';
import { sqlOption } from './sql-options.js';
import type { SqlStatements } from './sql-statements.js';
import { buildStatements } from './sql-statements.js';
import { sumOf } from './sql-checksum.js';
import { copyRange, registerCopyEndpoint } from './sql-copy.js';
import { sqlSplitKeys } from './sql-split-keys.js';
import { readTableInfo } from './sql-table-info.js';

/** Options of sqlRepository. Validated once, when the repository is made. */
export interface SqlRepositoryOptions<E> {
  /** A client with `query(sql, params)` (PGlite, pg.Pool, pg.Client) or that function. Required. */
  readonly query: SqlQueryable;
  /** The table; a string is one identifier, taken literally. Required. */
  readonly table: SqlTableName;
  /** The key column: it must carry a primary key or unique constraint (ON CONFLICT needs one). Required. */
  readonly key: string;
  /** The columns read and written. @default every column of the table on read, the row's own fields on write */
  readonly columns?: readonly string[];
  /**
   * A collation for ordering keys, e.g. `'C'` for text keys under a
   * linguistic collation, so that `keyOrder()` can compare them (bytewise).
   * Index the key with the same collation on a large table.
   * @default none (the column's collation)
   */
  readonly collation?: string;
  /** Turns an entity into the row to write. @default the entity itself */
  readonly toRow?: (entity: E) => SqlRow;
  /** Turns a row read into an entity. @default the row itself */
  readonly fromRow?: (row: SqlRow) => E;
  /** Parameters per statement at most; `bulkInsert` splits larger batches. @default 65535 (PostgreSQL's limit) */
  readonly maxParameters?: number;
  /**
   * Let `copyRangeTo` copy into another sqlRepository of the same database
   * inside the database (backfill then sends no row through the process).
   * `false`: it always resolves undefined, and backfill copies row by row. @default true
   */
  readonly serverCopy?: boolean;
  /**
   * Run the statements whose text does not depend on the data (get, save,
   * delete, pages, the `unnest` insert) as named prepared statements: the
   * server parses and plans each once per connection. Needs a node-postgres
   * `Pool` or `Client` as `query` (named statements are its feature; a
   * query function or PGlite cannot run them). Set `false` behind a pooler
   * in transaction mode that does not track prepared statements (PgBouncer
   * before 1.21).
   * @default true for a node-postgres Pool or Client, false otherwise
   */
  readonly prepare?: boolean;
}

/** A Repository over one SQL table, with `bulkInsert` and the order of its keys. */
export interface SqlRepository<E, K> extends Repository<E, K> {
  /** The quoted table name used in statements. */
  readonly table: string;
  bulkInsert(entities: readonly E[]): Promise<readonly K[]>;
  /** `bulkInsert` resolving how many rows it inserted, not their keys: the server sends back one number per statement. */
  bulkInsertCount(entities: readonly E[]): Promise<number>;
  /**
   * How keys compare in the order `getBatch` returns them (the server's
   * order of the key column): integer and numeric keys by value, whether
   * numbers or strings (`'10'` after `'9'`); uuid and bytea by their bytes;
   * text under a C, POSIX or builtin collation by code point. Resolves
   * undefined when JS cannot reproduce the server's order (text under a
   * linguistic collation: pass `collation: 'C'`; other key types). Reads
   * the catalog on first use.
   */
  keyOrder(): Promise<CompareKeys<K> | undefined>;
  /**
   * The checksum of a key range, computed by the server in one statement
   * (one index range scan): the exact sum of `hashtextextended` of each
   * row's text (a ROW of the columns in name order), the row count and the
   * last key. Verify compares these per chunk instead of reading rows.
   */
  checksum(range: KeyRange<K>): Promise<RangeChecksum<K>>;
  /**
   * Copies the next `range.limit` keys of this table into `target` inside
   * the database, when `target` is a sqlRepository over a table of the
   * same database (the same client, or a client whose server says it is
   * the same database) with the same key column, and neither maps rows
   * (`toRow`, `fromRow`): one `INSERT INTO target SELECT ... FROM this
   * WHERE key > $1 ORDER BY key LIMIT $2 ON CONFLICT (key) DO NOTHING`,
   * run on the target's client. A column whose type differs is converted
   * through its text, as the row-by-row copy does. Resolves undefined
   * otherwise (see Repository.copyRangeTo).
   */
  copyRangeTo(target: Repository<E, K>, range: CopyRange<K>): Promise<RangeCopy<K> | undefined>;
  /**
   * Up to `parts - 1` keys that split the table into parts of about the
   * same number of rows, in the server's key order: one pass over the key
   * with `row_number()` (see KeySplitter; backfillPartitioned plans with it).
   */
  splitKeys(parts: number): Promise<readonly K[]>;
}

/**
 * Rows per prepared `VALUES` insert. Measured on PostgreSQL 15 (five columns,
 * prepared): about a third more rows a second than the `unnest` form, which
 * still takes the rows left over (any count, one statement text).
 */
const preparedRows = 1000;

const schema = z.strictObject({
  query: sqlOption.client(),
  table: sqlOption.table(),
  key: sqlOption.identifier('a column name'),
  columns: field<readonly string[]>(
    (value) => Array.isArray(value) && value.length > 0 && value.every((name) => typeof name === 'string' && name !== '' && !name.includes('\0')),
    'a non-empty array of column names',
  )
    .transform((value) => Object.freeze([...value]))
    .optional(),
  collation: sqlOption.identifier('a collation name').optional(),
  toRow: option.fn<(entity: unknown) => SqlRow>().optional(),
  fromRow: option.fn<(row: SqlRow) => unknown>().optional(),
  maxParameters: option.positiveInteger().default(65_535),
  serverCopy: option.boolean().default(true),
  prepare: option.boolean().optional(),
});

/**
 * A Repository over a PostgreSQL table (PGlite or a server), through any
 * client with `query(sql, params)`. Lossless: the table's columns and types
 * are read from the catalog on first use; bigint, numeric, dates and times,
 * json and jsonb, bytea, arrays and every other type without an exact JS
 * value are read as the server's text and written back through the type's
 * input function (see sql-values.ts for what an entity holds). Pages with
 * keyset pagination (`WHERE key > $1 ORDER BY key LIMIT $2`, never OFFSET);
 * `save` is an upsert; `bulkInsert` is one multi-row `INSERT ... ON CONFLICT
 * (key) DO NOTHING RETURNING key` per chunk. Identifiers are quoted; values
 * are always parameters.
 * @throws InvalidOptionError naming the bad option (on first use for
 *   options checked against the catalog: `key`, `columns`, `collation`, and
 *   `query` for a session that would garble values).
 */
export function sqlRepository<E = SqlRow, K = unknown>(options: SqlRepositoryOptions<E>): SqlRepository<E, K> {
  const parsed = parseOptions(schema, options, 'sqlRepository');
  const { table: tableName, key: keyName, columns, collation, toRow, fromRow, maxParameters, serverCopy } = parsed;
  const query = toSqlQuery(parsed.query);
  if (parsed.prepare === true && !isNodePostgres(parsed.query)) {
    throw new InvalidOptionError('prepare', 'needs a node-postgres Pool or Client as `query`: named prepared statements are its feature');
  }
  // Statements whose text is the same for every call: prepared on node-postgres.
  const prepared = parsed.prepare ?? isNodePostgres(parsed.query);
  const run = prepared ? preparedQuery(parsed.query as SqlClient) : query;
  if (columns !== undefined && !columns.includes(keyName)) throw new InvalidOptionError('columns', `must include the key column ${JSON.stringify(keyName)}`);
  const table = quoteTable(tableName);
  const collate = collation === undefined ? '' : ` COLLATE ${quoteIdentifier(collation, 'collation')}`;
  let pending: Promise<SqlStatements> | undefined;
  // Once, on first use; a failure (table not there yet, server down) is retried by the next call.
  const statements = (): Promise<SqlStatements> =>
    (pending ??= readTableInfo(query, table, keyName, columns, collation).then(
      (info) => buildStatements(info, table, collate),
      (err: unknown) => {
        pending = undefined;
        throw err;
      },
    ));

  const columnsOf = (rows: readonly SqlRow[]): readonly string[] => {
    if (columns !== undefined) return columns;
    const seen = new Set<string>();
    for (const row of rows) for (const column of Object.keys(row)) seen.add(column);
    return [...seen];
  };
  const checkKey = (row: SqlRow): void => {
    const value = row[keyName];
    if (value === undefined || value === null) {
      throw new MigrationGlueError('ERR_INVALID_KEY', `a row for ${table} has no value in its key column ${quoteIdentifier(keyName)}`);
    }
  };
  const toRowOf = (entity: E): SqlRow => (toRow === undefined ? (entity as unknown as SqlRow) : toRow(entity));
  const read = (s: SqlStatements, rows: readonly SqlRow[]): E[] => rows.map((row) => (fromRow === undefined ? s.readRow(row) : fromRow(s.readRow(row))) as E);
  /**
   * Inserts the entities if absent, in statements of at most `maxParameters`
   * values; `each` gets what each statement returned. Prepared, the rows go
   * in `VALUES` lists of `preparedRows` rows (one statement text, prepared
   * once), the rest through the `unnest` form (one text for any count).
   */
  const insertChunks = async (entities: readonly E[], counted: boolean, each: (s: SqlStatements, rows: readonly SqlRow[]) => void): Promise<void> => {
    if (entities.length === 0) return;
    const rows = entities.map(toRowOf);
    for (const row of rows) checkKey(row);
    const s = await statements();
    const names = columnsOf(rows);
    const perStatement = Math.max(1, Math.floor(maxParameters / names.length));
    const listed = prepared ? Math.min(preparedRows, perStatement) : 0;
    let start = 0;
    for (; listed > 0 && rows.length - start >= listed; start += listed) {
      const { sql, params } = s.insert(names, rows.slice(start, start + listed), counted, true);
      each(s, rowsOf(await run(sql, params)));
    }
    for (; start < rows.length; start += perStatement) {
      const { sql, params, fixed } = s.insert(names, rows.slice(start, start + perStatement), counted);
      each(s, rowsOf(await (fixed ? run : query)(sql, params)));
    }
  };

  const repository: SqlRepository<E, K> = Object.freeze({
    table,
    async keyOrder(): Promise<CompareKeys<K> | undefined> {
      return (await statements()).compareKeys as CompareKeys<K> | undefined;
    },
    async checksum(range: KeyRange<K>): Promise<RangeChecksum<K>> {
      const s = await statements();
      const { sql, params } = s.checksum(range);
      const row = rowsOf(await query(sql, params))[0] ?? {};
      const last = row.last === null || row.last === undefined ? null : (s.readKey(row.last) as K);
      return { count: Number(row.n), hash: sumOf(row.h), last };
    },
    async get(id: K): Promise<E | undefined> {
      const s = await statements();
      const rows = rowsOf(await run(s.get, [s.keyParam(id)]));
      return rows.length === 0 ? undefined : read(s, rows)[0];
    },
    async save(entity: E): Promise<void> {
      const row = toRowOf(entity);
      checkKey(row);
      const s = await statements();
      const names = columnsOf([row]);
      const params: unknown[] = [];
      s.params(row, names, params);
      await run(s.upsert(names), params);
    },
    async delete(id: K): Promise<void> {
      const s = await statements();
      await run(s.delete, [s.keyParam(id)]);
    },
    async getBatch(afterKey: K | null, limit: number): Promise<readonly E[]> {
      const s = await statements();
      const result = afterKey === null ? await run(s.firstPage, [limit]) : await run(s.nextPage, [s.keyParam(afterKey), limit]);
      return read(s, rowsOf(result));
    },
    async bulkInsert(entities: readonly E[]): Promise<readonly K[]> {
      const inserted: K[] = [];
      await insertChunks(entities, false, (s, rows) => {
        for (const row of rows) inserted.push(s.readKey(row[keyName]) as K);
      });
      return inserted;
    },
    async bulkInsertCount(entities: readonly E[]): Promise<number> {
      let inserted = 0;
      await insertChunks(entities, true, (_, rows) => {
        inserted += Number(rows[0]?.inserted);
      });
      return inserted;
    },
    splitKeys: async (parts: number): Promise<readonly K[]> => (await sqlSplitKeys(query, table, keyName, collation, parts)) as K[],
    async copyRangeTo(target: Repository<E, K>, range: CopyRange<K>): Promise<RangeCopy<K> | undefined> {
      return serverCopy ? copyRange(endpoint, target, range) : undefined;
    },
  });
  const endpoint = { query, table, collate, columns, mapped: toRow !== undefined || fromRow !== undefined, statements };
  registerCopyEndpoint(repository, endpoint);
  return repository;
}
