import { describeValue, InvalidOptionError } from '../errors.js';
import type { SqlQuery } from './sql-client.js';
import { quoteIdentifier, rowsOf } from './sql-client.js';
import type { KeyColumnOrder } from './sql-key-order.js';
import type { ValueKind } from './sql-values.js';
import { kindOf } from './sql-values.js';

/** One column of the table, as the catalog describes it. */
export interface SqlColumn {
  readonly name: string;
  /** Quoted, for statements. */
  readonly quoted: string;
  /** The type as SQL names it, without modifiers (`numeric`, `timestamp with time zone`), for casts. */
  readonly type: string;
  /** The type's OID, or its base type's for a domain. */
  readonly oid: number;
  readonly kind: ValueKind;
  /**
   * A string type read behind a guard: a value that starts with U+FEFF or
   * U+0001 comes with a U+0001 in front, which the reader removes. Some
   * clients (PGlite) drop a byte-order mark at the start of a field.
   */
  readonly guarded: boolean;
}

/** What the repository learns about its table once, on first use. */
export interface SqlTableInfo {
  /** In table order. */
  readonly columns: ReadonlyMap<string, SqlColumn>;
  readonly key: SqlColumn;
  readonly keyOrder: KeyColumnOrder;
}

const columnsSql = `SELECT a.attname AS name, format_type(a.atttypid, NULL) AS type,
  (CASE WHEN t.typtype = 'd' THEN t.typbasetype ELSE t.oid END)::int8::text AS oid,
  (SELECT b.typcategory::text FROM pg_catalog.pg_type b WHERE b.oid = CASE WHEN t.typtype = 'd' THEN t.typbasetype ELSE t.oid END) AS category,
  (SELECT to_jsonb(c)::text FROM pg_catalog.pg_collation c WHERE c.oid = a.attcollation) AS collation
FROM pg_catalog.pg_attribute a JOIN pg_catalog.pg_type t ON t.oid = a.atttypid
WHERE a.attrelid = $1::text::regclass AND a.attnum > 0 AND NOT a.attisdropped
ORDER BY a.attnum`;

const sessionSql = `SELECT current_setting('DateStyle') AS date_style, current_setting('extra_float_digits') AS float_digits,
  current_setting('server_encoding') AS encoding,
  (SELECT to_jsonb(d)::text FROM pg_catalog.pg_database d WHERE d.datname = current_database()) AS database,
  (SELECT to_jsonb(c)::text FROM pg_catalog.pg_collation c WHERE c.collname = $1 LIMIT 1) AS named`;

/**
 * Reads the table's columns and types from the catalog, and checks that the
 * session writes values in a form that reads back exactly.
 * @throws InvalidOptionError naming `columns` or `key` when the table lacks
 *   them, or `query` when the session's DateStyle or extra_float_digits
 *   would lose or garble values.
 */
export async function readTableInfo(query: SqlQuery, table: string, keyName: string, columnNames: readonly string[] | undefined, collation: string | undefined): Promise<SqlTableInfo> {
  const rows = rowsOf(await query(columnsSql, [table]));
  const session = rowsOf(await query(sessionSql, [collation ?? null]))[0] ?? {};
  const utf8 = String(session.encoding).toUpperCase() === 'UTF8';
  const all = new Map<string, SqlColumn>();
  const collations = new Map<string, unknown>();
  for (const row of rows) {
    const name = String(row.name);
    const oid = Number(row.oid);
    // char(n) is left alone: through text it would lose its padding.
    const guarded = utf8 && row.category === 'S' && oid !== 1042;
    all.set(name, { name, quoted: quoteIdentifier(name), type: String(row.type), oid, kind: kindOf(oid), guarded });
    collations.set(name, parseJson(row.collation));
  }
  const key = all.get(keyName);
  if (key === undefined) throw new InvalidOptionError('key', `names ${describeValue(keyName)}, which is not a column of ${table}`);
  let columns: ReadonlyMap<string, SqlColumn> = all;
  if (columnNames !== undefined) {
    const missing = columnNames.filter((name) => !all.has(name));
    if (missing.length > 0) throw new InvalidOptionError('columns', `names ${missing.map((name) => JSON.stringify(name)).join(', ')}, not columns of ${table}`);
    columns = new Map(columnNames.map((name) => [name, all.get(name) as SqlColumn]));
  }

  checkSession(session, [...columns.values()]);
  const database = parseJson(session.database);
  const keyCollation = collation === undefined ? collations.get(keyName) : parseJson(session.named);
  if (collation !== undefined && keyCollation === undefined) throw new InvalidOptionError('collation', `names ${describeValue(collation)}, which the database does not have`);
  return { columns, key, keyOrder: { oid: key.oid, codePoint: sortsByCodePoint(keyCollation, database) } };
}

function checkSession(session: Record<string, unknown>, columns: readonly SqlColumn[]): void {
  const dateStyle = String(session.date_style ?? '');
  const floatDigits = Number(session.float_digits);
  const asText = columns.some((column) => column.kind === 'text');
  if (asText && !/^\s*ISO\b/i.test(dateStyle)) {
    throw new InvalidOptionError(
      'query',
      `connects with DateStyle ${JSON.stringify(dateStyle)}: dates and times are read as text, which must be ISO to read back unambiguously on any connection (set DateStyle to 'ISO, MDY' for the role or the connection)`,
    );
  }
  if ((asText || columns.some((column) => column.kind === 'float')) && !(floatDigits >= 1)) {
    throw new InvalidOptionError(
      'query',
      `connects with extra_float_digits ${describeValue(session.float_digits)}: real and double precision values would be rounded; set extra_float_digits to 1 (the default since PostgreSQL 12)`,
    );
  }
}

/** True when the collation (a pg_collation row as JSON; the database default when it says so) sorts strings by code point. */
function sortsByCodePoint(collation: unknown, database: unknown): boolean {
  let provider = field(collation, 'collprovider');
  let locale = field(collation, 'collcollate');
  if (provider === undefined || provider === 'd') {
    provider = field(database, 'datlocprovider') ?? 'c';
    locale = field(database, 'datcollate');
  }
  if (provider === 'b') return true;
  return provider === 'c' && (locale === 'C' || locale === 'POSIX');
}

function field(value: unknown, name: string): string | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const found = (value as Record<string, unknown>)[name];
  return typeof found === 'string' ? found : undefined;
}

function parseJson(value: unknown): unknown {
  if (typeof value !== 'string') return value ?? undefined;
  try {
    return JSON.parse(value) as unknown;
  } catch {
    return undefined;
  }
}
