import type { Reporter } from 'vitest/reporters';

/** Adds a failed test to every failed file or suite that holds none (see load-failure-reporter.mjs). */
export declare function addLoadFailures(suite: unknown, file: unknown): number;

/** A vitest reporter for mutation runs: a file that fails while collected counts as a failed test. */
export default class LoadFailureAsFailedTest implements Reporter {
  onInit(vitest: unknown): void;
  onTestRunEnd(): void;
}
