import type { JournalEntry, MigrationJournal } from './journal.js';
import { validEntries } from './journal-schema.js';

/** What the journal cannot know: names and dates for the checklist's overview. */
export interface ChecklistOptions {
  /** The migration's name, shown in the title. */
  readonly name?: string;
  readonly oldSystem?: string;
  readonly newSystem?: string;
  readonly owner?: string;
  readonly stakeholders?: readonly string[];
  /** Target completion date, as text or a time in ms. */
  readonly targetCompletion?: string | number;
  /** The grace period at 100 % counted as the observation period. @default 14 days */
  readonly graceMs?: number;
  /** Figures the journal does not hold, e.g. `{ 'Baseline metrics captured': true }`, ticking items by their text. */
  readonly ticked?: Readonly<Record<string, boolean>>;
}

const day = 24 * 60 * 60 * 1000;
/** Rows of the Rollback and Issues logs shown at most (the latest); the journal keeps them all. */
const maxRows = 500;
/** Characters of a log cell shown at most. */
const maxCell = 500;
const canarySteps = [1, 5, 10, 25, 50, 90] as const;

/**
 * The workflow's migration checklist as Markdown, with boxes ticked from
 * what the journal shows (and items ticked by hand with `journal.check`),
 * dates from the journal, and the Rollback Log and Issues Log filled.
 */
export function renderChecklist(journal: MigrationJournal | readonly JournalEntry[], options: ChecklistOptions = {}): string {
  const raw: unknown = Array.isArray(journal) ? journal : (journal as MigrationJournal).entries();
  // A journal may come from a hand-edited file or a user's store: only valid entries count.
  const { entries, skipped } = validEntries(raw);
  const facts = factsOf(entries, options.graceMs ?? 14 * day);
  const manual = new Set(entries.filter((e) => e.kind === 'check' && e.item !== undefined).map((e) => normalise(e.item as string)));
  const box = (item: string, auto = false) => {
    const done = auto || manual.has(normalise(item)) || options.ticked?.[item] === true;
    return `- [${done ? 'x' : ' '}] ${item}`;
  };
  // A box stands for a percentage the journal shows was held: from it up to the next box (10 % straight to full ticks neither 25, 50 nor 90).
  const held = (p: number) => {
    const upper = canarySteps.find((q) => q > p) ?? 100;
    return [...facts.canaries].some((q) => q >= p && q < upper);
  };
  const name = options.name === undefined ? undefined : inline(String(options.name));
  const target = options.targetCompletion;

  const lines = [
    title(name, options),
    '',
    '## Overview',
    `- **Start Date:** ${facts.start === undefined ? 'YYYY-MM-DD' : date(facts.start)}`,
    `- **Target Completion:** ${target === undefined ? 'YYYY-MM-DD' : typeof target === 'number' ? date(target) : inline(String(target))}`,
    `- **Owner:** ${options.owner === undefined ? '[Name]' : inline(String(options.owner))}`,
    `- **Stakeholders:** ${Array.isArray(options.stakeholders) ? options.stakeholders.map((s) => inline(String(s))).join(', ') : '[Names]'}`,
    '',
    '## Pre-Migration',
    box('New system implemented and tested', facts.shadow || facts.canaries.size > 0 || facts.full),
    box('Glue layer implemented', facts.attached),
    box('Monitoring dashboards ready'),
    box('Rollback procedure documented'),
    box('Team briefed'),
    '',
    '## Phase 1: Preparation',
    box('Glue layer deployed (100% old)', facts.attached),
    box('Behavior verified unchanged'),
    box('Baseline metrics captured'),
    '',
    '## Phase 2: Shadow Mode',
    box('Dual-write enabled'),
    box('Comparison logging active', facts.shadow),
    box('Discrepancies < 0.1%', facts.shadowMismatchRate !== undefined && facts.shadowMismatchRate < 0.001),
    '',
    '## Phase 3: Canary',
    ...canarySteps.map((p) => box(`${p}% traffic migrated`, held(p))),
    '',
    '## Phase 4: Full Migration',
    box('100% traffic on new system', facts.full),
    box('2-week observation period', facts.complete),
    box('No rollbacks triggered', facts.full && facts.rollbacks.length === 0),
    '',
    '## Phase 5: Cleanup',
    box('Old system decommissioned'),
    box('Glue layer removed'),
    box('Documentation archived'),
    box('Retrospective completed'),
    '',
    '## Rollback Log',
    '| Date | Percentage | Reason | Duration |',
    '|------|------------|--------|----------|',
    ...rows(facts.rollbacks, (r) => `| ${date(r.at)} | ${r.percentage}% | ${cell(r.reason)} | ${r.durationMs === undefined ? 'ongoing' : duration(r.durationMs)} |`),
    '',
    '## Issues Log',
    '| Date | Issue | Resolution | Owner |',
    '|------|-------|------------|-------|',
    ...rows(facts.issues, (i) => `| ${date(i.at)} | ${cell(i.issue ?? '')} | ${cell(i.resolution ?? '')} | ${cell(i.owner ?? '')} |`),
    '',
  ];
  if (skipped > 0) lines.push(`Note: ${skipped} malformed journal entries were skipped.`, '');
  return lines.join('\n');
}

/** The title: the names given (`name` made inline already), placeholders only for what is not known. */
function title(name: string | undefined, options: ChecklistOptions): string {
  const system = (given: string | undefined, placeholder: string) => (given === undefined ? placeholder : inline(String(given)));
  const systems = options.oldSystem !== undefined || options.newSystem !== undefined || name === undefined
    ? `${system(options.oldSystem, '[Old System]')} → ${system(options.newSystem, '[New System]')}`
    : undefined;
  if (name === undefined) return `# Migration: ${systems}`;
  return systems === undefined ? `# Migration: ${name}` : `# Migration: ${name} (${systems})`;
}

