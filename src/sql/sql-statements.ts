import type { CompareKeys } from '../data/keys.js';
import type { KeyRange } from '../data/repository.js';
import type { ChecksumQuery } from './sql-checksum.js';
import { checksumQuery } from './sql-checksum.js';
import type { SqlRow } from './sql-client.js';
import { quoteIdentifier } from './sql-client.js';
import { keyComparator } from './sql-key-order.js';
import type { SqlColumn, SqlTableInfo } from './sql-table-info.js';
import { arrayLiteral, decode, encode, placeholder, selectExpression } from './sql-values.js';

/** The statements of one sqlRepository and the value codec of its table, built once from the catalog. */
export interface SqlStatements {
  /** What the catalog said about the table. */
  readonly info: SqlTableInfo;
  readonly get: string;
  readonly delete: string;
  readonly firstPage: string;
  readonly nextPage: string;
  /** The key as a parameter. */
  keyParam(key: unknown): unknown;
  /** A row read, with each value as the entity holds it. */
  readRow(row: SqlRow): SqlRow;
  /** A key read back (RETURNING), as the entity holds it. */
  readKey(value: unknown): unknown;
  /** `INSERT ... ON CONFLICT (key) DO UPDATE` of these columns. */
  upsert(names: readonly string[]): string;
  /**
   * A multi-row insert-if-absent of these rows, returning the keys
   * inserted: one array parameter per column, `unnest`ed and cast to the
   * column's type through text (parsing and planning stay small however
   * many rows), or a VALUES list when a column is itself an array.
   * `fixed`: the text depends on the columns only, not on the rows (the
   * `unnest` form), so it is worth preparing. `counted`: one row with
   * `inserted`, how many were inserted, instead of a row per key.
   * `untyped`: a `VALUES` list of bare `$n` whose values are all text, for
   * a client that sends parameters untyped (node-postgres): the server
   * reads each with its column's input function. Its text depends on the
   * columns and the row count only.
   */
  insert(names: readonly string[], rows: readonly SqlRow[], counted?: boolean, untyped?: boolean): { sql: string; params: unknown[]; fixed: boolean };
  /** The parameters of a row, in the order of `names`. */
  params(row: SqlRow, names: readonly string[], into: unknown[]): void;
  /** The order of the key column, when JS can reproduce it. */
  readonly compareKeys: CompareKeys<unknown> | undefined;
  /** The checksum of a key range, computed by the server. */
  checksum(range: KeyRange<unknown>): ChecksumQuery;
}

