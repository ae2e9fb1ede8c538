import fs from 'node:fs';
import path from 'node:path';
import { parseMigrationConfig } from '../config/migration-config.js';
import type { CliIo, Command } from './cli-args.js';
import { UsageError, parse, storeOptions, storeUrl } from './cli-args.js';
import type { Operator, OperatorTarget } from './operator-types.js';
import { openOperator } from './operator.js';
import { printable, printableJson, statusLines } from './status-text.js';

// The commands that read or steer one migration through its store.

/** Per-command usage, printed by `--help` and after a usage mistake. */
export const operatorUsage: Readonly<Record<string, string>> = {
  status: `Usage: migration-glue status [--store URL] [--json]
       migration-glue status <config.json>
Shows the phase (rolled-back told apart from preparation), percentage, the
ramp's step, since, next step at, what blocks it, a pending approval, and
on Redis each arm's calls, error rate and p95 and the guard's verdict.`,
  set: `Usage: migration-glue set shadow|canary N|full|preparation [--store URL] [--by NAME]
A manual move, validated: canary takes a percentage above 0 and below 100.`,
  approve: `Usage: migration-glue approve [--comment TEXT] [--store URL] [--by NAME]
Approves the step the ramp waits for (or the plan's next step).`,
  pause: `Usage: migration-glue pause [--reason TEXT] [--store URL] [--by NAME]
The ramp takes no step until resume. Traffic keeps its current split.`,
  resume: `Usage: migration-glue resume [--store URL] [--by NAME]
Lifts a pause; after a rollback, puts the migration in shadow mode so the
ramp starts again from its first step.`,
  rollback: `Usage: migration-glue rollback --reason TEXT [--store URL] [--by NAME] [--json]
Sends every call to old now. Never refused; wins over any concurrent save.
Prints how long the store took to hold it.`,
};

const common = `
Options:
  --store URL   file:PATH or redis://host:port?key=KEY (default: $MIGRATION_GLUE_STORE)
  --json        print JSON (status, rollback)
  --by NAME     who acts, recorded with the change (default: $USER@host)
  -h, --help    this help`;

/** Usage of one operator command, with the shared options. */
export function usageOf(command: string): string {
  return `${operatorUsage[command] ?? ''}\n${common}`;
}

async function withOperator<T>(url: string, io: CliIo, by: string | undefined, use: (operator: Operator) => Promise<T>): Promise<T> {
  const operator = await openOperator(url, { cwd: io.cwd, ...(by === undefined ? {} : { by }) });
  try {
    return await use(operator);
  } finally {
    await operator.close();
  }
}

const help = (io: CliIo, command: string) => {
  io.out(usageOf(command));
  return 0;
};

/** `status`: where the migration stands. */
export const status: Command = async (args, io) => {
  const { values, positionals } = parse(args, storeOptions, { min: 0, max: 1, form: 'status [--store URL] [--json]' });
  if (values.help === true) return help(io, 'status');
  const file = positionals[0];
  if (file !== undefined) checkConfigFile(file, io);
  const url = file === undefined ? storeUrl(values.store, io) : `file:${file}`;
  const result = await withOperator(url, io, values.by, (operator) => operator.status());
  io.out(values.json === true ? printableJson(JSON.stringify(result, null, 2)) : statusLines(result).join('\n'));
  return 0;
};

/** A config file named on the command line, read strictly, so a broken one is named as such. */
function checkConfigFile(file: string, io: CliIo): void {
  let text: string;
  try {
    text = fs.readFileSync(path.resolve(io.cwd, file), 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException | undefined)?.code === 'ENOENT') throw new Error(`config file not found: ${file}`, { cause: err });
    throw new Error(`cannot read config file ${file}: ${(err as Error).message}`, { cause: err });
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new Error(`${file} is not valid JSON: ${(err as Error).message}`, { cause: err });
  }
  parseMigrationConfig(value);
}

