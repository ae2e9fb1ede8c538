import type { MigrationStats } from '../core/stats.js';
import type { ChecklistOptions } from './checklist.js';
import { renderChecklist, unescapeMarkdown } from './checklist.js';
import type { RollbackCriteria } from './criteria.js';
import { defaultRollbackCriteria, percent } from './criteria.js';
import type { JournalEntry, MetricsSnapshot, MigrationJournal } from './journal.js';
import { validEntries } from './journal-schema.js';
import type { ChartMarker, ChartSeries } from './svg-chart.js';
import { escapeHtml, lineChart } from './svg-chart.js';

/** Options of renderReport. */
export interface ReportOptions extends ChecklistOptions {
  /** @default 'Migration report' plus the migration's name */
  readonly title?: string;
  /** The limits drawn on the charts. @default defaultRollbackCriteria */
  readonly criteria?: Partial<RollbackCriteria>;
}

const colors = { old: '#7f8c8d', new: '#2e86de', limit: '#c0392b', step: '#2e86de', approval: '#8e44ad', refused: '#e67e22', rollback: '#c0392b', resume: '#27ae60', complete: '#27ae60' };

/**
 * The migration's story as one self-contained HTML page: inline SVG charts
 * and CSS, no script, font or network request, readable with JavaScript off.
 * Charts: the percentage on new over time with steps, approvals and
 * rollbacks marked; error rate and P95 per arm against the criteria (from
 * `journal.snapshot()` entries); the shadow mismatch rate; backfill
 * progress; then the filled checklist and, when given, the final stats.
 */
export function renderReport(journal: MigrationJournal | readonly JournalEntry[], stats?: MigrationStats, options: ReportOptions = {}): string {
  const raw: unknown = Array.isArray(journal) ? journal : (journal as MigrationJournal).entries();
  // A journal may come from a hand-edited file or a user's store: only valid entries are drawn.
  const { entries, skipped } = validEntries(raw);
  const criteria = { ...defaultRollbackCriteria, ...options.criteria };
  const name = (typeof stats?.migration === 'string' ? stats.migration : undefined) ?? entries.find((e) => e.migration !== undefined)?.migration ?? 'migration';
  const title = options.title ?? `Migration report: ${name}`;
  const domain = timeRange(entries);
  const span = domain[1] - domain[0];
  const formatX = (x: number) => isoTime(x, span > 2 * 86_400_000 ? 'date' : 'time');
  const snapshots = entries.filter((e) => e.kind === 'metrics' && e.data !== undefined).map((e) => ({ at: e.at, m: e.data as unknown as MetricsSnapshot }));
  const markers = markersOf(entries);

  const sections = [
    section(
      'Traffic on new',
      lineChart({
        id: 'chart-percentage',
        title: 'Percentage of keys on new',
        series: [{ id: 'percentage', label: '% on new', color: colors.new, points: percentagePoints(entries), step: true }],
        markers,
        formatY: (y) => `${Number(y.toFixed(1))} %`,
        formatX,
        xDomain: domain,
        yMax: 100,
      }),
    ),
    snapshots.length === 0
      ? section('Error rate and latency', '<p class="empty">No metrics recorded: call <code>journal.snapshot(glue)</code> while the migration runs.</p>')
      : section(
          'Error rate and latency',
          lineChart({
            id: 'chart-error-rate',
            title: 'Error rate per arm (sliding window)',
            series: [
              armSeries('old-error-rate', 'old', snapshots, (m) => m.old.calls > 0, (m) => m.old.errorRate),
              armSeries('new-error-rate', 'new', snapshots, (m) => m.new.calls > 0, (m) => m.new.errorRate),
            ],
            markers,
            thresholds: [{ y: criteria.maxErrorRate, label: `limit ${percent(criteria.maxErrorRate)}` }],
            formatY: percent,
            formatX,
            xDomain: domain,
          }) +
            lineChart({
              id: 'chart-p95',
              title: 'P95 latency per arm (sliding window)',
              series: [
                armSeries('old-p95', 'old', snapshots, (m) => m.old.calls > 0, (m) => m.old.p95),
                armSeries('new-p95', 'new', snapshots, (m) => m.new.calls > 0, (m) => m.new.p95),
                {
                  ...armSeries('p95-limit', 'old', snapshots, (m) => m.old.calls > 0, (m) => m.old.p95 * criteria.maxP95Ratio),
                  label: `limit: ${criteria.maxP95Ratio}× old`,
                  color: colors.limit,
                  dashed: true,
                },
              ],
              markers,
              formatY: (y) => `${Number(y.toFixed(2))} ms`,
              formatX,
              xDomain: domain,
            }) +
            lineChart({
              id: 'chart-mismatch',
              title: 'Shadow mismatch rate (sliding window)',
              series: [
                {
                  id: 'mismatch-rate',
                  label: 'mismatch rate',
                  color: colors.new,
                  points: snapshots.filter(({ m }) => m.shadow.compared > 0).map(({ at, m }) => ({ x: at, y: m.shadow.mismatchRate })),
                },
              ],
              thresholds: [{ y: criteria.maxMismatchRate, label: `limit ${percent(criteria.maxMismatchRate)}` }],
              formatY: percent,
              formatX,
              xDomain: domain,
            }),
        ),
    backfillSection(entries, formatX),
    section('Checklist', markdownToHtml(renderChecklist(entries, options))),
    stats === undefined ? '' : section('Final figures', statsTable(stats)),
  ];

  return [
    '<!doctype html>',
    '<html lang="en"><head><meta charset="utf-8">',
    '<meta name="viewport" content="width=device-width, initial-scale=1">',
    `<title>${escapeHtml(title)}</title>`,
    `<style>${css}</style>`,
    '</head><body>',
    `<h1>${escapeHtml(title)}</h1>`,
    `<p class="meta">${entries.length} journal entries${entries.length > 0 ? `, ${formatX(domain[0])} to ${formatX(domain[1])}` : ''}${skipped > 0 ? `; ${skipped} malformed journal entries skipped` : ''}. Markers: <span style="color:${colors.step}">step</span>, <span style="color:${colors.approval}">approval</span>, <span style="color:${colors.rollback}">rollback</span>, <span style="color:${colors.resume}">resume</span>.</p>`,
    ...sections,
    '</body></html>',
    '',
  ].join('\n');
}

