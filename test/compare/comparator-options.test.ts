import { describe, expect, it } from 'vitest';
import { deepEqualComparator, MigrationGlueError } from '../../src/index.js';

function thrownBy(call: () => unknown): { option: string; message: string } {
  try {
    call();
  } catch (err) {
    expect(MigrationGlueError.is(err, 'ERR_INVALID_OPTION')).toBe(true);
    return err as { option: string; message: string };
  }
  throw new Error('did not throw');
}

describe('deepEqualComparator refuses an unknown option', () => {
  it('names a misspelt top-level option and suggests the real one', () => {
    const err = thrownBy(() => deepEqualComparator({ ignored: ['a'] } as never));
    expect(err.option).toBe('ignored');
    expect(err.message).toContain('did you mean `ignore`?');
  });

  it('names a misspelt nested option with its path', () => {
    const err = thrownBy(() => deepEqualComparator({ normalize: { date: false } } as never));
    expect(err.option).toBe('normalize.date');
    expect(err.message).toContain('did you mean `normalize.dates`?');
  });

  it('lists the known names when nothing is close', () => {
    const err = thrownBy(() => deepEqualComparator({ zzzzzzzzzz: 1 } as never));
    expect(err.message).not.toContain('did you mean');
    expect(err.message).toContain('known: ignore, normalize, compareErrors, equals, maxDiffs');
  });

  it('still compares after a valid nested option, with the defaults resolved', () => {
    const oldOutcome = { ok: true as const, value: { a: 1.001, d: new Date(0) } };
    const newOutcome = { ok: true as const, value: { a: 1.004, d: new Date(0).toISOString() } };
    expect(deepEqualComparator({ normalize: { precision: 2 } }).compare(oldOutcome, newOutcome).equal).toBe(true);
    // Without the rounding the numbers differ; without the default `dates: true` the Date would too.
    expect(deepEqualComparator().compare(oldOutcome, newOutcome).diff.map((entry) => entry.path)).toEqual(['a']);
  });
});
