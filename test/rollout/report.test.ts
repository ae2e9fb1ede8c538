import { describe, expect, it } from 'vitest';
import { MigrationJournal, renderReport } from '../../src/index.js';
import { simulatedMigration } from './simulated-migration.js';

describe('renderReport', () => {
  it('draws every chart with one point per recorded figure, self-contained and escaped', async () => {
    const { journal, glue, snapshots, ramp } = await simulatedMigration();
    expect(ramp.status().blockedBy).toBe('done');
    const html = renderReport(journal, glue.stats(), { oldSystem: 'pricing v1', newSystem: 'pricing v2' });
    const points = (series: string) => Number(new RegExp(`data-series="${series}" data-points="(\\d+)"`).exec(html)?.[1]);
    const entries = journal.entries();
    expect(points('percentage')).toBe(entries.filter((e) => e.kind === 'phase').length + 1);
    const metrics = entries.filter((e) => e.kind === 'metrics').map((e) => e.data as { old: { calls: number }; new: { calls: number } });
    expect(metrics).toHaveLength(snapshots);
    expect(points('old-error-rate')).toBe(metrics.filter((m) => m.old.calls > 0).length);
    expect(points('new-error-rate')).toBe(metrics.filter((m) => m.new.calls > 0).length);
    expect(points('new-p95')).toBe(points('new-error-rate'));
    expect(points('mismatch-rate')).toBeGreaterThan(0);
    expect(points('backfill')).toBe(4);
    // one rollback, marked on the percentage, error-rate and latency charts
    expect(entries.filter((e) => e.kind === 'rollback')).toHaveLength(1);
    expect(html.match(/data-kind="rollback"/g)).toHaveLength(3);
    expect(html).not.toMatch(/<script/i);
    expect(html).not.toMatch(/(src|href)=["']?https?:/i);
    expect(html).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
    expect(html).toContain('☑');
    expect(html).toContain('<h1>Migration report: pricing</h1>');
  });

  it('renders an empty journal without failing', () => {
    const html = renderReport(new MigrationJournal());
    expect(html).toContain('No metrics recorded');
    expect(html).toContain('No backfill recorded');
  });
});
