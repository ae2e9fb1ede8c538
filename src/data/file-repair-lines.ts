import { createReadStream } from 'node:fs';
import fsp from 'node:fs/promises';
import type { LoggedRepair } from './repair-log.js';

// Reading a repair log file: line by line, each line parsed into an entry, a removal record or damage.

/** Lines longer than this are damaged: no entry comes near it, and reading one whole would hold it all in memory. */
const maxLineBytes = 1 << 20;
/** The most of a damaged line kept in memory and reported. */
export const maxDamagedText = 1000;

/** What one line of the file holds. */
export type ParsedLine<K> =
  | { readonly kind: 'blank' }
  | { readonly kind: 'entry'; readonly entry: LoggedRepair<K> }
  | { readonly kind: 'removed'; readonly ids: readonly number[] }
  | { readonly kind: 'bad' };

/** Parses one line of the file. */
export function parseLine<K>(line: string): ParsedLine<K> {
  if (line.trim() === '') return { kind: 'blank' };
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch {
    return { kind: 'bad' };
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return { kind: 'bad' };
  const record = value as Record<string, unknown>;
  if ('removed' in record) {
    const ids = record.removed;
    return Array.isArray(ids) && ids.every((id) => Number.isSafeInteger(id)) ? { kind: 'removed', ids: ids as number[] } : { kind: 'bad' };
  }
  const { id, key, op, side } = record;
  if (!Number.isSafeInteger(id) || (id as number) < 1) return { kind: 'bad' };
  if (op !== 'save' && op !== 'delete') return { kind: 'bad' };
  if (side !== 'old' && side !== 'new') return { kind: 'bad' };
  if (typeof key !== 'string' && !(typeof key === 'number' && Number.isFinite(key))) return { kind: 'bad' };
  return {
    kind: 'entry',
    // The field order of append, so that a rewrite writes each entry as it was appended.
    entry: Object.freeze({
      key: key as K,
      op,
      side,
      at: typeof record.at === 'number' ? record.at : 0,
      error: typeof record.error === 'string' ? record.error : '',
      id: id as number,
    }),
  };
}

/** A damaged line's text as kept: at most maxDamagedText characters. */
export function cut(text: string): string {
  return text.length > maxDamagedText ? `${text.slice(0, maxDamagedText)}…` : text;
}

/** A line as read. */
export interface Line {
  readonly text: string;
  /** Longer than maxLineBytes: `text` holds its start only. */
  readonly tooLong: boolean;
  /** The file ends inside it (no newline after it). */
  readonly last: boolean;
}

/**
 * Calls `onLine` for each line of `file`, reading it in chunks, so that
 * neither the file nor a runaway line is ever held whole. Resolves with the
 * bytes read and whether the file ends without a newline; undefined when
 * the file does not exist.
 */
export async function readLines(file: string, onLine: (line: Line) => void): Promise<{ bytes: number; unterminated: boolean } | undefined> {
  let parts: Buffer[] = [];
  let partBytes = 0;
  let tooLong = false;
  let bytes = 0;
  const flush = (last: boolean): void => {
    const text = Buffer.concat(parts).toString('utf8');
    parts = [];
    partBytes = 0;
    const wasTooLong = tooLong;
    tooLong = false;
    onLine({ text, tooLong: wasTooLong, last });
  };
  const keep = (chunk: Buffer): void => {
    if (tooLong) return;
    const room = maxLineBytes - partBytes;
    if (chunk.length > room) {
      parts.push(chunk.subarray(0, Math.min(room, maxDamagedText * 4)));
      tooLong = true;
      return;
    }
    parts.push(chunk);
    partBytes += chunk.length;
  };
  try {
    for await (const chunk of createReadStream(file) as AsyncIterable<Buffer>) {
      bytes += chunk.length;
      let start = 0;
      for (let at = chunk.indexOf(10); at !== -1; at = chunk.indexOf(10, start)) {
        keep(chunk.subarray(start, at));
        flush(false);
        start = at + 1;
      }
      if (start < chunk.length) keep(chunk.subarray(start));
    }
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
  const unterminated = partBytes > 0 || tooLong;
  if (unterminated) flush(true);
  return { bytes, unterminated };
}

/** The file's size in bytes, undefined when it cannot be read. */
export async function fileSize(file: string): Promise<number | undefined> {
  try {
    return (await fsp.stat(file)).size;
  } catch {
    return undefined;
  }
}
