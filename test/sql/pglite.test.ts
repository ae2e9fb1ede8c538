import { PGlite } from '@electric-sql/pglite';
import { describe, expect, it } from 'vitest';
import { backfill } from '../../src/data/backfill.js';
import { silentLogger } from '../../src/observe/logger.js';
import { sqlRepository } from '../../src/sql/sql-repository.js';
import { describeSqlChecksums } from './sql-checksum-suite.js';
import { describeSqlServerCopy } from './sql-copy-suite.js';
import { describeSqlFidelity } from './sql-fidelity-suite.js';
import { describeSqlAdapters } from './sql-suite.js';

const connect = async () => {
  const db = new PGlite();
  await db.waitReady;
  return { query: db, close: () => db.close() };
};

describeSqlAdapters('PGlite', connect);
describeSqlFidelity('PGlite', connect);
describeSqlChecksums('PGlite', connect);
describeSqlServerCopy('PGlite', connect);

describe('backfill between two PGlite databases', () => {
  it('copies row by row: copyRangeTo cannot reach the other database', async () => {
    const [one, two] = [new PGlite(), new PGlite()];
    try {
      for (const db of [one, two]) await db.exec('CREATE TABLE t (id integer PRIMARY KEY, v text)');
      await one.exec("INSERT INTO t SELECT i, 'v' || i FROM generate_series(1, 30) AS i");
      const from = sqlRepository<{ id: number; v: string }, number>({ query: one, table: 't', key: 'id' });
      const to = sqlRepository<{ id: number; v: string }, number>({ query: two, table: 't', key: 'id' });
      expect(await from.copyRangeTo(to, { after: null, limit: 10 })).toBeUndefined();
      expect(await backfill({ from, to, keyOf: (row) => row.id, batchSize: 10, logger: silentLogger })).toMatchObject({ copied: 30 });
      expect((await two.query('SELECT count(*)::int AS n FROM t')).rows).toEqual([{ n: 30 }]);
    } finally {
      await Promise.all([one.close(), two.close()]);
    }
    // Two PGlite instances start here (seconds of CPU each on a loaded machine).
  }, 60_000);
});
