import fs from 'node:fs';
import type { JournalEntry } from '../rollout/journal.js';
import { checkEntry, validEntries } from '../rollout/journal-schema.js';

/** Where the dashboard reads the journal: a JSON-lines file, or anything with `entries()` (a MigrationJournal). */
export type JournalSource = string | { entries(): readonly JournalEntry[] };

/** What the page shows of the journal: its latest entries, oldest first, and what could not be read. */
export interface JournalView {
  readonly entries: readonly JournalEntry[];
  readonly skipped: number;
  readonly problem?: string;
}

/** The most entries sent to the page, and the most of a file read for them. */
const maxEntries = 300;
const maxBytes = 2 * 1024 * 1024;

/**
 * Reads the latest journal entries from `source`, checking each one (a bad
 * line is skipped and counted, never shown). A file is read only when its
 * size or time changed since the last call; undefined then means "as before".
 * Never throws.
 */
export class JournalFeed {
  readonly #source: JournalSource;
  #stamp = '';

  constructor(source: JournalSource) {
    this.#source = source;
  }

  /** The view now, or undefined when the file has not changed since the last read. */
  read(): JournalView | undefined {
    if (typeof this.#source !== 'string') {
      try {
        const { entries, skipped } = validEntries(this.#source.entries());
        return { entries: entries.slice(-maxEntries), skipped };
      } catch (err) {
        return { entries: [], skipped: 0, problem: `cannot read the journal: ${messageOf(err)}` };
      }
    }
    return this.#readFile(this.#source);
  }

  #readFile(file: string): JournalView | undefined {
    let stat: fs.Stats;
    try {
      stat = fs.statSync(file);
    } catch (err) {
      const stamp = `missing:${(err as NodeJS.ErrnoException).code ?? ''}`;
      if (stamp === this.#stamp) return undefined;
      this.#stamp = stamp;
      return { entries: [], skipped: 0, problem: `cannot read the journal: ${messageOf(err)}` };
    }
    const stamp = `${stat.size}:${stat.mtimeMs}:${stat.ino}`;
    if (stamp === this.#stamp) return undefined;
    this.#stamp = stamp;
    try {
      return parseTail(readTail(file, stat.size));
    } catch (err) {
      return { entries: [], skipped: 0, problem: `cannot read the journal: ${messageOf(err)}` };
    }
  }
}

/** The last `maxBytes` of a file, from the first whole line on. */
function readTail(file: string, size: number): string {
  const start = Math.max(0, size - maxBytes);
  const fd = fs.openSync(file, 'r');
  try {
    const buffer = Buffer.alloc(size - start);
    const read = fs.readSync(fd, buffer, 0, buffer.length, start);
    const text = buffer.subarray(0, read).toString('utf8');
    return start === 0 ? text : text.slice(text.indexOf('\n') + 1);
  } finally {
    fs.closeSync(fd);
  }
}

/** Parses JSON lines, keeping the valid entries; a torn last line is not counted as bad. */
function parseTail(text: string): JournalView {
  const lines = text.split('\n');
  const entries: JournalEntry[] = [];
  let skipped = 0;
  for (let i = 0; i < lines.length; i++) {
    const line = (lines[i] as string).replace(/^\uFEFF/, '');
    if (line.trim() === '') continue;
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch {
      if (i !== lines.length - 1) skipped += 1;
      continue;
    }
    const checked = checkEntry(value);
    if ('entry' in checked) entries.push(checked.entry);
    else skipped += 1;
  }
  return { entries: entries.slice(-maxEntries), skipped };
}

/** An error's message on one line. */
export function messageOf(err: unknown): string {
  try {
    return (err instanceof Error ? err.message : String(err)).replace(/\s*\n\s*/g, ' ').slice(0, 500);
  } catch {
    return 'an unreadable error';
  }
}
