import fs from 'node:fs';
import type { MigrationConfig } from '../config/migration-config.js';
import { phaseOf } from '../config/phases.js';
import type { PhaseName } from '../config/phases.js';
import type { AnyGlue } from './rollback-guard.js';
import { InvalidOptionError, describeValue } from '../errors.js';
import type { Clock } from '../observe/clock.js';
import { systemClock } from '../observe/clock.js';

/**
 * What a journal entry records.
 * - `phase`: the config moved to another phase or percentage (`config`, `phase`, `percentage`);
 * - `step`: the ramp took a step (`percentage`);
 * - `approval`: a ramp step was approved or refused (`approved`, `percentage`);
 * - `rollback`: a rollback (`reason`, `percentage` in force before it);
 * - `resume`: the ramp resumed after a rollback;
 * - `complete`: the ramp finished its grace period at 100 %;
 * - `check`: a checklist item done by hand (`item`);
 * - `metrics`: a snapshot of the window figures (`data`: see `MetricsSnapshot`), for the report's charts;
 * - `backfill`: backfill progress (`data`: `{ copied, total? }`);
 * - `issue`: a problem met (`issue`, `resolution`, `owner`);
 * - `note`: anything else worth keeping (`message`, `data`).
 */
export type JournalKind =
  | 'phase'
  | 'step'
  | 'approval'
  | 'rollback'
  | 'resume'
  | 'complete'
  | 'check'
  | 'issue'
  | 'metrics'
  | 'backfill'
  | 'note';

/** The window figures a `metrics` entry keeps (rates are fractions, latencies ms). */
export interface MetricsSnapshot {
  readonly percentage: number;
  readonly old: { readonly calls: number; readonly errorRate: number; readonly p95: number };
  readonly new: { readonly calls: number; readonly errorRate: number; readonly p95: number };
  readonly shadow: { readonly compared: number; readonly mismatchRate: number };
}

/** One line of the journal. `at` is clock time in ms. */
export interface JournalEntry {
  readonly at: number;
  readonly kind: JournalKind;
  readonly migration?: string;
  readonly reason?: string;
  readonly percentage?: number;
  readonly phase?: PhaseName;
  readonly config?: MigrationConfig;
  readonly approved?: boolean;
  readonly item?: string;
  readonly issue?: string;
  readonly resolution?: string;
  readonly owner?: string;
  readonly message?: string;
  readonly data?: Readonly<Record<string, unknown>>;
}

/** Where a journal keeps its entries: append-only. */
export interface JournalStore {
  /** Appends one entry durably before returning. */
  append(entry: JournalEntry): void;
  /** Every entry appended so far, oldest first. */
  load(): JournalEntry[];
}

/** A JournalStore in memory. */
export class MemoryJournalStore implements JournalStore {
  readonly #entries: JournalEntry[] = [];

  append(entry: JournalEntry): void {
    this.#entries.push(entry);
  }

  load(): JournalEntry[] {
    return [...this.#entries];
  }
}

/**
 * A JournalStore in a JSON-lines file: one entry per line, each append
 * fsync'd. A torn last line (a crash mid-append) is ignored on load and
 * cut off before the next append, so the file stays readable.
 */
export class FileJournalStore implements JournalStore {
  readonly path: string;

  /** @throws InvalidOptionError when `path` is not a non-empty string. */
  constructor(path: string) {
    if (typeof path !== 'string' || path === '') {
      throw new InvalidOptionError('path', `must be a non-empty file path, got ${describeValue(path)}`);
    }
    this.path = path;
  }

