import { PGlite } from '@electric-sql/pglite';
import { describeSqlAdapters } from './sql-suite.js';

describeSqlAdapters('PGlite', async () => {
  const db = new PGlite();
  await db.waitReady;
  return { query: db, close: () => db.close() };
});
