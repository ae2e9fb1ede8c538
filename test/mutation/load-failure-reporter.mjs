// @ts-check
// A vitest reporter for mutation runs only (test/mutation/vitest.config.ts):
// a test file, or a describe block, that fails before any of its tests is
// collected gets one failed test carrying its error.
//
// Why: Stryker's vitest runner (9.6.1, and 10.0.0 still) builds a mutant's
// result from the tests vitest collected. A mutant that makes a test file
// throw while it is collected (a schema built in a describe block from a
// builder the mutant emptied, a module that throws on import) leaves that
// file with no test at all, so "no test failed" and the mutant is scored
// Survived although the suite plainly catches it: the same mutant applied
// by hand fails `vitest run`. Upstream: stryker-mutator/stryker-js#6150
// (load failure scored as survived), #5492 (suite-level failures); no
// Stryker option changes it. `npm test` never loads this reporter.

/** @param {any} task a vitest File or Suite task */
function holdsATest(task) {
  return (task.tasks ?? []).some((child) => child.type === 'test' || (child.type === 'suite' && holdsATest(child)));
}

/**
 * Adds a failed test to every failed file or suite that holds none.
 * @param {any} suite a vitest File or Suite task
 * @param {any} file the File task it belongs to
 * @returns {number} how many failed tests were added
 */
export function addLoadFailures(suite, file) {
  let added = 0;
  for (const child of suite.tasks ?? []) if (child.type === 'suite') added += addLoadFailures(child, file);
  if (suite.result?.state !== 'fail' || holdsATest(suite)) return added;
  const errors = suite.result.errors?.length ? suite.result.errors : [{ message: 'failed before any test was collected' }];
  suite.tasks = [
    ...(suite.tasks ?? []),
    {
      type: 'test',
      id: `${suite.id}_load_failure`,
      name: 'loads without throwing',
      mode: 'run',
      suite: suite === file ? undefined : suite,
      file,
      meta: {},
      annotations: [],
      artifacts: [],
      result: { state: 'fail', errors, duration: 0 },
    },
  ];
  return added + 1;
}

export default class LoadFailureAsFailedTest {
  /** @type {any} */
  vitest = undefined;

  /** @param {any} vitest */
  onInit(vitest) {
    this.vitest = vitest;
  }

  onTestRunEnd() {
    for (const file of this.vitest?.state.getFiles() ?? []) addLoadFailures(file, file);
  }
}
