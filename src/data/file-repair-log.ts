import path from 'node:path';
import { z } from 'zod';
import { describeValue, MigrationGlueError } from '../errors.js';
import { option, parseOptions } from '../option-schema.js';
import { appendDurably, writeFileAtomic } from '../atomic-file.js';
import type { Logger } from '../observe/logger.js';
import { loggerOption } from '../observe/logger.js';
import type { LoggedRepair, RepairEntry, RepairLog } from './repair-log.js';
import { pageOf } from './repair-log.js';
import { cut, fileSize, parseLine, readLines } from './file-repair-lines.js';

/** Options of FileRepairLog. */
export interface FileRepairLogOptions {
  /** The JSON-lines file; relative paths resolve against the working directory. Required. */
  readonly path: string;
  /** Where damaged lines and other trouble are reported. @default pino at `info` */
  readonly logger?: Logger;
}

/** A line of the log file that could not be read as an entry: kept in the file and reported, never dropped silently. */
export interface DamagedRepairLine {
  /** Its line number in the file when it was read (from 1). */
  readonly line: number;
  /** Its text, cut to 1,000 characters. */
  readonly text: string;
  /** `truncated` (the file ends inside it: a crash mid-append), `invalid` (not an entry), `duplicate-id` (an id seen before: a second writer), `too-long`. */
  readonly reason: 'truncated' | 'invalid' | 'duplicate-id' | 'too-long';
}

const schema = z.strictObject({ path: option.string(), logger: loggerOption('pino') });

/** The most of an entry's error message written to the file. */
const maxErrorLength = 2000;

/** The state of one file, shared by every FileRepairLog of this process on that path. */
interface FileState<K> {
  readonly entries: Map<number, LoggedRepair<K>>;
  readonly damaged: DamagedRepairLine[];
  nextId: number;
  /** Lines in the file that hold nothing live: removed entries, removal records, blank or torn removal records. */
  deadLines: number;
  /** The file's size as this process last wrote or read it; undefined when unknown (a write failed half-way). */
  bytes: number | undefined;
  /** True when the file may end without a newline: the next append starts one. */
  unterminated: boolean;
}

interface SharedFile<K> {
  state: Promise<FileState<K>> | undefined;
  queue: Promise<unknown>;
}

// One queue and one state per file in a process: two logs on one path must not interleave rewrites.
const openFiles = new Map<string, SharedFile<unknown>>();

/**
 * A RepairLog in a JSON-lines file: one entry per line, appended and fsynced
 * before `append` resolves. `remove` appends a removal record (also fsynced)
 * instead of rewriting the file; the file is compacted (rewritten
 * atomically with the live entries) once most of it is dead, and never
 * while it holds a damaged line.
 *
 * A line that cannot be read (torn by a crash mid-append, edited by hand,
 * written by a second process) is never dropped: it stays in the file, is
 * logged as an error, listed by `damaged()` and counted by `size()`, so
 * `repair()` keeps reporting it as remaining. Its key may be out of sync:
 * run `verify` with `repair: true`, then `discardDamaged()`. Every readable
 * entry still replays.
 *
 * One process per file (use sqlRepairLog for a fleet); in one process,
 * every FileRepairLog on the same path shares one state and one queue. The
 * file is read once, on first use, line by line (a huge file never becomes
 * one string).
 */
export class FileRepairLog<K> implements RepairLog<K> {
  readonly #file: string;
  readonly #shared: SharedFile<K>;
  readonly #logger: Logger;

  /** @throws InvalidOptionError when `path` is not a non-empty string. */
  constructor(options: FileRepairLogOptions) {
    const { path: file, logger } = parseOptions(schema, options, 'FileRepairLog');
    this.#file = path.resolve(file);
    this.#logger = logger;
    let shared = openFiles.get(this.#file) as SharedFile<K> | undefined;
    if (shared === undefined) {
      shared = { state: undefined, queue: Promise.resolve() };
      openFiles.set(this.#file, shared as SharedFile<unknown>);
    }
    this.#shared = shared;
  }

  /** The absolute path of the log file. */
  get path(): string {
    return this.#file;
  }

  /** @throws MigrationGlueError ERR_INVALID_KEY when the key is not a string or a finite number (it must survive JSON). */
  append(entry: RepairEntry<K>): Promise<void> {
    return this.#enqueue(async (state) => {
      const key: unknown = entry.key;
      if (typeof key !== 'string' && !(typeof key === 'number' && Number.isFinite(key))) {
        throw new MigrationGlueError('ERR_INVALID_KEY', `a FileRepairLog key must be a string or a finite number, got ${describeValue(key)}`);
      }
      const error = typeof entry.error === 'string' ? entry.error.slice(0, maxErrorLength) : '';
      const at = typeof entry.at === 'number' && Number.isFinite(entry.at) ? entry.at : 0;
      // The id is used even when the write fails: a half-written line must not share it with the next entry.
      const logged: LoggedRepair<K> = Object.freeze({ key: entry.key, op: entry.op, side: entry.side, at, error, id: state.nextId++ });
      await this.#appendLine(state, JSON.stringify(logged));
      state.entries.set(logged.id, logged);
    });
  }

  list(afterId: number | null, limit: number): Promise<readonly LoggedRepair<K>[]> {
    return this.#enqueue(async (state) => pageOf(state.entries.values(), afterId, limit));
  }

