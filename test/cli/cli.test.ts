import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runCli } from '../../src/cli/run-cli.js';
import { FileJournalStore, MigrationJournal, phases } from '../../src/index.js';

let dir = '';
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cli-'));
});
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

async function cli(...args: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await runCli(args, { out: (t) => out.push(t), err: (t) => err.push(t), cwd: dir });
  return { code, out: out.join('\n'), err: err.join('\n') };
}

function journalFile(): string {
  const file = path.join(dir, 'journal.jsonl');
  const journal = new MigrationJournal({ store: new FileJournalStore(file), clock: { now: () => Date.UTC(2026, 4, 2) } });
  journal.record('phase', { phase: 'shadow', config: phases.shadow(), percentage: 100 });
  journal.record('phase', { phase: 'canary', config: phases.canary(5), percentage: 5 });
  journal.record('rollback', { reason: 'p95 doubled', percentage: 5 });
  return file;
}

describe('migration-glue checklist', () => {
  it('prints the checklist ticked from the journal', async () => {
    const { code, out } = await cli('checklist', journalFile());
    expect(code).toBe(0);
    expect(out).toContain('- [x] 5% traffic migrated');
    expect(out).toContain('| 2026-05-02 | 5% | p95 doubled | ongoing |');
  });

  it('says clearly when the journal is missing, empty or malformed', async () => {
    expect(await cli('checklist', 'nope.jsonl')).toMatchObject({ code: 1, err: 'migration-glue: journal not found: nope.jsonl' });
    fs.writeFileSync(path.join(dir, 'empty.jsonl'), '');
    expect((await cli('checklist', 'empty.jsonl')).err).toContain('holds no journal entries');
    fs.writeFileSync(path.join(dir, 'bad.jsonl'), 'garbage\n{"at":1,"kind":"step"}\n');
    expect((await cli('checklist', 'bad.jsonl')).err).toContain('bad.jsonl: journal line 1 is not valid JSON');
  });
});

describe('migration-glue report', () => {
  it('writes the HTML report where -o says', async () => {
    const { code, out } = await cli('report', journalFile(), '-o', 'out.html');
    expect(code).toBe(0);
    expect(out).toBe('report written to out.html');
    expect(fs.readFileSync(path.join(dir, 'out.html'), 'utf8')).toContain('<svg id="chart-percentage"');
    expect(await cli('report', journalFile(), '-o')).toMatchObject({ code: 2, err: expect.stringContaining("'-o, --output <value>' argument missing") });
  });
});

describe('migration-glue status', () => {
  it('shows the phase of a config file and refuses a bad one, naming the field', async () => {
    fs.writeFileSync(path.join(dir, 'config.json'), JSON.stringify(phases.canary(10)));
    expect(await cli('status', 'config.json')).toMatchObject({ code: 0, out: expect.stringContaining('phase: canary') });
    fs.writeFileSync(path.join(dir, 'bad.json'), JSON.stringify({ ...phases.full(), newSystemPercentage: 120 }));
    expect((await cli('status', 'bad.json')).err).toContain('`newSystemPercentage` must be at most 100, got 120');
    fs.writeFileSync(path.join(dir, 'broken.json'), '{');
    expect((await cli('status', 'broken.json')).err).toContain('broken.json is not valid JSON');
  });
});

describe('usage', () => {
  it('prints help, and exits 2 on an unknown command or no command', async () => {
    expect(await cli('--help')).toMatchObject({ code: 0, out: expect.stringContaining('Usage: migration-glue') });
    expect((await cli('frobnicate')).code).toBe(2);
    expect((await cli()).code).toBe(2);
  });

  it('runs as a program', async () => {
    const root = path.resolve(import.meta.dirname, '../..');
    const { stdout } = await promisify(execFile)(process.execPath, ['--import', 'tsx', path.join(root, 'src/cli/main.ts'), 'checklist', journalFile()], { cwd: root });
    expect(stdout).toContain('## Phase 3: Canary');
  });
});
