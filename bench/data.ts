/**
 * Backfill and verify rows: the library against a hand-written
 * loop on the same PGlite instances in the same run; run.ts adds a row per
 * result and judges `ratio = reference / library` (throughput) against `>= 0.8`.
 */
import { PGlite } from '@electric-sql/pglite';
import { backfill, verify } from '../src/index.js';
import { sqlRepository } from '../src/sql/index.js';

/** One measured data scenario: both sides move or read the same `rows`. */
export interface DataResult {
  /** Row label, e.g. `backfill 100k rows PGlite to PGlite, batch 1,000`. */
  readonly scenario: string;
  readonly rows: number;
  /** Wall time of the library (`backfill` / `verify`), in ms. */
  readonly libraryMs: number;
  /** Wall time of the hand-written reference loop, in ms. */
  readonly referenceMs: number;
}

type Row = { id: number; email: string; plan: string; balance: number };

const rows = 100_000;
const batch = 1_000;
const quiet = { debug() {}, info() {}, warn() {}, error() {} };

async function database(tables: readonly string[]): Promise<PGlite> {
  const db = new PGlite();
  for (const table of tables) {
    await db.query(`CREATE TABLE ${table} (id integer PRIMARY KEY, email text NOT NULL, plan text NOT NULL, balance integer NOT NULL)`);
  }
  return db;
}

async function seed(db: PGlite, table: string): Promise<void> {
  await db.query(`INSERT INTO ${table} SELECT i, 'user' || i || '@example.com', CASE WHEN i % 3 = 0 THEN 'pro' ELSE 'free' END, i % 1000 FROM generate_series(1, ${rows}) AS i`);
}

/** The hand-written copy: read a batch by key, write it with one multi-row INSERT. */
async function referenceCopy(from: PGlite, to: PGlite, table: string): Promise<number> {
  let after = 0;
  let copied = 0;
  for (;;) {
    const { rows: page } = await from.query<Row>('SELECT id, email, plan, balance FROM source WHERE id > $1 ORDER BY id LIMIT $2', [after, batch]);
    if (page.length === 0) return copied;
    const params: unknown[] = [];
    const values = page.map((r, i) => {
      params.push(r.id, r.email, r.plan, r.balance);
      return `($${i * 4 + 1}, $${i * 4 + 2}, $${i * 4 + 3}, $${i * 4 + 4})`;
    });
    await to.query(`INSERT INTO ${table} (id, email, plan, balance) VALUES ${values.join(', ')} ON CONFLICT (id) DO NOTHING`, params);
    copied += page.length;
    after = (page[page.length - 1] as Row).id;
  }
}

/** The hand-written verify: both tables in key order, batch by batch, compared field by field. */
async function referenceVerify(db: PGlite): Promise<number> {
  let after = 0;
  let checked = 0;
  for (;;) {
    const sql = (table: string) => `SELECT id, email, plan, balance FROM ${table} WHERE id > $1 ORDER BY id LIMIT $2`;
    const [{ rows: a }, { rows: b }] = await Promise.all([db.query<Row>(sql('source'), [after, batch]), db.query<Row>(sql('target'), [after, batch])]);
    if (a.length === 0 && b.length === 0) return checked;
    for (let i = 0; i < Math.max(a.length, b.length); i++) {
      const x = a[i];
      const y = b[i];
      if (x === undefined || y === undefined || x.id !== y.id || x.email !== y.email || x.plan !== y.plan || x.balance !== y.balance) throw new Error('tables differ');
    }
    checked += a.length;
    after = Math.max((a[a.length - 1] as Row | undefined)?.id ?? 0, (b[b.length - 1] as Row | undefined)?.id ?? 0);
  }
}

async function timed<T>(run: () => Promise<T>): Promise<{ ms: number; value: T }> {
  const start = performance.now();
  const value = await run();
  return { ms: performance.now() - start, value };
}

/** Measures backfill and verify against the hand-written loops, alternating runs so load drift hits both sides. */
export async function measureData(): Promise<readonly DataResult[]> {
  const copyLibrary: number[] = [];
  const copyReference: number[] = [];
  for (let round = 0; round < 2; round++) {
    const db = await database(['source', 'target', 'target_ref']);
    await seed(db, 'source');
    const from = sqlRepository<Row, number>({ query: db, table: 'source', key: 'id' });
    const to = sqlRepository<Row, number>({ query: db, table: 'target', key: 'id' });
    const library = await timed(() => backfill({ from, to, keyOf: (r) => r.id, batchSize: batch, logger: quiet }));
    const reference = await timed(() => referenceCopy(db, db, 'target_ref'));
    if (library.value.copied !== rows || reference.value !== rows) throw new Error('backfill bench copied the wrong number of rows');
    copyLibrary.push(library.ms);
    copyReference.push(reference.ms);
    await db.close();
  }
  const verifyLibrary: number[] = [];
  const verifyReference: number[] = [];
  for (let round = 0; round < 2; round++) {
    const db = await database(['source', 'target']);
    await seed(db, 'source');
    await seed(db, 'target');
    const old = sqlRepository<Row, number>({ query: db, table: 'source', key: 'id' });
    const fresh = sqlRepository<Row, number>({ query: db, table: 'target', key: 'id' });
    const library = await timed(() => verify({ old, new: fresh, keyOf: (r) => r.id, batchSize: batch, logger: quiet }));
    const reference = await timed(() => referenceVerify(db));
    if (library.value.checked !== rows || library.value.different.count !== 0 || reference.value !== rows) throw new Error('verify bench read the wrong rows');
    verifyLibrary.push(library.ms);
    verifyReference.push(reference.ms);
    await db.close();
  }
  const best = (xs: readonly number[]) => Math.min(...xs);
  return [
    { scenario: 'backfill 100k rows PGlite to PGlite, batch 1,000', rows, libraryMs: best(copyLibrary), referenceMs: best(copyReference) },
    { scenario: 'verify 100k rows', rows, libraryMs: best(verifyLibrary), referenceMs: best(verifyReference) },
  ];
}