interface Facts {
  start: number | undefined;
  attached: boolean;
  shadow: boolean;
  /** The mismatch rate of the latest shadow window (a `metrics` entry), else of the summary recorded when shadow ended. */
  shadowMismatchRate: number | undefined;
  /** Canary percentages the journal shows were held. */
  canaries: Set<number>;
  full: boolean;
  complete: boolean;
  rollbacks: { at: number; percentage: number; reason: string; durationMs: number | undefined }[];
  issues: JournalEntry[];
}

function factsOf(entries: readonly JournalEntry[], graceMs: number): Facts {
  const facts: Facts = {
    start: entries[0]?.at,
    attached: false,
    shadow: false,
    shadowMismatchRate: undefined,
    canaries: new Set(),
    full: false,
    complete: false,
    rollbacks: [],
    issues: [],
  };
  let fullSince: number | undefined;
  let openRollback: Facts['rollbacks'][number] | undefined;
  // A window shows the shadow as it is now; a summary counts every comparison since shadow began, a bug fixed since included.
  let windowRate: number | undefined;
  let summaryRate: number | undefined;
  for (const entry of entries) {
    if (entry.kind === 'metrics') {
      const shadow = entry.data?.shadow as { compared?: number; mismatchRate?: number } | undefined;
      if (shadow?.mismatchRate !== undefined && (shadow.compared ?? 0) > 0) windowRate = shadow.mismatchRate;
    } else if (entry.kind === 'phase') {
      facts.attached = true;
      const shadowSummary = entry.data?.shadow as { mismatchRate?: number; compared?: number } | undefined;
      if (shadowSummary?.mismatchRate !== undefined && (shadowSummary.compared ?? 0) > 0) summaryRate = shadowSummary.mismatchRate;
      if (entry.phase === 'shadow') facts.shadow = true;
      if (entry.phase !== 'preparation') {
        if (openRollback !== undefined) {
          openRollback.durationMs = entry.at - openRollback.at;
          openRollback = undefined;
        }
      }
      if (entry.phase === 'canary' && entry.percentage !== undefined) facts.canaries.add(entry.percentage);
      if (entry.phase === 'full') {
        facts.full = true;
        fullSince = entry.at;
      } else fullSince = undefined;
    } else if (entry.kind === 'step') {
      if (entry.percentage === 100) facts.full = true;
      else if (entry.percentage !== undefined) facts.canaries.add(entry.percentage);
    } else if (entry.kind === 'rollback') {
      fullSince = undefined;
      openRollback = { at: entry.at, percentage: entry.percentage ?? 0, reason: entry.reason ?? '', durationMs: undefined };
      facts.rollbacks.push(openRollback);
    } else if (entry.kind === 'complete') {
      facts.complete = true;
    } else if (entry.kind === 'issue') {
      facts.issues.push(entry);
    }
  }
  facts.shadowMismatchRate = windowRate ?? summaryRate;
  const last = entries.at(-1)?.at;
  if (fullSince !== undefined && last !== undefined && last - fullSince >= graceMs) facts.complete = true;
  return facts;
}

function normalise(item: string): string {
  return item.trim().toLowerCase();
}

/** The table rows of the latest `maxRows` items, with a note row for the ones left out. */
function rows<T>(items: readonly T[], row: (item: T) => string): string[] {
  if (items.length === 0) return ['| | | | |'];
  const shown = items.length > maxRows ? items.slice(items.length - maxRows) : items;
  const out = shown.map(row);
  if (shown.length < items.length) out.unshift(`| | ${items.length - shown.length} earlier rows not shown | | |`);
  return out;
}

function date(ms: number): string {
  const value = new Date(ms);
  return Number.isNaN(value.getTime()) ? 'YYYY-MM-DD' : value.toISOString().slice(0, 10);
}

function duration(ms: number): string {
  if (!Number.isFinite(ms) || ms < 0) return '?';
  if (ms < 60_000) return `${Math.round(ms / 1000)} s`;
  if (ms < 3_600_000) return `${Math.round(ms / 60_000)} min`;
  if (ms < day) return `${Number((ms / 3_600_000).toFixed(1))} h`;
  return `${Number((ms / day).toFixed(1))} d`;
}

/** A log cell: cut to `maxCell` characters, then made inline. */
function cell(text: string): string {
  return inline(text.length > maxCell ? `${text.slice(0, maxCell)}…` : text);
}

/**
 * Text from an option or the journal, made inert inside one Markdown line:
 * line breaks collapsed to a space, backslashes and pipes escaped (so a
 * table cell stays one cell), and a character that would start a block
 * (`#`, `-`, `*`, `+`, `>`, `=`, `[`, `<`, a fence, `1.`) or close a heading
 * (a trailing `#`) escaped. The report's HTML undoes exactly these escapes
 * (see unescapeMarkdown).
 */
function inline(text: string): string {
  return text
    .replace(/[\r\n\u2028\u2029]+/g, ' ')
    .replace(/[\\|]/g, '\\$&')
    .replace(/#(\s*)$/, '\\#$1')
    .replace(/^(\s*)([#>*+=_`~[<-])/, '$1\\$2')
    .replace(/^(\s*\d+)([.)])/, '$1\\$2');
}

/** The text `inline` escaped: a backslash before ASCII punctuation dropped, as a Markdown renderer does. */
export function unescapeMarkdown(text: string): string {
  return text.replace(/\\([!-/:-@[-`{-~])/g, '$1');
}
