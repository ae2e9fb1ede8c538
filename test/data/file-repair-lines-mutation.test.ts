import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Line } from '../../src/data/file-repair-lines.js';
import { cut, fileSize, maxDamagedText, parseLine, readLines } from '../../src/data/file-repair-lines.js';

// src/data/file-repair-lines.ts: how a line of a FileRepairLog file is read
// (an entry, a removal record, blank, or damage) and how the file is read
// line by line.

const dir = mkdtempSync(path.join(tmpdir(), 'file-repair-lines-'));
let files = 0;

function fileWith(content: string | Buffer): string {
  files += 1;
  const file = path.join(dir, `lines-${files}.jsonl`);
  writeFileSync(file, content);
  return file;
}

async function linesOf(file: string): Promise<{ lines: Line[]; read: Awaited<ReturnType<typeof readLines>> }> {
  const lines: Line[] = [];
  const read = await readLines(file, (line) => lines.push(line));
  return { lines, read };
}

const entryJson = (fields: Record<string, unknown>) => JSON.stringify({ key: 'a', op: 'save', side: 'new', at: 5, error: 'e', id: 1, ...fields });

describe('parseLine', () => {
  it.each(['', '   ', '\t', '\r'])('reads %j as blank', (line) => {
    expect(parseLine(line)).toEqual({ kind: 'blank' });
  });

  it('reads an entry, with the fields in the order append writes them, frozen', () => {
    const parsed = parseLine<string>(' {"id":3,"error":"boom","at":7,"side":"old","op":"delete","key":"k","extra":1} ');
    expect(parsed).toEqual({ kind: 'entry', entry: { key: 'k', op: 'delete', side: 'old', at: 7, error: 'boom', id: 3 } });
    if (parsed.kind !== 'entry') throw new Error('not an entry');
    expect(Object.keys(parsed.entry)).toEqual(['key', 'op', 'side', 'at', 'error', 'id']);
    expect(Object.isFrozen(parsed.entry)).toBe(true);
  });

  it('reads a number key, id 1 and a save on new', () => {
    expect(parseLine(entryJson({ key: 42 }))).toEqual({ kind: 'entry', entry: { key: 42, op: 'save', side: 'new', at: 5, error: 'e', id: 1 } });
  });

  it('gives an entry without a numeric time 0, and without a string error an empty one', () => {
    expect(parseLine(entryJson({ at: '5', error: 7 }))).toMatchObject({ kind: 'entry', entry: { at: 0, error: '' } });
    expect(parseLine(JSON.stringify({ key: 'a', op: 'save', side: 'new', id: 1 }))).toMatchObject({ kind: 'entry', entry: { at: 0, error: '' } });
  });

  it('reads a removal record', () => {
    expect(parseLine('{"removed":[1,5,9]}')).toEqual({ kind: 'removed', ids: [1, 5, 9] });
    expect(parseLine('{"removed":[]}')).toEqual({ kind: 'removed', ids: [] });
  });

  it.each([
    ['not JSON', '{"key":"a",'],
    ['a number', '5'],
    ['null', 'null'],
    ['an array', '[1]'],
    ['a string', '"x"'],
    ['a removal record without an array', '{"removed":"1"}'],
    ['a removal record with a fraction', '{"removed":[1,1.5]}'],
    ['a removal record with a string id', '{"removed":[1,"2"]}'],
    ['an id that is a string', entryJson({ id: '1' })],
    ['an id that is a fraction', entryJson({ id: 1.5 })],
    ['an id of 0', entryJson({ id: 0 })],
    ['a negative id', entryJson({ id: -1 })],
    ['an id beyond safe integers', entryJson({ id: 2 ** 53 })],
    ['no id', JSON.stringify({ key: 'a', op: 'save', side: 'new' })],
    ['an unknown op', entryJson({ op: 'upsert' })],
    ['no op', entryJson({ op: undefined })],
    ['an unknown side', entryJson({ side: 'both' })],
    ['no side', entryJson({ side: undefined })],
    ['a key that is an object', entryJson({ key: { id: 1 } })],
    ['a key that is null', entryJson({ key: null })],
    ['a key that is true', entryJson({ key: true })],
    ['no key', entryJson({ key: undefined })],
    ['a key too large to be finite', entryJson({ key: 0 }).replace('"key":0', '"key":1e999')],
  ])('reads %s as bad', (_name, line) => {
    expect(parseLine(line)).toEqual({ kind: 'bad' });
  });
});

