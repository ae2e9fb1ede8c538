import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { backfill, verify } from '../../src/index.js';
import { silentLogger } from '../../src/observe/logger.js';
import type { SqlQuery, SqlQueryable, SqlRow } from '../../src/sql/index.js';
import { quoteTable, sqlRepository } from '../../src/sql/index.js';
import { toSqlQuery } from '../../src/sql/sql-client.js';
import { readAll } from '../data/repository-conformance.js';
import type { SqlConnection } from './sql-suite.js';
import { freshName } from './sql-suite.js';

/** Every common PostgreSQL type, nullable, keyed by a bigint. */
const everyType = `(
  id bigint PRIMARY KEY,
  at timestamptz, local_at timestamp, day date, clock time, span interval,
  amount numeric(38,10), free numeric, big bigint, small smallint, count integer,
  ratio double precision, vat real,
  payload jsonb, raw json,
  tags text[], grid int[], blob bytea, ref uuid, flag boolean, label text, code varchar(20)
)`;

/** Text that no step may change: emoji sequences, combining marks (NFC and NFD kept apart), RTL, controls (no NUL), the last code point. */
const labels = [
  '👩‍👩‍👧‍👦 🇺🇳 👍🏽 \u{1F600}',
  'e\u0301 é Z\u0351\u0362\u036b',
  'שלום עולם \u200f مرحبا \u202eevil\u202c',
  '\u0001\u0007\b\t\n\v\f\r\u001b\u007f\u0085\u2028\u2029',
  '\ufeff\u200b\u00a0 \u{10FFFF} \\ \' " ',
  '',
];

// Literals exactly as a user would have written them; the copy must keep every digit.
const rows = [
  `(1, '2024-02-29 23:59:59.999999+00', '2024-02-29 12:34:56.123456', '2024-02-29', '23:59:59.999999', '1 year 2 mons -3 days 04:05:06.789012',
    '1234567890123456789012345678.0123456789', '12345678901234567890.123456789012345678901234567890', 9223372036854775807, -32768, 2147483647,
    0.1, 0.19,
    '{"big": 12345678901234567890.123456789, "huge": 1e400, "tiny": 1e-400, "s": "1e400", "list": [1.10, 2.000]}',
    '{"b": 1.0e+2,  "a": [1, 2.50], "a": 3}',
    ARRAY['a,b', 'with "quote"', E'back\\\\slash', NULL, 'NULL', '', '{}', 'é'], '{{1,2},{3,NULL}}',
    (SELECT decode(string_agg(lpad(to_hex(i), 2, '0'), ''), 'hex') FROM generate_series(0, 255) AS i),
    'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', true, $1, 'ab')`,
  `(9007199254740993, '0044-03-15 12:00:00.000001+00 BC', 'infinity', '-infinity', '00:00:00', '-178000000 years',
    '-0.0000000001', 'NaN', -9223372036854775808, 0, 0, '-0', 'NaN',
    '[]', '"just a string"', '{}', '[0:1]={7,8}', '\\x', 'A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A12', false, $2, '')`,
  `(9007199254740992, '2024-06-01 12:00:00.5+05:45', '1999-12-31 23:59:59.000001', '0001-01-01', '24:00:00', '0 seconds',
    '0', '0.000000000000000000000000000001', 1, 1, 1, 5e-324, 1e-45,
    '{"n": 0.1e1, "e": 1E+2, "deep": {"x": [[[-12345678901234567890123]]]}}', '1e400', '{NULL}', '{}', '\\x00', NULL, NULL, $3, NULL)`,
  `(-1, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL)`,
  `(9, 'infinity', NULL, NULL, NULL, NULL, '99999999999999999999999999.9999999999', '-1e-1000', 9007199254740993, NULL, NULL,
    1.7976931348623157e308, 3.4028235e38, 'null', 'null', NULL, NULL, NULL, NULL, NULL, $4, NULL)`,
  `(10, '-infinity', NULL, NULL, NULL, NULL, '0.0000000001', '1e131071', -9007199254740993, NULL, NULL,
    'Infinity', '-Infinity', '{"a": "\\u0001 and \\u00e9 and \\ud83d\\ude00"}', NULL, NULL, NULL, NULL, NULL, NULL, $5, NULL)`,
];

