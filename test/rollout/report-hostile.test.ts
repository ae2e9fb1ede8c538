import { describe, expect, it } from 'vitest';
import { MemoryJournalStore, MigrationJournal, parseJournal, phases, renderChecklist, renderReport } from '../../src/index.js';
import type { JournalEntry } from '../../src/index.js';

const minute = 60_000;
const start = Date.UTC(2026, 0, 5);

/** Six weeks of one snapshot a minute, with ramp steps, approvals and a rollback in between. */
function sixWeeks(): JournalEntry[] {
  const entries: JournalEntry[] = [{ at: start, kind: 'phase', phase: 'shadow', config: phases.shadow(), percentage: 100 }];
  const total = 6 * 7 * 24 * 60;
  for (let i = 0; i < total; i++) {
    const at = start + i * minute;
    const spike = i === 30_000 ? 0.5 : 0.001 * (i % 7);
    entries.push({
      at,
      kind: 'metrics',
      data: {
        percentage: 10,
        old: { calls: 100, errorRate: 0.002, p95: 20 + (i % 5) },
        new: { calls: 10, errorRate: spike, p95: 22 },
        shadow: { compared: 50, mismatchRate: 0 },
      },
    });
    if (i % 60 === 0) entries.push({ at, kind: 'approval', approved: i % 120 === 0, percentage: 10 });
    if (i % 10_000 === 0) entries.push({ at, kind: 'step', percentage: 10 });
    if (i % 1_000 === 0) entries.push({ at, kind: 'backfill', data: { copied: i, total } });
  }
  entries.push({ at: start + 30_000 * minute, kind: 'rollback', reason: 'spike', percentage: 10 });
  return entries;
}

describe('renderReport on a long journal', () => {
  it('renders six weeks of minute snapshots (60,000+ entries) without a RangeError, with charts downsampled to a bounded size', () => {
    const entries = sixWeeks();
    expect(entries.length).toBeGreaterThan(60_000);
    const html = renderReport(entries);
    expect(html).toContain('<svg id="chart-error-rate"');
    const circles = html.match(/<circle/g)?.length ?? 0;
    expect(circles).toBeLessThan(10_000);
    expect(html.length).toBeLessThan(5_000_000);
    // the spike survives downsampling: new's error-rate series reaches the top of its axis
    const series = /<g class="series" data-series="new-error-rate" data-points="(\d+)"[^>]*>([\s\S]*?)<\/g>/.exec(html);
    expect(Number(series?.[1])).toBe(60_480);
    expect(series?.[2]).toContain('50 %');
    // markers are merged per pixel column, so their number is bounded too
    expect((html.match(/class="marker"/g)?.length ?? 0)).toBeLessThan(6_000);
  }, 60_000);

  it('renderChecklist on the same journal is fine too', () => {
    const checklist = renderChecklist(sixWeeks());
    expect(checklist).toContain('| spike |');
  }, 60_000);
});

describe('renderReport and renderChecklist on garbage entries', () => {
  const garbage: unknown[] = [
    null,
    42,
    'text',
    [],
    { at: 'yesterday', kind: 'step' },
    { at: start, kind: 'metrics', data: { percentage: 'x', old: { calls: 1, errorRate: 'high', p95: {} } } },
    { at: start, kind: 'metrics' },
    { at: start, kind: 'backfill', data: { copied: '12' } },
    { at: 1e20, kind: 'step', percentage: 5 },
    { at: start, kind: 'rollback', reason: { toString: () => 'x' }, percentage: 'all' },
    { at: start, kind: 'issue', issue: 5 },
    { at: start, kind: 'phase', phase: 'warp', percentage: -1 },
    {
      at: start,
      get kind(): string {
        throw new Error('getter');
      },
    },
    (() => {
      const { proxy, revoke } = Proxy.revocable({ at: start, kind: 'step' }, {});
      revoke();
      return proxy;
    })(),
    { at: start + minute, kind: 'step', percentage: 5 },
    { at: start + 2 * minute, kind: 'rollback', reason: `${'|'.repeat(50)}**${'*'.repeat(100_000)}`, percentage: 5 },
  ];

  it('skips what is not an entry, says how many it skipped, and renders the rest', () => {
    const html = renderReport(garbage as JournalEntry[]);
    expect(html).toContain('14 malformed journal entries skipped');
    expect(html).toContain('data-kind="step"');
    const checklist = renderChecklist(garbage as JournalEntry[]);
    expect(checklist).toContain('- [x] 5% traffic migrated');
    expect(checklist.length).toBeLessThan(20_000);
  });

  it('a journal whose store returns garbage renders as empty', () => {
    const store = new MemoryJournalStore();
    store.load = () => 'not entries' as never;
    const html = renderReport(new MigrationJournal({ store }));
    expect(html).toContain('No metrics recorded');
  });

  it('survives stats that are not numbers', () => {
    const stats = { migration: 'x', phase: 'canary', config: phases.canary(5), old: { calls: 'a' }, new: {}, shadow: {}, fallbacks: null, rollbacks: 1 };
    expect(() => renderReport([], stats as never)).not.toThrow();
  });
});

describe('parseJournal', () => {
  it('names the line and the field of a hand-edited entry with the wrong type', () => {
    const good = JSON.stringify({ at: start, kind: 'step', percentage: 5 });
    const bad = JSON.stringify({
      at: start,
      kind: 'metrics',
      data: { percentage: 5, old: { calls: 1, errorRate: 'high', p95: 1 }, new: { calls: 1, errorRate: 0, p95: 1 }, shadow: { compared: 0, mismatchRate: 0 } },
    });
    expect(() => parseJournal(`${good}\n${bad}\n`)).toThrow(/journal line 2 .*`data\.old\.errorRate`/);
    expect(() => parseJournal(`${good}\n{"at":1,"kind":"stepp"}\n`)).toThrow(/journal line 2 .*`kind`/);
    expect(() => parseJournal(`{"at":1e400,"kind":"step"}\n`)).toThrow(/journal line 1 .*`at`/);
    expect(() => parseJournal(`{"at":1,"kind":"step","percentage":"5"}\n${good}`)).toThrow(/journal line 1 .*`percentage`/);
  });

  it('reads what the journal writes, a BOM and CRLF line ends included', () => {
    const journal = new MigrationJournal({ clock: { now: () => start } });
    journal.record('phase', { phase: 'canary', config: phases.canary(5), percentage: 5, data: { shadow: { compared: 3, mismatched: 0, mismatchRate: 0 } } });
    journal.record('note', { message: 'hi', data: { anything: [1, { deep: true }] } });
    const text = `\uFEFF${journal
      .entries()
      .map((e) => JSON.stringify(e))
      .join('\r\n')}\r\n`;
    expect(parseJournal(text)).toEqual(journal.entries());
  });

  it('record() refuses an entry that would not read back, and stamps a time even when the clock is broken', () => {
    const journal = new MigrationJournal({ clock: { now: () => Number.NaN } });
    expect(() => journal.record('step', { percentage: 'five' as never })).toThrow(/`percentage`/);
    expect(() => journal.record('warp' as never)).toThrow(/`kind`/);
    const entry = journal.record('step', { percentage: 5 });
    expect(Number.isFinite(entry.at)).toBe(true);
    expect(journal.entries()).toHaveLength(1);
  });
});
