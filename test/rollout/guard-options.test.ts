import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { MigrationGlue, RollbackGuard, defaultRollbackCriteria, phases, silentLogger } from '../../src/index.js';
import { resolveCriteria } from '../../src/rollout/criteria.js';
import { InMemoryJournalStore, MemoryJournalStore, MigrationJournal } from '../../src/rollout/journal.js';

const glue = new MigrationGlue({ name: 'opts', oldService: async () => 1, newService: async () => 2, config: phases.shadow(), logger: silentLogger });

function thrown(make: () => unknown): { code?: string; option?: string; message: string } {
  try {
    make();
  } catch (err) {
    return err as { code?: string; option?: string; message: string };
  }
  throw new Error('expected a throw');
}

describe('RollbackGuard criteria', () => {
  it('refuses a misspelt criterion and suggests the nearest name', () => {
    const err = thrown(() => new RollbackGuard(glue, { maxErorRate: 0.1 } as never, { logger: silentLogger }));
    expect(err.code).toBe('ERR_INVALID_OPTION');
    expect(err.option).toBe('criteria.maxErorRate');
    expect(err.message).toMatch(/did you mean `criteria\.maxErrorRate`\?/);
  });

  it('names the bad criterion and the value received', () => {
    expect(() => resolveCriteria({ rampSteps: 1.5 })).toThrow(/`criteria\.rampSteps` must be an integer from 1 to 1000, got 1\.5/);
    expect(() => resolveCriteria({ onInconclusive: 'panic' } as never)).toThrow(/`criteria\.onInconclusive` must be 'hold' or 'rollback', got "panic"/);
  });

  it('resolves the defaults once: omitted criteria are the defaults', () => {
    expect(resolveCriteria({})).toEqual(defaultRollbackCriteria);
    expect(resolveCriteria({ minSamples: 7 })).toEqual({ ...defaultRollbackCriteria, minSamples: 7 });
    expect(Object.isFrozen(resolveCriteria())).toBe(true);
  });

  it('for every criterion, dropping one letter is refused with that criterion suggested', () => {
    const names = Object.keys(defaultRollbackCriteria);
    fc.assert(
      fc.property(fc.constantFrom(...names), fc.nat(), (name, at) => {
        const i = at % name.length;
        const slip = name.slice(0, i) + name.slice(i + 1);
        if (names.includes(slip)) return;
        const err = thrown(() => resolveCriteria({ [slip]: 1 } as never));
        expect(err.option).toBe(`criteria.${slip}`);
        expect(err.message).toContain(`did you mean \`criteria.${name}\`?`);
      }),
    );
  });
});

describe('RollbackGuard options', () => {
  it('refuses an unknown option with the nearest name', () => {
    const err = thrown(() => new RollbackGuard(glue, {}, { logger: silentLogger, rollbackTimeout: 5 } as never));
    expect(err.option).toBe('rollbackTimeout');
    expect(err.message).toMatch(/not an option of RollbackGuard; did you mean `rollbackTimeoutMs`\?/);
  });

  it('names a bad logger, notifier, clock or baseline', () => {
    expect(thrown(() => new RollbackGuard(glue, {}, { logger: 'loud' as never })).option).toBe('logger');
    expect(thrown(() => new RollbackGuard(glue, {}, { logger: silentLogger, notifier: 42 as never })).option).toBe('notifier');
    expect(thrown(() => new RollbackGuard(glue, {}, { logger: silentLogger, clock: {} as never })).option).toBe('clock');
    const bad = thrown(() => new RollbackGuard(glue, {}, { logger: silentLogger, baseline: { calls: 10, errorRate: 2, p95: 1 } }));
    expect(bad.option).toBe('baseline');
    expect(bad.message).toMatch(/errorRate \(at most 1\)/);
  });

  it('accepts a good baseline and noise and uses the baseline', () => {
    const guard = new RollbackGuard(glue, {}, { logger: silentLogger, baseline: { calls: 1000, errorRate: 0.01, p95: 40 }, noise: { compared: 10, mismatched: 1 } });
    expect(guard.baseline).toEqual({ source: 'baseline', calls: 1000, errorRate: 0.01, p95: 40 });
    guard.close();
  });
});

describe('MigrationJournal options', () => {
  it('refuses an unknown option with the nearest name, and a store without append and load', () => {
    const err = thrown(() => new MigrationJournal({ clok: { now: () => 1 } } as never));
    expect(err.option).toBe('clok');
    expect(err.message).toMatch(/did you mean `clock`\?/);
    expect(thrown(() => new MigrationJournal({ store: {} as never })).option).toBe('store');
  });

  it('keeps MemoryJournalStore as an alias of InMemoryJournalStore', () => {
    expect(MemoryJournalStore).toBe(InMemoryJournalStore);
    const journal = new MigrationJournal({ store: new MemoryJournalStore(), clock: { now: () => 5 } });
    expect(journal.record('note', { message: 'hi' }).at).toBe(5);
    expect(journal.entries()).toHaveLength(1);
  });

  it('stamps entries with a clock that throws by the system time, never failing', () => {
    const journal = new MigrationJournal({
      clock: {
        now: () => {
          throw new Error('broken clock');
        },
      },
    });
    const before = Date.now();
    expect(journal.record('note').at).toBeGreaterThanOrEqual(before);
  });
});
