import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { renderChecklist } from '../../src/index.js';
import type { JournalEntry } from '../../src/index.js';

const at = Date.UTC(2026, 4, 2);
const day = 86_400_000;
const boxes = [1, 5, 10, 25, 50, 90] as const;
const ticked = (text: string, p: number) => text.includes(`- [x] ${p}% traffic migrated`);

describe('the checklist ticks only what the journal shows', () => {
  it('10 % straight to full ticks 10 % and full, not 25, 50 or 90 %', () => {
    const text = renderChecklist([
      { at, kind: 'step', percentage: 10 },
      { at: at + day, kind: 'step', percentage: 100 },
    ] as JournalEntry[]);
    expect(ticked(text, 10)).toBe(true);
    for (const p of [1, 5, 25, 50, 90]) expect(ticked(text, p), `${p} %`).toBe(false);
    expect(text).toContain('- [x] 100% traffic on new system');
  });

  it('property: a box is ticked iff a percentage held lies between it and the next box', () => {
    fc.assert(
      fc.property(fc.uniqueArray(fc.integer({ min: 1, max: 99 }), { maxLength: 8 }), fc.boolean(), (held, full) => {
        const entries = held.map((percentage, i) => ({ at: at + i, kind: 'step', percentage }));
        if (full) entries.push({ at: at + 100, kind: 'step', percentage: 100 });
        const text = renderChecklist(entries as JournalEntry[]);
        boxes.forEach((p, i) => {
          const upper = boxes[i + 1] ?? 100;
          expect(ticked(text, p)).toBe(held.some((q) => q >= p && q < upper));
        });
      }),
    );
  });

  it('discrepancies are judged on the latest shadow window, not on the lifetime summary', () => {
    const entries = [
      { at, kind: 'metrics', data: { percentage: 100, old: { calls: 1, errorRate: 0, p95: 1 }, new: { calls: 1, errorRate: 0, p95: 1 }, shadow: { compared: 500, mismatchRate: 0.2 } } },
      // the bug is fixed: 0 mismatches over 20,000 comparisons in the latest window
      { at: at + day, kind: 'metrics', data: { percentage: 100, old: { calls: 1, errorRate: 0, p95: 1 }, new: { calls: 1, errorRate: 0, p95: 1 }, shadow: { compared: 20_000, mismatchRate: 0 } } },
      // shadow ends; the summary counts every comparison, the bug's included
      { at: at + 2 * day, kind: 'phase', phase: 'canary', percentage: 1, data: { shadow: { compared: 20_500, mismatched: 100, mismatchRate: 0.0049 } } },
    ] as JournalEntry[];
    expect(renderChecklist(entries)).toContain('- [x] Discrepancies < 0.1%');
    const worse = [...entries.slice(0, 1), entries[2]] as JournalEntry[];
    expect(renderChecklist(worse)).toContain('- [ ] Discrepancies < 0.1%');
    // Without any window, the summary decides.
    expect(renderChecklist([entries[2]] as JournalEntry[])).toContain('- [ ] Discrepancies < 0.1%');
  });

  it('the header carries the names given, and placeholders only for what is not given', () => {
    const entries = [{ at, kind: 'step', percentage: 1 }] as JournalEntry[];
    const named = renderChecklist(entries, { name: 'pricing', oldSystem: 'pricing v1', newSystem: 'pricing v2', owner: 'Team Pricing', targetCompletion: '2026-06-30' });
    expect(named).toContain('# Migration: pricing (pricing v1 → pricing v2)');
    expect(named).toContain('- **Owner:** Team Pricing');
    expect(named).toContain('- **Target Completion:** 2026-06-30');
    expect(named).toContain('- **Start Date:** 2026-05-02');
    for (const placeholder of ['[Old System]', '[New System]', '[Name]', 'YYYY-MM-DD']) expect(named).not.toContain(placeholder);
    expect(renderChecklist(entries, { name: 'pricing' })).toContain('# Migration: pricing\n');
    expect(renderChecklist(entries)).toContain('# Migration: [Old System] → [New System]');
  });
});
