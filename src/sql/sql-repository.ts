import { describeValue, InvalidOptionError, MigrationGlueError } from '../errors.js';
import type { Repository } from '../data/repository.js';
import type { SqlQuery, SqlQueryable, SqlRow, SqlTableName } from './sql-client.js';
import { quoteIdentifier, quoteTable, rowsOf, toSqlQuery } from './sql-client.js';

/** Options of sqlRepository. Validated once, when the repository is made. */
export interface SqlRepositoryOptions<E> {
  /** A client with `query(sql, params)` (PGlite, pg.Pool, pg.Client) or that function. Required. */
  readonly query: SqlQueryable;
  /** The table; a string is one identifier, taken literally. Required. */
  readonly table: SqlTableName;
  /** The key column: it must carry a primary key or unique constraint (ON CONFLICT needs one). Required. */
  readonly key: string;
  /** The columns read and written. @default every column on read (`*`), the row's own fields on write */
  readonly columns?: readonly string[];
  /**
   * A collation for ordering and comparing keys, e.g. `'C'` for text keys, so
   * that `getBatch` order is the byte order verify's default `compareKeys` expects.
   * Leave unset for numeric keys. @default none (the column's collation)
   */
  readonly collation?: string;
  /** Turns an entity into the row to write. @default the entity itself */
  readonly toRow?: (entity: E) => SqlRow;
  /** Turns a row read into an entity. @default the row itself */
  readonly fromRow?: (row: SqlRow) => E;
  /** Parameters per statement at most; `bulkInsert` splits larger batches. @default 65535 (PostgreSQL's limit) */
  readonly maxParameters?: number;
}

/** A Repository over one SQL table, with `bulkInsert`. */
export interface SqlRepository<E, K> extends Repository<E, K> {
  /** The quoted table name used in statements. */
  readonly table: string;
  bulkInsert(entities: readonly E[]): Promise<readonly K[]>;
}

/**
 * A Repository over a PostgreSQL table (PGlite or a server), through any
 * client with `query(sql, params)`. Pages with keyset pagination (`WHERE key
 * > $1 ORDER BY key LIMIT $2`, never OFFSET); `save` is an upsert;
 * `bulkInsert` is one multi-row `INSERT ... ON CONFLICT (key) DO NOTHING
 * RETURNING key` per chunk. Identifiers are quoted; values are always
 * parameters.
 * @throws InvalidOptionError naming the bad option.
 */
