import fs from 'node:fs';
import type { JournalEntry } from '../rollout/journal.js';
import { checkEntry, validEntries } from '../rollout/journal-schema.js';
import { messageOf } from '../cli/cli-args.js';

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

/** Opening without blocking: a FIFO or a device put in the file's place must not hang the process. */
const readFlags = fs.constants.O_RDONLY | (fs.constants.O_NONBLOCK ?? 0);

/**
 * Reads the latest journal entries from `source`, checking each one (a bad
 * line is skipped and counted, never shown). A file is read only when its
 * size or time changed since the last call, a MigrationJournal only when its
 * entry count or last entry did; undefined then means "as before". Anything
 * but a regular file (a FIFO, a directory, a device) is refused unread.
 * Never throws.
 */
export class JournalFeed {
  readonly #source: JournalSource;
  #stamp = '';

  constructor(source: JournalSource) {
    this.#source = source;
  }

  /** The view now, or undefined when the journal has not changed since the last read. */
  read(): JournalView | undefined {
    return typeof this.#source === 'string' ? this.#readFile(this.#source) : this.#readJournal(this.#source);
  }

  #readJournal(journal: { entries(): readonly JournalEntry[] }): JournalView | undefined {
    try {
      const all = journal.entries();
      const stamp = `${all.length}:${stampOf(all[all.length - 1])}`;
      if (stamp === this.#stamp) return undefined;
      this.#stamp = stamp;
      const { entries, skipped } = validEntries(all);
      return { entries: entries.slice(-maxEntries), skipped };
    } catch (err) {
      return this.#problem(`error:${messageOf(err)}`, `cannot read the journal: ${messageOf(err)}`);
    }
  }

  /** A view that only says what went wrong, or undefined when it said so last time. */
  #problem(stamp: string, problem: string): JournalView | undefined {
    if (stamp === this.#stamp) return undefined;
    this.#stamp = stamp;
    return { entries: [], skipped: 0, problem };
  }

  #readFile(file: string): JournalView | undefined {
    let stat: fs.Stats;
    try {
      stat = fs.statSync(file);
    } catch (err) {
      return this.#problem(`missing:${(err as NodeJS.ErrnoException).code ?? ''}`, `cannot read the journal: ${messageOf(err)}`);
    }
    if (!stat.isFile()) return this.#problem(`not-a-file:${stat.mode}`, `cannot read the journal: ${file} is not a regular file`);
    const stamp = `${stat.size}:${stat.mtimeMs}:${stat.ino}`;
    if (stamp === this.#stamp) return undefined;
    this.#stamp = stamp;
    try {
      return parseTail(readTail(file));
    } catch (err) {
      return { entries: [], skipped: 0, problem: `cannot read the journal: ${messageOf(err)}` };
    }
  }
}

/**
 * The last `maxBytes` of a file, from the first whole line on. Opened
 * without blocking and checked again once open, since the path may have been
 * replaced by a FIFO after it was looked at.
 */
function readTail(file: string): string {
  const fd = fs.openSync(file, readFlags);
  try {
    const stat = fs.fstatSync(fd);
    if (!stat.isFile()) throw new Error(`${file} is not a regular file`);
    const start = Math.max(0, stat.size - maxBytes);
    const buffer = Buffer.alloc(stat.size - start);
    const read = fs.readSync(fd, buffer, 0, buffer.length, start);
    const text = buffer.subarray(0, read).toString('utf8');
    return start === 0 ? text : text.slice(text.indexOf('\n') + 1);
  } finally {
    fs.closeSync(fd);
  }
}

/** An entry as JSON to tell it apart from the last one seen; one that cannot be written is never equal to another. */
function stampOf(entry: JournalEntry | undefined): string {
  try {
    return JSON.stringify(entry ?? null);
  } catch {
    return `unwritable:${Math.random()}`;
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

