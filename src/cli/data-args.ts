import path from 'node:path';
import { parseArgs } from 'node:util';
import { FileCheckpointStore } from '../data/file-checkpoint-store.js';
import { MigrationGlueError } from '../errors.js';
import type { Clock } from '../observe/clock.js';
import { systemClock } from '../observe/clock.js';
import type { SqlQuery, SqlQueryable, SqlRow, SqlTableName } from '../sql/sql-client.js';
import { quoteTable, rowsOf, toSqlQuery } from '../sql/sql-client.js';
import type { SqlRepository } from '../sql/sql-repository.js';
import { sqlRepository } from '../sql/sql-repository.js';
import type { CliIo } from './cli-args.js';
import { messageOf, UsageError } from './cli-args.js';
import type { ProgressReport } from './data-progress.js';
import { progressReporter } from './data-progress.js';

/** A database connection the data commands use, and how to release it. */
export interface DataConnection {
  readonly query: SqlQueryable;
  close(): Promise<void>;
}

/** What the data commands need from their surroundings; tests replace it. */
export interface DataCommandDeps {
  /**
   * Opens a connection to a `postgres://` URL, able to run `connections`
   * queries at once (one per worker, plus one).
   * @default a node-postgres Pool of that size (the `pg` package must be installed)
   */
  readonly connect?: (url: string, options?: { readonly connections: number }) => Promise<DataConnection>;
  /** Opens one session of its own (advisory locks are per session). @default a node-postgres Client */
  readonly session?: (url: string) => Promise<DataConnection>;
  /** Stops the run after the call in flight; resumable from `--checkpoint`. @default Ctrl-C (SIGINT) */
  readonly signal?: AbortSignal;
  /** Paces the progress lines. @default systemClock */
  readonly clock?: Clock;
}

/** What a data command's body works with, once its arguments are parsed and both databases are open. */
export interface DataRun {
  readonly source: { readonly query: SqlQuery };
  readonly fromTable: SqlTableName;
  readonly toTable: SqlTableName;
  readonly toUrl: string;
  readonly target: { readonly query: SqlQueryable };
  readonly key: string;
  readonly old: SqlRepository<SqlRow, unknown>;
  readonly fresh: SqlRepository<SqlRow, unknown>;
  readonly keyOf: (row: SqlRow) => unknown;
  readonly json: boolean;
  readonly signal: AbortSignal;
  readonly clock: Clock;
  readonly started: number;
  readonly deps: DataCommandDeps;
  text(name: string): string | undefined;
  number(name: string): number | undefined;
  flag(name: string): boolean;
  checkpointOption(): { checkpoint?: FileCheckpointStore };
  progress(total: number): ProgressReport;
  /** Opens a session of its own on `url`, closed when the command ends. */
  session(url: string): Promise<DataConnection>;
  /** Registers something to close when the command ends. */
  onClose(close: () => Promise<void>): void;
  /** The option a rerun must repeat to resume, named when the run is stopped. @default '--checkpoint' */
  resumeWith(option: string): void;
}

/** parseArgs' option declarations. */
export type ArgOptions = NonNullable<Parameters<typeof parseArgs>[0]>['options'] & {};

