import { PGlite } from '@electric-sql/pglite';
import { describeSqlChecksums } from './sql-checksum-suite.js';
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
