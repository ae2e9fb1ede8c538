#!/usr/bin/env node
// Turns Stryker's JSON report (reports/mutation/mutation.json) into
// docs/mutation.md: the per-file scores, the date and the command.
// Usage: node scripts/mutation-report.mjs [report.json] [out.md]
import fs from 'node:fs';
import path from 'node:path';
import process from 'node:process';
import { fileURLToPath } from 'node:url';
import { equivalentMutants } from '../test/mutation/equivalent-mutants.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const reportPath = path.resolve(root, process.argv[2] ?? 'reports/mutation/mutation.json');
const outPath = path.resolve(root, process.argv[3] ?? 'docs/mutation.md');

const undetected = new Set(['Survived', 'NoCoverage']);

/** The rule of equivalentMutants that explains this surviving mutant, if any. */
function equivalenceOf(file, mutant, lines) {
  const line = (lines[mutant.location.start.line - 1] ?? '').trim();
  return equivalentMutants.find(
    (rule) => rule.file === file && rule.mutator === mutant.mutatorName && line.includes(rule.line) && String(mutant.replacement) === rule.replacement,
  );
}

function percent(part, whole) {
  return whole === 0 ? 'n/a' : `${((100 * part) / whole).toFixed(1)} %`;
}

function summarize(report) {
  const rows = [];
  const survivors = [];
  for (const [file, { mutants, source }] of Object.entries(report.files).sort(([a], [b]) => a.localeCompare(b))) {
    const lines = source.split('\n');
    const count = { killed: 0, timeout: 0, survived: 0, noCoverage: 0, ignored: 0, errors: 0, equivalent: 0 };
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
        const equivalent = equivalenceOf(file, mutant, lines);
        if (equivalent) count.equivalent += 1;
        survivors.push({ file, mutant, line: lines[mutant.location.start.line - 1]?.trim() ?? '', equivalent });
      }
    }
    if (mutants.length === 0) continue;
    const caught = count.killed + count.timeout;
    const valid = caught + count.survived + count.noCoverage;
    rows.push({ file, count, score: percent(caught, valid), adjusted: percent(caught, valid - count.equivalent) });
  }
  return { rows, survivors };
}

function render({ rows, survivors }, date) {
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
  out.push(`Measured on ${date} with:`);
  out.push('');
  out.push('```sh');
  out.push('npm run test:mutation');
  out.push('```');
  out.push('');
  out.push('It is not part of `npm test`. It runs in incremental mode: only mutants in code');
  out.push('or tests changed since the last run are tested again. `npm run test:mutation --');
  out.push('--force` runs every mutant; `-- --mutate src/hashing/hasher.ts` one file.');
  out.push('');
  out.push('| file | score | killed | timeout | survived | no coverage | ignored | equivalent | score without equivalents |');
  out.push('|---|---|---|---|---|---|---|---|---|');
  for (const { file, count, score, adjusted } of rows) {
    out.push(`| ${file} | ${score} | ${count.killed} | ${count.timeout} | ${count.survived} | ${count.noCoverage} | ${count.ignored} | ${count.equivalent} | ${adjusted} |`);
  }
  out.push('');
  out.push('*Ignored* mutants cannot change behaviour (the wording of a log message); each');
  out.push('carries its reason in the JSON report. *Equivalent* mutants survived and are');
  out.push('listed, with the reason no test can catch them, in');
  out.push('`test/mutation/equivalent-mutants.mjs` (a speed-only fast path whose slow path');
  out.push('gives the same answer); they still count as survivors in the score column.');
  const open = survivors.filter((s) => !s.equivalent);
  if (open.length > 0) {
    out.push('');
    out.push('## Survivors');
    out.push('');
    out.push('| where | mutator | code | becomes |');
    out.push('|---|---|---|---|');
    for (const { file, mutant, line } of open) {
      const cell = (text) => `\`${String(text).replace(/\|/g, '\\|').replace(/`/g, "'").slice(0, 80)}\``;
      out.push(`| ${file}:${mutant.location.start.line} | ${mutant.mutatorName}${mutant.status === 'NoCoverage' ? ' (no coverage)' : ''} | ${cell(line)} | ${cell(mutant.replacement ?? '')} |`);
    }
  }
  out.push('');
  return out.join('\n');
}

const report = JSON.parse(fs.readFileSync(reportPath, 'utf8'));
const date = new Date(fs.statSync(reportPath).mtime).toISOString().slice(0, 10);
fs.writeFileSync(outPath, render(summarize(report), date));
process.stdout.write(`wrote ${path.relative(root, outPath)} from ${path.relative(root, reportPath)}\n`);
