import { z } from 'zod';
import type { MigrationConfig } from '../config/migration-config.js';
import type { PhaseName } from '../core/routing.js';
import { newShare, phaseOf } from '../core/routing.js';
import type { GlueLike } from '../core/glue-like.js';
import type { Clock } from '../observe/clock.js';
import type { Logger } from '../observe/logger.js';
import { loggerOption } from '../observe/logger.js';
import { field, option, parseOptions } from '../option-schema.js';
import { readClock } from './bounded.js';
import { entryToRecord, maxTime } from './journal-schema.js';

export { FileJournalStore, parseJournal } from './journal-store.js';

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

/** A JournalStore in process memory (tests, a journal nobody reads back after exit). */
export class InMemoryJournalStore implements JournalStore {
  readonly #entries: JournalEntry[] = [];

  append(entry: JournalEntry): void {
    this.#entries.push(entry);
  }

  load(): JournalEntry[] {
    return [...this.#entries];
  }
}

/** @deprecated Renamed InMemoryJournalStore, like the library's other memory implementations. */
export const MemoryJournalStore = InMemoryJournalStore;
/** @deprecated Renamed InMemoryJournalStore. */
export type MemoryJournalStore = InMemoryJournalStore;

/** Options of a MigrationJournal. */
export interface MigrationJournalOptions {
  /** @default an InMemoryJournalStore */
  readonly store?: JournalStore;
  /** @default systemClock */
  readonly clock?: Clock;
  /** Where a store's asynchronous failure is reported. @default silentLogger (a store's default, see docs/observe.md) */
  readonly logger?: Logger;
}

const isStore = (value: unknown): boolean =>
  typeof value === 'object' && value !== null && typeof (value as Partial<JournalStore>).append === 'function' && typeof (value as Partial<JournalStore>).load === 'function';

const journalOptionsSchema = z.strictObject({
  store: field<JournalStore>(isStore, 'a JournalStore (append, load)').default(() => new InMemoryJournalStore()),
  clock: option.clock(),
  logger: loggerOption('silent'),
});

/**
 * The append-only record of a migration: phase changes, ramp steps,
 * approvals, rollbacks and issues, each with its time and reason. Feeds
 * `renderChecklist` and the runbook's rollback log.
 */
export class MigrationJournal {
  readonly #store: JournalStore;
  readonly #clock: Clock;
  readonly #logger: Logger;

  /** @throws InvalidOptionError on a store without `append` and `load`, or a bad clock. */
  constructor(options: MigrationJournalOptions = {}) {
    const resolved = parseOptions(journalOptionsSchema, options, 'MigrationJournal');
    this.#store = resolved.store;
    this.#clock = resolved.clock;
    this.#logger = resolved.logger;
  }

  /**
   * Appends an entry stamped with the clock's time (the system time when the
   * clock gives no time a Date can hold); returns it. What is appended is a
   * frozen deep copy of `fields`, made of what JSON holds: the caller's
   * objects are neither kept nor frozen.
   * @throws InvalidOptionError when the entry would not read back (a field of
   *   the wrong type, an unknown kind, a value JSON cannot hold such as a
   *   function, a bigint, a cycle or a getter that throws): nothing is appended.
   * @throws whatever the store's `append` throws.
   */
  record(kind: JournalKind, fields: Omit<JournalEntry, 'at' | 'kind'> = {}): JournalEntry {
    const now = readClock(this.#clock);
    const entry = entryToRecord(now !== undefined && Math.abs(now) <= maxTime ? now : Date.now(), kind, fields);
    const appended: unknown = this.#store.append(entry);
    // A store that answers with a promise despite the interface: its failure must not go unhandled.
    if (typeof (appended as PromiseLike<unknown> | undefined)?.then === 'function') {
      Promise.resolve(appended).catch((err: unknown) => this.#logger.error({ err, kind }, 'journal store append failed'));
    }
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
   * Its listeners never throw into the glue's event emission: an event that
   * cannot be recorded (a store that throws) is logged.
   */
  attach(glue: GlueLike): () => void {
    const config = glue.stats().config;
    this.record('phase', { migration: glue.name, config, phase: phaseOf(config), percentage: config.newSystemPercentage });
    const offChange = glue.on('configChange', (event) => {
      this.#safely('phase', () =>
        this.record('phase', {
          migration: event.migration,
          config: event.after,
          phase: phaseOf(event.after),
          percentage: event.after.newSystemPercentage,
          data: phaseOf(event.before) === 'shadow' ? { shadow: shadowSummary(glue) } : undefined,
        }),
      );
    });
    const offRollback = glue.on('rollback', (event) => {
      this.#safely('rollback', () =>
        this.record('rollback', { migration: event.migration, reason: event.reason, percentage: newShare(event.before), config: event.after }),
      );
    });
    return () => {
      offChange();
      offRollback();
    };
  }

  #safely(kind: JournalKind, write: () => void): void {
    try {
      write();
    } catch (err) {
      try {
        this.#logger.error({ err, kind }, 'journal could not record a glue event; going on');
      } catch {
        // a logger that throws is swallowed, as everywhere
      }
    }
  }

  /** Records the glue's window figures now: one point of the report's error-rate, latency and mismatch charts. */
  snapshot(glue: Pick<GlueLike, 'name' | 'stats'>): JournalEntry {
    const stats = glue.stats();
    const arm = (figures: typeof stats.old.window) => ({ calls: figure(figures.calls), errorRate: figure(figures.errorRate), p95: figure(figures.p95) });
    const data: MetricsSnapshot = {
      percentage: newShare(stats.config),
      old: arm(stats.old.window),
      new: arm(stats.new.window),
      shadow: { compared: figure(stats.shadow.window.compared), mismatchRate: figure(stats.shadow.window.mismatchRate) },
    };
    return this.record('metrics', { migration: glue.name, data: data as unknown as Record<string, unknown> });
  }

  /** Every entry, oldest first. */
  entries(): JournalEntry[] {
    return this.#store.load();
  }
}

function shadowSummary(glue: GlueLike): Record<string, number> {
  const shadow = glue.stats().shadow;
  return { compared: figure(shadow.compared), mismatched: figure(shadow.mismatched), mismatchRate: figure(shadow.mismatchRate) };
}

/** A figure as the journal keeps it: finite and non-negative (JSON has no NaN). */
function figure(value: number): number {
  return typeof value === 'number' && Number.isFinite(value) && value > 0 ? value : 0;
}
