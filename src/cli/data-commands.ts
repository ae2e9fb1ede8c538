import { backfill } from '../data/backfill.js';
import type { BackfillProgress } from '../data/backfill-options.js';
import { verify } from '../data/verify.js';
import type { VerifyReport } from '../data/verify-options.js';
import { silentLogger } from '../observe/logger.js';
import type { CliIo } from './cli-args.js';
import { UsageError } from './cli-args.js';
import type { DataCommandDeps } from './data-args.js';
import { countRows, runDataCommand } from './data-args.js';
import { partitionedBackfill } from './data-partitioned.js';
import { fmt, round } from './data-progress.js';

export type { DataCommandDeps, DataConnection } from './data-args.js';

const backfillUsage = `Usage: migration-glue backfill --from postgres://... --to postgres://... --table NAME [options]

Copies every row of the table into the target's table of the same name (insert-if-absent), in key order.
  --to-table NAME              the target table, when its name differs
  --key COL                    the key column (default: the table's single-column primary key)
  --batch N                    rows in the first batch (default 1000; then sized to about --target-batch-ms)
  --target-batch-ms N          the write time a batch aims at (default 500)
  --max-batch N                the largest batch the sizing may choose (default 20000, or --batch when larger)
  --max-rows-per-second N      a cap on the copy's rate (per worker with --partitions)
  --checkpoint FILE            save progress here after each batch; a rerun resumes from it
  --json                       print the result as JSON
  --no-prepare                 send every statement unprepared (behind a transaction-mode pooler such as PgBouncer before 1.21)
Partitioned runs (each range resumable on its own checkpoint, in the target database):
  --partitions N               split the key space into N ranges of about the same size
  --workers N                  workers in this process, each on its own connections (default 1)
  --lease URL                  where workers claim ranges: redis://... or postgres://... (default: advisory locks on --to)
  --job NAME                   names the run's checkpoints and leases (default: from the table names);
                               the same command started elsewhere with the same --job and --lease adds workers
Tables may be schema-qualified (schema.table). Ctrl-C stops after the batch in flight; rerun the same command to resume.
Exit codes: 0 done, 1 failed or stopped, 2 usage mistake.`;

const verifyUsage = `Usage: migration-glue verify --from postgres://... --to postgres://... --table NAME [options]

Compares the table in both databases by chunk checksums computed by the servers, and lists the rows that differ.
  --to-table NAME              the target table, when its name differs
  --key COL                    the key column (default: the table's single-column primary key)
  --chunk N                    rows per checksum chunk (default 10000)
  --repair                     write the source's row where the target's is missing or different
  --delete-extra               with --repair, delete rows only the target holds
  --checkpoint FILE            save progress here; a rerun resumes from it
  --json                       print the report as JSON
  --no-prepare                 send every statement unprepared (behind a transaction-mode pooler such as PgBouncer before 1.21)
Exit codes: 0 the tables agree (or every difference was repaired), 1 they differ or the run failed, 2 usage mistake.`;

const backfillOptions = {
  'target-batch-ms': { type: 'string' },
  'max-batch': { type: 'string' },
  'max-rows-per-second': { type: 'string' },
  partitions: { type: 'string' },
  workers: { type: 'string' },
  lease: { type: 'string' },
  job: { type: 'string' },
} as const;

/**
 * `migration-glue backfill`: copies a PostgreSQL table into another database
 * (or another table) with `backfill` over two `sqlRepository`s, or with
 * `--partitions N` with backfillPartitioned (see data-partitioned.ts),
 * showing progress (rows done, rate, ETA: a bar on a terminal, a line at
 * most once a second otherwise) on stderr and the result on stdout.
 * Resolves with the exit code: 0 done, 1 failed or stopped by Ctrl-C
 * (resumable), 2 a usage mistake.
 */