function section(heading: string, body: string): string {
  return `<section><h2>${escapeHtml(heading)}</h2>${body}</section>`;
}

function percentagePoints(entries: readonly JournalEntry[]): { x: number; y: number }[] {
  const points: { x: number; y: number }[] = [];
  for (const entry of entries) {
    if (entry.kind === 'phase') {
      const on = entry.phase === 'canary' || entry.phase === 'full' ? (entry.percentage ?? 0) : 0;
      points.push({ x: entry.at, y: on });
    }
  }
  const last = entries.at(-1);
  const lastPoint = points.at(-1);
  if (last !== undefined && lastPoint !== undefined && last.at > lastPoint.x) points.push({ x: last.at, y: lastPoint.y });
  return points;
}

function markersOf(entries: readonly JournalEntry[]): ChartMarker[] {
  const markers: ChartMarker[] = [];
  for (const e of entries) {
    if (e.kind === 'step') markers.push({ x: e.at, kind: 'step', label: `step to ${e.percentage} %`, color: colors.step });
    else if (e.kind === 'approval') {
      markers.push({
        x: e.at,
        kind: 'approval',
        label: `${e.approved ? 'approved' : 'refused'}: ${e.percentage} %`,
        color: e.approved ? colors.approval : colors.refused,
      });
    } else if (e.kind === 'rollback') markers.push({ x: e.at, kind: 'rollback', label: `rollback from ${e.percentage} %: ${e.reason ?? ''}`, color: colors.rollback });
    else if (e.kind === 'resume') markers.push({ x: e.at, kind: 'resume', label: 'resumed', color: colors.resume });
    else if (e.kind === 'complete') markers.push({ x: e.at, kind: 'complete', label: 'ramp complete', color: colors.complete });
  }
  return markers;
}

function armSeries(
  id: string,
  arm: 'old' | 'new',
  snapshots: readonly { at: number; m: MetricsSnapshot }[],
  include: (m: MetricsSnapshot) => boolean,
  value: (m: MetricsSnapshot) => number,
): ChartSeries {
  return {
    id,
    label: arm,
    color: colors[arm],
    points: snapshots.filter(({ m }) => include(m)).map(({ at, m }) => ({ x: at, y: value(m) })),
  };
}

function backfillSection(entries: readonly JournalEntry[], formatX: (x: number) => string): string {
  const progress = entries.filter((e) => e.kind === 'backfill' && typeof e.data?.copied === 'number');
  if (progress.length === 0) return section('Backfill', '<p class="empty">No backfill recorded.</p>');
  const total = progress.map((e) => e.data?.total).find((t): t is number => typeof t === 'number');
  const points = progress.map((e) => ({ x: e.at, y: e.data?.copied as number }));
  return section(
    'Backfill',
    lineChart({
      id: 'chart-backfill',
      title: 'Rows copied',
      series: [{ id: 'backfill', label: 'rows copied', color: colors.new, points }],
      thresholds: total === undefined ? [] : [{ y: total, label: `${total} rows` }],
      formatY: (y) => String(Math.round(y)),
      formatX,
    }),
  );
}

