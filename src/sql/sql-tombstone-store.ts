import type { TombstoneStore } from '../data/tombstone-store.js';
import type { SqlQueryable, SqlTableName } from './sql-client.js';
import { rowsOf } from './sql-client.js';
import { resolveSqlStore } from './sql-options.js';

/** Options of sqlTombstoneStore. */
export interface SqlTombstoneStoreOptions {
  /** A client with `query(sql, params)` or that function. Required. */
  readonly query: SqlQueryable;
  /** The tombstone table, shared by every migration (rows carry `name`). @default 'migration_glue_tombstones' */
  readonly table?: SqlTableName;
  /** Which migration's tombstones these are. Required. */
  readonly name: string;
  /** Create the table (IF NOT EXISTS) on first use. @default true */
  readonly createTable?: boolean;
}

/**
 * A TombstoneStore in a SQL table (`name text, key jsonb, at double
 * precision, primary key (name, key)`), shared by every instance and by a
 * backfill running in another process. Keys are stored as JSON.
 * @throws InvalidOptionError naming the bad option.
 */
export function sqlTombstoneStore<K>(options: SqlTombstoneStoreOptions): TombstoneStore<K> {
  const { query, table, name, ready } = resolveSqlStore(
    options,
    'sqlTombstoneStore',
    'migration_glue_tombstones',
    '(name text NOT NULL, key jsonb NOT NULL, at double precision NOT NULL, PRIMARY KEY (name, key))',
  );

  return Object.freeze({
    async add(key: K, at: number): Promise<void> {
      await ready();
      await query(`INSERT INTO ${table} (name, key, at) VALUES ($1, $2::jsonb, $3) ON CONFLICT (name, key) DO UPDATE SET at = EXCLUDED.at`, [
        name,
        JSON.stringify(key),
        at,
      ]);
    },
    async remove(key: K): Promise<void> {
      await ready();
      await query(`DELETE FROM ${table} WHERE name = $1 AND key = $2::jsonb`, [name, JSON.stringify(key)]);
    },
    async has(keys: readonly K[]): Promise<readonly K[]> {
      if (keys.length === 0) return [];
      await ready();
      const rows = rowsOf(
        await query(`SELECT key FROM ${table} WHERE name = $1 AND key IN (SELECT jsonb_array_elements($2::jsonb))`, [name, JSON.stringify(keys)]),
      );
      const found = new Set(rows.map((row) => JSON.stringify(row.key)));
      return keys.filter((key) => found.has(JSON.stringify(key)));
    },
    async clear(): Promise<void> {
      await ready();
      await query(`DELETE FROM ${table} WHERE name = $1`, [name]);
    },
  });
}
