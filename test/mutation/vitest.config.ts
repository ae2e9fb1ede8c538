import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

// The tests Stryker runs against each mutant: only the folders of the mutated
// modules (and the hostile suites that drive them), not the docs, CLI,
// examples or integrations, which need services or take long and check
// nothing the mutated modules decide. `npm test` keeps using vitest.config.ts.
export default defineConfig({
  root: fileURLToPath(new URL('../..', import.meta.url)),
  test: {
    include: [
      'test/hashing/**/*.test.ts',
      'test/config/**/*.test.ts',
      'test/core/**/*.test.ts',
      'test/data/**/*.test.ts',
      'test/rollout/**/*.test.ts',
      'test/hostile/**/*.test.ts',
      'test/testing/**/*.test.ts',
    ],
    testTimeout: 20_000,
  },
});
