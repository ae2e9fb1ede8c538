import path from 'node:path';
import { parseArgs } from 'node:util';
import { backfill } from '../data/backfill.js';
import type { BackfillProgress } from '../data/backfill-options.js';
import { FileCheckpointStore } from '../data/file-checkpoint-store.js';
import { verify } from '../data/verify.js';
import type { VerifyReport } from '../data/verify-options.js';
import { MigrationGlueError } from '../errors.js';
import type { Clock } from '../observe/clock.js';
import { systemClock } from '../observe/clock.js';
import { silentLogger } from '../observe/logger.js';
import type { SqlQueryable, SqlRow, SqlTableName } from '../sql/sql-client.js';
import { quoteTable, rowsOf, toSqlQuery } from '../sql/sql-client.js';
import { sqlRepository } from '../sql/sql-repository.js';
import type { CliIo } from './run-cli.js';

/** A database connection the data commands use, and how to release it. */
export interface DataConnection {
  readonly query: SqlQueryable;
  close(): Promise<void>;
}

/** What the data commands need from their surroundings; tests replace it. */
export interface DataCommandDeps {
  /** Opens a connection to a `postgres://` URL. @default a node-postgres Pool (the `pg` package must be installed) */
  readonly connect?: (url: string) => Promise<DataConnection>;
  /** Stops the run after the call in flight; resumable from `--checkpoint`. @default Ctrl-C (SIGINT) */
  readonly signal?: AbortSignal;
  /** Paces the progress lines. @default systemClock */
  readonly clock?: Clock;
}

