import fs from 'node:fs';
import { InvalidOptionError, describeValue } from '../errors.js';
import type { JournalEntry, JournalStore } from './journal.js';
import { checkEntry } from './journal-schema.js';

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
 * Parses JSON-lines journal text, checking every entry: `at` a time, `kind`
 * one of JournalKind, each field of its type, and the `data` of `metrics`,
 * `backfill` and `phase` entries in the shape the report draws. A torn last
 * line (not valid JSON) is skipped; any other bad line is an error naming
 * its line number and what is wrong. Linear in the text's length.
 * @throws SyntaxError on a bad line that is not a torn last line.
 */
export function parseJournal(text: string): JournalEntry[] {
  if (typeof text !== 'string') throw new TypeError(`journal text must be a string, got ${describeValue(text)}`);
  const lines = (text.startsWith('\uFEFF') ? text.slice(1) : text).split('\n');
  const entries: JournalEntry[] = [];
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i] as string;
    if (line.trim() === '') continue;
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch {
      if (i === lines.length - 1) continue; // torn by a crash mid-append
      throw new SyntaxError(`journal line ${i + 1} is not valid JSON: ${preview(line)}`);
    }
    const checked = checkEntry(value);
    if ('problem' in checked) throw new SyntaxError(`journal line ${i + 1} is not a journal entry: ${checked.problem}`);
    entries.push(checked.entry);
  }
  return entries;
}

function preview(line: string): string {
  return line.length > 60 ? `${line.slice(0, 60)}…` : line;
}
