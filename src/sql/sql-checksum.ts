import type { KeyRange } from '../data/repository.js';
import type { SqlTableInfo } from './sql-table-info.js';
import { placeholder, valueExpression } from './sql-values.js';

/** A checksum statement and its parameters. */
export interface ChecksumQuery {
  readonly sql: string;
  readonly params: unknown[];
}

/**
 * Builds the statement that checksums a key range of `table` in the
 * database, as pt-table-checksum does per chunk, in one pass over the
 * range (an index range scan, no sort): each row is hashed with
 * `hashtextextended` (64 bits) of the text of a ROW of its columns (in name
 * order, each as PostgreSQL's own text for its type, NULL distinct from an
 * empty string), and the hashes are summed exactly (as numeric).
 * With a limit, the range ends at the limit-th key, found by an index
 * probe first. Returns the row count, the sum as text and the last key
 * (as the repository reads keys). `keyParam` encodes a key as a parameter.
 */
export function checksumQuery(info: SqlTableInfo, table: string, collate: string, range: KeyRange<unknown>, keyParam: (key: unknown) => unknown): ChecksumQuery {
  const { key } = info;
  const columns = [...info.columns.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const column = `${table}.${key.quoted}`;
  const ordered = `${column}${collate}`;
  const params: unknown[] = [];
  const arg = (value: unknown): string => {
    params.push(value);
    return `$${params.length}`;
  };
  const keyArg = (value: unknown): string => {
    params.push(keyParam(value));
    return placeholder(params.length, key.kind, key.type);
  };
  const where: string[] = [];
  if (range.after !== null) where.push(`${ordered} > ${keyArg(range.after)}`);
  const upTo = range.upTo === undefined || range.upTo === null ? undefined : keyArg(range.upTo);
  if (upTo !== undefined) where.push(`${ordered} <= ${upTo}`);
  if (range.limit !== undefined) {
    const inRange = where.length === 0 ? '' : ` WHERE ${where.join(' AND ')}`;
    // The limit-th key of the range, else (fewer rows) the range's own end.
    const fallback = upTo ?? `(SELECT ${column} FROM ${table} ORDER BY ${ordered} DESC LIMIT 1)`;
    where.push(`${ordered} <= coalesce((SELECT ${column} FROM ${table}${inRange} ORDER BY ${ordered} OFFSET ${arg(range.limit - 1)} LIMIT 1), ${fallback})`);
  }
  const filter = where.length === 0 ? '' : ` WHERE ${where.join(' AND ')}`;
  // hashtextextended is PostgreSQL's 64-bit hash of hash partitioning: stable across versions (partitions depend on it),
  // and about half the cost of md5 per row. Summed exactly (numeric), so the hash of a range is additive.
  const row = `hashtextextended(ROW(${columns.map((c) => `${table}.${c.quoted}`).join(', ')})::text, 0)`;
  const last = `(SELECT ${valueExpression(column, key.kind, key.guarded)} FROM ${table}${filter} ORDER BY ${ordered} DESC LIMIT 1)`;
  const sql = `SELECT count(*)::int8::text AS n, coalesce(sum(${row}), 0)::text AS h, ${last} AS last FROM ${table}${filter}`;
  return { sql, params };
}

/** The sum of a range's row hashes, read from its exact text. */
export function sumOf(value: unknown): bigint {
  return BigInt(String(value ?? 0));
}
