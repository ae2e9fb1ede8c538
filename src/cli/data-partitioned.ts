import { hostname } from 'node:os';
import type { BackfillOptions } from '../data/backfill-options.js';
import { backfillPartitioned } from '../data/partition-backfill.js';
import type { PartitionedBackfillResult, PartitionLeases, PartitionProgress } from '../data/partition.js';
import { silentLogger } from '../observe/logger.js';
import { sqlAdvisoryLeases } from '../sql/sql-advisory-leases.js';
import { sqlCheckpointStore } from '../sql/sql-checkpoint-store.js';
import type { SqlRow } from '../sql/sql-client.js';
import { quoteTable, toSqlQuery } from '../sql/sql-client.js';
import { UsageError } from './cli-args.js';
import type { DataRun } from './data-args.js';

/** How the partitioned copy is paced and split, from the command line. */
export interface PartitionedSettings {
  readonly partitions: number;
  readonly workers: number;
  readonly totalRows: number;
  /** backfill's pacing options (batch sizes, rate). */
  readonly pacing: Pick<BackfillOptions<SqlRow, unknown>, 'batchSize' | 'targetBatchMs' | 'maxBatchSize' | 'minBatchSize' | 'maxRowsPerSecond'>;
}

/**
 * `migration-glue backfill --partitions N`: `workers` workers in this
 * process run backfillPartitioned at once (each on the pools' connections,
 * each with its own lease session), with the ranges' checkpoints in the
 * target database (`migration_glue_checkpoints`, named `<job>:plan`,
 * `<job>:range-<i>`), and leases on `--lease` (a `redis://` URL, or by
 * default PostgreSQL advisory locks on the target database), so that the
 * same command started elsewhere with the same `--job` shares the work.
 * Resolves with the summed result; the first worker to fail stops the others.
 */
export async function partitionedBackfill(run: DataRun, settings: PartitionedSettings): Promise<PartitionedBackfillResult<unknown> & { readonly job: string }> {
  if (run.text('checkpoint') !== undefined) {
    throw new UsageError('--checkpoint is for a single-range run: with --partitions the checkpoints are in the target database, named by --job');
  }
  const job = run.text('job') ?? `backfill ${quoteTable(run.fromTable)} to ${quoteTable(run.toTable)}`;
  run.resumeWith(run.text('job') === undefined ? '--table/--to-table (or --job)' : '--job');
  const prefix = `migration-glue:${job}:`;
  const leasesFor = await leaseFactory(run, run.text('lease') ?? run.toUrl, prefix);
  const progress = run.progress(settings.totalRows);
  const done = new Map<number, number>();
  const rates = new Map<number, { readonly rate: number; readonly at: number }>();
  const onProgress = (p: PartitionProgress<unknown>): void => {
    const now = run.clock.now();
    done.set(p.range, p.copied + p.skipped);
    rates.set(p.range, { rate: p.rowsPerSecond, at: now });
    let rate = 0;
    // The ranges being worked now: those that reported within the last 5 s.
    for (const [range, r] of rates) if (now - r.at > 5_000) rates.delete(range);
    else rate += r.rate;
    let sum = 0;
    for (const n of done.values()) sum += n;
    progress(sum, rate, undefined, `${settings.workers} worker${settings.workers === 1 ? '' : 's'}`);
  };
  const stop = new AbortController();
  const onAbort = (): void => stop.abort(run.signal.reason);
  run.signal.addEventListener('abort', onAbort, { once: true });
  try {
    const workers = await Promise.allSettled(
      Array.from({ length: settings.workers }, async (_, i) => {
        try {
          return await backfillPartitioned({
            // sqlRepository splits its keys itself (splitKeys).
            from: run.old,
            to: run.fresh,
            keyOf: run.keyOf,
            ...settings.pacing,
            partitions: settings.partitions,
            leases: await leasesFor(i),
            checkpointFor: (name) => sqlCheckpointStore({ query: run.target.query, name: `${job}:${name}` }),
            workerId: `${hostname()}:${process.pid}:w${i}`,
            signal: stop.signal,
            logger: silentLogger,
            onProgress,
          });
        } catch (err) {
          stop.abort(err);
          throw err;
        }
      }),
    );
    const errors = workers.filter((w): w is PromiseRejectedResult => w.status === 'rejected').map((w): unknown => w.reason);
    // The failure that stopped the others, rather than the aborts it caused; an abort when Ctrl-C stopped them all.
    if (errors.length > 0) throw errors.find((err) => !isAborted(err)) ?? errors[0];
    const result = (workers[0] as PromiseFulfilledResult<PartitionedBackfillResult<unknown>>).value;
    progress(result.copied + result.skipped, undefined, 0);
    return { ...result, job };
  } finally {
    run.signal.removeEventListener('abort', onAbort);
  }
}

function isAborted(err: unknown): boolean {
  return typeof err === 'object' && err !== null && (err as { code?: unknown }).code === 'ERR_ABORTED';
}

/** The leases of worker i: advisory locks on a session of its own, or one Redis client for all. */
async function leaseFactory(run: DataRun, url: string, prefix: string): Promise<(worker: number) => Promise<PartitionLeases>> {
  if (/^rediss?:\/\//.test(url)) {
    const { redisPartitionLeases } = await import('../redis/redis-partition-leases.js');
    let ioredis: { Redis?: RedisClass; default?: RedisClass | { Redis?: RedisClass } };
    try {
      ioredis = (await import('ioredis' as string)) as typeof ioredis;
    } catch {
      throw new Error('--lease redis:// needs the ioredis package: npm install ioredis');
    }
    const Redis = (ioredis.Redis ?? (typeof ioredis.default === 'function' ? ioredis.default : ioredis.default?.Redis)) as RedisClass;
    const redis = new Redis(url, { maxRetriesPerRequest: 3 });
    run.onClose(async () => void redis.disconnect());
    const leases = redisPartitionLeases({ redis: redis as never, prefix });
    return async () => leases;
  }
  if (!/^postgres(ql)?:\/\//.test(url)) throw new UsageError(`--lease must be a redis:// or postgres:// URL, got ${JSON.stringify(url)}`);
  return async () => {
    const session = await run.session(url);
    const query = toSqlQuery(session.query);
    return sqlAdvisoryLeases({ client: { query: (sql, params) => query(sql, params ?? []) }, prefix });
  };
}

type RedisClass = new (url: string, options: { maxRetriesPerRequest: number }) => { disconnect(): void };
