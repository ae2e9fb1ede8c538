import fs from 'node:fs';
import path from 'node:path';
import type { ChecklistOptions } from '../rollout/checklist.js';
import { renderChecklist } from '../rollout/checklist.js';
import type { JournalEntry } from '../rollout/journal.js';
import { parseJournal } from '../rollout/journal.js';
import { renderReport } from '../rollout/report.js';
import type { CliIo, Command } from './cli-args.js';
import { messageOf, parse } from './cli-args.js';

// The commands that read a migration's journal: the checklist and the report.

const header = `
Header (what the journal cannot know):
  --name NAME       the migration's name
  --old NAME        the system replaced
  --new NAME        its replacement
  --owner NAME      who owns the migration
  --target DATE     the target completion date`;

/** Usage of `checklist`. */
export const checklistUsage = `Usage: migration-glue checklist <journal.jsonl> [--name N] [--old N] [--new N] [--owner N] [--target DATE]
Prints the workflow's checklist as Markdown, ticked from what the journal shows.
${header}
  -h, --help        this help`;

/** Usage of `report`. */
export const reportUsage = `Usage: migration-glue report <journal.jsonl> [-o report.html] [--name N] [--old N] [--new N] [--owner N] [--target DATE]
Writes the HTML report (charts, steps, rollbacks, the checklist).

  -o, --output FILE where to write it (default: report.html)${header}
  -h, --help        this help`;

const headerOptions = {
  name: { type: 'string' },
  old: { type: 'string' },
  new: { type: 'string' },
  owner: { type: 'string' },
  target: { type: 'string' },
} as const;

function checklistOptions(values: { name?: string; old?: string; new?: string; owner?: string; target?: string }): ChecklistOptions {
  return {
    ...(values.name === undefined ? {} : { name: values.name }),
    ...(values.old === undefined ? {} : { oldSystem: values.old }),
    ...(values.new === undefined ? {} : { newSystem: values.new }),
    ...(values.owner === undefined ? {} : { owner: values.owner }),
    ...(values.target === undefined ? {} : { targetCompletion: values.target }),
  };
}

/** `checklist`: the Markdown checklist. */
export const checklist: Command = async (args, io) => {
  const { values, positionals } = parse(args, headerOptions, { min: 1, max: 1, form: 'checklist <journal.jsonl>' });
  if (values.help === true) {
    io.out(checklistUsage);
    return 0;
  }
  io.out(renderChecklist(readJournal(positionals[0] as string, io), checklistOptions(values)));
  return 0;
};

/** `report`: the HTML report. */
export const report: Command = async (args, io) => {
  const { values, positionals } = parse(args, { ...headerOptions, output: { type: 'string', short: 'o' } }, { min: 1, max: 1, form: 'report <journal.jsonl> [-o report.html]' });
  if (values.help === true) {
    io.out(reportUsage);
    return 0;
  }
  const output = values.output ?? 'report.html';
  const options = checklistOptions(values);
  const html = renderReport(readJournal(positionals[0] as string, io), undefined, values.name === undefined ? options : { ...options, title: `Migration report: ${values.name}` });
  try {
    fs.writeFileSync(path.resolve(io.cwd, output), html);
  } catch (err) {
    throw new Error(`cannot write ${output}: ${messageOf(err)}`, { cause: err });
  }
  io.out(`report written to ${output}`);
  return 0;
};

function readJournal(file: string, io: CliIo): JournalEntry[] {
  let text: string;
  try {
    text = fs.readFileSync(path.resolve(io.cwd, file), 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException | undefined)?.code === 'ENOENT') throw new Error(`journal not found: ${file}`, { cause: err });
    throw new Error(`cannot read journal ${file}: ${messageOf(err)}`, { cause: err });
  }
  let entries: JournalEntry[];
  try {
    entries = parseJournal(text);
  } catch (err) {
    throw new Error(`${file}: ${messageOf(err)}`, { cause: err });
  }
  if (entries.length === 0) throw new Error(`${file} holds no journal entries`);
  return entries;
}
