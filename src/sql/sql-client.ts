import { describeValue, InvalidOptionError } from '../errors.js';

/** A row as a SQL client returns it: column name to value. */
export type SqlRow = Record<string, unknown>;

/** What a query resolves with: at least its rows (PGlite's `Results`, node-postgres' `QueryResult`). */
export interface SqlResult {
  readonly rows: readonly unknown[];
}

/** Runs one statement with positional parameters (`$1`, `$2`, ...). */
export type SqlQuery = (sql: string, params: unknown[]) => Promise<SqlResult>;

/** Any client with a `query(sql, params)` method: a PGlite instance, a node-postgres Pool or Client. */
export interface SqlClient {
  query(sql: string, params?: unknown[]): Promise<SqlResult>;
}

/** What the `query` option of the SQL adapters accepts: a client, or its query function. */
export type SqlQueryable = SqlClient | SqlQuery;

/** A table name: one identifier (taken literally, dots included), or a schema-qualified one. */
export type SqlTableName = string | { readonly schema?: string; readonly name: string };

/** Normalises the `query` option once. @throws InvalidOptionError for anything else. */
export function toSqlQuery(value: SqlQueryable | undefined): SqlQuery {
  if (typeof value === 'function') return value;
  if (typeof value === 'object' && value !== null && typeof (value as Partial<SqlClient>).query === 'function') {
    const client = value;
    return (sql, params) => client.query(sql, params);
  }
  throw new InvalidOptionError('query', `must be a client with query(sql, params) (PGlite, pg.Pool) or that function, got ${describeValue(value)}`);
}

/**
 * Quotes an identifier for PostgreSQL: wrapped in double quotes, embedded
 * double quotes doubled. Any name is safe this way, whatever it contains.
 * @throws InvalidOptionError (naming `option`) for an empty name or one with a NUL character.
 */
export function quoteIdentifier(name: string, option = 'identifier'): string {
  if (typeof name !== 'string' || name === '' || name.includes('\0')) {
    throw new InvalidOptionError(option, `must be a non-empty string without NUL characters, got ${describeValue(name)}`);
  }
  return `"${name.replaceAll('"', '""')}"`;
}

/** The quoted, possibly schema-qualified, name of a table. @throws InvalidOptionError (`table`) on a bad name. */
export function quoteTable(table: SqlTableName | undefined): string {
  if (typeof table === 'string') return quoteIdentifier(table, 'table');
  if (typeof table === 'object' && table !== null) {
    const name = quoteIdentifier(table.name, 'table.name');
    return table.schema === undefined ? name : `${quoteIdentifier(table.schema, 'table.schema')}.${name}`;
  }
  throw new InvalidOptionError('table', `must be a table name or { schema, name }, got ${describeValue(table)}`);
}

/** The rows of a result, as records. */
export function rowsOf(result: SqlResult): readonly SqlRow[] {
  return result.rows as readonly SqlRow[];
}

/**
 * Runs `create` once, on first use, and shares its promise; a failure is
 * forgotten so that the next use tries again.
 */
export function once(create: () => Promise<void>): () => Promise<void> {
  let ready: Promise<void> | undefined;
  return () => {
    ready ??= create().catch((err: unknown) => {
      ready = undefined;
      throw err;
    });
    return ready;
  };
}