  remove(ids: readonly number[]): Promise<void> {
    return this.#enqueue(async (state) => {
      const present = [...new Set(ids)].filter((id) => state.entries.has(id));
      if (present.length === 0) return;
      await this.#appendLine(state, JSON.stringify({ removed: present }));
      for (const id of present) state.entries.delete(id);
      state.deadLines += present.length + 1;
      if (state.damaged.length === 0 && state.deadLines > state.entries.size) await this.#compact(state);
    });
  }

  /** Entries plus damaged lines: a damaged line may be an entry, so it counts until `discardDamaged()`. */
  size(): Promise<number> {
    return this.#enqueue(async (state) => state.entries.size + state.damaged.length);
  }

  /** The lines that could not be read when the file was opened; they stay in the file. */
  damaged(): Promise<readonly DamagedRepairLine[]> {
    return this.#enqueue(async (state) => [...state.damaged]);
  }

  /**
   * Drops the damaged lines from the file (rewriting it atomically with the
   * live entries) and resolves with how many there were. Call it once the
   * keys they may have held are known to be in sync, e.g. after `verify`
   * with `repair: true`.
   */
  discardDamaged(): Promise<number> {
    return this.#enqueue(async (state) => {
      const count = state.damaged.length;
      if (count === 0) return 0;
      await this.#rewrite(state);
      state.damaged.length = 0;
      this.#logger.warn({ file: this.#file, discarded: count }, 'repair log: damaged lines discarded');
      return count;
    });
  }

  #enqueue<T>(task: (state: FileState<K>) => Promise<T>): Promise<T> {
    const shared = this.#shared;
    // A failed read is forgotten, so that the next call tries again.
    const loading = (shared.state ??= this.#load().catch((err: unknown) => {
      shared.state = undefined;
      throw err;
    }));
    const run = shared.queue.then(() => loading).then(task);
    shared.queue = run.catch(() => {});
    return run;
  }

  async #appendLine(state: FileState<K>, json: string): Promise<void> {
    const text = `${state.unterminated ? '\n' : ''}${json}\n`;
    try {
      await appendDurably(this.#file, text);
    } catch (err) {
      // Part of the line may have reached the file: end it before the next one, and stop trusting the size.
      state.unterminated = true;
      state.bytes = undefined;
      throw err;
    }
    state.unterminated = false;
    if (state.bytes !== undefined) state.bytes += Buffer.byteLength(text);
  }

  async #compact(state: FileState<K>): Promise<void> {
    const size = await fileSize(this.#file);
    if (state.bytes === undefined || size !== state.bytes) {
      // Someone else wrote to the file: rewriting it would erase their lines.
      this.#logger.warn(
        { file: this.#file, expectedBytes: state.bytes, bytes: size },
        'repair log: the file changed outside this process (a second writer?); not compacting it. Use one process per file',
      );
      return;
    }
    await this.#rewrite(state);
  }

  async #rewrite(state: FileState<K>): Promise<void> {
    const text = [...state.entries.values()].map((entry) => `${JSON.stringify(entry)}\n`).join('');
    await writeFileAtomic(this.#file, text);
    state.deadLines = 0;
    state.bytes = Buffer.byteLength(text);
    state.unterminated = false;
  }

  async #load(): Promise<FileState<K>> {
    const state: FileState<K> = { entries: new Map(), damaged: [], nextId: 1, deadLines: 0, bytes: 0, unterminated: false };
    const removed = new Set<number>();
    let lineNumber = 0;
    const read = await readLines(this.#file, (line) => {
      lineNumber += 1;
      const parsed = line.tooLong ? { kind: 'bad' as const } : parseLine<K>(line.text);
      if (parsed.kind === 'blank') state.deadLines += 1;
      else if (parsed.kind === 'removed') {
        for (const id of parsed.ids) removed.add(id);
        state.deadLines += 1;
      } else if (parsed.kind === 'entry') {
        if (state.entries.has(parsed.entry.id)) {
          state.damaged.push({ line: lineNumber, text: cut(line.text), reason: 'duplicate-id' });
        } else {
          state.entries.set(parsed.entry.id, parsed.entry);
        }
        state.nextId = Math.max(state.nextId, parsed.entry.id + 1);
      } else if (!line.tooLong && line.text.startsWith('{"removed":')) {
        // A torn removal record: the entries it named are still live and replay again, harmlessly.
        state.deadLines += 1;
      } else {
        state.damaged.push({ line: lineNumber, text: cut(line.text), reason: line.tooLong ? 'too-long' : line.last ? 'truncated' : 'invalid' });
      }
    });
    if (read === undefined) return state;
    state.bytes = read.bytes;
    state.unterminated = read.unterminated;
    for (const id of removed) {
      if (state.entries.delete(id)) state.deadLines += 1;
    }
    if (state.damaged.length > 0) {
      this.#logger.error(
        {
          file: this.#file,
          damaged: state.damaged.length,
          lines: state.damaged.slice(0, 10).map((line) => ({ line: line.line, reason: line.reason, text: line.text.slice(0, 200) })),
        },
        'repair log: lines that cannot be read are kept in the file and counted as remaining; their keys may be out of sync: ' +
          'run verify with repair, then discardDamaged()',
      );
    }
    return state;
  }
}