export async function backfillCommand(args: readonly string[], io: CliIo, deps: DataCommandDeps = {}): Promise<number> {
  const connections = (number: (option: string) => number | undefined): number => (number('workers') ?? 1) + 1;
  return runDataCommand(
    'backfill',
    backfillUsage,
    args,
    io,
    deps,
    backfillOptions,
    async (run) => {
      const batchSize = run.number('batch') ?? 1000;
      const maxBatchSize = run.number('max-batch') ?? Math.max(20_000, batchSize);
      const maxRowsPerSecond = run.number('max-rows-per-second');
      const pacing = {
        batchSize,
        targetBatchMs: run.number('target-batch-ms') ?? 500,
        maxBatchSize,
        minBatchSize: Math.min(10, batchSize, maxBatchSize),
        ...(maxRowsPerSecond === undefined ? {} : { maxRowsPerSecond }),
      };
      const partitions = run.number('partitions');
      for (const option of ['workers', 'lease', 'job']) {
        if (partitions === undefined && run.text(option) !== undefined) throw new UsageError(`--${option} needs --partitions`);
      }
      const totalRows = await countRows(run.source.query, run.fromTable);
      let result: { readonly copied: number; readonly skipped: number; readonly batches: number };
      let summary: Record<string, unknown>;
      let tail = '';
      if (partitions !== undefined) {
        const workers = run.number('workers') ?? 1;
        const partitioned = await partitionedBackfill(run, { partitions, workers, totalRows, pacing });
        result = partitioned;
        summary = { copied: result.copied, skipped: result.skipped, batches: result.batches, ranges: partitioned.ranges.length, workers, job: partitioned.job };
        tail = ` (${partitioned.ranges.length} ranges, ${workers} worker${workers === 1 ? '' : 's'} here)`;
      } else {
        const progress = run.progress(totalRows);
        result = await backfill({
          from: run.old,
          to: run.fresh,
          keyOf: run.keyOf,
          ...pacing,
          ...(totalRows > 0 ? { totalRows } : {}),
          ...run.checkpointOption(),
          signal: run.signal,
          logger: silentLogger,
          onProgress: (p: BackfillProgress<unknown>) => progress(p.copied + p.skipped, p.rowsPerSecond, p.etaMs),
        });
        summary = { ...result };
      }
      const elapsed = (run.clock.now() - run.started) / 1000;
      if (run.json) io.out(JSON.stringify({ ...summary, seconds: round(elapsed) }));
      else io.out(`backfill done: ${fmt(result.copied)} copied, ${fmt(result.skipped)} skipped, ${fmt(result.batches)} batches in ${round(elapsed)} s${tail}`);
      return 0;
    },
    connections,
  );
}

/**
 * `migration-glue verify`: compares a PostgreSQL table across two databases
 * (or two tables) with `verify` by chunk checksums, printing progress on
 * stderr and the report on stdout. Resolves with 0 when the tables agree
 * (or `--repair` fixed every difference), 1 when they differ or the run
 * failed, 2 on a usage mistake.
 */
export async function verifyCommand(args: readonly string[], io: CliIo, deps: DataCommandDeps = {}): Promise<number> {
  const extra = { chunk: { type: 'string' }, repair: { type: 'boolean' }, 'delete-extra': { type: 'boolean' } } as const;
  return runDataCommand('verify', verifyUsage, args, io, deps, extra, async (run) => {
    const repair = run.flag('repair');
    const deleteExtra = run.flag('delete-extra');
    if (deleteExtra && !repair) throw new UsageError('--delete-extra needs --repair');
    const progress = run.progress(await countRows(run.source.query, run.fromTable));
    const chunkRows = run.number('chunk');
    const report: VerifyReport<unknown> = await verify({
      old: run.old,
      new: run.fresh,
      keyOf: run.keyOf,
      repair,
      deleteExtra,
      ...(chunkRows === undefined ? {} : { chunkRows }),
      ...(run.number('batch') === undefined ? {} : { batchSize: run.number('batch') as number }),
      ...run.checkpointOption(),
      signal: run.signal,
      logger: silentLogger,
      onProgress: (r) => progress(r.checked, undefined, undefined),
    });
    const differing = report.missing.count + report.extra.count + report.different.count;
    if (run.json) io.out(JSON.stringify(report));
    else {
      io.out(`verify: ${fmt(report.checked)} rows checked, ${fmt(report.missing.count)} missing, ${fmt(report.extra.count)} extra, ${fmt(report.different.count)} different, ${fmt(report.repaired)} repaired`);
      for (const [what, list] of [['missing', report.missing], ['extra', report.extra], ['different', report.different]] as const) {
        if (list.count > 0) io.out(`  ${what}: ${list.keys.map((key) => JSON.stringify(key)).join(', ')}${list.count > list.keys.length ? ', ...' : ''}`);
      }
    }
    // Extra rows left in place (no --delete-extra) still count as differences.
    return differing - report.repaired > 0 ? 1 : 0;
  });
}
