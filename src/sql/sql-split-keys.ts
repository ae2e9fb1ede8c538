import { z } from 'zod';
import type { KeySplitter } from '../data/partition.js';
import { parseOptions } from '../option-schema.js';
import type { SqlQuery, SqlQueryable, SqlTableName } from './sql-client.js';
import { quoteIdentifier, quoteTable, rowsOf } from './sql-client.js';
import { sqlOption } from './sql-options.js';
import { readTableInfo } from './sql-table-info.js';
import { decode, valueExpression } from './sql-values.js';

/**
 * The keys that split `table` (quoted) into `parts` ranges of about the
 * same number of rows, in the server's order of the key column (under
 * `collation` when given, as sqlRepository orders it): the last key of each
 * of the first `parts - 1` ranges, read as sqlRepository reads keys. One
 * statement: a count, then one pass over the key index numbering the rows
 * (`row_number()`), keeping every (count · i / parts)-th. Fewer keys when
 * the table has fewer rows than parts.
 */
export async function sqlSplitKeys(query: SqlQuery, table: string, keyName: string, collation: string | undefined, parts: number): Promise<unknown[]> {
  if (parts <= 1) return [];
  const { key } = await readTableInfo(query, table, keyName, undefined, collation);
  const collate = collation === undefined ? '' : ` COLLATE ${quoteIdentifier(collation, 'collation')}`;
  const sql = `WITH total AS (SELECT count(*)::int8 AS n FROM ${table}),
  marks AS (SELECT DISTINCT (total.n * i) / $1::int8 AS rn FROM total, generate_series(1, $1::int8 - 1) AS i)
SELECT ${valueExpression(`s.${key.quoted}`, key.kind, key.guarded)} AS k
FROM (SELECT ${table}.${key.quoted}, row_number() OVER (ORDER BY ${table}.${key.quoted}${collate}) AS rn FROM ${table}) s
JOIN marks ON marks.rn = s.rn
ORDER BY s.rn`;
  return rowsOf(await query(sql, [parts])).map((row) => decode(row.k, key.kind, key.guarded));
}

/** Options of sqlKeySplitter: the table and key as given to sqlRepository. */
export interface SqlKeySplitterOptions {
  /** A client with `query(sql, params)` or that function. Required. */
  readonly query: SqlQueryable;
  /** The table. Required. */
  readonly table: SqlTableName;
  /** The key column. Required. */
  readonly key: string;
  /** The collation the repository orders keys under. @default the column's */
  readonly collation?: string;
}

const schema = z.strictObject({
  query: sqlOption.query(),
  table: sqlOption.table(),
  key: sqlOption.identifier('a column name'),
  collation: sqlOption.identifier('a collation name').optional(),
});

/**
 * The KeySplitter of a table (see sqlSplitKeys), to give a repository that
 * lacks one: `{ ...repository, ...sqlKeySplitter({ query, table, key }) }`.
 * @throws InvalidOptionError naming the bad option.
 */
export function sqlKeySplitter<K = unknown>(options: SqlKeySplitterOptions): KeySplitter<K> {
  const { query, table, key, collation } = parseOptions(schema, options, 'sqlKeySplitter');
  const quoted = quoteTable(table);
  return { splitKeys: async (parts) => (await sqlSplitKeys(query, quoted, key, collation, parts)) as K[] };
}
