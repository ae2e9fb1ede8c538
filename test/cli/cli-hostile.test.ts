import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { messageOf } from '../../src/cli/cli-args.js';
import { runCli } from '../../src/cli/run-cli.js';
import { publicMessage } from '../../src/dashboard/handler.js';

let dir = '';
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cli-hostile-'));
});
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

async function cli(...args: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await runCli(args, { out: (t) => out.push(t), err: (t) => err.push(t), cwd: dir });
  return { code, out: out.join('\n'), err: err.join('\n') };
}

const stackLine = /^\s+at .+\(.+:\d+:\d+\)$/m;
const at = Date.UTC(2026, 4, 2);
const line = (value: unknown) => JSON.stringify(value);

function write(name: string, lines: unknown[]): string {
  fs.writeFileSync(path.join(dir, name), `${lines.map(line).join('\n')}\n`);
  return name;
}

describe('a hand-edited journal', () => {
  const metrics = (errorRate: unknown) => ({
    at,
    kind: 'metrics',
    data: { percentage: 5, old: { calls: 10, errorRate: 0, p95: 3 }, new: { calls: 10, errorRate, p95: 4 }, shadow: { compared: 0, mismatchRate: 0 } },
  });

  it('report: a metric that is not a number is named with its line, exit 1, no stack trace', async () => {
    const file = write('edited.jsonl', [{ at, kind: 'step', percentage: 5 }, metrics(0.01), metrics('0.02')]);
    const result = await cli('report', file, '-o', 'out.html');
    expect(result.code).toBe(1);
    expect(result.err).toBe('migration-glue: edited.jsonl: journal line 3 is not a journal entry: `data.new.errorRate`: Invalid input: expected number, received string');
    expect(result.err).not.toMatch(stackLine);
    expect(fs.existsSync(path.join(dir, 'out.html'))).toBe(false);
  });

  it('checklist: a wrong kind, a time out of range, or a percentage as text, each named', async () => {
    for (const [entry, field] of [
      [{ at, kind: 'stpe', percentage: 5 }, '`kind`'],
      [{ at: 1e300, kind: 'step', percentage: 5 }, '`at`'],
      [{ at, kind: 'rollback', percentage: '5', reason: 'x' }, '`percentage`'],
      [{ at, kind: 'issue', issue: ['a'] }, '`issue`'],
      [[1, 2], 'expected object'],
    ] as const) {
      const file = write('j.jsonl', [{ at, kind: 'step', percentage: 1 }, entry]);
      const result = await cli('checklist', file);
      expect(result.code).toBe(1);
      expect(result.err).toContain('journal line 2 is not a journal entry');
      expect(result.err).toContain(field);
      expect(result.err).not.toMatch(stackLine);
    }
  });

  it('a directory given as the journal, or as the output, is a clear error', async () => {
    fs.mkdirSync(path.join(dir, 'sub'));
    const read = await cli('checklist', 'sub');
    expect(read.code).toBe(1);
    expect(read.err).toMatch(/^migration-glue: cannot read journal sub: /);
    const file = write('ok.jsonl', [{ at, kind: 'step', percentage: 5 }]);
    const written = await cli('report', file, '-o', 'sub');
    expect(written.code).toBe(1);
    expect(written.err).toMatch(/^migration-glue: cannot write sub: /);
  });
});

describe('odd arguments', () => {
  it('an unknown option, a missing value, extra or missing files: exit 2 with the usage', async () => {
    const file = write('ok.jsonl', [{ at, kind: 'step', percentage: 5 }]);
    for (const args of [
      ['checklist', file, '--frobnicate'],
      ['checklist'],
      ['checklist', file, 'other.jsonl'],
      ['report', file, '--output'],
      ['report', file, '--output='],
      ['report'],
      ['status', '-x', 'config.json'],
      ['report', file, '-o', 'a.html', '--json'],
    ]) {
      const result = await cli(...args);
      expect(result, args.join(' ')).toMatchObject({ code: 2, err: expect.stringContaining('Usage: migration-glue') });
      expect(result.err).not.toMatch(stackLine);
    }
  });

  it('unknown commands, including ones named like object properties, exit 2', async () => {
    for (const command of ['frobnicate', 'constructor', '__proto__', 'toString', '']) {
      expect(await cli(command)).toMatchObject({ code: 2, err: expect.stringContaining('unknown command') });
    }
  });

  it('no command prints the usage to stderr and exits 2; --help and a command --help exit 0', async () => {
    expect(await cli()).toMatchObject({ code: 2, err: expect.stringContaining('Usage: migration-glue') });
    expect(await cli('report', '--help')).toMatchObject({ code: 0, out: expect.stringContaining('Usage: migration-glue') });
    expect(await cli('help')).toMatchObject({ code: 0 });
  });

  it('a file name after -- may start with a dash', async () => {
    write('-odd.jsonl', [{ at, kind: 'step', percentage: 5 }]);
    expect(await cli('checklist', '--', '-odd.jsonl')).toMatchObject({ code: 0, out: expect.stringContaining('- [x] 5% traffic migrated') });
  });

  it('an io that throws does not make runCli reject', async () => {
    const code = await runCli(['--help'], {
      out: () => {
        throw new Error('EPIPE');
      },
      err: () => {
        throw new Error('EPIPE');
      },
      cwd: dir,
    });
    expect(code).toBe(1);
  });

  it('as a program: a usage mistake exits 2 and a bad journal exits 1, neither with a stack trace', async () => {
    const root = path.resolve(import.meta.dirname, '../..');
    const run = (...args: string[]) =>
      promisify(execFile)(process.execPath, ['--import', 'tsx', path.join(root, 'src/cli/main.ts'), ...args], { cwd: root }).then(
        () => ({ code: 0, stderr: '' }),
        (err: { code: number; stderr: string }) => ({ code: err.code, stderr: err.stderr }),
      );
    const usage = await run('checklist', '--nope');
    expect(usage.code).toBe(2);
    expect(usage.stderr).not.toMatch(stackLine);
    fs.writeFileSync(path.join(dir, 'bad.jsonl'), '{"at":1,"kind":"metrics","data":{}}\n');
    const bad = await run('report', path.join(dir, 'bad.jsonl'), '-o', path.join(dir, 'out.html'));
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain('journal line 1 is not a journal entry');
    expect(bad.stderr).not.toMatch(stackLine);
  });
});

describe('an error message of several megabytes', () => {
  // Collapsing line breaks backtracked over each run of spaces: quadratic, minutes for a message this size.
  const huge = `${' '.repeat(2_000_000)}x\n${'/'.repeat(2_000_000)}`;

  it('is shown on one bounded line, cut before it is collapsed', () => {
    const shown = messageOf(new Error(huge));
    expect(shown).toHaveLength(1_000);
    expect(shown).toBe(' '.repeat(1_000));
    expect(messageOf(new Error(`a  \n\n  b${' '.repeat(3_000)}`))).toBe(`a b${' '.repeat(997)}`);
  });

  it('is shown by the dashboard as one bounded line', () => {
    expect(publicMessage(new Error(huge))).toHaveLength(300);
    expect(publicMessage(new Error(`${'/'.repeat(100)}\nstore redis://u:p@h down`))).toBe(`${'/'.repeat(100)} store redis://***@h down`);
  });
});
