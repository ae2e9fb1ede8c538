import fs from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { parseMigrationConfig } from '../config/migration-config.js';
import { phaseOf } from '../core/routing.js';
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
  -o, --output <file>                        where report writes the HTML
  -h, --help                                 show this help

Exit codes: 0 done, 1 failed, 2 usage mistake.`;

/** A mistake in the command line: exit 2, with the usage. */
class UsageError extends Error {}

type Command = (args: readonly string[], io: CliIo) => number;

const commands: Readonly<Record<string, Command>> = { checklist, report, status };

/**
 * Runs the CLI with `args` (without node and the script); resolves with the
 * exit code: 0 done, 1 failed (a missing or malformed file, with a one-line
 * reason), 2 a usage mistake (unknown command or option, a missing value).
 * Never throws and never prints a stack trace.
 */
export async function runCli(args: readonly string[], io: CliIo): Promise<number> {
  try {
    const [command, ...rest] = Array.isArray(args) ? args.map(String) : [];
    if (command === '-h' || command === '--help' || command === 'help') {
      io.out(usage);
      return 0;
    }
    if (command === undefined) {
      io.err(usage);
      return 2;
    }
    const run = Object.hasOwn(commands, command) ? commands[command] : undefined;
    if (run === undefined) {
      io.err(`migration-glue: unknown command ${JSON.stringify(command)}\n\n${usage}`);
      return 2;
    }
    try {
      return run(rest, io);
    } catch (err) {
      if (err instanceof UsageError) {
        io.err(`migration-glue ${command}: ${err.message}\n\n${usage}`);
        return 2;
      }
      io.err(`migration-glue: ${messageOf(err)}`);
      return 1;
    }
  } catch (err) {
    // The io itself failed (a closed pipe, say): nothing more can be said.
    try {
      io.err(`migration-glue: ${messageOf(err)}`);
    } catch {
      // nowhere left to write
    }
    return 1;
  }
}

/** Parses a command's arguments with node:util's parseArgs; a bad one is a UsageError. */
function parse(args: readonly string[], form: string, withOutput = false) {
  let parsed;
  try {
    parsed = parseArgs({
      args: [...args],
      options: {
        help: { type: 'boolean', short: 'h' },
        ...(withOutput ? { output: { type: 'string', short: 'o' } } : {}),
      },
      allowPositionals: true,
      strict: true,
    });
  } catch (err) {
    throw new UsageError(messageOf(err));
  }
  const values = parsed.values as { help?: boolean; output?: string };
  if (values.help === true) return { help: true as const };
  if (parsed.positionals.length !== 1) throw new UsageError(`expected: migration-glue ${form}`);
  const file = parsed.positionals[0] as string;
  if (file === '') throw new UsageError(`expected: migration-glue ${form}`);
  if (values.output === '') throw new UsageError('--output needs a file name');
  return { help: false as const, file, output: values.output };
}

function checklist(args: readonly string[], io: CliIo): number {
  const parsed = parse(args, 'checklist <journal.jsonl>');
  if (parsed.help) return help(io);
  io.out(renderChecklist(readJournal(parsed.file, io)));
  return 0;
}

function report(args: readonly string[], io: CliIo): number {
  const parsed = parse(args, 'report <journal.jsonl> [-o report.html]', true);
  if (parsed.help) return help(io);
  const output = parsed.output ?? 'report.html';
  const html = renderReport(readJournal(parsed.file, io));
  try {
    fs.writeFileSync(path.resolve(io.cwd, output), html);
  } catch (err) {
    throw new Error(`cannot write ${output}: ${messageOf(err)}`, { cause: err });
  }
  io.out(`report written to ${output}`);
  return 0;
}

function status(args: readonly string[], io: CliIo): number {
  const parsed = parse(args, 'status <config.json>');
  if (parsed.help) return help(io);
  const file = parsed.file;
  const text = readText(file, io, 'config file');
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new Error(`${file} is not valid JSON: ${messageOf(err)}`, { cause: err });
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

function help(io: CliIo): number {
  io.out(usage);
  return 0;
}

function readText(file: string, io: CliIo, what: string): string {
  const full = path.resolve(io.cwd, file);
  try {
    return fs.readFileSync(full, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException | undefined)?.code === 'ENOENT') throw new Error(`${what} not found: ${file}`, { cause: err });
    throw new Error(`cannot read ${what} ${file}: ${messageOf(err)}`, { cause: err });
  }
}

function readJournal(file: string, io: CliIo): JournalEntry[] {
  const text = readText(file, io, 'journal');
  let entries: JournalEntry[];
  try {
    entries = parseJournal(text);
  } catch (err) {
    throw new Error(`${file}: ${messageOf(err)}`, { cause: err });
  }
  if (entries.length === 0) throw new Error(`${file} holds no journal entries`);
  return entries;
}

/** An error's message on one line, never its stack; never throws. */
function messageOf(err: unknown): string {
  try {
    const message = err instanceof Error ? String(err.message) : String(err);
    return message.replace(/\s*\n\s*/g, ' ').slice(0, 1_000);
  } catch {
    return 'an unreadable error';
  }
}
