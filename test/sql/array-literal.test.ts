import fc from 'fast-check';
import pgUtils from 'pg/lib/utils.js';
import { PGlite } from '@electric-sql/pglite';
import { afterAll, describe, expect, it } from 'vitest';
import { arrayLiteral } from '../../src/sql/sql-values.js';

const element = fc.option(fc.string({ unit: 'binary' }), { nil: null });

describe('arrayLiteral', () => {
  it('writes what node-postgres writes for the same JS array (property)', () => {
    fc.assert(
      fc.property(fc.array(element, { maxLength: 40 }), (values) => {
        expect(arrayLiteral(values)).toBe(pgUtils.prepareValue(values));
      }),
      { numRuns: 2_000 },
    );
  });

  it('escapes quotes and backslashes, and writes null as NULL', () => {
    expect(arrayLiteral(['a"b', 'c\\d', null, '', 'NULL'])).toBe('{"a\\"b","c\\\\d",NULL,"","NULL"}');
    expect(arrayLiteral([])).toBe('{}');
  });

  describe('read back by PostgreSQL', () => {
    const db = new PGlite();
    afterAll(() => db.close());

    it('gives back every element exactly, NULL as null (property)', async () => {
      // PostgreSQL text holds no NUL character; everything else must survive.
      const text = fc.option(fc.string({ unit: 'binary' }).filter((s) => !s.includes('\u0000')), { nil: null });
      await fc.assert(
        fc.asyncProperty(fc.array(text, { maxLength: 30 }), async (values) => {
          const { rows } = await db.query<{ v: string | null }>('SELECT v FROM unnest($1::text[]) WITH ORDINALITY AS u(v, n) ORDER BY n', [arrayLiteral(values)]);
          expect(rows.map((row) => row.v)).toEqual(values);
        }),
        { numRuns: 100 },
      );
    }, 120_000);
  });
});
