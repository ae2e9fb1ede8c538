import { z } from 'zod';
import { field, option, parseOptions } from '../option-schema.js';
import type { SqlClient, SqlQuery, SqlQueryable, SqlTableName } from './sql-client.js';
import { once, quoteTable, toSqlQuery } from './sql-client.js';

function isIdentifier(value: unknown): value is string {
  return typeof value === 'string' && value !== '' && !value.includes('\0');
}

function isTableName(value: unknown): boolean {
  if (isIdentifier(value)) return true;
  if (typeof value !== 'object' || value === null) return false;
  const { schema, name } = value as { schema?: unknown; name?: unknown };
  return isIdentifier(name) && (schema === undefined || isIdentifier(schema));
}

/** The option fields the SQL adapters share (see option-schema.ts). */
export const sqlOption = {
  /** A client with `query(sql, params)` or that function, normalised to the function. */
  query: () => sqlOption.client().transform((value): SqlQuery => toSqlQuery(value)),
  /** A client with `query(sql, params)` or that function, as given. */
  client: () =>
    field<SqlQueryable>(
      (value) => typeof value === 'function' || (typeof value === 'object' && value !== null && typeof (value as Partial<SqlClient>).query === 'function'),
      'a client with query(sql, params) (PGlite, pg.Pool) or that function',
    ),
  /** A table name (one identifier, no NUL) or `{ schema?, name }`. */
  table: () => field<SqlTableName>(isTableName, 'a table name or { schema, name } (non-empty, without NUL characters)'),
  /** A column or collation name. */
  identifier: (what: string) => field<string>(isIdentifier, `${what} (a non-empty string without NUL characters)`),
};

const storeSchema = z.strictObject({
  query: sqlOption.query(),
  table: sqlOption.table().optional(),
  name: option.string(),
  createTable: option.boolean().default(true),
});

/** What sqlRepairLog, sqlCheckpointStore and sqlTombstoneStore work with once their options are checked. */
export interface SqlStore {
  readonly query: SqlQuery;
  /** Quoted, possibly schema-qualified. */
  readonly table: string;
  readonly name: string;
  /** Creates the table once, on first use (IF NOT EXISTS), unless `createTable: false`. */
  readonly ready: () => Promise<void>;
}

/**
 * Checks the options every SQL store shares (`query`, `table`, `name`,
 * `createTable`) and prepares its table.
 * @throws InvalidOptionError naming the bad or unknown option.
 */
export function resolveSqlStore(options: unknown, what: string, defaultTable: string, columns: string): SqlStore {
  const parsed = parseOptions(storeSchema, options, what);
  const table = quoteTable(parsed.table ?? defaultTable);
  const query = parsed.query;
  const ready = parsed.createTable ? once(async () => void (await query(`CREATE TABLE IF NOT EXISTS ${table} ${columns}`, []))) : async () => {};
  return { query, table, name: parsed.name, ready };
}
