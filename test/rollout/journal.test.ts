import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { FileJournalStore, InMemoryConfigStore, MigrationGlue, MigrationJournal, parseJournal, phases, renderChecklist } from '../../src/index.js';
import { ManualClock } from '../../src/testing/index.js';
import { recordingLogger } from '../helpers.js';

const dirs: string[] = [];
function tempFile(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'journal-'));
  dirs.push(dir);
  return path.join(dir, 'journal.jsonl');
}
afterEach(() => {
  for (const dir of dirs.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
});

describe('FileJournalStore', () => {
  it('appends JSON lines and reads them back', () => {
    const file = tempFile();
    const journal = new MigrationJournal({ store: new FileJournalStore(file), clock: new ManualClock({ start: 1_000 }) });
    journal.record('step', { percentage: 5 });
    journal.issue('timeouts at 5 %', { resolution: 'raised pool size', owner: 'payments team' });
    const again = new MigrationJournal({ store: new FileJournalStore(file) });
    expect(again.entries()).toEqual([
      { at: 1_000, kind: 'step', percentage: 5 },
      { at: 1_000, kind: 'issue', issue: 'timeouts at 5 %', resolution: 'raised pool size', owner: 'payments team' },
    ]);
    expect(fs.readFileSync(file, 'utf8').split('\n')).toHaveLength(3);
  });

  it('survives a crash mid-append: the torn last line is ignored, then cut before the next append', () => {
    const file = tempFile();
    const store = new FileJournalStore(file);
    store.append({ at: 1, kind: 'step', percentage: 1 });
    fs.appendFileSync(file, '{"at":2,"kind":"st');
    expect(store.load()).toEqual([{ at: 1, kind: 'step', percentage: 1 }]);
    store.append({ at: 3, kind: 'step', percentage: 5 });
    expect(store.load().map((e) => e.at)).toEqual([1, 3]);
  });

  it('refuses a malformed line in the middle, naming its number', () => {
    expect(() => parseJournal('{"at":1,"kind":"step"}\nnot json\n{"at":2,"kind":"step"}\n')).toThrow(/line 2 is not valid JSON/);
    expect(() => parseJournal('{"at":1}\n')).toThrow(/line 1 is not a journal entry/);
  });

  it('reads a missing file as an empty journal and refuses an empty path', () => {
    expect(new FileJournalStore(tempFile()).load()).toEqual([]);
    expect(() => new FileJournalStore('')).toThrow(/`path`/);
  });
});

describe('MigrationJournal.attach', () => {
  it('records phase changes with the shadow summary, and rollbacks with the percentage in force', async () => {
    const clock = new ManualClock({ start: 1_700_000_000_000 });
    const store = new InMemoryConfigStore(phases.shadow());
    const glue = new MigrationGlue<{ userId: string }, number>({
      name: 'm',
      clock,
      config: store,
      logger: recordingLogger(),
      oldService: async () => 1,
      newService: async () => 2,
    });
    const journal = new MigrationJournal({ clock });
    const stop = journal.attach(glue);
    await glue.process({ userId: 'a' });
    await glue.drain();
    await store.save(phases.canary(10));
    await glue.rollback('too slow');
    stop();
    await store.save(phases.canary(1));
    const entries = journal.entries();
    expect(entries.map((e) => [e.kind, e.phase ?? e.reason])).toEqual([
      ['phase', 'shadow'],
      ['phase', 'canary'],
      ['rollback', 'too slow'],
      ['phase', 'preparation'],
    ]);
    expect(entries[1]?.data).toEqual({ shadow: { compared: 1, mismatched: 1, mismatchRate: 1 } });
    expect(entries[2]?.percentage).toBe(10);
  });
});

describe('renderChecklist', () => {
  it('ticks items checked by hand and fills the issues log', () => {
    const journal = new MigrationJournal({ clock: new ManualClock({ start: Date.UTC(2026, 2, 1) }) });
    journal.check('Team briefed');
    journal.issue('p95 | spikes', { resolution: 'index added', owner: 'db team' });
    const checklist = renderChecklist(journal, { owner: 'Payments', stakeholders: ['Checkout', 'Finance'], targetCompletion: Date.UTC(2026, 3, 1) });
    expect(checklist).toContain('- [x] Team briefed');
    expect(checklist).toContain('- [ ] Glue layer implemented');
    expect(checklist).toContain('- **Owner:** Payments');
    expect(checklist).toContain('- **Stakeholders:** Checkout, Finance');
    expect(checklist).toContain('- **Target Completion:** 2026-04-01');
    expect(checklist).toContain('| 2026-03-01 | p95 \\| spikes | index added | db team |');
    expect(checklist).toContain('## Rollback Log\n| Date | Percentage | Reason | Duration |\n|------|------------|--------|----------|\n| | | | |');
  });
});