/** Builds the statements for `table` (quoted) from what the catalog said. */
export function buildStatements(info: SqlTableInfo, table: string, collate: string): SqlStatements {
  const { columns, key } = info;
  const all = [...columns.values()];
  const selected = all.map((column) => selectExpression(column.quoted, column.kind, column.guarded)).join(', ');
  const decoded = all.filter((column) => column.kind === 'float' || column.guarded);
  const keyArg = (index: number): string => placeholder(index, key.kind, key.type);
  const columnOf = (name: string): SqlColumn => columns.get(name) ?? { name, quoted: quoteIdentifier(name, 'columns'), type: '', oid: 0, kind: 'native', guarded: false };
  const returning = selectExpression(key.quoted, key.kind, key.guarded);
  // Qualified: a bare name in ORDER BY would sort by the selected text form (`"id"::text AS "id"`).
  const ordered = `${table}.${key.quoted}${collate}`;
  const upserts = new Map<string, string>();

  return {
    info,
    get: `SELECT ${selected} FROM ${table} WHERE ${key.quoted} = ${keyArg(1)} LIMIT 1`,
    delete: `DELETE FROM ${table} WHERE ${key.quoted} = ${keyArg(1)}`,
    firstPage: `SELECT ${selected} FROM ${table} ORDER BY ${ordered} LIMIT $1`,
    nextPage: `SELECT ${selected} FROM ${table} WHERE ${key.quoted}${collate} > ${keyArg(1)} ORDER BY ${ordered} LIMIT $2`,
    keyParam: (value) => encode(value, key.kind, key.oid),
    readRow(row) {
      if (decoded.length === 0) return row;
      const copy = { ...row };
      for (const { name, kind, guarded } of decoded) copy[name] = decode(copy[name], kind, guarded);
      return copy;
    },
    readKey: (value) => decode(value, key.kind, key.guarded),
    upsert(names) {
      const id = names.join('\0');
      let sql = upserts.get(id);
      if (sql === undefined) {
        const list = names.map((name) => columnOf(name).quoted).join(', ');
        const values = names.map((name, i) => placeholder(i + 1, columnOf(name).kind, columnOf(name).type)).join(', ');
        const updates = names.filter((name) => name !== key.name).map((name) => `${columnOf(name).quoted} = EXCLUDED.${columnOf(name).quoted}`);
        const onConflict = updates.length === 0 ? 'DO NOTHING' : `DO UPDATE SET ${updates.join(', ')}`;
        sql = `INSERT INTO ${table} (${list}) VALUES (${values}) ON CONFLICT (${key.quoted}) ${onConflict}`;
        // Bounded: column sets come from entity shapes, which are few.
        if (upserts.size < 100) upserts.set(id, sql);
      }
      return sql;
    },
    insert(names, rows, counted = false, untyped = false) {
      const list = names.map((name) => columnOf(name).quoted).join(', ');
      const tail = `ON CONFLICT (${key.quoted}) DO NOTHING RETURNING ${counted ? '1' : returning}`;
      const shape = (insert: string): string => (counted ? `WITH i AS (${insert}) SELECT count(*)::int8::text AS inserted FROM i` : insert);
      const params: unknown[] = [];
      if (!untyped && names.every((name) => columnOf(name).type !== '' && !columnOf(name).type.endsWith('[]'))) {
        // Each value is cast after unnest, not the arrays before it: PostgreSQL 15 took
        // 650 to 1,000 ms to cast a text[] of 16,000 jsonb texts to jsonb[], 130 to
        // 310 ms to cast them one by one, so larger batches were slower per row.
        const arrays = names.map((name, i) => {
          const column = columnOf(name);
          params.push(arrayLiteral(rows.map((row) => asText(encode(row[name], column.kind, column.oid)))));
          return `$${i + 1}::text[]`;
        });
        const casts = names.map((name, i) => `u.c${i + 1}::${columnOf(name).type}`);
        const aliases = names.map((_, i) => `c${i + 1}`);
        const sql = shape(`INSERT INTO ${table} (${list}) SELECT ${casts.join(', ')} FROM unnest(${arrays.join(', ')}) AS u(${aliases.join(', ')}) ${tail}`);
        return { sql, params, fixed: true };
      }
      // A VALUES list. Untyped (prepared, about a third faster on the server than the unnest form for
      // 1,000 rows of five columns on PostgreSQL 15): bare $n and every value as text. Else each
      // placeholder says its type, and the text depends on the row count: not worth preparing.
      const written = names.map(columnOf);
      const tuples = rows.map((row, r) => {
        const at = r * names.length;
        for (const column of written) {
          const value = encode(row[column.name], column.kind, column.oid);
          params.push(untyped ? asText(value) : value);
        }
        return `(${written.map((column, i) => (untyped ? `$${at + i + 1}` : placeholder(at + i + 1, column.kind, column.type))).join(', ')})`;
      });
      return { sql: shape(`INSERT INTO ${table} (${list}) VALUES ${tuples.join(', ')} ${tail}`), params, fixed: untyped };
    },
    params(row, names, into) {
      for (const name of names) {
        const column = columnOf(name);
        into.push(encode(row[name], column.kind, column.oid));
      }
    },
    compareKeys: keyComparator(info.keyOrder),
    checksum: (range) => checksumQuery(info, table, collate, range, (value) => encode(value, key.kind, key.oid)),
  };
}

/** A parameter as the text its type's input function reads (null stays null). */
export function asText(value: unknown): string | null {
  if (value === null || value === undefined) return null;
  if (typeof value === 'string') return value;
  // A native column given a value pg would have serialised itself.
  return typeof value === 'object' ? String(encode(value, 'text', 0)) : String(value);
}
