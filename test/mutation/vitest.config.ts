import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';
import LoadFailureAsFailedTest from './load-failure-reporter.mjs';
import { mutationFile, testsByFile } from './tests-by-file.mjs';

// The tests Stryker runs against each mutant: only the folders of the mutated
// modules (and the hostile suites that drive them), not the docs, CLI,
// examples or integrations, which need services or take long and check
// nothing the mutated modules decide. `npm test` keeps using vitest.config.ts.
// A run of one file (MUTATION_FILE=...) runs only the tests that pin it.
const single = mutationFile();
const pinning = single === undefined ? undefined : testsByFile[single];

export default defineConfig({
  root: fileURLToPath(new URL('../..', import.meta.url)),
  test: {
    include: pinning !== undefined ? [...pinning] : [
      'test/hashing/**/*.test.ts',
      'test/config/**/*.test.ts',
      'test/core/**/*.test.ts',
      'test/options/**/*.test.ts',
      'test/data/**/*.test.ts',
      'test/rollout/**/*.test.ts',
      'test/hostile/**/*.test.ts',
      'test/testing/**/*.test.ts',
    ],
    testTimeout: 20_000,
    // A test file that throws while collected counts as a failed test, or
    // Stryker scores the mutant that broke it as Survived (see the reporter).
    reporters: ['default', new LoadFailureAsFailedTest()],
  },
});
