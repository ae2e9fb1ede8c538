import { createHash } from 'node:crypto';
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
  let method: unknown;
  try {
    method = typeof value === 'object' && value !== null ? (value as Partial<SqlClient>).query : undefined;
  } catch {
    throw new InvalidOptionError('query', 'cannot be read (a getter or a Proxy trap threw, or the Proxy is revoked)');
  }
  if (typeof method === 'function') {
    const client = value as SqlClient;
    return (sql, params) => client.query(sql, params);
  }
  throw new InvalidOptionError('query', `must be a client with query(sql, params) (PGlite, pg.Pool) or that function, got ${describeValue(value)}`);
}

/**
 * True for a node-postgres `Pool` or `Client` (the one client known to run
 * named prepared statements): a `Pool` counts its connections
 * (`totalCount`), a `Client` keeps its `connectionParameters`. False for
 * anything else, and for an object whose properties cannot be read.
 */
export function isNodePostgres(value: SqlQueryable): boolean {
  if (typeof value !== 'object' || value === null) return false;
  try {
    const { totalCount, connectionParameters } = value as { totalCount?: unknown; connectionParameters?: unknown };
    return typeof totalCount === 'number' || (typeof connectionParameters === 'object' && connectionParameters !== null);
  } catch {
    return false;
  }
}

/** Statement texts named at most; later texts run unnamed (a named one stays prepared on every connection). */
const maxPrepared = 200;

/**
 * `client.query` with each statement text given a name derived from it, so
 * that node-postgres parses and plans it once per connection and then only
 * binds and executes it. For statements whose text does not depend on the
 * data (a page, an `unnest` insert): each name stays prepared on the
 * server for the life of the connection.
 */
export function preparedQuery(client: SqlClient): SqlQuery {
  const names = new Map<string, string>();
  // Read at each call, as toSqlQuery does: a client whose `query` throws rejects that query, never the repository's creation.
  const named = client as unknown as { query(config: { name?: string; text: string; values: unknown[] }): Promise<SqlResult> };
  return async (sql, params) => {
    let name = names.get(sql);
    if (name === undefined && names.size < maxPrepared) {
      name = `mg_${createHash('sha256').update(sql).digest('hex').slice(0, 32)}`;
      names.set(sql, name);
    }
    return named.query(name === undefined ? { text: sql, values: params } : { name, text: sql, values: params });
  };
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