/** The server's checksum of a table: the md5 of every row's text, in key order, and the row count. */
async function checksum(query: SqlQuery, table: string): Promise<{ n: number; sum: string }> {
  const result = await query(`SELECT count(*)::int AS n, md5(string_agg(t::text, E'\\n' ORDER BY id)) AS sum FROM ${quoteTable(table)} AS t`, []);
  const row = result.rows[0] as { n: number; sum: string };
  return { n: row.n, sum: row.sum };
}

/** Value fidelity and key order of sqlRepository, on one database. */
export function describeSqlFidelity(name: string, connect: () => Promise<SqlConnection>): void {
  let connection: SqlConnection | undefined;
  const query: SqlQuery = (sql, params) => toSqlQuery((connection as SqlConnection).query)(sql, params);
  // The client itself for repositories: a node-postgres Pool runs their statements prepared.
  const client = (): SqlQueryable => (connection as SqlConnection).query;

  beforeAll(async () => {
    connection = await connect();
  }, 60_000);
  afterAll(async () => {
    await connection?.close();
  });

  const sourceTable = async (): Promise<string> => {
    const table = freshName('every_type');
    await query(`CREATE TABLE ${quoteTable(table)} ${everyType}`, []);
    await query(`INSERT INTO ${quoteTable(table)} VALUES ${rows.join(',\n')}`, labels.slice(0, 5));
    return table;
  };
  const emptyCopy = async (): Promise<string> => {
    const table = freshName('every_type_copy');
    await query(`CREATE TABLE ${quoteTable(table)} ${everyType}`, []);
    return table;
  };
  type Row = SqlRow & { id: string };
  const keyOf = (row: Row): string => row.id;

  describe(`sqlRepository value fidelity on ${name}`, () => {
    it.each([false, true])('backfills every common type exactly: the server computes the same checksum for both tables (copied inside the database: %s)', async (serverCopy) => {
      const source = await sourceTable();
      const target = await emptyCopy();
      const from = sqlRepository<Row, string>({ query: client(), table: source, key: 'id', serverCopy });
      const to = sqlRepository<Row, string>({ query: client(), table: target, key: 'id' });

      const result = await backfill({ from, to, keyOf, batchSize: 2, compareKeys: await from.keyOrder(), logger: silentLogger });

      expect(result).toMatchObject({ copied: rows.length, skipped: 0 });
      const expected = await checksum(query, source);
      expect(expected.n).toBe(rows.length);
      expect(await checksum(query, target)).toEqual(expected);
    });

    it('backfills every common type exactly in statements of two rows (prepared on node-postgres: a VALUES list of untyped text parameters)', async () => {
      const source = await sourceTable();
      const target = await emptyCopy();
      const from = sqlRepository<Row, string>({ query: client(), table: source, key: 'id', serverCopy: false });
      // 22 columns: 44 parameters make statements of two rows, the size a prepared VALUES list is made for here.
      const to = sqlRepository<Row, string>({ query: client(), table: target, key: 'id', maxParameters: 44 });
      const result = await backfill({ from, to, keyOf, batchSize: 2, compareKeys: await from.keyOrder(), logger: silentLogger });
      expect(result).toMatchObject({ copied: rows.length, skipped: 0 });
      expect(await checksum(query, target)).toEqual(await checksum(query, source));
      expect(await to.bulkInsert(await from.getBatch(null, 3))).toEqual([]);
    });

    it('copies a row with save (overwrite) exactly too', async () => {
      const source = await sourceTable();
      const target = await emptyCopy();
      const from = sqlRepository<Row, string>({ query: client(), table: source, key: 'id' });
      const to = sqlRepository<Row, string>({ query: client(), table: target, key: 'id' });
      await query(`INSERT INTO ${quoteTable(target)} (id, label) VALUES (1, 'stale'), (9, 'stale')`, []);

      await backfill({ from, to, keyOf, batchSize: 4, overwrite: true, compareKeys: await from.keyOrder(), logger: silentLogger });

      expect(await checksum(query, target)).toEqual(await checksum(query, source));
    });

    it('holds exact JS values: numbers only for integer, smallint, real and double; the text form for the rest', async () => {
      const repo = sqlRepository<Row, string>({ query: client(), table: await sourceTable(), key: 'id' });
      const row = (await repo.get('1')) as Row;
      expect(row).toMatchObject({
        id: '1',
        at: '2024-02-29 23:59:59.999999+00',
        local_at: '2024-02-29 12:34:56.123456',
        amount: '1234567890123456789012345678.0123456789',
        big: '9223372036854775807',
        small: -32768,
        count: 2147483647,
        ratio: 0.1,
        vat: 0.19,
        raw: '{"b": 1.0e+2,  "a": [1, 2.50], "a": 3}',
        grid: '{{1,2},{3,NULL}}',
        ref: 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11',
        flag: true,
        label: labels[0],
      });
      expect(row.payload).toContain('"big": 12345678901234567890.123456789');
      expect(String(row.blob)).toMatch(/^\\x000102.*fdfeff$/);
      const second = (await repo.get('9007199254740993')) as Row;
      expect(Object.is(second.ratio, -0)).toBe(true);
      expect(second.vat).toBeNaN();
      expect(second.free).toBe('NaN');
      expect(second.grid).toBe('[0:1]={7,8}');
      // A leading U+FEFF (dropped by some clients when they decode a field) and U+0001 (the guard's own mark) stay.
      expect((await repo.get('10'))?.label).toBe(labels[4]);
      expect((await repo.get('9'))?.label).toBe(labels[3]);
      // 2^53 + 1 is not a double: a lossy key would have found its neighbour.
      expect((await repo.get('9007199254740992'))?.id).toBe('9007199254740992');
      expect((await readAll(repo, keyOf, 2)).map(keyOf)).toEqual(['-1', '1', '9', '10', '9007199254740992', '9007199254740993']);
    });

    it('writes JS values through each type: Date, Uint8Array, arrays, objects for jsonb, bigint, -0', async () => {
      const table = await emptyCopy();
      const repo = sqlRepository<SqlRow, string>({ query: client(), table, key: 'id' });
      await repo.save({
        id: 2n ** 62n,
        at: new Date('2024-01-02T03:04:05.678Z'),
        blob: Uint8Array.of(0, 1, 255),
        tags: ['a', null, 'b"c\\d', ''],
        grid: [[1, 2], [3, null]],
        payload: { a: [1, 'x'], b: null },
        ratio: -0,
        vat: 0.19,
        amount: 12.5,
        big: -(2n ** 63n),
        flag: false,
      });
      const row = (await repo.get(String(2n ** 62n))) as SqlRow;
      expect(row).toMatchObject({
        id: '4611686018427387904',
        at: '2024-01-02 03:04:05.678+00',
        blob: '\\x0001ff',
        tags: '{a,NULL,"b\\"c\\\\d",""}',
        grid: '{{1,2},{3,NULL}}',
        payload: '{"a": [1, "x"], "b": null}',
        vat: 0.19,
        amount: '12.5000000000',
        big: '-9223372036854775808',
        flag: false,
      });
      expect(Object.is(row.ratio, -0)).toBe(true);
      expect(await repo.bulkInsert([{ id: 7, label: 'seven' }, { id: 2n ** 62n, label: 'exists' }])).toEqual(['7']);
      await repo.delete(2n ** 62n as unknown as string);
      expect(await repo.get('4611686018427387904')).toBeUndefined();
    });

    it('verify sees a microsecond, a numeric digit and a jsonb digit, and repair restores the checksum', async () => {
      const source = await sourceTable();
      const target = await emptyCopy();
      const old = sqlRepository<Row, string>({ query: client(), table: source, key: 'id' });
      const fresh = sqlRepository<Row, string>({ query: client(), table: target, key: 'id' });
      const compareKeys = await old.keyOrder();
      await backfill({ from: old, to: fresh, keyOf, compareKeys, logger: silentLogger });
      const t = quoteTable(target);
      await query(`UPDATE ${t} SET at = at + interval '1 microsecond' WHERE id = 1`, []);
      await query(`UPDATE ${t} SET amount = amount + 0.0000000001 WHERE id = 9`, []);
      await query(`UPDATE ${t} SET payload = jsonb_set(payload, '{deep,x,0,0,0}', '-12345678901234567890124') WHERE id = 9007199254740992`, []);

      expect(await checksum(query, target)).not.toEqual(await checksum(query, source));

      const report = await verify({ old, new: fresh, keyOf, compareKeys, recheck: false, batchSize: 2, logger: silentLogger });
      expect(report.different).toEqual({ count: 3, keys: ['1', '9', '9007199254740992'] });
      expect(report).toMatchObject({ checked: rows.length, missing: { count: 0 }, extra: { count: 0 } });

      await verify({ old, new: fresh, keyOf, compareKeys, recheck: false, repair: true, logger: silentLogger });
      expect(await checksum(query, target)).toEqual(await checksum(query, source));
    });
  });

  describe(`sqlRepository key order on ${name}`, () => {
    const bigintTable = async (): Promise<string> => {
      const table = freshName('bigint_keys');
      await query(`CREATE TABLE ${quoteTable(table)} (id bigint PRIMARY KEY, name text)`, []);
      await query(`INSERT INTO ${quoteTable(table)} SELECT i, 'row ' || i FROM generate_series(1, 25) AS i`, []);
      await query(`INSERT INTO ${quoteTable(table)} VALUES (9007199254740993, 'big'), (9007199254740992, 'big'), (-5, 'negative')`, []);
      return table;
    };
    type Named = { id: string; name: string };
    const idOf = (row: Named): string => row.id;

    it('bigint keys arrive as strings and compare by value: "10" after "9"', async () => {
      const repo = sqlRepository<Named, string>({ query: client(), table: await bigintTable(), key: 'id' });
      const compare = await repo.keyOrder();
      expect(compare).toBeDefined();
      const keys = (await readAll(repo, idOf, 4)).map(idOf);
      expect(keys.slice(0, 3)).toEqual(['-5', '1', '2']);
      for (let i = 1; i < keys.length; i++) expect(compare?.(keys[i] as string, keys[i - 1] as string)).toBeGreaterThan(0);
      expect(compare?.('10', '9')).toBeGreaterThan(0);
      expect(compare?.('9007199254740993', '9007199254740992')).toBeGreaterThan(0);
    });

    it('verify walks a bigint table in the repository order it is given', async () => {
      const table = await bigintTable();
      const old = sqlRepository<Named, string>({ query: client(), table, key: 'id' });
      const fresh = sqlRepository<Named, string>({ query: client(), table, key: 'id' });
      const report = await verify({ old, new: fresh, keyOf: idOf, compareKeys: await old.keyOrder(), batchSize: 4, logger: silentLogger });
      expect(report).toMatchObject({ checked: 28, different: { count: 0 } });
    });

    // Without compareKeys, verify and backfill take the order from the
    // repository's keyOrder(): code-point order would stop at "10" after "9".
    it('verify and backfill walk a bigint table without being told the order', async () => {
      const table = await bigintTable();
      const old = sqlRepository<Named, string>({ query: client(), table, key: 'id' });
      const fresh = sqlRepository<Named, string>({ query: client(), table, key: 'id' });
      const report = await verify({ old, new: fresh, keyOf: idOf, batchSize: 4, logger: silentLogger });
      expect(report).toMatchObject({ checked: 28, different: { count: 0 } });
      const copy = freshName('bigint_copy');
      await query(`CREATE TABLE ${quoteTable(copy)} (LIKE ${quoteTable(table)} INCLUDING ALL)`, []);
      const target = sqlRepository<Named, string>({ query: client(), table: copy, key: 'id' });
      const result = await backfill({ from: old, to: target, keyOf: idOf, batchSize: 4, logger: silentLogger });
      expect(result.copied).toBe(28);
    });

    it('uuid keys compare by their bytes, as the server pages them', async () => {
      const table = freshName('uuid_keys');
      await query(`CREATE TABLE ${quoteTable(table)} (id uuid PRIMARY KEY, name text)`, []);
      await query(`INSERT INTO ${quoteTable(table)} SELECT gen_random_uuid(), 'row ' || i FROM generate_series(1, 40) AS i`, []);
      await query(`INSERT INTO ${quoteTable(table)} VALUES ('ffffffff-0000-4000-8000-000000000000', 'f'), ('00000000-0000-4000-8000-000000000000', '0')`, []);
      const repo = sqlRepository<Named, string>({ query: client(), table, key: 'id' });
      const compare = await repo.keyOrder();
      const keys = (await readAll(repo, idOf, 7)).map(idOf);
      expect(keys).toHaveLength(42);
      for (let i = 1; i < keys.length; i++) expect(compare?.(keys[i] as string, keys[i - 1] as string)).toBeGreaterThan(0);
      expect(compare?.('FFFFFFFF-0000-4000-8000-000000000000', 'ffffffff-0000-4000-8000-000000000000')).toBe(0);
    });

    it('text keys compare by code point under C; under a linguistic collation only with collation: "C"', async () => {
      const c = freshName('text_c');
      await query(`CREATE TABLE ${quoteTable(c)} (id text COLLATE "C" PRIMARY KEY, name text)`, []);
      await query(`INSERT INTO ${quoteTable(c)} VALUES ('a', ''), ('B', ''), ('é', ''), ('e\u0301', ''), ('😀', ''), ('\uffff', ''), ('a-b', ''), ('ab', '')`, []);
      const inC = sqlRepository<Named, string>({ query: client(), table: c, key: 'id' });
      const compare = await inC.keyOrder();
      const keys = (await readAll(inC, idOf, 3)).map(idOf);
      expect(keys).toEqual(['B', 'a', 'a-b', 'ab', 'e\u0301', 'é', '\uffff', '😀']);
      for (let i = 1; i < keys.length; i++) expect(compare?.(keys[i] as string, keys[i - 1] as string)).toBeGreaterThan(0);

      const icu = freshName('text_icu');
      await query(`CREATE TABLE ${quoteTable(icu)} (id text COLLATE "und-x-icu" PRIMARY KEY, name text)`, []);
      await query(`INSERT INTO ${quoteTable(icu)} SELECT id, name FROM ${quoteTable(c)}`, []);
      expect(await sqlRepository<Named, string>({ query: client(), table: icu, key: 'id' }).keyOrder()).toBeUndefined();
      const bytewise = sqlRepository<Named, string>({ query: client(), table: icu, key: 'id', collation: 'C' });
      const compareBytewise = await bytewise.keyOrder();
      expect(compareBytewise).toBeDefined();
      expect((await readAll(bytewise, idOf, 3)).map(idOf)).toEqual(keys);
      const report = await verify({ old: inC, new: bytewise, keyOf: idOf, compareKeys: compareBytewise, batchSize: 3, logger: silentLogger });
      expect(report).toMatchObject({ checked: keys.length, missing: { count: 0 }, extra: { count: 0 } });
    });

    it('refuses, on first use, a key, columns or collation the catalog does not know', async () => {
      const table = await bigintTable();
      await expect(sqlRepository({ query, table, key: 'nope' }).getBatch(null, 1)).rejects.toThrow(/option `key` names "nope", which is not a column/);
      await expect(sqlRepository({ query, table, key: 'id', columns: ['id', 'nope'] }).get('1')).rejects.toThrow(/option `columns` names "nope"/);
      await expect(sqlRepository({ query, table, key: 'id', collation: 'no such collation' }).keyOrder()).rejects.toThrow(/option `collation`/);
    });
  });
}