export function sqlRepository<E = SqlRow, K = unknown>(options: SqlRepositoryOptions<E>): SqlRepository<E, K> {
  if (typeof options !== 'object' || options === null) {
    throw new InvalidOptionError('options', `must be an object ({ query, table, key }), got ${describeValue(options)}`);
  }
  const query: SqlQuery = toSqlQuery(options.query);
  const table = quoteTable(options.table);
  const keyName = requireColumn(options.key, 'key');
  const key = quoteIdentifier(keyName, 'key');
  const columns = options.columns === undefined ? undefined : checkColumns(options.columns, keyName);
  const collate = options.collation === undefined ? '' : ` COLLATE ${quoteIdentifier(options.collation, 'collation')}`;
  const toRow = optionalFn(options.toRow, 'toRow') ?? ((entity: E) => entity as unknown as SqlRow);
  const fromRow = optionalFn(options.fromRow, 'fromRow') ?? ((row: SqlRow) => row as unknown as E);
  const maxParameters = options.maxParameters ?? 65_535;
  if (!Number.isSafeInteger(maxParameters) || maxParameters < 1) {
    throw new InvalidOptionError('maxParameters', `must be an integer of at least 1, got ${describeValue(options.maxParameters)}`);
  }
  const selected = columns === undefined ? '*' : columns.map((column) => quoteIdentifier(column)).join(', ');
  const getSql = `SELECT ${selected} FROM ${table} WHERE ${key} = $1 LIMIT 1`;
  const deleteSql = `DELETE FROM ${table} WHERE ${key} = $1`;
  const firstPageSql = `SELECT ${selected} FROM ${table} ORDER BY ${key}${collate} LIMIT $1`;
  const nextPageSql = `SELECT ${selected} FROM ${table} WHERE ${key}${collate} > $1 ORDER BY ${key}${collate} LIMIT $2`;
  const upserts = new Map<string, string>();

  const columnsOf = (rows: readonly SqlRow[]): readonly string[] => {
    if (columns !== undefined) return columns;
    const seen = new Set<string>();
    for (const row of rows) for (const column of Object.keys(row)) seen.add(column);
    return [...seen];
  };
  const keyOfRow = (row: SqlRow): K => {
    const value = row[keyName];
    if (value === undefined || value === null) {
      throw new MigrationGlueError('ERR_INVALID_KEY', `a row for ${table} has no value in its key column ${key}`);
    }
    return value as K;
  };
  const upsertSql = (names: readonly string[]): string => {
    const id = names.join('\0');
    let sql = upserts.get(id);
    if (sql === undefined) {
      const list = names.map((name) => quoteIdentifier(name, 'columns')).join(', ');
      const values = names.map((_, i) => `$${i + 1}`).join(', ');
      const updates = names.filter((name) => name !== keyName).map((name) => `${quoteIdentifier(name)} = EXCLUDED.${quoteIdentifier(name)}`);
      const onConflict = updates.length === 0 ? 'DO NOTHING' : `DO UPDATE SET ${updates.join(', ')}`;
      sql = `INSERT INTO ${table} (${list}) VALUES (${values}) ON CONFLICT (${key}) ${onConflict}`;
      // Bounded: column sets come from entity shapes, which are few.
      if (upserts.size < 100) upserts.set(id, sql);
    }
    return sql;
  };

  return Object.freeze({
    table,
    async get(id: K): Promise<E | undefined> {
      const rows = rowsOf(await query(getSql, [id]));
      return rows.length === 0 ? undefined : fromRow(rows[0] as SqlRow);
    },
    async save(entity: E): Promise<void> {
      const row = toRow(entity);
      keyOfRow(row);
      const names = columnsOf([row]);
      await query(upsertSql(names), names.map((name) => valueOf(row, name)));
    },
    async delete(id: K): Promise<void> {
      await query(deleteSql, [id]);
    },
    async getBatch(afterKey: K | null, limit: number): Promise<readonly E[]> {
      const result = afterKey === null ? await query(firstPageSql, [limit]) : await query(nextPageSql, [afterKey, limit]);
      return rowsOf(result).map(fromRow);
    },
    async bulkInsert(entities: readonly E[]): Promise<readonly K[]> {
      if (entities.length === 0) return [];
      const rows = entities.map(toRow);
      for (const row of rows) keyOfRow(row);
      const names = columnsOf(rows);
      const list = names.map((name) => quoteIdentifier(name, 'columns')).join(', ');
      const perStatement = Math.max(1, Math.floor(maxParameters / names.length));
      const inserted: K[] = [];
      for (let start = 0; start < rows.length; start += perStatement) {
        const chunk = rows.slice(start, start + perStatement);
        const params: unknown[] = [];
        const tuples = chunk.map((row) => {
          const slots = names.map((name) => {
            params.push(valueOf(row, name));
            return `$${params.length}`;
          });
          return `(${slots.join(', ')})`;
        });
        const sql = `INSERT INTO ${table} (${list}) VALUES ${tuples.join(', ')} ON CONFLICT (${key}) DO NOTHING RETURNING ${key}`;
        for (const row of rowsOf(await query(sql, params))) inserted.push(row[keyName] as K);
      }
      return inserted;
    },
  });
}

function valueOf(row: SqlRow, column: string): unknown {
  const value = row[column];
  return value === undefined ? null : value;
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
