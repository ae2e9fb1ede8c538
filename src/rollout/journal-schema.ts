import { z } from 'zod';
import { InvalidOptionError, describeValue } from '../errors.js';
import type { JournalEntry } from './journal.js';
import { jsonCopy } from './journal-json.js';

// What a journal line must hold, checked when a journal is read (a file may
// be edited by hand) and before an entry is rendered: the report and the
// checklist only ever see numbers where they draw numbers.

/** The range of times a Date can hold, in ms: a time outside it cannot be printed. */
export const maxTime = 8.64e15;

const figure = z.number().min(0);
const rate = z.number().min(0).max(1);
const percentage = z.number().min(0).max(100);
const arm = z.object({ calls: figure, errorRate: rate, p95: figure });

/** `data` of a `metrics` entry (see MetricsSnapshot). */
const metricsData = z.object({
  percentage,
  old: arm,
  new: arm,
  shadow: z.object({ compared: figure, mismatchRate: rate }),
});

/** `data` of a `backfill` entry. */
const backfillData = z.object({ copied: figure, total: figure.optional() });

/** `data` of a `phase` entry: the shadow summary recorded when shadow ends. */
const phaseData = z.object({
  shadow: z.object({ compared: figure.optional(), mismatched: figure.optional(), mismatchRate: rate.optional() }).optional(),
});

const config = z.object({
  shadowMode: z.boolean(),
  newSystemEnabled: z.boolean(),
  newSystemPercentage: percentage,
  fallbackEnabled: z.boolean(),
});

/** The fields every kind may carry. */
const common = {
  at: z.number().min(-maxTime).max(maxTime),
  migration: z.string().optional(),
  reason: z.string().optional(),
  percentage: percentage.optional(),
  phase: z.enum(['preparation', 'shadow', 'canary', 'full']).optional(),
  config: config.optional(),
  approved: z.boolean().optional(),
  item: z.string().optional(),
  issue: z.string().optional(),
  resolution: z.string().optional(),
  owner: z.string().optional(),
  message: z.string().optional(),
};
const anyData = z.record(z.string(), z.unknown()).optional();

/** One schema per kind (a discriminated union is much faster than a refinement over one loose object). */
const entrySchema = z.discriminatedUnion('kind', [
  z.object({ ...common, kind: z.literal('metrics'), data: metricsData }),
  z.object({ ...common, kind: z.literal('backfill'), data: backfillData.optional() }),
  z.object({ ...common, kind: z.literal('phase'), data: phaseData.optional() }),
  z.object({ ...common, kind: z.enum(['step', 'approval', 'rollback', 'resume', 'complete', 'check', 'issue', 'note']), data: anyData }),
]);

/** Entries this module produced: frozen plain copies already checked, so a renderer need not check them again. */
const checked = new WeakSet<object>();

/** Kinds whose `data` the schema copies (an object schema builds new objects); other kinds' `data` values are passed through. */
const copiedData = new Set<unknown>(['metrics', 'backfill', 'phase']);

/**
 * Freezes the parts of an entry a renderer reads, so that a checked entry
 * stays valid: only objects the schema made, never a caller's own object
 * (`journal.record` passes its own deep copy, frozen already).
 */
function seal(entry: JournalEntry): JournalEntry {
  if (entry.config !== undefined) Object.freeze(entry.config);
  if (entry.data !== undefined) {
    if (copiedData.has(entry.kind)) for (const value of Object.values(entry.data)) if (typeof value === 'object' && value !== null) Object.freeze(value);
    Object.freeze(entry.data);
  }
  checked.add(Object.freeze(entry));
  return entry;
}

/**
 * Checks one entry: a plain copy of it when valid (so a getter is read only
 * once), or what is wrong, as one line (`` `data.old.errorRate`: expected
 * number, received string ``). Never throws.
 */
export function checkEntry(value: unknown): { readonly entry: JournalEntry } | { readonly problem: string } {
  if (typeof value === 'object' && value !== null && checked.has(value)) return { entry: value as JournalEntry };
  let result: ReturnType<typeof entrySchema.safeParse>;
  try {
    result = entrySchema.safeParse(value);
  } catch {
    // A getter that throws, a revoked Proxy: not an entry.
    return { problem: 'cannot be read' };
  }
  if (result.success) return { entry: seal(result.data as JournalEntry) };
  const problem = result.error.issues
    .slice(0, 3)
    .map((issue) => {
      const where = issue.path.map(String).join('.');
      return where === '' ? issue.message : `\`${where}\`: ${issue.message}`;
    })
    .join('; ');
  return { problem };
}

/**
 * The entry `journal.record` appends: a deep copy of `fields` made of what
 * JSON holds (see jsonCopy), stamped with `at` and `kind`, and checked, so
 * that it is what a FileJournalStore reads back. Nothing of the caller's is
 * kept or frozen.
 * @throws InvalidOptionError naming the field JSON cannot hold (`data.incidents.1`), or what is wrong with the entry.
 */
export function entryToRecord(at: number, kind: unknown, fields: unknown): JournalEntry {
  const copied = jsonCopy(fields ?? {});
  if ('problem' in copied) throw new InvalidOptionError(copied.path === '' ? 'fields' : copied.path, `cannot be recorded in the journal: it ${copied.problem}`);
  const copy = copied.copy;
  if (typeof copy !== 'object' || copy === null || Array.isArray(copy)) {
    throw new InvalidOptionError('fields', `must be an object of entry fields, got ${describeValue(fields)}`);
  }
  for (const stamped of ['at', 'kind']) {
    // The journal stamps these; a caller's own would forge the entry's time or kind.
    if (Object.hasOwn(copy, stamped)) throw new InvalidOptionError(`fields.${stamped}`, `is set by the journal, not by the caller: pass the kind as record's first argument`);
  }
  const result = checkEntry({ ...copy, at, kind });
  if ('problem' in result) throw new InvalidOptionError('entry', `is not a valid \`${String(kind)}\` journal entry: ${result.problem}`);
  return result.entry;
}

/**
 * The entries that are valid (as plain copies), in order, and how many were
 * not. Linear; never throws, whatever `entries` holds.
 */
export function validEntries(entries: unknown): { readonly entries: JournalEntry[]; readonly skipped: number } {
  let list: readonly unknown[];
  try {
    list = Array.isArray(entries) ? (entries as readonly unknown[]) : [];
  } catch {
    list = [];
  }
  const valid: JournalEntry[] = [];
  let skipped = 0;
  for (let i = 0; i < list.length; i++) {
    let checked: ReturnType<typeof checkEntry>;
    try {
      checked = checkEntry(list[i]);
    } catch {
      checked = { problem: 'cannot be read' };
    }
    if ('entry' in checked) valid.push(checked.entry);
    else skipped += 1;
  }
  return { entries: valid, skipped };
}
