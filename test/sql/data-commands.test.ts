import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DataCommandDeps } from '../../src/cli/data-commands.js';
import { backfillCommand, verifyCommand } from '../../src/cli/data-commands.js';
import type { CliIo } from '../../src/cli/run-cli.js';
import type { SqlClient } from '../../src/sql/sql-client.js';
import { freshName } from './sql-suite.js';

const shape = '(id bigint PRIMARY KEY, account text, amount numeric(38,10), updated_at timestamptz, payload jsonb)';
const seed = (table: string, rows: number) =>
  `INSERT INTO ${table} SELECT i, 'acct-' || i, i * 1.0000000001, '2024-01-01 00:00:00.000001+00'::timestamptz + i * interval '1 ms', ('{"n": ' || i || '.10}')::jsonb FROM generate_series(1, ${rows}) AS i`;

function capture(): CliIo & { readonly stdout: string[]; readonly stderr: string[] } {
  const stdout: string[] = [];
  const stderr: string[] = [];
  return { stdout, stderr, out: (text) => stdout.push(text), err: (text) => stderr.push(text), cwd: mkdtempSync(path.join(tmpdir(), 'data-cli-')) };
}

describe('migration-glue backfill and verify, on two PGlite databases', () => {
  const databases = new Map<string, PGlite>();
  const deps: DataCommandDeps = {
    connect: async (url) => {
      const db = databases.get(url);
      if (db === undefined) throw new Error(`cannot connect to ${url}`);
      return { query: db, close: async () => {} };
    },
  };
  beforeAll(async () => {
    for (const url of ['postgres://old/app', 'postgres://new/app']) {
      const db = new PGlite();
      await db.exec(`CREATE TABLE accounts ${shape}`);
      databases.set(url, db);
    }
    await databases.get('postgres://old/app')?.exec(seed('accounts', 2_500));
  }, 60_000);
  afterAll(async () => {
    for (const db of databases.values()) await db.close();
  });
  const both = ['--from', 'postgres://old/app', '--to', 'postgres://new/app', '--table', 'accounts'];

  it('stops on Ctrl-C (the signal), and a rerun with the same checkpoint resumes and finishes', async () => {
    const io = capture();
    const controller = new AbortController();
    let inserts = 0;
    // Ctrl-C arrives while the second batch is being written.
    const interrupted: DataCommandDeps = {
      signal: controller.signal,
      connect: async (target) => {
        const db = databases.get(target) as PGlite;
        return {
          query: async (sql: string, params: unknown[]) => {
            if (target === 'postgres://new/app' && sql.includes('INSERT INTO') && ++inserts === 2) controller.abort(new Error('Ctrl-C'));
            return db.query(sql, params);
          },
          close: async () => {},
        };
      },
    };
    expect(await backfillCommand([...both, '--batch', '500', '--checkpoint', 'copy.json'], io, interrupted)).toBe(1);
    const copiedBefore = Number((await databases.get('postgres://new/app')?.query<{ n: string }>('SELECT count(*)::text AS n FROM accounts'))?.rows[0]?.n);
    expect(copiedBefore).toBeGreaterThanOrEqual(500);
    expect(copiedBefore).toBeLessThan(2_500);
    expect(io.stderr.join('\n')).toMatch(/stopped; run it again with the same --checkpoint to resume/);
    const again = { ...io, stdout: [] as string[], stderr: [] as string[] };
    const rerun: CliIo = { out: (t) => again.stdout.push(t), err: (t) => again.stderr.push(t), cwd: io.cwd };
    expect(await backfillCommand([...both, '--batch', '500', '--checkpoint', 'copy.json'], rerun, deps)).toBe(0);
    // The interrupted batch landed but was not checkpointed: the resume finds its 500 rows in place.
    expect(again.stdout.join('\n')).toMatch(/backfill done: 2,000 copied, 500 skipped/);
    expect(again.stderr.join('\n')).toMatch(/backfill: 2,500 \/ 2,500 rows \(100\.0 %\), [\d,]+ rows\/s/);
  });

  it('verify finds the tables equal (exit 0), then a planted difference (exit 1, listed), repairs it', async () => {
    const io = capture();
    expect(await verifyCommand(both, io, deps)).toBe(0);
    expect(io.stdout[0]).toBe('verify: 2,500 rows checked, 0 missing, 0 extra, 0 different, 0 repaired');
    await databases.get('postgres://new/app')?.exec(`UPDATE accounts SET updated_at = updated_at + interval '1 microsecond' WHERE id = 1234; DELETE FROM accounts WHERE id = 7`);
    const found = capture();
    expect(await verifyCommand([...both, '--json'], found, deps)).toBe(1);
    expect(JSON.parse(found.stdout[0] as string)).toMatchObject({ checked: 2_500, missing: { count: 1, keys: ['7'] }, different: { count: 1, keys: ['1234'] } });
    expect(await verifyCommand([...both, '--repair'], capture(), deps)).toBe(0);
    expect(await verifyCommand(both, capture(), deps)).toBe(0);
  });

  it('--max-batch caps the sized batches; without it they grow far past it', async () => {
    const capped = capture();
    expect(await backfillCommand([...both, '--batch', '50', '--max-batch', '60', '--json'], capped, deps)).toBe(0);
    // 2,500 rows in batches of at most 60: at least 42 batches.
    expect(JSON.parse(capped.stdout[0] as string).batches).toBeGreaterThanOrEqual(42);
    const grown = capture();
    expect(await backfillCommand([...both, '--batch', '50', '--json'], grown, deps)).toBe(0);
    expect(JSON.parse(grown.stdout[0] as string).batches).toBeLessThan(30);
    expect(await backfillCommand([...both, '--max-batch', '0'], capture(), deps)).toBe(2);
  });

  it('backfill finds every row in place on a second run, and prints JSON with --json', async () => {
    const io = capture();
    expect(await backfillCommand([...both, '--json'], io, deps)).toBe(0);
    expect(JSON.parse(io.stdout[0] as string)).toMatchObject({ copied: 0, skipped: 2_500 });
  });

  it('runs the statements prepared on a node-postgres client, and unprepared with --no-prepare', async () => {
    // A client shaped like a node-postgres Pool (it counts its connections) over the PGlite databases, recording statement names.
    const named = new Set<string>();
    const poolLike: DataCommandDeps = {
      connect: async (url) => {
        const db = databases.get(url) as PGlite;
        const query = async (config: string | { name?: string; text: string; values?: unknown[] }, params?: unknown[]) => {
          if (typeof config === 'string') return db.query(config, params);
          if (config.name !== undefined) named.add(config.name);
          return db.query(config.text, config.values);
        };
        return { query: { totalCount: 0, query } as unknown as SqlClient, close: async () => {} };
      },
    };
    expect(await verifyCommand(both, capture(), poolLike)).toBe(0);
    expect(await backfillCommand([...both, '--json'], capture(), poolLike)).toBe(0);
    expect(named.size).toBeGreaterThan(0);
    named.clear();
    expect(await verifyCommand([...both, '--no-prepare'], capture(), poolLike)).toBe(0);
    expect(await backfillCommand([...both, '--no-prepare'], capture(), poolLike)).toBe(0);
    expect(named.size).toBe(0);
  });

  it.each([
    [[], /--from is required/],
    [['--from', 'postgres://old/app', '--to', 'postgres://new/app'], /--table is required/],
    [[...both, '--batch', '0'], /--batch must be a whole number of at least 1, got "0"/],
    [[...both, '--bacth', '10'], /Unknown option '--bacth'/],
    [[...both, '--table', ''], /--table needs a value/],
  ])('exits 2 with the usage on %j', async (args, message) => {
    const io = capture();
    expect(await backfillCommand(args, io, deps)).toBe(2);
    expect(io.stderr.join('\n')).toMatch(message);
    expect(io.stderr.join('\n')).toMatch(/Usage: migration-glue backfill/);
  });

  it('exits 1 with one line when the table or the database is not there', async () => {
    const io = capture();
    expect(await verifyCommand([...both, '--table', 'nope'], io, deps)).toBe(1);
    expect(io.stderr).toHaveLength(1);
    expect(io.stderr[0]).toMatch(/^migration-glue verify: .*nope/);
    const down = capture();
    expect(await backfillCommand(['--from', 'postgres://gone/app', '--to', 'postgres://new/app', '--table', 'accounts'], down, deps)).toBe(1);
    expect(down.stderr).toEqual(['migration-glue backfill: cannot connect to postgres://gone/app']);
  });

  it('prints its help with --help and exits 0', async () => {
    const io = capture();
    expect(await verifyCommand(['--help'], io, deps)).toBe(0);
    expect(io.stdout[0]).toMatch(/^Usage: migration-glue verify/);
  });
});

