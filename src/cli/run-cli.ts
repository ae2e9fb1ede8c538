import fs from 'node:fs';
import path from 'node:path';
import { parseMigrationConfig } from '../config/migration-config.js';
import { phaseOf } from '../config/phases.js';
import { renderChecklist } from '../rollout/checklist.js';
import type { JournalEntry } from '../rollout/journal.js';
import { parseJournal } from '../rollout/journal.js';
import { renderReport } from '../rollout/report.js';

/** Where the CLI writes; injectable so tests can run it in process. */
export interface CliIo {
  readonly out: (text: string) => void;
  readonly err: (text: string) => void;
  readonly cwd: string;
}

const usage = `Usage: migration-glue <command> [options]

Commands:
  checklist <journal.jsonl>                  print the migration checklist (Markdown)
  report <journal.jsonl> [-o report.html]    write the HTML report (default: report.html)
  status <config.json>                       show the config in force and its phase

Options:
  -h, --help                                 show this help`;

/** Runs the CLI with `args` (without node and the script); resolves with the exit code. */
export async function runCli(args: readonly string[], io: CliIo): Promise<number> {
  const [command, ...rest] = args;
  if (command === undefined || command === '-h' || command === '--help' || command === 'help') {
    io.out(usage);
    return command === undefined ? 2 : 0;
  }
  try {
    if (command === 'checklist') return checklist(rest, io);
    if (command === 'report') return report(rest, io);
    if (command === 'status') return status(rest, io);
    io.err(`migration-glue: unknown command "${command}"\n\n${usage}`);
    return 2;
  } catch (err) {
    io.err(`migration-glue: ${err instanceof Error ? err.message : String(err)}`);
    return 1;
  }
}

function checklist(args: readonly string[], io: CliIo): number {
  const file = single(args, 'checklist <journal.jsonl>');
  io.out(renderChecklist(readJournal(file, io)));
  return 0;
}

function report(args: readonly string[], io: CliIo): number {
  let output = 'report.html';
  const files: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const arg = args[i] as string;
    if (arg === '-o' || arg === '--output') {
      const next = args[i + 1];
      if (next === undefined) throw new Error(`${arg} needs a file name`);
      output = next;
      i += 1;
    } else files.push(arg);
  }
  const file = single(files, 'report <journal.jsonl> [-o report.html]');
  const html = renderReport(readJournal(file, io));
  const target = path.resolve(io.cwd, output);
  fs.writeFileSync(target, html);
  io.out(`report written to ${output}`);
  return 0;
}

function status(args: readonly string[], io: CliIo): number {
  const file = single(args, 'status <config.json>');
  const text = readText(file, io, 'config file');
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new Error(`${file} is not valid JSON: ${(err as Error).message}`, { cause: err });
  }
  const config = parseMigrationConfig(value);
  const phase = phaseOf(config);
  io.out(
    [
      `phase: ${phase}`,
      `new system: ${config.newSystemEnabled ? 'enabled' : 'disabled'}, ${config.newSystemPercentage} % of keys${config.shadowMode ? ' (shadowed, old serves)' : ''}`,
      `fallback to old: ${config.fallbackEnabled ? 'on' : 'off'}`,
    ].join('\n'),
  );
  return 0;
}

function single(args: readonly string[], form: string): string {
  if (args.length !== 1 || (args[0] as string).startsWith('-')) throw new Error(`expected: migration-glue ${form}`);
  return args[0] as string;
}

function readText(file: string, io: CliIo, what: string): string {
  const full = path.resolve(io.cwd, file);
  try {
    return fs.readFileSync(full, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw new Error(`${what} not found: ${file}`, { cause: err });
    throw err;
  }
}

function readJournal(file: string, io: CliIo): JournalEntry[] {
  const text = readText(file, io, 'journal');
  let entries: JournalEntry[];
  try {
    entries = parseJournal(text);
  } catch (err) {
    throw new Error(`${file}: ${(err as Error).message}`, { cause: err });
  }
  if (entries.length === 0) throw new Error(`${file} holds no journal entries`);
  return entries;
}
