import { describe, expect, it } from 'vitest';
import type { BackfillOptions } from '../../src/data/backfill-options.js';
import { resolveBackfillOptions } from '../../src/data/backfill-options.js';
import { defaultCallTimeoutMs } from '../../src/data/bounded-call.js';
import { realSleep } from '../../src/data/options.js';
import { InMemoryRepository } from '../../src/testing/index.js';

// src/data/backfill-options.ts: backfill's options, their defaults, and
// how overwrite / versionOf become the per-row decision.

interface Row {
  readonly id: string;
  readonly v: number | bigint | string | Date;
}

const repo = () => new InMemoryRepository<Row, string>({ keyOf: (row) => row.id });
const base = (): BackfillOptions<Row, string> => ({ from: repo(), to: repo(), keyOf: (row) => row.id });
const row = (v: Row['v']): Row => ({ id: 'a', v });

describe('resolveBackfillOptions', () => {
  it('fills in the documented defaults', () => {
    const o = resolveBackfillOptions(base());
    expect(o).toMatchObject({ batchSize: 1000, minBatchSize: 10, maxBatchSize: 20_000, throttleDelayMs: 100, timeoutMs: defaultCallTimeoutMs, decide: 'never' });
    expect(o.targetBatchMs).toBeUndefined();
    expect(o.maxRowsPerSecond).toBeUndefined();
    expect(o.sleep).toBe(realSleep);
  });

  it('accepts minBatchSize equal to maxBatchSize, and refuses it above, naming both', () => {
    expect(resolveBackfillOptions({ ...base(), minBatchSize: 50, maxBatchSize: 50 }).minBatchSize).toBe(50);
    expect(() => resolveBackfillOptions({ ...base(), minBatchSize: 51, maxBatchSize: 50 })).toThrow(/option `minBatchSize` must be at most maxBatchSize \(50\), got 51/);
  });

  it('folds overwrite into the decision: false or absent leaves rows, true replaces them, a function decides', () => {
    expect(resolveBackfillOptions({ ...base(), overwrite: false }).decide).toBe('never');
    expect(resolveBackfillOptions({ ...base(), overwrite: true }).decide).toBe('always');
    const decide = () => true;
    expect(resolveBackfillOptions({ ...base(), overwrite: decide }).decide).toBe(decide);
  });

  it('refuses an overwrite that is no boolean or function, saying what it takes', () => {
    expect(() => resolveBackfillOptions({ ...base(), overwrite: 'yes' as never })).toThrow(
      /option `overwrite` must be true, false or a function \(existing, incoming\) => boolean, got "yes"/,
    );
  });

  it('refuses an unknown option, naming backfill', () => {
    expect(() => resolveBackfillOptions({ ...base(), batchSise: 5 } as never)).toThrow(/option `batchSise` is not an option of backfill; did you mean `batchSize`\?/);
  });

  it('refuses versionOf with overwrite, even overwrite: false', () => {
    for (const overwrite of [false, true]) {
      expect(() => resolveBackfillOptions({ ...base(), overwrite, versionOf: (r) => r.v })).toThrow(
        new RegExp(`option \`versionOf\` cannot be combined with \`overwrite\` \\(got overwrite ${overwrite}\\)`),
      );
    }
  });

  it.each<[string, Row['v'], Row['v']]>([
    ['numbers', 1, 2],
    ['bigints', 10n, 11n],
    ['strings', '2026-01-01', '2026-01-02'],
    ['dates', new Date(1000), new Date(2000)],
  ])('with versionOf, replaces a row only with a strictly newer version (%s)', (_, older, newer) => {
    const decide = resolveBackfillOptions({ ...base(), versionOf: (r) => r.v }).decide as (existing: Row, incoming: Row) => boolean;
    expect(decide(row(older), row(newer))).toBe(true);
    expect(decide(row(newer), row(older))).toBe(false);
    expect(decide(row(older), row(older))).toBe(false);
  });

  it('compares two equal dates held in different objects as the same version', () => {
    const decide = resolveBackfillOptions({ ...base(), versionOf: (r) => r.v }).decide as (existing: Row, incoming: Row) => boolean;
    expect(decide(row(new Date(5)), row(new Date(5)))).toBe(false);
    expect(decide(row(new Date(5)), row(new Date(6)))).toBe(true);
  });
});