const url = process.env.PG_URL;
describe.runIf(url !== undefined && url !== '')('migration-glue backfill and verify on PostgreSQL (PG_URL), through node-postgres', () => {
  it('copies a table to another table of the same database and verifies it', async () => {
    const pool = new pg.Pool({ connectionString: url, max: 2 });
    const [a, b] = [freshName('cli_src'), freshName('cli_dst')];
    try {
      await pool.query(`CREATE TABLE ${a} ${shape}; CREATE TABLE ${b} ${shape}`);
      await pool.query(seed(a, 3_000));
      const args = ['--from', url as string, '--to', url as string, '--table', a, '--to-table', b];
      const io = capture();
      expect(await backfillCommand([...args, '--batch', '700'], io)).toBe(0);
      expect(io.stdout.join('\n')).toMatch(/3,000 copied/);
      const check = capture();
      expect(await verifyCommand(args, check)).toBe(0);
      const sums = await pool.query(`SELECT (SELECT md5(string_agg(t::text, '' ORDER BY id)) FROM ${a} t) = (SELECT md5(string_agg(t::text, '' ORDER BY id)) FROM ${b} t) AS same`);
      expect(sums.rows[0]).toEqual({ same: true });
    } finally {
      await pool.query(`DROP TABLE IF EXISTS ${a}; DROP TABLE IF EXISTS ${b}`);
      await pool.end();
    }
  });
});
