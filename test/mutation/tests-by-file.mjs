// @ts-check
import process from 'node:process';
// The tests that pin each mutated file, for a run of one file at a time:
//
//   MUTATION_FILE=src/core/routing.ts npx stryker run --concurrency 1
//
// stryker.config.mjs then mutates only that file (with its own incremental
// file and JSON report under reports/mutation/files/), and
// test/mutation/vitest.config.ts runs only these tests against each mutant:
// minutes instead of the whole mutation run. A file not listed here runs
// against every test folder of test/mutation/vitest.config.ts.

/** @type {Readonly<Record<string, readonly string[]>>} */
export const testsByFile = {
  'src/core/routing.ts': ['test/core/routing.test.ts'],
  'src/option-schema.ts': ['test/options/option-schema.test.ts'],
  // Not sequential.test.ts: its simulations (millions of draws) outlast the
  // test timeout once instrumented; they show the bounds hold, the known
  // answers pin the numbers.
  'src/rollout/sequential.ts': ['test/rollout/sequential-boundaries.test.ts'],
  'src/config/config-conflict.ts': ['test/config/config-mutation.test.ts'],
  'src/config/migration-config.ts': [
    'test/config/migration-config.test.ts',
    'test/config/config-mutation.test.ts',
    'test/config/migration-config-unreadable.test.ts',
  ],
  'src/rollout/judge.ts': ['test/rollout/judge.test.ts', 'test/rollout/judge-boundaries.test.ts'],
};

/** The file named by MUTATION_FILE (a path from the repository root), or undefined for a whole run. */
export function mutationFile() {
  const file = process.env.MUTATION_FILE?.trim();
  return file === undefined || file === '' ? undefined : file.replace(/^\.\//, '');
}

/** reports/mutation/files/<slug>.json and friends: one name per mutated file. */
export function slugOf(file) {
  return file.replace(/^src\//, '').replace(/\.ts$/, '').replace(/[^A-Za-z0-9]+/g, '-');
}