const common = {
  from: { type: 'string' },
  to: { type: 'string' },
  table: { type: 'string' },
  'to-table': { type: 'string' },
  key: { type: 'string' },
  batch: { type: 'string' },
  checkpoint: { type: 'string' },
  json: { type: 'boolean' },
  'no-prepare': { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const;

const wholeNumbers = ['batch', 'chunk', 'target-batch-ms', 'max-batch', 'max-rows-per-second', 'partitions', 'workers'];

/**
 * Runs a data command: parses `args` (a mistake: exit 2 with `usage`),
 * opens both databases (`connections` queries at once each), hands the
 * body a DataRun, and closes everything at the end. Ctrl-C (or
 * `deps.signal`) aborts the run: exit 1 with a line saying how to resume.
 */
export async function runDataCommand(
  name: string,
  usage: string,
  args: readonly string[],
  io: CliIo,
  deps: DataCommandDeps,
  extra: ArgOptions,
  body: (run: DataRun) => Promise<number>,
  connectionsOf: (number: (option: string) => number | undefined) => number = () => 2,
): Promise<number> {
  const closers: (() => Promise<void>)[] = [];
  const controller = new AbortController();
  const onSigint = (): void => controller.abort(new Error('interrupted (Ctrl-C)'));
  const signal = deps.signal ?? controller.signal;
  let resume = '--checkpoint';
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
    for (const option of wholeNumbers) if (option in values) number(option);
    const connections = connectionsOf(number);
    const connect = deps.connect ?? connectPg;
    const source = await connect(fromUrl, { connections });
    closers.push(() => source.close());
    const target = await connect(toUrl, { connections });
    closers.push(() => target.close());
    const query = toSqlQuery(source.query);
    const key = text('key') ?? (await primaryKey(query, fromTable));
    const clock = deps.clock ?? systemClock;
    const checkpointFile = text('checkpoint');
    // Prepared statements are on by default for node-postgres; a transaction-mode pooler may need them off.
    const prepare = values['no-prepare'] === true ? { prepare: false } : {};
    const run: DataRun = {
      source: { query },
      fromTable,
      toTable,
      toUrl,
      target: { query: target.query },
      key,
      old: sqlRepository<SqlRow, unknown>({ query: source.query, table: fromTable, key, ...prepare }),
      fresh: sqlRepository<SqlRow, unknown>({ query: target.query, table: toTable, key, ...prepare }),
      keyOf: (row) => row[key],
      json: values.json === true,
      signal,
      clock,
      started: clock.now(),
      deps,
      text,
      number,
      flag: (option) => values[option] === true,
      checkpointOption: () => (checkpointFile === undefined ? {} : { checkpoint: new FileCheckpointStore({ path: path.resolve(io.cwd, checkpointFile) }) }),
      progress: (total) => progressReporter(name, total, clock, io),
      async session(url) {
        const opened = await (deps.session ?? sessionPg)(url);
        closers.push(() => opened.close());
        return opened;
      },
      onClose: (close) => void closers.push(close),
      resumeWith: (option) => void (resume = option),
    };
    return await body(run);
  } catch (err) {
    if (err instanceof UsageError) {
      io.err(`migration-glue ${name}: ${err.message}\n\n${usage}`);
      return 2;
    }
    if (MigrationGlueError.is(err, 'ERR_ABORTED')) {
      io.err(`migration-glue ${name}: stopped; run it again with the same ${resume} to resume`);
      return 1;
    }
    io.err(`migration-glue ${name}: ${messageOf(err)}`);
    return 1;
  } finally {
    process.removeListener('SIGINT', onSigint);
    for (const close of closers.reverse()) await close().catch(() => {});
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

/** The table's single-column primary key. @throws UsageError when it has none or a composite one. */
export async function primaryKey(query: SqlQuery, table: SqlTableName): Promise<string> {
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

/** The number of rows of a table (count(*): exact, one scan). */
export async function countRows(query: SqlQuery, table: SqlTableName): Promise<number> {
  return Number(rowsOf(await query(`SELECT count(*)::int8::text AS n FROM ${quoteTable(table)}`, []))[0]?.n ?? 0);
}

type PgModule = { default?: PgExports } & Partial<PgExports>;
interface PgExports {
  Pool: new (options: { connectionString: string; max: number }) => { query(sql: string, params?: unknown[]): Promise<{ rows: unknown[] }>; end(): Promise<void> };
  Client: new (options: { connectionString: string }) => {
    query(sql: string, params?: unknown[]): Promise<{ rows: unknown[] }>;
    connect(): Promise<void>;
    end(): Promise<void>;
    on(event: 'error', listener: (err: Error) => void): void;
  };
}

async function loadPg(url: string): Promise<PgExports> {
  if (!/^postgres(ql)?:\/\//.test(url)) throw new UsageError(`expected a postgres:// URL, got ${JSON.stringify(url)}`);
  let pg: PgModule;
  try {
    pg = (await import('pg' as string)) as PgModule;
  } catch {
    throw new Error('the data commands need the pg package: npm install pg');
  }
  return (pg.default ?? pg) as PgExports;
}

async function connectPg(url: string, options?: { readonly connections: number }): Promise<DataConnection> {
  const { Pool } = await loadPg(url);
  const pool = new Pool({ connectionString: url, max: options?.connections ?? 2 });
  return { query: pool, close: () => pool.end() };
}

async function sessionPg(url: string): Promise<DataConnection> {
  const { Client } = await loadPg(url);
  const client = new Client({ connectionString: url });
  // A lost session fails its next query; the 'error' event itself must not end the process.
  client.on('error', () => {});
  await client.connect();
  return { query: client, close: () => client.end() };
}
