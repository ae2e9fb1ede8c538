import path from 'node:path';
import { describeValue, InvalidOptionError } from '../errors.js';
import { appendDurably, readIfExists, writeFileAtomic } from '../atomic-file.js';
import type { LoggedRepair, RepairEntry, RepairLog } from './repair-log.js';
import { pageOf } from './repair-log.js';

/** Options of FileRepairLog. */
export interface FileRepairLogOptions {
  /** The JSON-lines file; relative paths resolve against the working directory. Required. */
  readonly path: string;
}

/**
 * A RepairLog in a JSON-lines file: one entry per line, appended and fsynced
 * before `append` resolves; `remove` rewrites the file atomically. A line torn
 * by a crash is dropped on open (its write had not been acknowledged). One
 * process per file: the file is read once, on first use.
 */
export class FileRepairLog<K> implements RepairLog<K> {
  readonly #file: string;
  readonly #entries = new Map<number, LoggedRepair<K>>();
  #nextId = 1;
  #loaded: Promise<void> | undefined;
  #queue: Promise<unknown> = Promise.resolve();

  /** @throws InvalidOptionError when `path` is not a non-empty string. */
  constructor(options: FileRepairLogOptions) {
    const file: unknown = (options as Partial<FileRepairLogOptions> | undefined)?.path;
    if (typeof file !== 'string' || file === '') {
      throw new InvalidOptionError('path', `must be a non-empty string (the repair log file), got ${describeValue(file)}`);
    }
    this.#file = path.resolve(file);
  }

  /** The absolute path of the log file. */
  get path(): string {
    return this.#file;
  }

  append(entry: RepairEntry<K>): Promise<void> {
    return this.#enqueue(async () => {
      const logged: LoggedRepair<K> = Object.freeze({ ...entry, id: this.#nextId });
      await appendDurably(this.#file, `${JSON.stringify(logged)}\n`);
      this.#nextId += 1;
      this.#entries.set(logged.id, logged);
    });
  }

  list(afterId: number | null, limit: number): Promise<readonly LoggedRepair<K>[]> {
    return this.#enqueue(async () => pageOf(this.#entries.values(), afterId, limit));
  }

  remove(ids: readonly number[]): Promise<void> {
    return this.#enqueue(async () => {
      if (!ids.some((id) => this.#entries.has(id))) return;
      const kept = [...this.#entries.values()].filter((entry) => !ids.includes(entry.id));
      await this.#rewrite(kept);
      for (const id of ids) this.#entries.delete(id);
    });
  }

  size(): Promise<number> {
    return this.#enqueue(async () => this.#entries.size);
  }

  #enqueue<T>(task: () => Promise<T>): Promise<T> {
    // A failed read is forgotten, so that the next call tries again.
    this.#loaded ??= this.#load().catch((err: unknown) => {
      this.#loaded = undefined;
      throw err;
    });
    const loaded = this.#loaded;
    const run = this.#queue.then(() => loaded).then(task);
    this.#queue = run.catch(() => {});
    return run;
  }

  async #load(): Promise<void> {
    const text = await readIfExists(this.#file);
    if (text === undefined) return;
    let torn = text.length > 0 && !text.endsWith('\n');
    for (const line of text.split('\n')) {
      if (line.trim() === '') continue;
      const entry = parseEntry<K>(line);
      if (entry === undefined) {
        torn = true;
        continue;
      }
      this.#entries.set(entry.id, entry);
      this.#nextId = Math.max(this.#nextId, entry.id + 1);
    }
    // Appending after a torn line would glue the next entry to it.
    if (torn) await this.#rewrite([...this.#entries.values()]);
  }

  async #rewrite(entries: readonly LoggedRepair<K>[]): Promise<void> {
    await writeFileAtomic(this.#file, entries.map((entry) => `${JSON.stringify(entry)}\n`).join(''));
  }
}

function parseEntry<K>(line: string): LoggedRepair<K> | undefined {
  try {
    const value = JSON.parse(line) as Partial<LoggedRepair<K>>;
    if (typeof value.id !== 'number' || (value.op !== 'save' && value.op !== 'delete')) return undefined;
    if (value.side !== 'old' && value.side !== 'new') return undefined;
    return Object.freeze({
      id: value.id,
      key: value.key as K,
      op: value.op,
      side: value.side,
      at: typeof value.at === 'number' ? value.at : 0,
      error: typeof value.error === 'string' ? value.error : '',
    });
  } catch {
    return undefined;
  }
}
