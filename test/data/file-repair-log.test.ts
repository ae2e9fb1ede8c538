import { copyFileSync, mkdtempSync, readFileSync, statSync, writeFileSync, appendFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Logger } from '../../src/observe/logger.js';
import { silentLogger } from '../../src/observe/logger.js';
import { FileRepairLog } from '../../src/data/file-repair-log.js';
import type { RepairEntry } from '../../src/data/repair-log.js';

const dir = mkdtempSync(path.join(tmpdir(), 'file-repair-log-'));
let files = 0;

/** A fresh path: logs on one path share their state within a process. */
function freshPath(): string {
  files += 1;
  return path.join(dir, `log-${files}.jsonl`);
}

/** Opens `file` as a new process would: a copy at a path this process never opened. */
function reopen(file: string, logger: Logger = silentLogger): FileRepairLog<string> {
  const copy = freshPath();
  copyFileSync(file, copy);
  return new FileRepairLog<string>({ path: copy, logger });
}

function recorder() {
  const lines: { level: string; context: object; message: string | undefined }[] = [];
  const at =
    (level: string) =>
    (context: object, message?: string): void => {
      lines.push({ level, context, message });
    };
  const logger: Logger = { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
  return { logger, lines };
}

function entry(key: string, at = 1): RepairEntry<string> {
  return { key, op: 'save', side: 'new', at, error: 'new is down' };
}

function line(id: number, key: string): string {
  return JSON.stringify({ key, op: 'save', side: 'new', at: id, error: '', id });
}

async function keys(log: FileRepairLog<string>): Promise<string[]> {
  return (await log.list(null, 1000)).map((logged) => logged.key);
}

describe('FileRepairLog', () => {
  describe('when a middle line is damaged', () => {
    it('keeps the line in the file, reports it loudly, counts it, and replays every other entry', async () => {
      const file = freshPath();
      writeFileSync(file, `${line(1, 'a')}\n{"key":"b","op":"sa###garbage\n${line(3, 'c')}\n`);
      const { logger, lines } = recorder();
      const log = new FileRepairLog<string>({ path: file, logger });
      expect(await keys(log)).toEqual(['a', 'c']);
      expect(await log.damaged()).toEqual([{ line: 2, text: '{"key":"b","op":"sa###garbage', reason: 'invalid' }]);
      expect(await log.size()).toBe(3);
      expect(lines.filter((logged) => logged.level === 'error')).toHaveLength(1);
      expect(lines[0]?.context).toMatchObject({ damaged: 1, lines: [{ line: 2, reason: 'invalid' }] });

      // Appends and removals never rewrite the damaged line away.
      await log.append(entry('d'));
      const [a, c] = await log.list(null, 2);
      await log.remove([a?.id ?? 0, c?.id ?? 0]);
      expect(readFileSync(file, 'utf8')).toContain('{"key":"b","op":"sa###garbage\n');
      const again = reopen(file);
      expect(await keys(again)).toEqual(['d']);
      expect((await again.damaged()).map((damaged) => damaged.reason)).toEqual(['invalid']);
      expect(await again.size()).toBe(2);
    });

    it('drops it only when told to, after which the file holds the live entries alone', async () => {
      const file = freshPath();
      writeFileSync(file, `${line(1, 'a')}\nnot json\n${line(2, 'b')}\n`);
      const log = new FileRepairLog<string>({ path: file, logger: recorder().logger });
      expect(await log.discardDamaged()).toBe(1);
      expect(await log.damaged()).toEqual([]);
      expect(await log.size()).toBe(2);
      expect(readFileSync(file, 'utf8')).toBe(`${line(1, 'a')}\n${line(2, 'b')}\n`);
    });
  });

  describe('when the last line was torn by a crash mid-append', () => {
    it('keeps the torn line, reports it as truncated, and appends the next entry on a line of its own', async () => {
      const file = freshPath();
      writeFileSync(file, `${line(1, 'a')}\n{"key":"b","op":"save","si`);
      const { logger, lines } = recorder();
      const log = new FileRepairLog<string>({ path: file, logger });
      expect(await keys(log)).toEqual(['a']);
      expect(await log.damaged()).toEqual([{ line: 2, text: '{"key":"b","op":"save","si', reason: 'truncated' }]);
      expect(lines.some((logged) => logged.level === 'error')).toBe(true);
      await log.append(entry('c'));
      expect(readFileSync(file, 'utf8')).toBe(`${line(1, 'a')}\n{"key":"b","op":"save","si\n${JSON.stringify({ ...entry('c'), id: 2 })}\n`);
      const again = reopen(file);
      expect(await keys(again)).toEqual(['a', 'c']);
      expect(await again.size()).toBe(3);
    });

    it('takes a whole entry that only lacks its newline, and ends that line before appending', async () => {
      const file = freshPath();
      writeFileSync(file, `${line(1, 'a')}\n${line(2, 'b')}`);
      const log = new FileRepairLog<string>({ path: file, logger: recorder().logger });
      expect(await keys(log)).toEqual(['a', 'b']);
      expect(await log.damaged()).toEqual([]);
      await log.append(entry('c'));
      expect(await keys(reopen(file))).toEqual(['a', 'b', 'c']);
    });

    it('ignores a torn removal record: the entries it named stay and replay again', async () => {
      const file = freshPath();
      writeFileSync(file, `${line(1, 'a')}\n${line(2, 'b')}\n{"removed":[1,`);
      const log = new FileRepairLog<string>({ path: file, logger: recorder().logger });
      expect(await keys(log)).toEqual(['a', 'b']);
      expect(await log.damaged()).toEqual([]);
    });
  });

  describe('removing entries', () => {
    it('appends a removal record instead of rewriting, and compacts once most of the file is dead', async () => {
      const file = freshPath();
      const log = new FileRepairLog<string>({ path: file, logger: recorder().logger });
      for (const key of ['a', 'b', 'c', 'd']) await log.append(entry(key));
      await log.remove([1]);
      expect(readFileSync(file, 'utf8').trim().split('\n')).toHaveLength(5);
      expect(await keys(reopen(file))).toEqual(['b', 'c', 'd']);
      await log.remove([2, 3]);
      // 3 removed entries and 2 removal records against 1 live entry: rewritten.
      expect(readFileSync(file, 'utf8')).toBe(`${JSON.stringify({ ...entry('d'), id: 4 })}\n`);
      await log.append(entry('e'));
      expect((await reopen(file).list(null, 10)).map((logged) => [logged.id, logged.key])).toEqual([
        [4, 'd'],
        [5, 'e'],
      ]);
    });

    it('does not compact over lines another writer appended', async () => {
      const file = freshPath();
      const { logger, lines } = recorder();
      const log = new FileRepairLog<string>({ path: file, logger });
      await log.append(entry('a'));
      appendFileSync(file, `${line(7, 'from another process')}\n`);
      await log.remove([1]);
      expect(readFileSync(file, 'utf8')).toContain('from another process');
      expect(lines.some((logged) => logged.level === 'warn' && /second writer/.test(logged.message ?? ''))).toBe(true);
      expect(await keys(reopen(file))).toEqual(['from another process']);
    });
  });

  describe('with concurrent writers', () => {
    it('two logs on one path in one process share one state: no id is reused, no entry lost', async () => {
      const file = freshPath();
      const first = new FileRepairLog<string>({ path: file, logger: recorder().logger });
      const second = new FileRepairLog<string>({ path: file, logger: recorder().logger });
      await Promise.all(Array.from({ length: 50 }, (_, i) => (i % 2 === 0 ? first : second).append(entry(`k${i}`))));
      const listed = await second.list(null, 100);
      expect(new Set(listed.map((logged) => logged.id)).size).toBe(50);
      await first.remove(listed.slice(0, 40).map((logged) => logged.id));
      const reopened = reopen(file);
      expect(await reopened.size()).toBe(10);
      expect(await reopened.damaged()).toEqual([]);
      expect((await keys(reopened)).sort()).toEqual(listed.slice(40).map((logged) => logged.key).sort());
    });

    it('reports two lines with the same id (two processes on one file) as damaged, keeping the first', async () => {
      const file = freshPath();
      writeFileSync(file, `${line(1, 'a')}\n${line(1, 'b')}\n`);
      const log = new FileRepairLog<string>({ path: file, logger: recorder().logger });
      expect(await keys(log)).toEqual(['a']);
      expect((await log.damaged()).map((damaged) => [damaged.line, damaged.reason])).toEqual([[2, 'duplicate-id']]);
      await log.append(entry('c'));
      expect((await log.list(null, 10)).map((logged) => logged.id)).toEqual([1, 2]);
    });
  });

  describe('with a huge file', () => {
    it('reads it line by line; a runaway line without newlines is one damaged line, cut short', async () => {
      const file = freshPath();
      const entries = Array.from({ length: 20_000 }, (_, i) => line(i + 1, `k${i}`)).join('\n');
      writeFileSync(file, `${entries}\n${'x'.repeat(3 << 20)}\n${line(20_001, 'last')}\n`);
      const log = new FileRepairLog<string>({ path: file, logger: recorder().logger });
      expect(await log.size()).toBe(20_002);
      const damaged = await log.damaged();
      expect(damaged).toHaveLength(1);
      expect(damaged[0]).toMatchObject({ line: 20_001, reason: 'too-long' });
      expect(damaged[0]?.text.length).toBeLessThanOrEqual(1001);
      expect((await log.list(20_000, 5)).map((logged) => logged.key)).toEqual(['last']);
      expect(statSync(file).size).toBeGreaterThan(3 << 20);
    });
  });

  describe('bad input', () => {
    it('refuses a key that would not survive JSON, and an error message is cut to size', async () => {
      const log = new FileRepairLog<unknown>({ path: freshPath(), logger: recorder().logger });
      await expect(log.append({ key: undefined, op: 'save', side: 'new', at: 1, error: '' })).rejects.toMatchObject({ code: 'ERR_INVALID_KEY' });
      await expect(log.append({ key: { id: 1 }, op: 'save', side: 'new', at: 1, error: '' })).rejects.toMatchObject({ code: 'ERR_INVALID_KEY' });
      await log.append({ key: 'a', op: 'save', side: 'new', at: 1, error: 'e'.repeat(1_000_000) });
      const [logged] = await log.list(null, 1);
      expect(logged?.error.length).toBe(2000);
    });

    it('rejects a missing path with ERR_INVALID_OPTION', () => {
      expect(() => new FileRepairLog({ path: '' })).toThrow(expect.objectContaining({ code: 'ERR_INVALID_OPTION' }) as Error);
    });
  });
});
