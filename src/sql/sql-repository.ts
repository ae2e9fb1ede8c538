import type { CompareKeys } from '../data/keys.js';
import type { Repository } from '../data/repository.js';
import { describeValue, InvalidOptionError, MigrationGlueError } from '../errors.js';
import type { SqlQuery, SqlQueryable, SqlRow, SqlTableName } from './sql-client.js';
import { quoteIdentifier, quoteTable, rowsOf, toSqlQuery } from './sql-client.js';
import type { SqlStatements } from './sql-statements.js';
import { buildStatements } from './sql-statements.js';
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
}

/** A Repository over one SQL table, with `bulkInsert` and the order of its keys. */
export interface SqlRepository<E, K> extends Repository<E, K> {
  /** The quoted table name used in statements. */
  readonly table: string;
  bulkInsert(entities: readonly E[]): Promise<readonly K[]>;
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
}

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
  if (typeof options !== 'object' || options === null) {
    throw new InvalidOptionError('options', `must be an object ({ query, table, key }), got ${describeValue(options)}`);
  }
  const query: SqlQuery = toSqlQuery(options.query);
  const table = quoteTable(options.table);
  const keyName = requireColumn(options.key, 'key');
  const columns = options.columns === undefined ? undefined : checkColumns(options.columns, keyName);
  const collate = options.collation === undefined ? '' : ` COLLATE ${quoteIdentifier(options.collation, 'collation')}`;
  const toRow = optionalFn(options.toRow, 'toRow') ?? ((entity: E) => entity as unknown as SqlRow);
  const fromRow = optionalFn(options.fromRow, 'fromRow') ?? ((row: SqlRow) => row as unknown as E);
  const maxParameters = options.maxParameters ?? 65_535;
  if (!Number.isSafeInteger(maxParameters) || maxParameters < 1) {
    throw new InvalidOptionError('maxParameters', `must be an integer of at least 1, got ${describeValue(options.maxParameters)}`);
  }
  let pending: Promise<SqlStatements> | undefined;
  // Once, on first use; a failure (table not there yet, server down) is retried by the next call.
  const statements = (): Promise<SqlStatements> =>
    (pending ??= readTableInfo(query, table, keyName, columns, options.collation).then(
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
  const read = (s: SqlStatements, rows: readonly SqlRow[]): E[] => rows.map((row) => fromRow(s.readRow(row)));

  return Object.freeze({
    table,
    async keyOrder(): Promise<CompareKeys<K> | undefined> {
      return (await statements()).compareKeys as CompareKeys<K> | undefined;
    },
    async get(id: K): Promise<E | undefined> {
      const s = await statements();
      const rows = rowsOf(await query(s.get, [s.keyParam(id)]));
      return rows.length === 0 ? undefined : read(s, rows)[0];
    },
    async save(entity: E): Promise<void> {
      const row = toRow(entity);
      checkKey(row);
      const s = await statements();
      const names = columnsOf([row]);
      const params: unknown[] = [];
      s.params(row, names, params);
      await query(s.upsert(names), params);
    },
    async delete(id: K): Promise<void> {
      const s = await statements();
      await query(s.delete, [s.keyParam(id)]);
    },
    async getBatch(afterKey: K | null, limit: number): Promise<readonly E[]> {
      const s = await statements();
      const result = afterKey === null ? await query(s.firstPage, [limit]) : await query(s.nextPage, [s.keyParam(afterKey), limit]);
      return read(s, rowsOf(result));
    },
    async bulkInsert(entities: readonly E[]): Promise<readonly K[]> {
      if (entities.length === 0) return [];
      const rows = entities.map(toRow);
      for (const row of rows) checkKey(row);
      const s = await statements();
      const names = columnsOf(rows);
      const perStatement = Math.max(1, Math.floor(maxParameters / names.length));
      const inserted: K[] = [];
      for (let start = 0; start < rows.length; start += perStatement) {
        const chunk = rows.slice(start, start + perStatement);
        const params: unknown[] = [];
        for (const row of chunk) s.params(row, names, params);
        for (const row of rowsOf(await query(s.insert(names, chunk.length), params))) inserted.push(s.readKey(row[keyName]) as K);
      }
      return inserted;
    },
  });
}

function requireColumn(value: unknown, option: string): string {
  if (typeof value !== 'string' || value === '') throw new InvalidOptionError(option, `must be a column name, got ${describeValue(value)}`);
  quoteIdentifier(value, option);
  return value;
}

function checkColumns(value: unknown, keyName: string): readonly string[] {
  if (!Array.isArray(value) || value.length === 0) {
    throw new InvalidOptionError('columns', `must be a non-empty array of column names, got ${describeValue(value)}`);
  }
  for (const column of value) requireColumn(column, 'columns');
  if (!value.includes(keyName)) throw new InvalidOptionError('columns', `must include the key column ${JSON.stringify(keyName)}`);
  return Object.freeze([...(value as string[])]);
}

function optionalFn<F>(value: F | undefined, option: string): F | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'function') throw new InvalidOptionError(option, `must be a function, got ${describeValue(value)}`);
  return value;
}