/** Reads `shadow`, `canary N`, `full`, `preparation`. @throws UsageError on anything else. */
export function parseTarget(words: readonly string[]): OperatorTarget {
  const [phase, value, ...rest] = words;
  const none = value === undefined && rest.length === 0;
  if ((phase === 'shadow' || phase === 'full' || phase === 'preparation') && none) return { phase };
  if (phase === 'canary' && value !== undefined && rest.length === 0) {
    const percentage = Number(value.replace(/%$/, ''));
    if (!/^\d+(\.\d{1,2})?%?$/.test(value) || !(percentage > 0 && percentage < 100)) {
      throw new UsageError(`canary needs a percentage above 0 and below 100 in steps of 0.01 (use full for 100), got ${JSON.stringify(value)}`);
    }
    return { phase: 'canary', percentage };
  }
  throw new UsageError(`expected shadow, canary N, full or preparation, got ${JSON.stringify(words.join(' '))}`);
}

/** `set`: a manual move. */
export const set: Command = async (args, io) => {
  const { values, positionals } = parse(args, storeOptions, { min: 1, max: 2, form: 'set shadow|canary N|full|preparation' });
  if (values.help === true) return help(io, 'set');
  const target = parseTarget(positionals);
  await withOperator(storeUrl(values.store, io), io, values.by, (operator) => operator.set(target));
  io.out(`set to ${target.phase === 'canary' ? `canary ${target.percentage} %` : target.phase}`);
  return 0;
};

/** `approve`: a yes to the step the ramp waits for. */
export const approve: Command = async (args, io) => {
  const { values } = parse(args, { ...storeOptions, comment: { type: 'string' } }, { min: 0, max: 0, form: 'approve [--comment TEXT]' });
  if (values.help === true) return help(io, 'approve');
  const after = await withOperator(storeUrl(values.store, io), io, values.by, async (operator) => {
    await operator.approve(values.comment === undefined ? {} : { comment: values.comment });
    return operator.status();
  });
  const approval = after.ramp.approvals.at(-1);
  io.out(values.json === true ? printableJson(JSON.stringify(approval)) : printable(`approved ${approval?.percentage} % (by ${approval?.by})`));
  return 0;
};

/** `pause`: no step until resume. */
export const pause: Command = async (args, io) => {
  const { values } = parse(args, { ...storeOptions, reason: { type: 'string' } }, { min: 0, max: 0, form: 'pause [--reason TEXT]' });
  if (values.help === true) return help(io, 'pause');
  await withOperator(storeUrl(values.store, io), io, values.by, (operator) => operator.pause(values.reason === undefined ? {} : { reason: values.reason }));
  io.out('ramp paused');
  return 0;
};

/** `resume`: lifts a pause, or restarts after a rollback. */
export const resume: Command = async (args, io) => {
  const { values } = parse(args, storeOptions, { min: 0, max: 0, form: 'resume' });
  if (values.help === true) return help(io, 'resume');
  const after = await withOperator(storeUrl(values.store, io), io, values.by, async (operator) => {
    await operator.resume();
    return operator.status();
  });
  io.out(`ramp resumed; phase ${after.phase}`);
  return 0;
};

/** `rollback`: every call to old, now. */
export const rollback: Command = async (args, io) => {
  const { values } = parse(args, { ...storeOptions, reason: { type: 'string' } }, { min: 0, max: 0, form: 'rollback --reason TEXT' });
  if (values.help === true) return help(io, 'rollback');
  if (values.reason === undefined || values.reason.trim() === '') throw new UsageError('rollback needs --reason TEXT (it is written to the log)');
  const reason = values.reason;
  const { storedMs } = await withOperator(storeUrl(values.store, io), io, values.by, (operator) => operator.rollback(reason));
  io.out(values.json === true ? JSON.stringify({ rolledBack: true, storedMs }) : `rolled back: stored in ${storedMs.toFixed(1)} ms; every instance sends its next call to old`);
  return 0;
};
