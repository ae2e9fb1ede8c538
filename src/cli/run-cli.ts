import { createRequire } from 'node:module';
import type { CliIo, Command } from './cli-args.js';
import { UsageError, messageOf } from './cli-args.js';
import { checklist, checklistUsage, report, reportUsage } from './journal-commands.js';
import { approve, pause, resume, rollback, set, status, usageOf } from './operator-commands.js';
import { StoreUrlError } from './store-url.js';
import { watch, watchUsage } from './watch-command.js';

export type { CliIo } from './cli-args.js';

const usage = `Usage: migration-glue <command> [options]

Steer a migration (each takes --store URL: file:PATH or
redis://host:port?key=KEY; default $MIGRATION_GLUE_STORE):
  rollback --reason TEXT        every call to old, now (never refused)
  status [--json]               phase, percentage, ramp, blocks, fleet figures
  approve [--comment TEXT]      approve the step the ramp waits for
  pause | resume                hold the ramp / let it go on (resume after a rollback: shadow)
  set shadow|canary N|full|preparation   a manual move
  watch                         a live view, redrawn on every change
  dashboard [--port N]          a live web page with the same controls

Read the journal:
  checklist <journal.jsonl>     the migration checklist (Markdown)
  report <journal.jsonl> [-o report.html]   the HTML report

Move data:
  backfill, verify              see migration-glue backfill --help

Options:
  -h, --help                    help (also per command: migration-glue status --help)
  --version                     the version

Exit codes: 0 done, 1 failed, 2 usage mistake.`;

// Commands other modules implement, loaded when called: the CLI starts fast and reads no more than it runs.
const dashboard: Command = async (args, io) => {
  const { dashboardCommand } = await import('../dashboard/command.js');
  return dashboardCommand(args, io, io.signal === undefined ? {} : { signal: io.signal });
};

const backfill: Command = async (args, io) => (await import('./data-commands.js')).backfillCommand(args, io);
const verify: Command = async (args, io) => (await import('./data-commands.js')).verifyCommand(args, io);

const commands: Readonly<Record<string, Command>> = {
  status,
  set,
  approve,
  pause,
  resume,
  rollback,
  watch,
  checklist,
  report,
  dashboard,
  backfill,
  verify,
};

const usages: Readonly<Record<string, string>> = {
  checklist: checklistUsage,
  report: reportUsage,
  watch: watchUsage,
};

/** The package's version, from its package.json. */
function version(): string {
  try {
    const require = createRequire(import.meta.url);
    for (const candidate of ['../../package.json', '../package.json']) {
      try {
        const pkg = require(candidate) as { name?: string; version?: string };
        if (pkg.name === 'migration-glue' && typeof pkg.version === 'string') return pkg.version;
      } catch {
        // try the next layout (source or built)
      }
    }
  } catch {
    // no require in this environment
  }
  return 'unknown';
}

/**
 * Runs the CLI with `args` (without node and the script); resolves with the
 * exit code: 0 done, 1 failed (a missing or malformed file, a store that
 * cannot be reached, with a one-line reason), 2 a usage mistake (unknown
 * command or option, a missing value). Never throws and never prints a stack trace.
 */
export async function runCli(args: readonly string[], io: CliIo): Promise<number> {
  try {
    const [command, ...rest] = Array.isArray(args) ? args.map(String) : [];
    if (command === '-h' || command === '--help' || command === 'help') {
      io.out(usage);
      return 0;
    }
    if (command === '--version' || command === '-v') {
      io.out(version());
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
      return await run(rest, io);
    } catch (err) {
      if (err instanceof UsageError || err instanceof StoreUrlError) {
        const own = usages[command] ?? usageOf(command);
        io.err(`migration-glue ${command}: ${err.message}\n\n${own}`);
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
