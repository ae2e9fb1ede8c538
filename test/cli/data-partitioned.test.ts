import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CliIo } from '../../src/cli/cli-args.js';
import type { DataCommandDeps } from '../../src/cli/data-commands.js';
import { backfillCommand } from '../../src/cli/data-commands.js';
import { freshName } from '../sql/sql-suite.js';

const shape = '(id bigint PRIMARY KEY, account text, amount numeric(38,10), updated_at timestamptz, payload jsonb)';
const seed = (table: string, rows: number) =>
  `INSERT INTO ${table} SELECT i, 'acct-' || i, i * 1.0000000001, '2024-01-01 00:00:00.000001+00'::timestamptz + i * interval '1 ms', ('{"n": ' || i || '.10}')::jsonb FROM generate_series(1, ${rows}) AS i`;
const checksum = (table: string) => `SELECT count(*)::int8::text AS n, md5(string_agg(t::text, '|' ORDER BY id)) AS h FROM ${table} t`;

function capture(): CliIo & { readonly stdout: string[]; readonly stderr: string[] } {
  const stdout: string[] = [];
  const stderr: string[] = [];
  return { stdout, stderr, out: (text) => stdout.push(text), err: (text) => stderr.push(text), cwd: mkdtempSync(path.join(tmpdir(), 'data-cli-')) };
}

describe('migration-glue backfill --partitions, on two PGlite databases', () => {
  const databases = new Map<string, PGlite>();
  const open = (url: string): PGlite => databases.get(url) ?? fail(`cannot connect to ${url}`);
  const deps: DataCommandDeps = {
    connect: async (url) => ({ query: open(url), close: async () => {} }),
    // PGlite has one session: enough for one worker's advisory locks.
    session: async (url) => ({ query: open(url), close: async () => {} }),
  };
  beforeAll(async () => {
    for (const url of ['postgres://old/app', 'postgres://new/app']) {
      const db = new PGlite();
      await db.exec(`CREATE TABLE accounts ${shape}`);
      databases.set(url, db);
    }
    await open('postgres://old/app').exec(seed('accounts', 1_200));
  }, 60_000);
  afterAll(async () => {
    for (const db of databases.values()) await db.close();
  });
  const both = ['--from', 'postgres://old/app', '--to', 'postgres://new/app', '--table', 'accounts'];

  it.each([
    [['--workers', '2'], /--workers needs --partitions/],
    [['--job', 'x'], /--job needs --partitions/],
    [['--partitions', '0'], /--partitions must be a whole number of at least 1, got "0"/],
    [['--partitions', '3', '--checkpoint', 'c.json'], /--checkpoint is for a single-range run/],
    [['--partitions', '3', '--lease', 'ftp://x'], /--lease must be a redis:\/\/ or postgres:\/\/ URL/],
    [['--partitions', '3', '--workres', '2'], /Unknown option '--workres'/],
  ])('exits 2 with the usage on %j', async (args, message) => {
    const io = capture();
    expect(await backfillCommand([...both, ...args], io, deps)).toBe(2);
    expect(io.stderr.join('\n')).toMatch(message);
    expect(io.stderr.join('\n')).toMatch(/--partitions N +split the key space/);
  });

  it('stops on Ctrl-C (exit 1); the same command resumes every range and the tables end equal', async () => {
    const controller = new AbortController();
    let inserts = 0;
    const interrupted: DataCommandDeps = {
      ...deps,
      signal: controller.signal,
      connect: async (url) => ({
        query: async (sql: string, params: unknown[]) => {
          if (url === 'postgres://new/app' && sql.includes('INSERT INTO "accounts"') && ++inserts === 3) controller.abort(new Error('Ctrl-C'));
          return open(url).query(sql, params);
        },
        close: async () => {},
      }),
    };
    const args = [...both, '--partitions', '4', '--batch', '100', '--job', 'accounts-copy'];
    const first = capture();
    expect(await backfillCommand(args, first, interrupted)).toBe(1);
    expect(first.stderr.join('\n')).toMatch(/stopped; run it again with the same --job to resume/);
    const copied = Number((await open('postgres://new/app').query<{ n: string }>('SELECT count(*)::text AS n FROM accounts')).rows[0]?.n);
    expect(copied).toBeGreaterThanOrEqual(200);
    expect(copied).toBeLessThan(1_200);

    const again = capture();
    expect(await backfillCommand([...args, '--json'], again, deps)).toBe(0);
    const summary = JSON.parse(again.stdout[0] as string) as Record<string, unknown>;
    expect(summary).toMatchObject({ ranges: 4, workers: 1, job: 'accounts-copy' });
    expect((summary.copied as number) + (summary.skipped as number)).toBe(1_200);
    expect(again.stderr.join('\n')).toMatch(/backfill: 1,200 \/ 1,200 rows \(100\.0 %\), [\d,]+ rows\/s.*1 worker/);
    expect((await open('postgres://new/app').query(checksum('accounts'))).rows).toEqual((await open('postgres://old/app').query(checksum('accounts'))).rows);
    // The checkpoints are in the target database, one per range and the plan.
    const names = (await open('postgres://new/app').query<{ name: string }>('SELECT name FROM migration_glue_checkpoints ORDER BY name')).rows.map((r) => r.name);
    expect(names).toEqual(['accounts-copy:plan', 'accounts-copy:range-0', 'accounts-copy:range-1', 'accounts-copy:range-2', 'accounts-copy:range-3']);

    // A third run finds every range done: nothing written.
    const third = capture();
    expect(await backfillCommand([...args], third, deps)).toBe(0);
    expect(third.stdout[0]).toMatch(/^backfill done: [\d,]+ copied, [\d,]+ skipped, [\d,]+ batches in [\d.]+ s \(4 ranges, 1 worker here\)$/);
  }, 60_000);
});

