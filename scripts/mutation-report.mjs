#!/usr/bin/env node
// Turns Stryker's JSON reports into docs/mutation.md: the per-file scores,
// with the date each file was measured and the command that measures it again.
//
// Usage: node scripts/mutation-report.mjs [report.json] [out.md]
//
// Without a report it merges reports/mutation/mutation.json (a whole run,
// `npm run test:mutation`) with reports/mutation/files/*.json (one file at a
// time, `MUTATION_FILE=<file> npx stryker run --concurrency 1`): for each
// source file the newest report wins. A file that no report holds any more
// keeps its row (and survivors) from the docs/mutation.md being replaced, so
// measuring one file never drops the others' results.
import fs from 'node:fs';
import path from 'node:path';
import process from 'node:process';
import { fileURLToPath } from 'node:url';
import { equivalentMutants } from '../test/mutation/equivalent-mutants.mjs';
import { runTimes } from '../test/mutation/run-times.mjs';
import { survivorNotes } from '../test/mutation/survivor-notes.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const explicitReport = process.argv[2];
const outPath = path.resolve(root, process.argv[3] ?? 'docs/mutation.md');
const wholeRunPath = path.resolve(root, 'reports/mutation/mutation.json');
const perFileDir = path.resolve(root, 'reports/mutation/files');

const undetected = new Set(['Survived', 'NoCoverage']);
const wholeRunCommand = 'npm run test:mutation';
const perFileCommand = (file) => `MUTATION_FILE=${file} npx stryker run --concurrency 1`;

/** The source text a mutant replaces. */
function originalOf(mutant, lines) {
  const { start, end } = mutant.location;
  const picked = lines.slice(start.line - 1, end.line);
  if (picked.length === 0) return '';
  picked[picked.length - 1] = picked[picked.length - 1].slice(0, end.column - 1);
  picked[0] = picked[0].slice(start.column - 1);
  return picked.join('\n');
}

/**
 * The rule of `rules` that matches this surviving mutant, if any: same file,
 * mutator and replacement, a line containing rule.line and, when the rule
 * names it, exactly the `original` source text replaced (to tell apart two
 * mutants of one line with the same replacement).
 */
function ruleFor(rules, file, mutant, lines) {
  const line = (lines[mutant.location.start.line - 1] ?? '').trim();
  return rules.find(
    (rule) =>
      rule.file === file &&
      rule.mutator === mutant.mutatorName &&
      line.includes(rule.line) &&
      String(mutant.replacement) === rule.replacement &&
      (rule.original === undefined || originalOf(mutant, lines) === rule.original),
  );
}

function percent(part, whole) {
  return whole === 0 ? 'n/a' : `${((100 * part) / whole).toFixed(1)} %`;
}

/** [{ report, date, command }] to read, newest first. */
function reportsToRead() {
  if (explicitReport !== undefined) {
    const file = path.resolve(root, explicitReport);
    return [{ file, mtime: fs.statSync(file).mtime, command: wholeRunCommand }];
  }
  const found = [];
  if (fs.existsSync(wholeRunPath)) found.push({ file: wholeRunPath, mtime: fs.statSync(wholeRunPath).mtime, command: wholeRunCommand });
  if (fs.existsSync(perFileDir)) {
    for (const name of fs.readdirSync(perFileDir).filter((n) => n.endsWith('.json'))) {
      const file = path.join(perFileDir, name);
      found.push({ file, mtime: fs.statSync(file).mtime, command: undefined });
    }
  }
  return found.sort((a, b) => b.mtime.getTime() - a.mtime.getTime());
}

function summarizeFile(file, { mutants, source }, date, command) {
  const lines = source.split('\n');
  const count = { killed: 0, timeout: 0, survived: 0, noCoverage: 0, ignored: 0, errors: 0, equivalent: 0 };
  const survivors = [];
  for (const mutant of mutants) {
    switch (mutant.status) {
      case 'Killed': count.killed += 1; break;
      case 'Timeout': count.timeout += 1; break;
      case 'Survived': count.survived += 1; break;
      case 'NoCoverage': count.noCoverage += 1; break;
      case 'Ignored': count.ignored += 1; break;
      default: count.errors += 1;
    }
    if (undetected.has(mutant.status)) {
      const equivalent = ruleFor(equivalentMutants, file, mutant, lines);
      if (equivalent) count.equivalent += 1;
      const note = ruleFor(survivorNotes, file, mutant, lines);
      const where = `${file}:${mutant.location.start.line}`;
      const cell = (text) => `\`${String(text).replace(/\|/g, '\\|').replace(/`/g, "'").slice(0, 80)}\``;
      const mutator = `${mutant.mutatorName}${mutant.status === 'NoCoverage' ? ' (no coverage)' : ''}`;
      const row = `| ${where} | ${mutator} | ${cell(lines[mutant.location.start.line - 1]?.trim() ?? '')} | ${cell(mutant.replacement ?? '')} |`;
      survivors.push({ row, equivalent, note });
    }
  }
  const caught = count.killed + count.timeout;
  const valid = caught + count.survived + count.noCoverage;
  const row = `| ${file} | ${percent(caught, valid)} | ${count.killed} | ${count.timeout} | ${count.survived} | ${count.noCoverage} | ${count.ignored} | ${count.equivalent} | ${percent(caught, valid - count.equivalent)} | ${date} | \`${command}\` |`;
  return { file, row, survivors };
}

