// @ts-check
import process from 'node:process';
import { tests as testsDataWrites } from './areas/data-writes.mjs';
import { tests as testsDataCopy } from './areas/data-copy.mjs';
import { tests as testsDataVerify } from './areas/data-verify.mjs';
import { tests as testsConfig } from './areas/config.mjs';
import { tests as testsCoreRest } from './areas/core-rest.mjs';
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
  ...testsDataWrites,
  ...testsDataCopy,
  ...testsDataVerify,
  ...testsConfig,
  ...testsCoreRest,
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
  'src/rollout/criteria.ts': ['test/rollout/criteria-mutation.test.ts', 'test/rollout/guard-options.test.ts'],
  'src/rollout/rollback-guard.ts': [
    'test/rollout/rollback-guard.test.ts',
    'test/rollout/rollback-guard-mutation.test.ts',
    'test/rollout/guard-options.test.ts',
    'test/rollout/guard-hostile.test.ts',
  ],
  'src/rollout/judge.ts': ['test/rollout/judge.test.ts', 'test/rollout/judge-boundaries.test.ts'],
  'src/hashing/hasher.ts': [
    'test/hashing/known-answers.test.ts',
    'test/hashing/hasher-mutation.test.ts',
    'test/hashing/bucket-of.test.ts',
    'test/hashing/bucket-boundary.test.ts',
  ],
  'src/core/migration-glue.ts': [
    'test/core/migration-glue.test.ts',
    'test/core/migration-glue-mutation.test.ts',
    'test/core/glue-hostile.test.ts',
    'test/core/options.test.ts',
    'test/core/glue-service.test.ts',
    'test/core/glue-service-hostile.test.ts',
    'test/core/shadow.test.ts',
    'test/hostile/missing-keys-stats.test.ts',
  ],
  'src/core/rollback-hold.ts': [
    'test/core/rollback-hold-mutation.test.ts',
    'test/core/glue-service.test.ts',
    'test/core/glue-service-hostile.test.ts',
  ],
  'src/core/service-rollback.ts': [
    'test/core/service-rollback-mutation.test.ts',
    'test/core/rollback-hold-mutation.test.ts',
    'test/core/glue-service.test.ts',
    'test/core/glue-service-hostile.test.ts',
  ],
  'src/core/key-reader.ts': ['test/core/routing-key-mutation.test.ts', 'test/core/migration-glue.test.ts', 'test/core/migration-glue-mutation.test.ts', 'test/hostile/missing-keys-stats.test.ts'],
  'src/core/routing-key.ts': ['test/core/routing-key-mutation.test.ts', 'test/core/migration-glue.test.ts', 'test/core/migration-glue-mutation.test.ts', 'test/hostile/missing-keys-stats.test.ts'],
  'src/core/timed.ts': ['test/core/timed-mutation.test.ts', 'test/core/migration-glue.test.ts', 'test/core/migration-glue-mutation.test.ts', 'test/core/shadow.test.ts'],
  'src/core/arm-recorder.ts': ['test/core/arm-recorder-mutation.test.ts', 'test/core/migration-glue.test.ts', 'test/core/migration-glue-mutation.test.ts'],
  'src/core/dual-write.ts': ['test/core/dual-write-mutation.test.ts', 'test/core/glue-service.test.ts', 'test/core/glue-service-hostile.test.ts'],
  'src/core/config-in-force.ts': [
    'test/core/config-in-force-mutation.test.ts',
    'test/core/migration-glue.test.ts',
    'test/core/migration-glue-mutation.test.ts',
    'test/core/glue-hostile.test.ts',
    'test/core/glue-service.test.ts',
    'test/core/glue-service-hostile.test.ts',
  ],
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
