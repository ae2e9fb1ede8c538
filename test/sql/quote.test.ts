import { describe, expect, it } from 'vitest';
import { quoteIdentifier, quoteTable } from '../../src/sql/index.js';

describe('quoteIdentifier and quoteTable', () => {
  it('double-quote names, doubling embedded quotes, and qualify a schema', () => {
    expect(quoteIdentifier('users')).toBe('"users"');
    expect(quoteIdentifier('we"ird; DROP TABLE x')).toBe('"we""ird; DROP TABLE x"');
    expect(quoteTable({ schema: 'billing', name: 'Invoices' })).toBe('"billing"."Invoices"');
  });

  it('refuse an empty name, a NUL character, or something that is not a name', () => {
    expect(() => quoteIdentifier('')).toThrow(/`identifier` must be a non-empty string/);
    expect(() => quoteIdentifier('a\0b')).toThrow(/NUL/);
    expect(() => quoteTable(42 as never)).toThrow(/`table` must be a table name or \{ schema, name \}/);
  });
});
