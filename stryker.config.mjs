// @ts-check
// Mutation testing of the modules that decide where a call goes, whether to
// roll back and whether data is kept. Run with `npm run test:mutation`; the
// per-file scores go to docs/mutation.md (scripts/mutation-report.mjs).
// Not part of `npm test`.
//
// One file at a time (minutes, not the whole run):
//   MUTATION_FILE=src/core/routing.ts npx stryker run --concurrency 1
// mutates only that file, runs only the tests test/mutation/tests-by-file.mjs
// lists for it, and keeps its own incremental file and JSON report
// (reports/mutation/files/<name>.json), which scripts/mutation-report.mjs
// merges into docs/mutation.md.
import { mutationFile, slugOf } from './test/mutation/tests-by-file.mjs';

const single = mutationFile();

/** @type {import('@stryker-mutator/api/core').PartialStrykerOptions} */
const config = {
  testRunner: 'vitest',
  plugins: ['@stryker-mutator/vitest-runner', './test/mutation/no-behaviour-ignorer.mjs'],
  // A single-file run names its tests itself (tests-by-file.mjs): `related`
  // would look them up through the import graph and can find none when a
  // test reaches the file through an index.
  vitest: { configFile: 'test/mutation/vitest.config.ts', related: single === undefined },
  mutate: single !== undefined ? [single] : [
    'src/hashing/**/*.ts',
    'src/core/**/*.ts',
    // how every options object is checked (unknown names, bounds)
    'src/option-schema.ts',
    'src/config/**/*.ts',
    'src/data/**/*.ts',
    'src/rollout/judge.ts',
    'src/rollout/sequential.ts',
    'src/rollout/step-evidence.ts',
    'src/rollout/rollback-guard.ts',
    'src/rollout/criteria.ts',
    // re-exports and type-only files hold no behaviour
    '!src/**/index.ts',
    '!src/data/repository.ts',
  ],
  // Mutants that cannot change behaviour are never dropped from `mutate`:
  // the message of a logger call is reported as "Ignored" with its reason
  // (test/mutation/no-behaviour-ignorer.mjs); a survivor that cannot be
  // killed (a speed-only fast path) is listed with its reason in
  // test/mutation/equivalent-mutants.mjs and still counts as a survivor.
  ignorers: ['no-behaviour'],
  coverageAnalysis: 'perTest',
  // Two cores: one test process per core.
  concurrency: 2,
  timeoutMS: 10_000,
  // Only mutants in code or tests changed since the last run are tested again.
  // The incremental file (reports/stryker-incremental.json) is not committed:
  // it holds a copy of every mutated file and test, changes on every run and
  // would conflict between branches; CI can cache it instead.
  incremental: true,
  incrementalFile: single !== undefined ? `reports/stryker-incremental/${slugOf(single)}.json` : 'reports/stryker-incremental.json',
  reporters: ['json', 'clear-text', 'progress'],
  jsonReporter: { fileName: single !== undefined ? `reports/mutation/files/${slugOf(single)}.json` : 'reports/mutation/mutation.json' },
  thresholds: { high: 90, low: 85, break: null },
  ignorePatterns: ['dist', 'coverage', 'reports', 'bench', '.tmp', '*.tgz'],
  tempDirName: '.stryker-tmp',
  cleanTempDir: 'always',
};

export default config;