function fail(message: string): never {
  throw new Error(message);
}

const url = process.env.PG_URL;
const redisUrl = process.env.REDIS_URL;
describe.runIf(url !== undefined && url !== '')('migration-glue backfill --partitions on PostgreSQL (PG_URL)', () => {
  let pool: pg.Pool;
  beforeAll(() => {
    pool = new pg.Pool({ connectionString: url, max: 2 });
  });
  afterAll(async () => pool.end());

  const copy = async (extra: readonly string[]) => {
    const [a, b] = [freshName('cli_part_src'), freshName('cli_part_dst')];
    await pool.query(`CREATE TABLE ${a} ${shape}; CREATE TABLE ${b} ${shape}`);
    await pool.query(seed(a, 4_000));
    try {
      const io = capture();
      const code = await backfillCommand(['--from', url as string, '--to', url as string, '--table', a, '--to-table', b, '--batch', '250', ...extra], io);
      expect(io.stderr.filter((line) => /^migration-glue/.test(line))).toEqual([]);
      expect(code).toBe(0);
      expect((await pool.query(checksum(b))).rows).toEqual((await pool.query(checksum(a))).rows);
      return io.stdout.join('\n');
    } finally {
      await pool.query(`DROP TABLE IF EXISTS ${a}; DROP TABLE IF EXISTS ${b}`);
    }
  };

  it('three workers in one process, leases as advisory locks on the target, copy the table exactly', async () => {
    expect(await copy(['--partitions', '6', '--workers', '3', '--job', freshName('job')])).toMatch(/^backfill done: 4,000 copied, 0 skipped, [\d,]+ batches in [\d.]+ s \(6 ranges, 3 workers here\)$/);
  }, 60_000);

  it.runIf(redisUrl !== undefined && redisUrl !== '')('two workers with their leases in Redis (--lease redis://)', async () => {
    expect(await copy(['--partitions', '4', '--workers', '2', '--lease', redisUrl as string, '--job', freshName('job')])).toMatch(/4,000 copied, 0 skipped/);
  }, 60_000);
});
