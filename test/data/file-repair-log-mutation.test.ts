import { mkdirSync, mkdtempSync, readFileSync, rmdirSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { FileRepairLog } from '../../src/data/file-repair-log.js';
import type { RepairEntry } from '../../src/data/repair-log.js';
import type { Logger } from '../../src/observe/logger.js';

// src/data/file-repair-log.ts: a repair log in a JSON-lines file: what each
// call writes, when the file is compacted, and how a file is read back.

const dir = mkdtempSync(path.join(tmpdir(), 'file-repair-log-mutation-'));
let files = 0;

/** A fresh path: logs on one path share their state within a process. */
function freshPath(): string {
  files += 1;
  return path.join(dir, `log-${files}.jsonl`);
}

function recorder() {
  const lines: { level: string; context: Record<string, unknown>; message: string | undefined }[] = [];
  const at =
    (level: string) =>
    (context: object, message?: string): void => {
      lines.push({ level, context: context as Record<string, unknown>, message });
    };
  const logger: Logger = { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
  return { logger, lines };
}

function open(file: string, logger: Logger = recorder().logger): FileRepairLog<string | number> {
  return new FileRepairLog<string | number>({ path: file, logger });
}

/** Opens `file` as a new process would: a copy at a path this process never opened. */
function reopen(file: string): FileRepairLog<string | number> {
  const copy = freshPath();
  writeFileSync(copy, readFileSync(file));
  return open(copy);
}

function entry(key: string | number, at = 1): RepairEntry<string | number> {
  return { key, op: 'save', side: 'new', at, error: 'new is down' };
}

function line(id: number, key: string): string {
  return JSON.stringify({ key, op: 'save', side: 'new', at: id, error: '', id });
}

const lineCount = (file: string) => readFileSync(file, 'utf8').split('\n').length - 1;

describe('opening', () => {
  it('resolves a relative path against the working directory, and shares the state of that file', async () => {
    const file = freshPath();
    const relative = path.relative(process.cwd(), file);
    const log = open(relative);
    expect(log.path).toBe(file);
    await log.append(entry('a'));
    expect((await open(file).list(null, 10)).map((e) => e.key)).toEqual(['a']);
  });

  it('reads a file that could not be read again on the next call', async () => {
    const file = freshPath();
    mkdirSync(file);
    const log = open(file);
    await expect(log.list(null, 10)).rejects.toMatchObject({ code: 'EISDIR' });
    rmdirSync(file);
    writeFileSync(file, `${line(1, 'a')}\n`);
    expect((await log.list(null, 10)).map((e) => e.key)).toEqual(['a']);
  });

  it('names itself when it refuses an option', () => {
    expect(() => new FileRepairLog({ path: freshPath(), paht: 'x' } as never)).toThrow(/is not an option of FileRepairLog/);
    expect(() => new FileRepairLog({ path: 5 } as never)).toThrow(/option `path`/);
  });

  it('goes on with the next call after one that failed', async () => {
    const log = open(freshPath());
    await expect(log.append({ ...entry('a'), key: Number.NaN })).rejects.toMatchObject({ code: 'ERR_INVALID_KEY' });
    await log.append(entry('b'));
    expect((await log.list(null, 10)).map((e) => [e.id, e.key])).toEqual([[1, 'b']]);
  });
});

describe('append', () => {
  it('writes one line per entry, in append order, with ids from 1', async () => {
    const file = freshPath();
    const log = open(file);
    await log.append(entry('a', 5));
    await log.append({ key: 7, op: 'delete', side: 'old', at: 6, error: 'x' });
    expect(readFileSync(file, 'utf8')).toBe(
      `${JSON.stringify({ key: 'a', op: 'save', side: 'new', at: 5, error: 'new is down', id: 1 })}\n` +
        `${JSON.stringify({ key: 7, op: 'delete', side: 'old', at: 6, error: 'x', id: 2 })}\n`,
    );
    const listed = await log.list(null, 10);
    expect(listed).toEqual([
      { key: 'a', op: 'save', side: 'new', at: 5, error: 'new is down', id: 1 },
      { key: 7, op: 'delete', side: 'old', at: 6, error: 'x', id: 2 },
    ]);
    expect(Object.isFrozen(listed[0])).toBe(true);
  });

  it.each([
    ['NaN', Number.NaN],
    ['Infinity', Number.POSITIVE_INFINITY],
    ['a bigint', 1n],
    ['null', null],
  ])('refuses a key that is %s with ERR_INVALID_KEY, writing nothing', async (_name, key) => {
    const file = freshPath();
    const log = new FileRepairLog<unknown>({ path: file, logger: recorder().logger });
    await expect(log.append({ ...entry('a'), key })).rejects.toMatchObject({
      code: 'ERR_INVALID_KEY',
      message: expect.stringMatching(/a FileRepairLog key must be a string or a finite number, got/),
    });
    expect(await log.size()).toBe(0);
  });

  it('writes a time that is not a finite number as 0, and an error that is not a string as empty', async () => {
    const log = open(freshPath());
    await log.append({ ...entry('a'), at: Number.NaN, error: 42 as never });
    await log.append({ ...entry('b'), at: Number.POSITIVE_INFINITY });
    await log.append({ ...entry('c'), at: '5' as never });
    expect((await log.list(null, 10)).map((e) => [e.at, e.error])).toEqual([
      [0, ''],
      [0, 'new is down'],
      [0, 'new is down'],
    ]);
  });

  it('cuts an error to 2000 characters', async () => {
    const log = open(freshPath());
    await log.append({ ...entry('a'), error: 'e'.repeat(2001) });
    await log.append({ ...entry('b'), error: 'f'.repeat(2000) });
    expect((await log.list(null, 10)).map((e) => e.error.length)).toEqual([2000, 2000]);
  });

  it('uses up the id of a write that failed, and starts the next entry on a line of its own', async () => {
    const file = freshPath();
    const { logger, lines } = recorder();
    const log = open(file, logger);
    await log.append(entry('a'));
    await log.append(entry('b'));
    // The file cannot be appended to for a moment: a directory stands in its place.
    const text = readFileSync(file);
    unlinkSync(file);
    mkdirSync(file);
    await expect(log.append(entry('lost'))).rejects.toMatchObject({ code: 'EISDIR' });
    rmdirSync(file);
    writeFileSync(file, text);
    await log.append(entry('c'));
    expect(readFileSync(file, 'utf8')).toBe(`${JSON.stringify({ ...entry('a'), id: 1 })}\n${JSON.stringify({ ...entry('b'), id: 2 })}\n\n${JSON.stringify({ ...entry('c'), id: 4 })}\n`);
    expect((await log.list(null, 10)).map((e) => e.id)).toEqual([1, 2, 4]);
    // Its size is no longer known: it is not compacted, since it might hold another writer's lines.
    await log.remove([1, 2]);
    expect(readFileSync(file, 'utf8')).toContain('{"removed":[1,2]}');
    const warnings = lines.filter((logged) => logged.level === 'warn');
    expect(warnings).toHaveLength(1);
    expect(warnings[0]?.message).toMatch(/not compacting/);
    expect(warnings[0]?.context).toMatchObject({ file, bytes: statSync(file).size });
    expect(warnings[0]?.context).toHaveProperty('expectedBytes', undefined);
    expect((await reopen(file).list(null, 10)).map((e) => e.id)).toEqual([4]);
  });
});

describe('remove', () => {
  it('appends one removal record naming each present id once, and forgets those entries', async () => {
    const file = freshPath();
    const log = open(file);
    for (const key of ['a', 'b', 'c', 'd', 'e', 'f']) await log.append(entry(key));
    await log.remove([2, 2, 99]);
    expect(readFileSync(file, 'utf8').split('\n').at(-2)).toBe('{"removed":[2]}');
    expect((await log.list(null, 10)).map((e) => e.id)).toEqual([1, 3, 4, 5, 6]);
    expect(await log.size()).toBe(5);
  });

  it('writes nothing when no id is present', async () => {
    const file = freshPath();
    const log = open(file);
    for (const key of ['a', 'b', 'c']) await log.append(entry(key));
    const before = readFileSync(file, 'utf8');
    await log.remove([5, 6]);
    await log.remove([]);
    expect(readFileSync(file, 'utf8')).toBe(before);
  });

  it('compacts only once the dead lines outnumber the live entries', async () => {
    const file = freshPath();
    const log = open(file);
    for (const key of ['a', 'b', 'c']) await log.append(entry(key));
    // 2 dead lines (the entry and its record) against 2 live entries: kept.
    await log.remove([1]);
    expect(lineCount(file)).toBe(4);
    // 4 dead against 1 live: rewritten.
    await log.remove([2]);
    expect(readFileSync(file, 'utf8')).toBe(`${JSON.stringify({ ...entry('c'), id: 3 })}\n`);
  });

  it('counts every entry a record removes, and the record itself, as dead', async () => {
    const file = freshPath();
    const log = open(file);
    for (const key of ['a', 'b', 'c', 'd', 'e']) await log.append(entry(key));
    // 3 dead against 3 live: kept.
    await log.remove([1, 2]);
    expect(lineCount(file)).toBe(6);
    // 5 dead against 2 live: rewritten.
    await log.remove([3]);
    expect(lineCount(file)).toBe(2);
  });

  it('counts dead lines afresh after a compaction', async () => {
    const file = freshPath();
    const log = open(file);
    for (const key of ['a', 'b', 'c', 'd']) await log.append(entry(key));
    await log.remove([1, 2, 3]);
    expect(lineCount(file)).toBe(1);
    for (const key of ['e', 'f', 'g']) await log.append(entry(key));
    // 2 dead against 3 live: kept.
    await log.remove([4]);
    expect(lineCount(file)).toBe(5);
    expect((await reopen(file).list(null, 10)).map((e) => e.key)).toEqual(['e', 'f', 'g']);
  });
});

describe('reading a file back', () => {
  it('continues the ids after the highest one in the file, whatever the order of its lines', async () => {
    const file = freshPath();
    writeFileSync(file, `${line(5, 'a')}\n${line(3, 'b')}\n`);
    const log = open(file);
    await log.append(entry('c'));
    expect((await log.list(null, 10)).map((e) => [e.id, e.key])).toEqual([
      [5, 'a'],
      [3, 'b'],
      [6, 'c'],
    ]);
  });

  it('continues the ids after a removed entry', async () => {
    const file = freshPath();
    writeFileSync(file, `${line(1, 'a')}\n${line(2, 'b')}\n{"removed":[2]}\n`);
    const log = open(file);
    await log.append(entry('c'));
    expect((await log.list(null, 10)).map((e) => e.id)).toEqual([1, 3]);
  });

  it('counts blank lines as dead', async () => {
    const file = freshPath();
    writeFileSync(file, `${line(1, 'a')}\n\n${line(2, 'b')}\n${line(3, 'c')}\n`);
    const log = open(file);
    // 1 blank + the entry + its record = 3 dead against 2 live: rewritten.
    await log.remove([1]);
    expect(lineCount(file)).toBe(2);
  });

  it('counts the removal records it reads, and the entries they remove, as dead', async () => {
    const file = freshPath();
    writeFileSync(file, `${[1, 2, 3, 4, 5].map((id) => line(id, `k${id}`)).join('\n')}\n{"removed":[1,77]}\n`);
    const log = open(file);
    expect(await log.size()).toBe(4);
    // 2 dead at reading, then the entry and its record: 4 against 3 live: rewritten.
    await log.remove([2]);
    expect(lineCount(file)).toBe(3);
  });

  it('counts a torn removal record as dead, not as damage', async () => {
    const file = freshPath();
    writeFileSync(file, `${line(1, 'a')}\n${line(2, 'b')}\n${line(3, 'c')}\n{"removed":[9,`);
    const log = open(file);
    expect(await log.damaged()).toEqual([]);
    // 1 torn record + the entry + its record = 3 dead against 2 live: rewritten.
    await log.remove([1]);
    expect(readFileSync(file, 'utf8')).toBe(`${line(2, 'b')}\n${line(3, 'c')}\n`);
  });

  it('reports a too-long line that starts like a removal record as damage', async () => {
    const file = freshPath();
    writeFileSync(file, `{"removed":[${'1,'.repeat(600_000)}1]}\n${line(1, 'a')}\n`);
    const log = open(file);
    expect((await log.damaged()).map((damaged) => [damaged.line, damaged.reason])).toEqual([[1, 'too-long']]);
    expect((await log.list(null, 10)).map((e) => e.key)).toEqual(['a']);
  });

  it('numbers damaged lines from 1, counting every line before them', async () => {
    const file = freshPath();
    writeFileSync(file, `\n${line(1, 'a')}\n{"removed":[1]}\nnot json\n${line(2, 'b')}\n{"bad":`);
    const log = open(file);
    expect((await log.damaged()).map((damaged) => [damaged.line, damaged.reason, damaged.text])).toEqual([
      [4, 'invalid', 'not json'],
      [6, 'truncated', '{"bad":'],
    ]);
    expect(await log.size()).toBe(3);
  });

  it('logs the damage once, with the first ten damaged lines, each cut to 200 characters', async () => {
    const file = freshPath();
    const junk = Array.from({ length: 12 }, (_, i) => `${i}`.padEnd(300, 'x'));
    writeFileSync(file, `${junk.join('\n')}\n`);
    const { logger, lines } = recorder();
    const log = open(file, logger);
    expect(await log.size()).toBe(12);
    const errors = lines.filter((logged) => logged.level === 'error');
    expect(errors).toHaveLength(1);
    expect(errors[0]?.context).toMatchObject({ file, damaged: 12 });
    expect(errors[0]?.message).toMatch(/kept in the file and counted as remaining.*run verify with repair, then discardDamaged\(\)/);
    const listed = errors[0]?.context.lines as { line: number; reason: string; text: string }[];
    expect(listed).toHaveLength(10);
    expect(listed[0]).toEqual({ line: 1, reason: 'invalid', text: junk[0]?.slice(0, 200) });
    expect(listed[9]?.line).toBe(10);
    expect((await log.damaged())[0]?.text).toBe(junk[0]);
  });

  it('logs nothing for a file without damage', async () => {
    const file = freshPath();
    writeFileSync(file, `${line(1, 'a')}\n`);
    const { logger, lines } = recorder();
    expect(await open(file, logger).size()).toBe(1);
    expect(lines).toEqual([]);
  });
});

describe('discardDamaged', () => {
  it('answers 0 and leaves the file alone when nothing is damaged', async () => {
    const file = freshPath();
    writeFileSync(file, `${line(1, 'a')}\n${line(2, 'b')}\n{"removed":[2]}\n`);
    const { logger, lines } = recorder();
    const log = open(file, logger);
    expect(await log.discardDamaged()).toBe(0);
    expect(lineCount(file)).toBe(3);
    expect(lines).toEqual([]);
  });

  it('rewrites the file with the live entries, warns, and appends after it on a line of its own', async () => {
    const file = freshPath();
    writeFileSync(file, `${line(1, 'a')}\nnot json\n${line(2, 'b')}\n{"removed":[2]}\n{"torn`);
    const { logger, lines } = recorder();
    const log = open(file, logger);
    expect(await log.discardDamaged()).toBe(2);
    expect(await log.damaged()).toEqual([]);
    expect(await log.size()).toBe(1);
    expect(readFileSync(file, 'utf8')).toBe(`${line(1, 'a')}\n`);
    const warnings = lines.filter((logged) => logged.level === 'warn');
    expect(warnings.map((logged) => logged.context)).toEqual([{ file, discarded: 2 }]);
    await log.append(entry('c'));
    expect(readFileSync(file, 'utf8')).toBe(`${line(1, 'a')}\n${JSON.stringify({ ...entry('c'), id: 3 })}\n`);
    // Dead lines count afresh: 2 dead against 1 live after this removal: rewritten again.
    await log.remove([1]);
    expect(lineCount(file)).toBe(1);
  });

  it('lets the file be compacted again', async () => {
    const file = freshPath();
    writeFileSync(file, `${line(1, 'a')}\n${line(2, 'b')}\n${line(3, 'c')}\nnot json\n`);
    const log = open(file);
    await log.remove([1]);
    // Damaged: never compacted.
    expect(lineCount(file)).toBe(5);
    await log.discardDamaged();
    await log.remove([2]);
    // 2 dead against 1 live: rewritten.
    expect(readFileSync(file, 'utf8')).toBe(`${line(3, 'c')}\n`);
  });
});