describe('cut', () => {
  it(`keeps a text of up to ${maxDamagedText} characters whole`, () => {
    const text = 'x'.repeat(maxDamagedText);
    expect(cut(text)).toBe(text);
    expect(cut('short')).toBe('short');
  });

  it('cuts a longer text and marks the cut', () => {
    expect(cut('y'.repeat(maxDamagedText + 1))).toBe(`${'y'.repeat(maxDamagedText)}…`);
  });
});

describe('readLines', () => {
  it('answers undefined for a file that does not exist, and calls back for no line', async () => {
    expect(await linesOf(path.join(dir, 'missing.jsonl'))).toEqual({ lines: [], read: undefined });
  });

  it('rejects with any other read error', async () => {
    await expect(readLines(dir, () => {})).rejects.toMatchObject({ code: 'EISDIR' });
  });

  it('reads an empty file as no lines', async () => {
    expect(await linesOf(fileWith(''))).toEqual({ lines: [], read: { bytes: 0, unterminated: false } });
  });

  it('gives each line without its newline, blank ones included, and the bytes read', async () => {
    const content = 'first\n\nthird é\n';
    expect(await linesOf(fileWith(content))).toEqual({
      lines: [
        { text: 'first', tooLong: false, last: false },
        { text: '', tooLong: false, last: false },
        { text: 'third é', tooLong: false, last: false },
      ],
      read: { bytes: Buffer.byteLength(content), unterminated: false },
    });
  });

  it('marks a last line without a newline as last, and the file as unterminated', async () => {
    expect(await linesOf(fileWith('a\nb'))).toEqual({
      lines: [
        { text: 'a', tooLong: false, last: false },
        { text: 'b', tooLong: false, last: true },
      ],
      read: { bytes: 3, unterminated: true },
    });
  });

  it('joins a line read across many chunks', async () => {
    const long = 'z'.repeat(200_000);
    const { lines } = await linesOf(fileWith(`a\n${long}\nb\n`));
    expect(lines.map((line) => [line.text.length, line.tooLong])).toEqual([
      [1, false],
      [200_000, false],
      [1, false],
    ]);
  });

  it('takes a line of exactly 1 MiB whole', async () => {
    const { lines } = await linesOf(fileWith(`${'m'.repeat(1 << 20)}\nnext\n`));
    expect(lines.map((line) => [line.text.length, line.tooLong])).toEqual([
      [1 << 20, false],
      [4, false],
    ]);
  });

  it('marks a longer line too long and keeps at most 1 MiB of its start, wherever the chunks fall', async () => {
    for (const prefix of ['', 'a\n', 'abc\n']) {
      const { lines, read } = await linesOf(fileWith(`${prefix}${'x'.repeat(3 << 20)}\nlast`));
      const long = lines.find((line) => line.tooLong);
      expect(long?.text.length).toBeLessThanOrEqual(1 << 20);
      expect(long?.text.length).toBeGreaterThan(0);
      expect(long?.last).toBe(false);
      expect(lines[lines.length - 1]).toEqual({ text: 'last', tooLong: false, last: true });
      expect(lines.filter((line) => line.tooLong)).toHaveLength(1);
      expect(read?.unterminated).toBe(true);
    }
  });

  it('keeps exactly the first 1 MiB of a too-long line, wherever in a 64 KiB read it starts', async () => {
    for (const prefix of ['', 'a\n', `${'p'.repeat(999)}\n`, `${'q'.repeat(3999)}\n`]) {
      const { lines } = await linesOf(fileWith(`${prefix}${'x'.repeat(3 << 20)}\n`));
      const long = lines.find((line) => line.tooLong);
      expect(long?.text).toBe('x'.repeat(1 << 20));
    }
  });

  it('marks only the line that is too long: the next line is read in full', async () => {
    const { lines } = await linesOf(fileWith(`${'x'.repeat((1 << 20) + 1)}\nafter\n`));
    expect(lines.map((line) => line.tooLong)).toEqual([true, false]);
    expect(lines[1]?.text).toBe('after');
  });

  it('marks a too-long last line without a newline as last', async () => {
    const { lines, read } = await linesOf(fileWith(`a\n${'x'.repeat((1 << 20) + 10)}`));
    expect(lines.map((line) => [line.tooLong, line.last])).toEqual([
      [false, false],
      [true, true],
    ]);
    expect(read?.unterminated).toBe(true);
  });
});

describe('fileSize', () => {
  it('is the size in bytes, or undefined for a file that cannot be read', async () => {
    expect(await fileSize(fileWith('12345'))).toBe(5);
    expect(await fileSize(path.join(dir, 'missing.jsonl'))).toBeUndefined();
  });
});
