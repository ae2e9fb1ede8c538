import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FileConfigStore, phases } from '../../src/index.js';
import { openOperator } from '../../src/cli/operator.js';
import { runCli } from '../../src/cli/run-cli.js';
import { printable, printableJson } from '../../src/cli/status-text.js';

// The operator CLI against hostile store contents and odd flags.

let dir = '';
let file = '';
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'status-text-hostile-'));
  file = path.join(dir, 'migration.json');
  new FileConfigStore({ path: file, initial: phases.canary(5), watch: false }).close();
});
afterEach(() => {
  fs.rmSync(dir, { recursive: true, force: true });
});

async function cli(args: string[], signal?: AbortSignal) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await runCli(args, { out: (t) => out.push(t), err: (t) => err.push(t), cwd: dir, env: {}, ...(signal === undefined ? {} : { signal }) });
  return { code, out: out.join('\n'), err: err.join('\n') };
}

// A rollback reason and a name as the dashboard accepts them (any text up to 1000 / 100 characters):
// clear the screen, set the terminal title, write the clipboard (OSC 52), and overwrite the line.
const hostileReason = 'p95 \u001b[2J\u001b[H\u001b]0;owned\u0007\u001b]52;c;Y3VybCBldmlsfHNo\u0007\rphase: full';
const hostileBy = 'mallory\u001b[8m';
// eslint-disable-next-line no-control-regex
const control = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/;

// A reason that would print a line of its own, passing for the status' phase line.
const fakeLine = 'slow\nphase: full (100 % on new)';

async function rollBackHostile(): Promise<void> {
  const operator = await openOperator(`file:${file}`, { by: hostileBy });
  try {
    await operator.rollback(`${hostileReason} \u009b2J\u007f`);
  } finally {
    await operator.close();
  }
}

describe('printable', () => {
  it('makes every C0 and C1 control character of a line visible, "\\n" too, and leaves other text alone', () => {
    expect(printable('a\u001b[2Jb\rc\td\u0007e\u007ff\u009bg\nh é ✓')).toBe('a\\u001b[2Jb\\u000dc\\u0009d\\u0007e\\u007ff\\u009bg\\u000ah é ✓');
  });

  it('printableJson keeps JSON text valid and its lines, reading back as the same text', () => {
    const value = { reason: `${hostileReason}\u009b\u0085\nphase: full` };
    const shown = printableJson(JSON.stringify(value, null, 2));
    expect(shown.split('\n')).toHaveLength(3);
    expect(shown).not.toMatch(control);
    expect(JSON.parse(shown)).toEqual(value);
  });
});

describe('text from the store printed on an operator terminal', () => {
  it('status prints a rollback reason and name without terminal control sequences', async () => {
    await rollBackHostile();
    const { code, out } = await cli(['status', '--store', `file:${file}`]);
    expect(code).toBe(0);
    expect(out).toMatch(/rollback: at 5 % by mallory\\u001b\[8m /);
    expect(out).toContain('\\u001b]52;c;');
    expect(out).not.toMatch(control);
  });

  it('status prints a rollback reason holding a newline on its own line, never as a line of its own', async () => {
    const operator = await openOperator(`file:${file}`, { by: 'ops' });
    try {
      await operator.rollback(fakeLine);
    } finally {
      await operator.close();
    }
    const { code, out } = await cli(['status', '--store', `file:${file}`]);
    expect(code).toBe(0);
    expect(out).toContain('slow\\u000aphase: full (100 % on new)');
    expect(out.split('\n').filter((line) => line.startsWith('phase: full'))).toEqual([]);
  });

  it('status --json keeps the text but escapes control characters', async () => {
    await rollBackHostile();
    const { code, out } = await cli(['status', '--store', `file:${file}`, '--json']);
    expect(code).toBe(0);
    expect(out).not.toContain('\u001b');
    expect(out).not.toMatch(control); // DEL and C1 too, which JSON.stringify leaves raw
    expect((JSON.parse(out) as { ramp: { lastRollback: { reason: string } } }).ramp.lastRollback.reason).toBe(`${hostileReason} \u009b2J\u007f`);
  });

  it('watch prints the view without terminal control sequences', async () => {
    await rollBackHostile();
    const controller = new AbortController();
    const out: string[] = [];
    let drawn: () => void = () => {};
    const first = new Promise<void>((resolve) => (drawn = resolve));
    const running = runCli(['watch', '--store', `file:${file}`], {
      out: (t) => (out.push(t), drawn()),
      err: () => {},
      cwd: dir,
      env: {},
      signal: controller.signal,
    });
    await Promise.race([first, running]);
    controller.abort();
    expect(await running).toBe(0);
    expect(out.join('\n')).toMatch(/rollback: at 5 % by mallory/);
    expect(out.join('\n')).not.toMatch(control);
  });

  it('approve prints the name without terminal control sequences', async () => {
    const s = new FileConfigStore({ path: file, debounceMs: 1, watch: false });
    try {
      await s.updateRamp((ramp) => ({ ramp: { ...ramp, plan: [{ percentage: 5, holdMs: 0 }, { percentage: 50, holdMs: 0 }] } }));
    } finally {
      s.close();
    }
    const { code, out } = await cli(['approve', '--by', hostileBy, '--store', `file:${file}`]);
    expect(code).toBe(0);
    expect(out).toBe('approved 50 % (by mallory\\u001b[8m)');
  });
});

describe('odd flags', () => {
  it.each([
    [['set', 'canary', '1e1', '--store', 'file:migration.json'], /canary needs a percentage/],
    [['set', 'canary', '-5', '--store', 'file:migration.json'], /.+/],
    [['set', 'canary', '100', '--store', 'file:migration.json'], /use full for 100/],
    [['rollback', '--reason', '   ', '--store', 'file:migration.json'], /needs --reason/],
    [['rollback', '--store', 'file:migration.json'], /needs --reason/],
    [['watch', '--refresh=-1', '--store', 'file:migration.json'], /--refresh must be/],
    [['watch', '--refresh', 'NaN', '--store', 'file:migration.json'], /--refresh must be/],
    [['status', '--store'], /argument missing/],
    [['approve', '--by', '', '--store', 'file:migration.json'], /--by needs a value/],
    [['__proto__'], /unknown command/],
  ])('exits 2 with a one-line reason and no stack trace: %j', async (args, message) => {
    const { code, err } = await cli(args);
    expect(code).toBe(2);
    expect(err).toMatch(message);
    expect(err).not.toMatch(/\n\s+at /);
  });

  it('a store that is not a migration config exits 1 with a clear message', async () => {
    fs.writeFileSync(file, '{"hello": 1}');
    const { code, err } = await cli(['status', '--store', `file:${file}`]);
    expect(code).toBe(1);
    expect(err).not.toMatch(/\n\s+at /);
    expect(err).toMatch(/^migration-glue/);
  });

  it('approve with nothing to approve exits 1 and says so', async () => {
    const { code, err } = await cli(['approve', '--store', `file:${file}`]);
    expect(code).toBe(1);
    expect(err).toMatch(/nothing to approve/);
  });
});
