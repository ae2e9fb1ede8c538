import type { CheckpointStore } from '../data/checkpoint-store.js';
import type { SqlQueryable, SqlTableName } from './sql-client.js';
import { rowsOf } from './sql-client.js';
import { resolveSqlStore } from './sql-options.js';

/** Options of sqlCheckpointStore. */
export interface SqlCheckpointStoreOptions {
  /** A client with `query(sql, params)` or that function. Required. */
  readonly query: SqlQueryable;
  /** The checkpoint table, one row per job. @default 'migration_glue_checkpoints' */
  readonly table?: SqlTableName;
  /** The job's name, e.g. `users-backfill`. Required. */
  readonly name: string;
  /** Create the table (IF NOT EXISTS) on first use. @default true */
  readonly createTable?: boolean;
}

/**
 * A CheckpointStore in a SQL table (`name text primary key, state jsonb,
 * updated_at timestamptz`). A save is one upsert: durable once it resolves.
 * @throws InvalidOptionError naming the bad option.
 */
export function sqlCheckpointStore(options: SqlCheckpointStoreOptions): CheckpointStore {
  const { query, table, name, ready } = resolveSqlStore(
    options,
    'sqlCheckpointStore',
    'migration_glue_checkpoints',
    '(name text PRIMARY KEY, state jsonb NOT NULL, updated_at timestamptz NOT NULL DEFAULT now())',
  );

  return Object.freeze({
    async load(): Promise<unknown> {
      await ready();
      const rows = rowsOf(await query(`SELECT state FROM ${table} WHERE name = $1`, [name]));
      return rows[0]?.state;
    },
    async save(state: unknown): Promise<void> {
      await ready();
      await query(
        `INSERT INTO ${table} (name, state) VALUES ($1, $2::jsonb) ON CONFLICT (name) DO UPDATE SET state = EXCLUDED.state, updated_at = now()`,
        [name, JSON.stringify(state)],
      );
    },
    async clear(): Promise<void> {
      await ready();
      await query(`DELETE FROM ${table} WHERE name = $1`, [name]);
    },
  });
}
