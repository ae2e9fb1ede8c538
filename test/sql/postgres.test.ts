import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { describeSqlChecksums } from './sql-checksum-suite.js';
import { describeSqlServerCopy } from './sql-copy-suite.js';
import { describeSqlFidelity } from './sql-fidelity-suite.js';
import { describeSqlAdapters } from './sql-suite.js';

const url = process.env.PG_URL;

if (url !== undefined && url !== '') {
  const connect = async () => {
    const pool = new pg.Pool({ connectionString: url, max: 4 });
    await pool.query('SELECT 1');
    return { query: pool, close: () => pool.end() };
  };
  describeSqlAdapters('PostgreSQL', connect);
  describeSqlFidelity('PostgreSQL', connect);
  describeSqlChecksums('PostgreSQL', connect);
  describeSqlServerCopy('PostgreSQL', connect);
} else if (process.env.CI !== undefined && process.env.CI !== '' && process.env.CI !== 'false') {
  // Under CI a missing server is a failure, never a silent skip: .ci/run starts one (scripts/postgres-start.sh).
  describe('PostgreSQL', () => {
    it('has a server to test against (PG_URL)', () => {
      expect(url, 'PG_URL is not set: run scripts/postgres-start.sh and export the PG_URL it prints').toBeTruthy();
    });
  });
} else {
  describe.skip('PostgreSQL (set PG_URL to run; scripts/postgres-start.sh starts a server)', () => {
    it('runs the SQL suite', () => {});
  });
}
