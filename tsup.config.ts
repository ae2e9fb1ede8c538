import { defineConfig } from 'tsup';

export default defineConfig([
  {
    entry: {
      index: 'src/index.ts',
      'sql/index': 'src/sql/index.ts',
      'testing/index': 'src/testing/index.ts',
      'redis/index': 'src/redis/index.ts',
      'openfeature/index': 'src/openfeature/index.ts',
      'otel/index': 'src/otel/index.ts',
      'operator/index': 'src/operator/index.ts',
    },
    format: ['esm', 'cjs'],
    dts: true,
    clean: false,
    sourcemap: true,
    target: 'node20',
    splitting: true,
    treeshake: true,
  },
  {
    // The command-line tool: ESM only, run by node through package.json "bin".
    entry: { cli: 'src/cli/main.ts' },
    format: ['esm'],
    dts: false,
    sourcemap: true,
    target: 'node20',
    splitting: false,
  },
]);