  append(entry: JournalEntry): void {
    this.#cutTornTail();
    const fd = fs.openSync(this.path, 'a');
    try {
      fs.writeSync(fd, `${JSON.stringify(entry)}\n`);
      fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
  }

  load(): JournalEntry[] {
    return parseJournal(this.#read());
  }

  #read(): string {
    try {
      return fs.readFileSync(this.path, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return '';
      throw err;
    }
  }

  #cutTornTail(): void {
    const text = this.#read();
    if (text === '' || text.endsWith('\n')) return;
    fs.truncateSync(this.path, Buffer.byteLength(text.slice(0, text.lastIndexOf('\n') + 1)));
  }
}

/**
 * Parses JSON-lines journal text. A torn last line is skipped; a malformed
 * line anywhere else is an error naming its line number.
 * @throws SyntaxError on a malformed line that is not the last.
 */
export function parseJournal(text: string): JournalEntry[] {
  const lines = text.split('\n');
  const entries: JournalEntry[] = [];
  lines.forEach((line, i) => {
    if (line.trim() === '') return;
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch {
      if (i === lines.length - 1) return; // torn by a crash mid-append
      throw new SyntaxError(`journal line ${i + 1} is not valid JSON: ${line.slice(0, 60)}`);
    }
    if (typeof value !== 'object' || value === null || typeof (value as JournalEntry).at !== 'number' || typeof (value as JournalEntry).kind !== 'string') {
      throw new SyntaxError(`journal line ${i + 1} is not a journal entry (needs "at" and "kind")`);
    }
    entries.push(value as JournalEntry);
  });
  return entries;
}

/** Options of a MigrationJournal. */
export interface MigrationJournalOptions {
  /** @default a MemoryJournalStore */
  readonly store?: JournalStore;
  /** @default systemClock */
  readonly clock?: Clock;
}

/**
 * The append-only record of a migration: phase changes, ramp steps,
 * approvals, rollbacks and issues, each with its time and reason. Feeds
 * `renderChecklist` and the runbook's rollback log.
 */
export class MigrationJournal {
  readonly #store: JournalStore;
  readonly #clock: Clock;

  constructor(options: MigrationJournalOptions = {}) {
    this.#store = options.store ?? new MemoryJournalStore();
    this.#clock = options.clock ?? systemClock;
  }

  /** Appends an entry stamped with the clock's time; returns it. */
  record(kind: JournalKind, fields: Omit<JournalEntry, 'at' | 'kind'> = {}): JournalEntry {
    const entry: JournalEntry = { at: this.#clock.now(), kind, ...fields };
    this.#store.append(entry);
    return entry;
  }

  /** Records a problem met and, once known, its resolution. */
  issue(issue: string, details: { resolution?: string; owner?: string; migration?: string } = {}): JournalEntry {
    return this.record('issue', { issue, ...details });
  }

  /** Ticks a checklist item done by hand, e.g. 'Team briefed'. */
  check(item: string): JournalEntry {
    return this.record('check', { item });
  }

  /**
   * Records a glue's phase changes and rollbacks as they happen, starting
   * with the phase in force now. Returns a function that stops recording.
   */
  attach(glue: AnyGlue): () => void {
    const config = glue.stats().config;
    this.record('phase', { migration: glue.name, config, phase: phaseOf(config), percentage: config.newSystemPercentage });
    const offChange = glue.on('configChange', (event) => {
      this.record('phase', {
        migration: event.migration,
        config: event.after,
        phase: phaseOf(event.after),
        percentage: event.after.newSystemPercentage,
        data: phaseOf(event.before) === 'shadow' ? { shadow: shadowSummary(glue) } : undefined,
      });
    });
    const offRollback = glue.on('rollback', (event) => {
      this.record('rollback', {
        migration: event.migration,
        reason: event.reason,
        percentage: event.before.shadowMode ? 0 : event.before.newSystemPercentage,
        config: event.after,
      });
    });
    return () => {
      offChange();
      offRollback();
    };
  }

  /** Records the glue's window figures now: one point of the report's error-rate, latency and mismatch charts. */
  snapshot(glue: Pick<AnyGlue, 'name' | 'stats'>): JournalEntry {
    const stats = glue.stats();
    const arm = (figures: typeof stats.old.window) => ({ calls: figures.calls, errorRate: figures.errorRate, p95: figures.p95 });
    const data: MetricsSnapshot = {
      percentage: stats.config.newSystemEnabled && !stats.config.shadowMode ? stats.config.newSystemPercentage : 0,
      old: arm(stats.old.window),
      new: arm(stats.new.window),
      shadow: { compared: stats.shadow.window.compared, mismatchRate: stats.shadow.window.mismatchRate },
    };
    return this.record('metrics', { migration: glue.name, data: data as unknown as Record<string, unknown> });
  }

  /** Every entry, oldest first. */
  entries(): JournalEntry[] {
    return this.#store.load();
  }
}

function shadowSummary(glue: AnyGlue): Record<string, number> {
  const shadow = glue.stats().shadow;
  return { compared: shadow.compared, mismatched: shadow.mismatched, mismatchRate: shadow.mismatchRate };
}