const common = {
  from: { type: 'string' },
  to: { type: 'string' },
  table: { type: 'string' },
  'to-table': { type: 'string' },
  key: { type: 'string' },
  batch: { type: 'string' },
  checkpoint: { type: 'string' },
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const;

const backfillUsage = `Usage: migration-glue backfill --from postgres://... --to postgres://... --table NAME [options]

Copies every row of the table into the target's table of the same name (insert-if-absent), in key order.
  --to-table NAME              the target table, when its name differs
  --key COL                    the key column (default: the table's single-column primary key)
  --batch N                    rows in the first batch (default 1000; then sized to about --target-batch-ms)
  --target-batch-ms N          the write time a batch aims at (default 500)
  --max-rows-per-second N      a cap on the copy's rate
  --checkpoint FILE            save progress here after each batch; a rerun resumes from it
  --json                       print the result as JSON
Tables may be schema-qualified (schema.table). Ctrl-C stops; rerun with the same --checkpoint to resume.
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
Exit codes: 0 the tables agree (or every difference was repaired), 1 they differ or the run failed, 2 usage mistake.`;

class UsageError extends Error {}

/**
 * `migration-glue backfill`: copies a PostgreSQL table into another database
 * (or another table) with `backfill` over two `sqlRepository`s, printing a
 * progress line (rows done, rate, ETA) at most once a second on stderr and
 * the result on stdout. Resolves with the exit code: 0 done, 1 failed or
 * stopped by Ctrl-C (resumable with `--checkpoint`), 2 a usage mistake.
 */
export async function backfillCommand(args: readonly string[], io: CliIo, deps: DataCommandDeps = {}): Promise<number> {
  return runDataCommand('backfill', backfillUsage, args, io, deps, { 'target-batch-ms': { type: 'string' }, 'max-rows-per-second': { type: 'string' } }, async (run) => {
    const batchSize = run.number('batch') ?? 1000;
    const targetBatchMs = run.number('target-batch-ms') ?? 500;
    const maxRowsPerSecond = run.number('max-rows-per-second');
    const totalRows = Number(rowsOf(await run.source.query(`SELECT count(*)::int8::text AS n FROM ${quoteTable(run.fromTable)}`, []))[0]?.n ?? 0);
    const progress = run.progress(totalRows);
    const result = await backfill({
      from: run.old,
      to: run.fresh,
      keyOf: run.keyOf,
      batchSize,
      targetBatchMs,
      maxBatchSize: Math.max(20_000, batchSize),
      minBatchSize: Math.min(10, batchSize),
      ...(maxRowsPerSecond === undefined ? {} : { maxRowsPerSecond }),
      ...(totalRows > 0 ? { totalRows } : {}),
      ...run.checkpointOption(),
      signal: run.signal,
      logger: silentLogger,
      onProgress: (p: BackfillProgress<unknown>) => progress(p.copied + p.skipped, p.rowsPerSecond, p.etaMs),
    });
    const elapsed = (run.clock.now() - run.started) / 1000;
    if (run.json) io.out(JSON.stringify({ ...result, seconds: round(elapsed) }));
    else io.out(`backfill done: ${fmt(result.copied)} copied, ${fmt(result.skipped)} skipped, ${fmt(result.batches)} batches in ${round(elapsed)} s`);
    return 0;
  });
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
    const totalRows = Number(rowsOf(await run.source.query(`SELECT count(*)::int8::text AS n FROM ${quoteTable(run.fromTable)}`, []))[0]?.n ?? 0);
    const progress = run.progress(totalRows);
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

/** What a data command's body works with, once its arguments are parsed and both databases are open. */
interface DataRun {
  readonly source: { query: (sql: string, params: unknown[]) => Promise<{ rows: readonly unknown[] }> };
  readonly fromTable: SqlTableName;
  readonly old: ReturnType<typeof sqlRepository<SqlRow, unknown>>;
  readonly fresh: ReturnType<typeof sqlRepository<SqlRow, unknown>>;
  readonly keyOf: (row: SqlRow) => unknown;
  readonly json: boolean;
  readonly signal: AbortSignal;
  readonly clock: Clock;
  readonly started: number;
  number(name: string): number | undefined;
  flag(name: string): boolean;
  checkpointOption(): { checkpoint?: FileCheckpointStore };
  progress(total: number): (done: number, rate: number | undefined, etaMs: number | undefined) => void;
}

type Options = Parameters<typeof parseArgs>[0] extends infer C ? (C extends { options?: infer O } ? NonNullable<O> : never) : never;

async function runDataCommand(
  name: string,
  usage: string,
  args: readonly string[],
  io: CliIo,
  deps: DataCommandDeps,
  extra: Options,
  body: (run: DataRun) => Promise<number>,
): Promise<number> {
  const connections: DataConnection[] = [];
  const controller = new AbortController();
  const onSigint = (): void => controller.abort(new Error('interrupted (Ctrl-C)'));
  const signal = deps.signal ?? controller.signal;
  if (deps.signal === undefined) process.once('SIGINT', onSigint);
  try {
    let parsed;
    try {
      parsed = parseArgs({ args: [...args], options: { ...common, ...extra }, allowPositionals: false, strict: true });
    } catch (err) {
      throw new UsageError(messageOf(err));
    }
    const values = parsed.values as Record<string, string | boolean | undefined>;
    if (values.help === true) {
      io.out(usage);
      return 0;
    }
    const text = (option: string): string | undefined => {
      const value = values[option];
      if (value === '') throw new UsageError(`--${option} needs a value`);
      return value as string | undefined;
    };
    const required = (option: string): string => text(option) ?? fail(`--${option} is required`);
    const number = (option: string): number | undefined => {
      const value = text(option);
      if (value === undefined) return undefined;
      const n = Number(value);
      if (!Number.isSafeInteger(n) || n < 1) throw new UsageError(`--${option} must be a whole number of at least 1, got ${JSON.stringify(value)}`);
      return n;
    };
    const [fromUrl, toUrl] = [required('from'), required('to')];
    const fromTable = tableName(required('table'));
    const toTable = tableName(text('to-table') ?? required('table'));
    for (const option of ['batch', 'chunk', 'target-batch-ms', 'max-rows-per-second']) if (option in values) number(option);
    const connect = deps.connect ?? connectPg;
    const source = await connect(fromUrl);
    connections.push(source);
    const target = await connect(toUrl);
    connections.push(target);
    const query = toSqlQuery(source.query);
    const key = text('key') ?? (await primaryKey(query, fromTable));
    const clock = deps.clock ?? systemClock;
    const checkpointFile = text('checkpoint');
    const run: DataRun = {
      source: { query },
      fromTable,
      old: sqlRepository<SqlRow, unknown>({ query: source.query, table: fromTable, key }),
      fresh: sqlRepository<SqlRow, unknown>({ query: target.query, table: toTable, key }),
      keyOf: (row) => row[key],
      json: values.json === true,
      signal,
      clock,
      started: clock.now(),
      number,
      flag: (option) => values[option] === true,
      checkpointOption: () => (checkpointFile === undefined ? {} : { checkpoint: new FileCheckpointStore({ path: path.resolve(io.cwd, checkpointFile) }) }),
      progress: (total) => progressLine(name, total, clock, io),
    };
    return await body(run);
  } catch (err) {
    if (err instanceof UsageError) {
      io.err(`migration-glue ${name}: ${err.message}\n\n${usage}`);
      return 2;
    }
    if (MigrationGlueError.is(err) && (err as MigrationGlueError).code === 'ERR_ABORTED') {
      io.err(`migration-glue ${name}: stopped; run it again with the same --checkpoint to resume`);
      return 1;
    }
    io.err(`migration-glue ${name}: ${messageOf(err)}`);
    return 1;
  } finally {
    process.removeListener('SIGINT', onSigint);
    for (const connection of connections) await connection.close().catch(() => {});
  }
}

function fail(message: string): never {
  throw new UsageError(message);
}

/** `schema.table` or `table`. */
function tableName(value: string): SqlTableName {
  const dot = value.indexOf('.');
  return dot > 0 && dot < value.length - 1 ? { schema: value.slice(0, dot), name: value.slice(dot + 1) } : value;
}

async function primaryKey(query: (sql: string, params: unknown[]) => Promise<{ rows: readonly unknown[] }>, table: SqlTableName): Promise<string> {
  const rows = rowsOf(
    await query(
      `SELECT a.attname AS name FROM pg_catalog.pg_index i JOIN pg_catalog.pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY(i.indkey)
       WHERE i.indrelid = $1::text::regclass AND i.indisprimary`,
      [quoteTable(table)],
    ),
  );
  if (rows.length !== 1) throw new UsageError(`${quoteTable(table)} has ${rows.length === 0 ? 'no primary key' : 'a composite primary key'}: give --key COL`);
  return String(rows[0]?.name);
}

async function connectPg(url: string): Promise<DataConnection> {
  if (!/^postgres(ql)?:\/\//.test(url)) throw new UsageError(`expected a postgres:// URL, got ${JSON.stringify(url)}`);
  let pg: { default?: { Pool: PoolClass }; Pool?: PoolClass };
  try {
    pg = (await import('pg' as string)) as typeof pg;
  } catch {
    throw new Error('the data commands need the pg package: npm install pg');
  }
  const Pool = (pg.default?.Pool ?? pg.Pool) as PoolClass;
  const pool = new Pool({ connectionString: url, max: 2 });
  return { query: pool, close: () => pool.end() };
}

type PoolClass = new (options: { connectionString: string; max: number }) => { query(sql: string, params?: unknown[]): Promise<{ rows: unknown[] }>; end(): Promise<void> };

/** Prints "<name>: done / total rows (p %), rate rows/s, ETA" on stderr, at most once a second, plain lines (no control characters). */
function progressLine(name: string, total: number, clock: Clock, io: CliIo): (done: number, rate: number | undefined, etaMs: number | undefined) => void {
  const started = clock.now();
  let printed = -Infinity;
  return (done, rate, etaMs) => {
    const now = clock.now();
    if (now - printed < 1_000 && done < total) return;
    printed = now;
    const seconds = (now - started) / 1000;
    const perSecond = rate ?? (seconds > 0 ? done / seconds : 0);
    const eta = etaMs ?? (perSecond > 0 && total > done ? ((total - done) / perSecond) * 1000 : undefined);
    const share = total > 0 ? ` (${((Math.min(done, total) / total) * 100).toFixed(1)} %)` : '';
    io.err(`${name}: ${fmt(done)}${total > 0 ? ` / ${fmt(total)}` : ''} rows${share}, ${fmt(Math.round(perSecond))} rows/s${eta === undefined ? '' : `, ETA ${duration(eta)}`}`);
  };
}

function fmt(n: number): string {
  return n.toLocaleString('en-US');
}

function round(n: number): number {
  return Math.round(n * 10) / 10;
}

function duration(ms: number): string {
  const s = Math.round(ms / 1000);
  return s >= 3600 ? `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m` : s >= 60 ? `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s` : `${s}s`;
}

function messageOf(err: unknown): string {
  try {
    const message = err instanceof Error ? String(err.message) : String(err);
    return message.replace(/\s*\n\s*/g, ' ').slice(0, 1_000);
  } catch {
    return 'an unreadable error';
  }
}