/** Rows and survivor lines of files in the previous docs/mutation.md, by file. */
function previousRows() {
  const kept = new Map();
  if (!fs.existsSync(outPath)) return kept;
  const text = fs.readFileSync(outPath, 'utf8');
  const measured = /Measured on (\d{4}-\d{2}-\d{2})/.exec(text)?.[1] ?? 'unknown';
  const section = (title) => {
    const at = text.indexOf(`\n## ${title}\n`);
    if (at < 0) return [];
    const rest = text.slice(at + title.length + 5);
    const end = rest.search(/\n## /);
    return (end < 0 ? rest : rest.slice(0, end)).split('\n');
  };
  // Only the score table: the run-times table below it names files too.
  const lines = text.split('\n');
  const header = lines.findIndex((line) => line.startsWith('| file | score |'));
  const table = [];
  for (let at = header + 2; header >= 0 && at < lines.length && lines[at].startsWith('|'); at++) table.push(lines[at]);
  for (const line of table) {
    const match = /^\| (src\/[^ |:]+) \| /.exec(line);
    if (match === null) continue;
    const cells = line.split(' | ');
    // An older table had no date and command columns: add them.
    const row = cells.length >= 11 ? line : `${line} ${measured} | \`${wholeRunCommand} -- --mutate ${match[1]}\` |`;
    kept.set(match[1], { file: match[1], row, survivors: [] });
  }
  for (const [title, kind] of [['Survivors', 'open'], ['Explained survivors', 'explained']]) {
    for (const line of section(title)) {
      const match = /^\| (src\/[^:]+):\d+ \| /.exec(line);
      const entry = match === null ? undefined : kept.get(match[1]);
      if (entry !== undefined) entry.survivors.push({ row: line, kept: kind });
    }
  }
  return kept;
}

function collect() {
  const byFile = new Map();
  for (const { file, mtime, command } of reportsToRead()) {
    const report = JSON.parse(fs.readFileSync(file, 'utf8'));
    const date = mtime.toISOString().slice(0, 10);
    for (const [source, entry] of Object.entries(report.files)) {
      if (byFile.has(source) || entry.mutants.length === 0) continue;
      byFile.set(source, summarizeFile(source, entry, date, command ?? perFileCommand(source)));
    }
  }
  if (explicitReport === undefined) {
    for (const [file, entry] of previousRows()) if (!byFile.has(file)) byFile.set(file, entry);
  }
  return [...byFile.values()].sort((a, b) => a.file.localeCompare(b.file));
}

function render(files) {
  const out = [];
  out.push('# Mutation testing');
  out.push('');
  out.push('A mutation test changes the code one small step at a time (a `<` into a `<=`, a');
  out.push('condition into `true`, a block emptied) and runs the tests against each change,');
  out.push('a *mutant*. A mutant the tests catch is killed; one they do not catch survived: a');
  out.push('change in behaviour no test would notice. The score is the share of mutants');
  out.push('caught. It covers the modules that decide where a call goes, whether to roll');
  out.push('back and whether data is kept.');
  out.push('');
  out.push('The whole run:');
  out.push('');
  out.push('```sh');
  out.push(wholeRunCommand);
  out.push('```');
  out.push('');
  out.push('It is not part of `npm test`. It runs in incremental mode: only mutants in code');
  out.push('or tests changed since the last run are tested again. `npm run test:mutation --');
  out.push('--force` runs every mutant. One file at a time, against only the tests that pin');
  out.push('it (listed in `test/mutation/tests-by-file.mjs` and, per area of the code, in');
  out.push('`test/mutation/areas/`), takes minutes. One caution: a mutant in code that runs');
  out.push('when a module loads (a message built at the top level) is covered by no test');
  out.push('in particular, and an incremental run keeps its old result even after a new');
  out.push('test kills it; add `--force` after writing such a test:');
  out.push('');
  out.push('```sh');
  out.push(perFileCommand('src/core/routing.ts'));
  out.push('```');
  out.push('');
  out.push('Each row below names the date it was measured and the command that measures it');
  out.push('again; `node scripts/mutation-report.mjs` rewrites this page from the reports.');
  out.push('');
  out.push('| file | score | killed | timeout | survived | no coverage | ignored | equivalent | score without equivalents | measured | command |');
  out.push('|---|---|---|---|---|---|---|---|---|---|---|');
  for (const { row } of files) out.push(row);
  out.push('');
  if (runTimes.length > 0) {
    out.push('How long a run of one file takes (`--force`, every mutant; wall clock on two');
    out.push('cores, with `--concurrency 1`), from `test/mutation/run-times.mjs`:');
    out.push('');
    out.push('| file | mutants | minutes | measured |');
    out.push('|---|---|---|---|');
    for (const { file, mutants, minutes, measured } of [...runTimes].sort((a, b) => a.file.localeCompare(b.file))) {
      out.push(`| ${file} | ${mutants} | ${minutes.toFixed(1)} | ${measured} |`);
    }
    out.push('');
  }
  out.push('*Ignored* mutants cannot change behaviour (the wording of a log message); each');
  out.push('carries its reason in the JSON report. *Equivalent* mutants survived and are');
  out.push('listed, with the reason no test can catch them, in');
  out.push('`test/mutation/equivalent-mutants.mjs` (a speed-only fast path whose slow path');
  out.push('gives the same answer); they still count as survivors in the score column.');
  out.push('Survivors with a note in `test/mutation/survivor-notes.mjs` (a flaw found in');
  out.push('the code, a bound not worth pinning) are listed apart with it; they count as');
  out.push('survivors everywhere. Each area of the code (`test/mutation/areas/*.mjs`) keeps');
  out.push('its own part of the four lists (tests, equivalents, notes, run times), merged by');
  out.push('the files above.');
  out.push('');
  out.push('## False survivors');
  out.push('');
  out.push("Stryker's vitest runner (9.6.1; 10.0.0 too) scores a mutant from the tests vitest");
  out.push('collected. A mutant that makes a test file throw while it is collected (a builder');
  out.push('emptied, so a schema built in a `describe` block throws) leaves that file with no');
  out.push('test, and the mutant was scored Survived although `vitest run` fails with it');
  out.push('applied by hand. The mutation runs load `test/mutation/load-failure-reporter.mjs`,');
  out.push('which turns such a file into one failed test, so these mutants count as killed.');
  out.push('Tests are best written so that the code under test runs inside `it`: Stryker');
  out.push('activates a non-static mutant only once the file has been collected.');
  out.push('');
  out.push('Incremental mode reuses the result of a static mutant (one run while modules');
  out.push('load, covered by no single test) as long as its code is unchanged, even when');
  out.push('the tests or this harness changed: after a change to `test/mutation/` or to');
  out.push('the tests of a file, measure that file again with `--force`, or an old false');
  out.push('survivor is carried over (`testsCompleted: 0` in the JSON report is the tell).');
  out.push('');
  out.push('A module that keeps state between calls (the hash scratch buffer and its cached');
  out.push('salt) is tested from a fresh copy in each test (`vi.resetModules()` and a');
  out.push("dynamic import, see `test/hashing/hasher-mutation.test.ts`): otherwise what an");
  out.push('earlier test left behind decides which path a later one takes, and a mutant of');
  out.push('the path no test reaches first survives.');
  const open = files.flatMap((f) => f.survivors.filter((s) => s.kept === 'open' || (s.kept === undefined && !s.equivalent && !s.note)));
  const explained = files.flatMap((f) => f.survivors.filter((s) => s.kept === 'explained' || (s.kept === undefined && (s.equivalent || s.note))));
  if (open.length > 0) {
    out.push('');
    out.push('## Survivors');
    out.push('');
    out.push('| where | mutator | code | becomes |');
    out.push('|---|---|---|---|');
    for (const { row } of open) out.push(row);
  }
  if (explained.length > 0) {
    out.push('');
    out.push('## Explained survivors');
    out.push('');
    out.push('| where | mutator | code | becomes | why it survives |');
    out.push('|---|---|---|---|---|');
    for (const { row, equivalent, note, kept } of explained) {
      if (kept !== undefined) out.push(row);
      else out.push(`${row} ${(equivalent ? `equivalent: ${equivalent.reason}` : `${note.kind}: ${note.reason}`).replace(/\|/g, '\\|')} |`);
    }
  }
  out.push('');
  return out.join('\n');
}

const files = collect();
fs.writeFileSync(outPath, render(files));
process.stdout.write(`wrote ${path.relative(root, outPath)} (${files.length} files)\n`);