function statsTable(stats: MigrationStats): string {
  // Read defensively: a figure that is not a finite number prints as a dash, never breaks the page.
  const s = stats as unknown as Record<string, unknown>;
  const field = (value: unknown, key: string): unknown => (typeof value === 'object' && value !== null ? (value as Record<string, unknown>)[key] : undefined);
  const num = (value: unknown, digits?: number) =>
    typeof value === 'number' && Number.isFinite(value) ? (digits === undefined ? String(value) : value.toFixed(digits)) : '–';
  const row = (label: string, arm: unknown) =>
    `<tr><th>${label}</th><td>${num(field(arm, 'calls'))}</td><td>${typeof field(arm, 'errorRate') === 'number' && Number.isFinite(field(arm, 'errorRate')) ? percent(field(arm, 'errorRate') as number) : '–'}</td><td>${num(field(arm, 'p50'), 2)} ms</td><td>${num(field(arm, 'p95'), 2)} ms</td><td>${num(field(arm, 'p99'), 2)} ms</td></tr>`;
  return [
    '<table><thead><tr><th></th><th>calls</th><th>error rate</th><th>p50</th><th>p95</th><th>p99</th></tr></thead><tbody>',
    row('old', s.old),
    row('new', s.new),
    '</tbody></table>',
    `<p>Phase ${escapeHtml(String(s.phase))}, ${num(field(s.config, 'newSystemPercentage'))} % configured; ${num(s.fallbacks)} fallbacks, ${num(s.rollbacks)} rollbacks; shadow compared ${num(field(s.shadow, 'compared'))}, mismatched ${num(field(s.shadow, 'mismatched'))}.</p>`,
  ].join('');
}

/** The first and last time in the journal, by a loop (a spread over a long journal overflows the stack). */
function timeRange(entries: readonly JournalEntry[]): [number, number] {
  let min = Number.POSITIVE_INFINITY;
  let max = Number.NEGATIVE_INFINITY;
  for (const entry of entries) {
    if (entry.at < min) min = entry.at;
    if (entry.at > max) max = entry.at;
  }
  return min <= max ? [min, max] : [0, 1];
}

/** A time as `YYYY-MM-DD` or `hh:mm:ss` (UTC); empty when it is not a time a Date can hold. */
function isoTime(x: number, part: 'date' | 'time'): string {
  const date = new Date(x);
  if (Number.isNaN(date.getTime())) return '';
  const iso = date.toISOString();
  return part === 'date' ? iso.slice(0, 10) : iso.slice(11, 19);
}

/** Converts the checklist's Markdown (headings, task lists, bold, tables) to HTML. */
function markdownToHtml(markdown: string): string {
  const out: string[] = [];
  let list = false;
  let table: string[][] = [];
  // The checklist escapes the text it was given (see `inline` there): shown as given.
  const inline = (text: string) => escapeHtml(unescapeMarkdown(text)).replace(/\*\*(.+?)\*\*/g, '<strong>$1</strong>');
  const flush = () => {
    if (list) out.push('</ul>');
    list = false;
    if (table.length > 0) {
      const head = table[0] ?? [];
      out.push(`<table><thead><tr>${head.map((c) => `<th>${inline(c)}</th>`).join('')}</tr></thead><tbody>`);
      // Row by row, not push(...rows): a spread of a long table would overflow the stack.
      for (let i = 2; i < table.length; i++) out.push(`<tr>${(table[i] as string[]).map((c) => `<td>${inline(c)}</td>`).join('')}</tr>`);
      out.push('</tbody></table>');
    }
    table = [];
  };
  for (const line of markdown.split('\n')) {
    const heading = /^(#{1,3}) (.*)$/.exec(line);
    const task = /^- \[( |x)\] (.*)$/.exec(line);
    const item = /^- (.*)$/.exec(line);
    if (line.startsWith('|')) {
      if (list) flush();
      table.push(line.slice(1, -1).split(/(?<!\\)\|/).map((c) => c.trim()));
      continue;
    }
    if (task !== null || item !== null) {
      if (table.length > 0) flush();
      if (!list) out.push('<ul class="checklist">');
      list = true;
      out.push(
        task !== null
          ? `<li class="${task[1] === 'x' ? 'done' : 'todo'}"><span class="box">${task[1] === 'x' ? '☑' : '☐'}</span> ${inline(task[2] ?? '')}</li>`
          : `<li>${inline(item?.[1] ?? '')}</li>`,
      );
      continue;
    }
    flush();
    if (heading !== null) {
      const level = Math.min(6, (heading[1]?.length ?? 1) + 2);
      out.push(`<h${level}>${inline(heading[2] ?? '')}</h${level}>`);
    } else if (line.trim() !== '') out.push(`<p>${inline(line)}</p>`);
  }
  flush();
  return out.join('\n');
}

const css = `
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; color: #222; max-width: 820px; margin: 2em auto; padding: 0 1em; }
h1 { font-size: 1.6em; margin-bottom: 0.2em; } h2 { border-bottom: 1px solid #ddd; padding-bottom: 0.2em; margin-top: 1.6em; }
.meta, .empty { color: #666; } figure { margin: 1em 0; } figcaption { font-weight: 600; margin-bottom: 0.3em; }
svg.chart { max-width: 100%; height: auto; background: #fff; border: 1px solid #eee; }
.legend { font-size: 12px; color: #444; } .key { margin-right: 1em; } .swatch { display: inline-block; width: 10px; height: 10px; margin-right: 4px; vertical-align: middle; }
ul.checklist { list-style: none; padding-left: 0.5em; } li.done { color: #1e7b34; } li.todo { color: #555; } .box { font-size: 1.1em; }
table { border-collapse: collapse; margin: 0.6em 0; } th, td { border: 1px solid #ddd; padding: 3px 8px; text-align: left; }
`;
