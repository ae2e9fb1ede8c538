import { z } from 'zod';
import type { PartitionLease, PartitionLeases } from '../data/partition.js';
import { describeValue, InvalidOptionError } from '../errors.js';
import { option, parseOptions } from '../option-schema.js';
import type { SqlClient } from './sql-client.js';
import { rowsOf } from './sql-client.js';

/** Options of sqlAdvisoryLeases. */
export interface SqlAdvisoryLeasesOptions {
  /**
   * One session, held by this worker alone: a `pg.Client`, or a client taken
   * from a pool with `pool.connect()` (and released after the run). Never a
   * pool: advisory locks belong to the connection that took them. Required.
   */
  readonly client: SqlClient;
  /** Prepended to each lease's name before it is hashed to a lock key, e.g. `users-backfill:`. Required. */
  readonly prefix: string;
}

const schema = z.strictObject({
  client: option.withMethods<SqlClient>('query'),
  prefix: option.string(),
});

const lockKey = 'hashtextextended($1, 0)';

/**
 * PartitionLeases as PostgreSQL session advisory locks
 * (`pg_try_advisory_lock` on a 64-bit hash of prefix and name): a lease is
 * held while the session lives, and a worker that dies loses its leases
 * with its connection, at once. `renew` checks in `pg_locks` that this
 * session still holds the lock. Each worker needs its own `client`: the
 * locks of one session are shared by everything that runs on it (this
 * object refuses a lease it already holds, but two objects on one session
 * would both get it).
 * @throws InvalidOptionError naming the bad option, or `client` when it is a pool.
 */
export function sqlAdvisoryLeases(options: SqlAdvisoryLeasesOptions): PartitionLeases {
  const { client, prefix } = parseOptions(schema, options, 'sqlAdvisoryLeases');
  if ('totalCount' in client && 'idleCount' in client) {
    throw new InvalidOptionError('client', `must be one session (a pg.Client, or pool.connect()'s client), not a pool: advisory locks belong to a connection, got ${describeValue(client)}`);
  }
  const held = new Set<string>();
  const ask = async (sql: string, name: string): Promise<unknown> => rowsOf(await client.query(sql, [`${prefix}${name}`]))[0]?.ok;
  return Object.freeze({
    async acquire(name: string): Promise<PartitionLease | undefined> {
      if (held.has(name)) return undefined;
      if ((await ask(`SELECT pg_try_advisory_lock(${lockKey}) AS ok`, name)) !== true) return undefined;
      held.add(name);
      let released = false;
      return {
        async renew(): Promise<boolean> {
          if (released) return false;
          // A bigint lock shows in pg_locks as its high half (classid) and low half (objid), objsubid 1.
          const ok = await ask(
            `SELECT EXISTS (SELECT 1 FROM pg_catalog.pg_locks WHERE locktype = 'advisory' AND pid = pg_backend_pid() AND granted AND objsubid = 1
               AND ((classid::int8 << 32) | objid::int8) = ${lockKey}) AS ok`,
            name,
          );
          return ok === true;
        },
        async release(): Promise<void> {
          if (released) return;
          released = true;
          held.delete(name);
          await ask(`SELECT pg_advisory_unlock(${lockKey}) AS ok`, name);
        },
      };
    },
  });
}
