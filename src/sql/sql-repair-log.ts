import type { LoggedRepair, RepairEntry, RepairLog } from '../data/repair-log.js';
import type { SqlQueryable, SqlTableName } from './sql-client.js';
import { rowsOf } from './sql-client.js';
import { resolveSqlStore } from './sql-options.js';

/** Options of sqlRepairLog. */
export interface SqlRepairLogOptions {
  /** A client with `query(sql, params)` or that function. Required. */
  readonly query: SqlQueryable;
  /** The log table, shared by every migration (rows carry `name`). @default 'migration_glue_repair_log' */
  readonly table?: SqlTableName;
  /** Which migration's log this is. Required. */
  readonly name: string;
  /** Create the table (IF NOT EXISTS) on first use. @default true */
  readonly createTable?: boolean;
}

/**
 * A RepairLog in a SQL table: durable and shared by every instance that
 * writes the same migration. Table: `id bigserial primary key, name text,
 * key jsonb, op text, side text, at double precision, error text`. Keys are
 * stored as JSON (strings or numbers).
 * @throws InvalidOptionError naming the bad option.
 */
export function sqlRepairLog<K>(options: SqlRepairLogOptions): RepairLog<K> {
  const { query, table, name, ready } = resolveSqlStore(
    options,
    'sqlRepairLog',
    'migration_glue_repair_log',
    '(id bigserial PRIMARY KEY, name text NOT NULL, key jsonb NOT NULL, op text NOT NULL, side text NOT NULL, at double precision NOT NULL, error text NOT NULL)',
  );

  return Object.freeze({
    async append(entry: RepairEntry<K>): Promise<void> {
      await ready();
      await query(`INSERT INTO ${table} (name, key, op, side, at, error) VALUES ($1, $2::jsonb, $3, $4, $5, $6)`, [
        name,
        JSON.stringify(entry.key),
        entry.op,
        entry.side,
        entry.at,
        entry.error,
      ]);
    },
    async list(afterId: number | null, limit: number): Promise<readonly LoggedRepair<K>[]> {
      await ready();
      const result = await query(
        `SELECT id::text AS id, key, op, side, at, error FROM ${table} WHERE name = $1 AND id > $2 ORDER BY id LIMIT $3`,
        [name, afterId ?? 0, limit],
      );
      return rowsOf(result).map((row) =>
        Object.freeze({
          id: Number(row.id),
          key: row.key as K,
          op: row.op as RepairEntry<K>['op'],
          side: row.side as RepairEntry<K>['side'],
          at: Number(row.at),
          error: String(row.error),
        }),
      );
    },
    async remove(ids: readonly number[]): Promise<void> {
      if (ids.length === 0) return;
      await ready();
      await query(`DELETE FROM ${table} WHERE name = $1 AND id IN (SELECT jsonb_array_elements_text($2::jsonb)::bigint)`, [name, JSON.stringify(ids)]);
    },
    async size(): Promise<number> {
      await ready();
      const rows = rowsOf(await query(`SELECT count(*)::int AS n FROM ${table} WHERE name = $1`, [name]));
      return Number(rows[0]?.n ?? 0);
    },
  });
}
