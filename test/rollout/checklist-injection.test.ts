import { describe, expect, it } from 'vitest';
import { MigrationJournal, renderChecklist, renderReport } from '../../src/index.js';
import { ManualClock } from '../../src/testing/index.js';

// Option text and journal text are placed in the checklist's Markdown: they
// must never add a line, a heading or a ticked box, and the HTML report must
// show them as given.

function journalWithRollback(reason: string): MigrationJournal {
  const journal = new MigrationJournal({ clock: new ManualClock() });
  journal.record('phase', { migration: 'm', phase: 'canary', percentage: 10 });
  journal.record('rollback', { migration: 'm', percentage: 10, reason });
  return journal;
}

function preparedJournal(): MigrationJournal {
  const journal = new MigrationJournal({ clock: new ManualClock() });
  journal.record('phase', { migration: 'm', phase: 'preparation', percentage: 0 });
  return journal;
}

const tickedBoxes = (markdown: string) => markdown.split('\n').filter((line) => line.startsWith('- [x]'));

const hostile = {
  name: '# pricing\n- [x] No rollbacks triggered\r\n## Phase 4: Full Migration',
  oldSystem: 'v1\n- [x] Team briefed',
  newSystem: '> v2\n1. [x] Glue layer removed',
  owner: '1. ops\u2028- [x] Team briefed',
  stakeholders: ['- a', '* b\n- [x] Retrospective completed', '[c](x) | d \\'],
  targetCompletion: '+ soon #',
};

describe('renderChecklist with hostile option text', () => {
  it('a name with a newline cannot add a ticked box to the checklist', () => {
    const journal = preparedJournal();
    const honest = tickedBoxes(renderChecklist(journal, { name: 'pricing' }));
    const forged = tickedBoxes(renderChecklist(journal, { name: 'pricing\n- [x] No rollbacks triggered\n- [x] 100% traffic on new system' }));
    expect(forged).toEqual(honest);
  });

  it('an owner, a stakeholder or a target date with a newline cannot add headings or ticked boxes', () => {
    const journal = preparedJournal();
    const out = renderChecklist(journal, {
      owner: 'ops\n## Phase 4: Full Migration\n- [x] 2-week observation period',
      stakeholders: ['a\n- [x] Retrospective completed'],
      targetCompletion: 'soon\n- [x] Old system decommissioned',
    });
    expect(tickedBoxes(out)).toEqual(tickedBoxes(renderChecklist(journal)));
    expect(out.split('\n').filter((l) => l === '## Phase 4: Full Migration')).toHaveLength(1);
  });

  it('every option keeps the checklist to its own lines: same line count, headings and boxes as without options', () => {
    const journal = preparedJournal();
    const plain = renderChecklist(journal).split('\n');
    const out = renderChecklist(journal, hostile).split('\n');
    expect(out).toHaveLength(plain.length);
    const structure = (lines: string[]) => lines.map((l) => /^(#+ |- \[[x ]\] |\|)/.exec(l)?.[0] ?? l.slice(0, 2));
    expect(structure(out)).toEqual(structure(plain));
    expect(out.filter((l) => /^#{1,6} /.test(l)).slice(1)).toEqual(plain.filter((l) => /^#{1,6} /.test(l)).slice(1));
  });

  it('escapes text that would start a block or close a heading, and keeps the text itself', () => {
    const out = renderChecklist(preparedJournal(), hostile);
    expect(out.split('\n')[0]).toBe('# Migration: \\# pricing - [x] No rollbacks triggered ## Phase 4: Full Migration (v1 - [x] Team briefed → \\> v2 1. [x] Glue layer removed)');
    expect(out).toContain('- **Owner:** 1\\. ops - [x] Team briefed');
    expect(out).toContain('- **Stakeholders:** \\- a, \\* b - [x] Retrospective completed, \\[c](x) \\| d \\\\');
    expect(out).toContain('- **Target Completion:** \\+ soon \\#');
  });

  it('leaves ordinary names as they are', () => {
    const out = renderChecklist(preparedJournal(), { name: 'pricing v2.1', oldSystem: 'pricing-v1', newSystem: 'pricing (v2)', owner: 'Ana', stakeholders: ['Bo', 'Cy'], targetCompletion: '2025-01-31' });
    expect(out.split('\n')[0]).toBe('# Migration: pricing v2.1 (pricing-v1 → pricing (v2))');
    expect(out).toContain('- **Owner:** Ana');
    expect(out).toContain('- **Stakeholders:** Bo, Cy');
    expect(out).toContain('- **Target Completion:** 2025-01-31');
  });

  it('a rollback reason with newlines, pipes and a leading dash stays in its one row of four cells', () => {
    const markdown = renderChecklist(journalWithRollback('- [x] a|b\n## h'));
    const row = markdown.split('\n').find((line) => line.includes('a\\|b')) as string;
    expect(row.slice(1, -1).split(/(?<!\\)\|/)).toHaveLength(4);
    expect(markdown.split('\n').filter((l) => l === '## h')).toHaveLength(0);
  });

  it('a rollback reason ending in a backslash keeps its Rollback Log row at four cells', () => {
    const markdown = renderChecklist(journalWithRollback('disk full C:\\'));
    const row = markdown.split('\n').find((line) => line.includes('disk full')) as string;
    // GFM: a pipe preceded by a backslash is not a cell separator
    const cells = row.slice(1, -1).split(/(?<!\\)\|/);
    expect(cells).toHaveLength(4);
    expect(cells[3]?.trim()).toBe('ongoing');
  });
});

describe('renderReport with hostile text', () => {
  it('in the HTML report, a rollback reason ending in a backslash keeps the Duration cell', () => {
    const html = renderReport(journalWithRollback('disk full C:\\'));
    const row = html.split('\n').find((line) => line.startsWith('<tr>') && line.includes('disk full')) as string;
    expect(row.match(/<td>/g)).toHaveLength(4);
    expect(row).toContain('<td>ongoing</td>');
    expect(row).toContain('<td>disk full C:\\</td>');
  });

  it('the HTML report escapes a hostile name and reason (no raw tag)', () => {
    const journal = journalWithRollback('<img src=x onerror=alert(1)>');
    const html = renderReport(journal, undefined, { name: '<script>alert(1)</script>', owner: '"><svg onload=alert(1)>' });
    expect(html).not.toContain('<script>alert');
    expect(html).not.toContain('<img src=x');
    expect(html).not.toContain('<svg onload');
  });

  it('shows hostile option text as given (newlines as spaces), without the Markdown escapes, and adds no ticked item', () => {
    const journal = journalWithRollback('- [x] a|b\\c\n## h #');
    const honest = renderReport(journal);
    const html = renderReport(journal, undefined, hostile);
    const done = (page: string) => page.match(/<li class="done">/g)?.length ?? 0;
    expect(done(html)).toBe(done(honest));
    expect(html).toContain('<h3>Migration: # pricing - [x] No rollbacks triggered ## Phase 4: Full Migration (v1 - [x] Team briefed → &gt; v2 1. [x] Glue layer removed)</h3>');
    expect(html).toContain('<li><strong>Owner:</strong> 1. ops - [x] Team briefed</li>');
    expect(html).toContain('<li><strong>Stakeholders:</strong> - a, * b - [x] Retrospective completed, [c](x) | d \\</li>');
    expect(html).toContain('<li><strong>Target Completion:</strong> + soon #</li>');
    expect(html).toContain('<td>- [x] a|b\\c ## h #</td>');
  });
});
