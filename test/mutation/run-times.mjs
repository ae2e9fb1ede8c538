// @ts-check
import { times as timesDataWrites } from './areas/data-writes.mjs';
import { times as timesDataCopy } from './areas/data-copy.mjs';
import { times as timesDataVerify } from './areas/data-verify.mjs';
import { times as timesConfig } from './areas/config.mjs';
import { times as timesCoreRest } from './areas/core-rest.mjs';
// How long one file's run took, measured on the 2-core development machine
// with `MUTATION_FILE=<file> npx stryker run --concurrency 1 --force` (wall
// clock, `time`; other work was running on the machine meanwhile). A row
// naming two files is one run of the first file's tests with `--mutate` of
// both. scripts/mutation-report.mjs lists them in docs/mutation.md. Measure
// again (and update the line) when a file's tests change much.

/** @type {readonly { file: string; minutes: number; mutants: number; measured: string }[]} */
export const runTimes = [
  ...timesDataWrites,
  ...timesDataCopy,
  ...timesDataVerify,
  ...timesConfig,
  ...timesCoreRest,
  { file: 'src/hashing/hasher.ts', minutes: 8.5, mutants: 164, measured: '2026-11-26' },
  { file: 'src/core/migration-glue.ts', minutes: 3.4, mutants: 129, measured: '2026-11-26' },
  { file: 'src/core/config-in-force.ts', minutes: 3.1, mutants: 216, measured: '2026-11-26' },
  { file: 'src/core/service-rollback.ts with src/core/rollback-hold.ts', minutes: 1.2, mutants: 104, measured: '2026-11-26' },
  { file: 'src/core/routing-key.ts with src/core/key-reader.ts', minutes: 2.3, mutants: 160, measured: '2026-11-26' },
  { file: 'src/core/timed.ts', minutes: 1.9, mutants: 32, measured: '2026-11-26' },
  { file: 'src/core/arm-recorder.ts', minutes: 0.5, mutants: 21, measured: '2026-11-26' },
  { file: 'src/core/dual-write.ts', minutes: 1.0, mutants: 36, measured: '2026-11-26' },
  { file: 'src/rollout/criteria.ts', minutes: 0.5, mutants: 55, measured: '2026-11-26' },
  { file: 'src/rollout/rollback-guard.ts', minutes: 6.8, mutants: 282, measured: '2026-11-26' },
];
