import { PGlite } from '@electric-sql/pglite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sqlRepository } from '../../src/sql/index.js';

describe('sqlRepository on a session whose settings would change values', () => {
  let db: PGlite;
  beforeAll(async () => {
    db = new PGlite();
    await db.exec(`
      CREATE TABLE dated (id bigint PRIMARY KEY, at timestamptz);
      CREATE TABLE floats (id integer PRIMARY KEY, ratio double precision);
      CREATE TABLE plain (id integer PRIMARY KEY, name text);
      INSERT INTO plain VALUES (1, 'a');
    `);
  }, 60_000);
  afterAll(async () => {
    await db.close();
  });

  it('refuses a DateStyle other than ISO when dates are read as text, naming the setting', async () => {
    await db.exec(`SET DateStyle = 'SQL, DMY'`);
    try {
      const repo = sqlRepository({ query: db, table: 'dated', key: 'id' });
      await expect(repo.getBatch(null, 10)).rejects.toThrow(/option `query` connects with DateStyle "SQL, DMY"/);
      // Only the types that need it: a table of integers and text is read as before.
      expect(await sqlRepository({ query: db, table: 'plain', key: 'id' }).get(1)).toEqual({ id: 1, name: 'a' });
    } finally {
      await db.exec(`SET DateStyle = 'ISO, MDY'`);
    }
  });

  it('refuses extra_float_digits below 1, which rounds real and double precision', async () => {
    await db.exec(`SET extra_float_digits = 0`);
    try {
      await expect(sqlRepository({ query: db, table: 'floats', key: 'id' }).get(1)).rejects.toThrow(/extra_float_digits "0"/);
    } finally {
      await db.exec(`SET extra_float_digits = 1`);
    }
  });

  it('reads the catalog again after a failed first use', async () => {
    const repo = sqlRepository<{ id: string; at: string }, string>({ query: db, table: 'later', key: 'id' });
    await expect(repo.get('1')).rejects.toThrow(/later/);
    await db.exec(`CREATE TABLE later (id bigint PRIMARY KEY, at timestamptz); INSERT INTO later VALUES (1, '2024-01-01 00:00:00.000001+00')`);
    expect(await repo.get('1')).toEqual({ id: '1', at: '2024-01-01 00:00:00.000001+00' });
  });
});
