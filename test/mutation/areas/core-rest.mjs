// @ts-check
// One area's part of the mutation setup, merged by the files beside
// test/mutation/areas: which tests pin each file (tests-by-file.mjs),
// survivors that cannot change behaviour (equivalent-mutants.mjs), explained
// survivors (survivor-notes.mjs) and how long a run took (run-times.mjs).
// The formats are those files' own.

/** @type {Readonly<Record<string, readonly string[]>>} */
export const tests = {
  'src/core/cleaner.ts': [
    'test/core/cleaner-mutation.test.ts',
    'test/core/error-shown.test.ts',
    'test/core/shadow-clean-errors.test.ts',
    'test/hostile/shadow-async-hooks.test.ts',
  ],
  'src/core/error-shown.ts': [
    'test/core/error-shown.test.ts',
    'test/core/error-shown-mutation.test.ts',
    'test/core/cleaner-mutation.test.ts',
    'test/core/shadow-clean-errors.test.ts',
  ],
  'src/core/shadow-admission.ts': ['test/core/shadow-admission-mutation.test.ts'],
  'src/core/shadow-judge.ts': ['test/core/shadow-judge-mutation.test.ts'],
  'src/core/shadow-report.ts': ['test/core/shadow-report-mutation.test.ts'],
  'src/core/shadow-input.ts': ['test/core/shadow-input-mutation.test.ts'],
  'src/core/clone-input.ts': ['test/core/clone-input-mutation.test.ts', 'test/core/clone-input.test.ts', 'test/core/shadow-input-mutation.test.ts'],
  'src/core/input-check.ts': ['test/core/input-check-mutation.test.ts', 'test/core/shadow-input-mutation.test.ts'],
  'src/core/shadow-timer.ts': ['test/core/shadow-timer-mutation.test.ts'],
  'src/core/mismatch-log.ts': ['test/core/mismatch-log-mutation.test.ts'],
  'src/core/rollback-save.ts': ['test/core/rollback-save-mutation.test.ts'],
  'src/core/glue-options.ts': ['test/core/glue-options-mutation.test.ts', 'test/core/shadow-options-mutation.test.ts'],
  'src/core/shadow-options.ts': ['test/core/shadow-options-mutation.test.ts', 'test/core/glue-options-mutation.test.ts'],
  'src/rollout/step-evidence.ts': ['test/rollout/step-evidence-mutation.test.ts'],
  'src/core/glue-service.ts': [
    'test/core/glue-service-mutation.test.ts',
    'test/core/glue-service.test.ts',
    'test/core/glue-service-hostile.test.ts',
    'test/core/options.test.ts',
  ],
  'src/core/shadow-runner.ts': ['test/core/shadow-runner-mutation.test.ts', 'test/core/shadow.test.ts'],
  'src/core/service.ts': ['test/core/service-mutation.test.ts'],
  'src/core/shadow-flight.ts': ['test/core/shadow-flight-mutation.test.ts', 'test/core/shadow-runner-mutation.test.ts'],
};

/** @type {readonly { file: string; line: string; mutator: string; replacement: string; original?: string; reason: string }[]} */
export const equivalents = [
  // src/core/cleaner.ts
  {
    file: 'src/core/cleaner.ts',
    line: 'const secrets = input === undefined || this.#input === undefined ? [] : maskedValues(input, this.input(input));',
    mutator: 'ArrayDeclaration',
    replacement: '["Stryker was here"]',
    reason: 'With no value to mask, masking the placeholder string changes only a message that holds Stryker\'s own placeholder text; every real message is shown the same.',
  },
  {
    file: 'src/core/cleaner.ts',
    line: 'const shown = secrets.length === 0 ? summary : { ...summary, message: maskText(summary.message, secrets) };',
    mutator: 'ConditionalExpression',
    replacement: 'false',
    reason: 'Speed-only: masking no value returns the message unchanged, and the spread copy of the fresh summary has the same fields.',
  },
  ...[
    ["(typeof value !== 'object' && typeof value !== 'function') || value === null", 'ConditionalExpression', 'false'],
    ["(typeof value !== 'object' && typeof value !== 'function') || value === null", 'LogicalOperator', "typeof value !== 'object' && typeof value !== 'function' && value === null"],
    ["typeof value !== 'object' && typeof value !== 'function'", 'ConditionalExpression', 'false'],
    ['value === null', 'ConditionalExpression', 'false'],
  ].map(([original, mutator, replacement]) => ({
    file: 'src/core/cleaner.ts',
    line: "if ((typeof value !== 'object' && typeof value !== 'function') || value === null) return false;",
    mutator,
    replacement,
    original,
    reason: 'isThenable\'s guard is redundant: no built-in prototype of a primitive has a `then` (it reads undefined), and reading `then` of null or undefined throws into the catch that answers false.',
  })),
  // src/core/error-shown.ts
  {
    file: 'src/core/error-shown.ts',
    line: "if (typeof value !== 'object' || value === null || depth >= maxDepth) return;",
    mutator: 'ConditionalExpression',
    replacement: 'false',
    original: 'value === null',
    reason: 'Object.keys(null) throws into the catch just below, which returns all the same.',
  },
  {
    file: 'src/core/error-shown.ts',
    line: "const inner = typeof clean === 'object' && clean !== null ? clean : undefined;",
    mutator: 'ConditionalExpression',
    replacement: 'true',
    original: 'clean !== null',
    reason: 'An inner of null instead of undefined: readProperty(null, key) throws inside and answers undefined, as the undefined branch does.',
  },
  {
    file: 'src/core/error-shown.ts',
    line: 'for (const key of keys) walk(readProperty(value, key), inner === undefined ? undefined : readProperty(inner, key), depth + 1);',
    mutator: 'ConditionalExpression',
    replacement: 'false',
    original: 'inner === undefined',
    reason: 'Speed-only: readProperty(undefined, key) throws inside and answers undefined, what the short cut gives.',
  },
  {
    file: 'src/core/error-shown.ts',
    line: 'for (const value of values) if (out.includes(value)) out = out.split(value).join(masked);',
    mutator: 'ConditionalExpression',
    replacement: 'true',
    original: 'out.includes(value)',
    reason: 'Speed-only: splitting on a value the text does not hold and joining gives the text unchanged.',
  },
  // src/core/shadow-judge.ts
  ...[
    ["this.#log.log('error', 'comparator', { err: this.#report.cleaner.error(error, flight.cargo?.input), migration: this.#name }, 'shadow comparator threw');", "'comparator'"],
    ["this.#log.log('warn', 'shadow-timeout', { migration: this.#name, key: flight.key, timeoutMs }, 'shadow call timed out');", "'shadow-timeout'"],
  ].map(([line, original]) => ({
    file: 'src/core/shadow-judge.ts',
    line,
    mutator: 'StringLiteral',
    replacement: '""',
    original,
    reason: 'The name of a LogLimiter bucket used by this one line only: "" is as unique among the shadow runner\'s kinds, so the lines are limited the same.',
  })),
  // src/core/shadow-admission.ts
  {
    file: 'src/core/shadow-admission.ts',
    line: "this.#log.log('warn', 'shadow-admit', { err, migration: this.#name }, 'shadow admission failed (the hasher threw); old serves unshadowed');",
    mutator: 'StringLiteral',
    replacement: '""',
    original: "'shadow-admit'",
    reason: 'The name of a LogLimiter bucket used by this one line only: "" is as unique among the shadow runner\'s kinds, so the lines are limited the same.',
  },
  {
    file: 'src/core/shadow-admission.ts',
    line: "if (this.#emitter.has('shadowSkipped')) this.#emitter.emit('shadowSkipped', { migration: this.#name, key, reason });",
    mutator: 'ConditionalExpression',
    replacement: 'true',
    reason: 'Speed-only: emitting to no listener does nothing (Emitter.emit returns when none is registered).',
  },
  // src/core/shadow-timer.ts
  ...[
    ['if (!this.#held) cohort.timer.unref?.();', 'OptionalChaining', 'cohort.timer.unref()'],
    ["if (typeof setImmediate === 'function') setImmediate(this.#close, cohort).unref?.();", 'OptionalChaining', 'setImmediate(this.#close, cohort).unref()'],
    ['for (const cohort of this.#live) cohort.timer?.ref?.();', 'OptionalChaining', 'cohort.timer?.ref()'],
    ['for (const cohort of this.#live) cohort.timer?.ref?.();', 'OptionalChaining', 'cohort.timer.ref'],
    ['for (const cohort of this.#live) cohort.timer?.unref?.();', 'OptionalChaining', 'cohort.timer?.unref()'],
    ['for (const cohort of this.#live) cohort.timer?.unref?.();', 'OptionalChaining', 'cohort.timer.unref'],
  ].map(([line, mutator, replacement]) => ({
    file: 'src/core/shadow-timer.ts',
    line,
    mutator,
    replacement,
    reason: 'Guards for runtimes without timer objects: in Node every timer (and immediate) has ref/unref, and a cohort is in #live only once its timer is set.',
  })),
  {
    file: 'src/core/shadow-timer.ts',
    line: "if (typeof setImmediate === 'function') setImmediate(this.#close, cohort).unref?.();",
    mutator: 'ConditionalExpression',
    replacement: 'true',
    reason: 'setImmediate is always a function in Node, the only runtime the library supports.',
  },
  {
    file: 'src/core/shadow-timer.ts',
    line: 'if (this.#held) return;',
    mutator: 'ConditionalExpression',
    replacement: 'false',
    reason: 'Speed-only: holding again refs timers that are already refed.',
  },
  {
    file: 'src/core/shadow-timer.ts',
    line: 'if (!this.#held) return;',
    mutator: 'ConditionalExpression',
    replacement: 'false',
    reason: 'Speed-only: releasing when not held unrefs timers that were never refed (a timer set while not held is unrefed at once).',
  },
  // src/core/shadow-report.ts
  {
    file: 'src/core/shadow-report.ts',
    line: "const kinds = new Set<DiffKind>(['changed', 'missing', 'extra', 'type', 'error']);",
    mutator: 'StringLiteral',
    replacement: '""',
    original: "'changed'",
    reason: 'A kind not in the set is copied as `changed`: without `changed` in it, a `changed` entry is still copied as `changed`.',
  },
  {
    file: 'src/core/shadow-report.ts',
    line: 'if (this.#fingerprints.size === 0) return [];',
    mutator: 'ConditionalExpression',
    replacement: 'false',
    reason: 'Speed-only: sorting, slicing and mapping an empty table gives the same [].',
  },
  {
    file: 'src/core/shadow-report.ts',
    line: 'for (let at = 0; at < length && entries.length < maxEntries; at++) {',
    mutator: 'EqualityOperator',
    replacement: 'at <= length',
    reason: 'One more round reads diff[length], undefined, which the loop skips as not an object; `truncated` is computed from the length, not the rounds.',
  },
  // src/core/rollback-save.ts
  ...[
    ["typeof config === 'object' && config !== null", 'ConditionalExpression', 'true'],
    ["typeof config === 'object' && config !== null", 'LogicalOperator', "typeof config === 'object' || config !== null"],
    ["typeof config === 'object'", 'ConditionalExpression', 'true'],
    ['config !== null', 'ConditionalExpression', 'true'],
  ].map(([original, mutator, replacement]) => ({
    file: 'src/core/rollback-save.ts',
    line: "return typeof config === 'object' && config !== null && isRolledBack(config) ? config : undefined;",
    mutator,
    replacement,
    original,
    reason: 'isRolledBack reads two fields: of a primitive they are undefined (not rolled back), of null or undefined the read throws into the catch that answers undefined: the guard is redundant.',
  })),
  {
    file: 'src/core/rollback-save.ts',
    line: '} catch {',
    mutator: 'BlockStatement',
    replacement: '{}',
    reason: 'An emptied catch falls off the end of readStore, which answers undefined all the same.',
  },
  // src/core/shadow-input.ts
  {
    file: 'src/core/shadow-input.ts',
    line: 'if (this.#cloneFailures++ === 0) {',
    mutator: 'UpdateOperator',
    replacement: 'this.#cloneFailures--',
    reason: 'Counting down from 0 passes 0 once too: the warning is still written for the first failure only (the count is read nowhere else).',
  },
  ...[
    ["this.#log.log('warn', 'clone', { err, migration: this.#name }, 'shadow input cannot be cloned; new gets the same object (set shadow.isolateInput to none to silence)');", "'clone'"],
    ["this.#log.log('warn', 'input-unchecked', { migration: this.#name, key: flight.key }, 'the shadow input could not be checked for mutation (too large, or new made it unreadable)');", "'input-unchecked'"],
    ["this.#log.log('warn', 'input-mutated', { migration: this.#name, key: flight.key }, 'the new service mutated its input');", "'input-mutated'"],
  ].map(([line, original]) => ({
    file: 'src/core/shadow-input.ts',
    line,
    mutator: 'StringLiteral',
    replacement: '""',
    original,
    reason: 'The name of a LogLimiter bucket used by this one line only: "" is as unique among the shadow runner\'s kinds, so the lines are limited the same.',
  })),
  // src/core/glue-options.ts
  ...[
    ["(typeof value !== 'object' && typeof value !== 'function') || value === null", 'ConditionalExpression', 'false'],
    ["(typeof value !== 'object' && typeof value !== 'function') || value === null", 'LogicalOperator', "typeof value !== 'object' && typeof value !== 'function' && value === null"],
    ["typeof value !== 'object' && typeof value !== 'function'", 'ConditionalExpression', 'false'],
    ['value === null', 'ConditionalExpression', 'false'],
  ].map(([original, mutator, replacement]) => ({
    file: 'src/core/glue-options.ts',
    line: "if ((typeof value !== 'object' && typeof value !== 'function') || value === null) return undefined;",
    mutator,
    replacement,
    original,
    reason: 'read()\'s guard is redundant: an option name read on a primitive is undefined, and on null or undefined the read throws into the catch that answers undefined.',
  })),
  {
    file: 'src/core/glue-options.ts',
    line: '} catch {',
    mutator: 'BlockStatement',
    replacement: '{}',
    original: '{\n    return undefined;\n  }',
    reason: 'read()\'s emptied catch falls off the end of the function, which answers undefined all the same.',
  },
  {
    file: 'src/core/glue-options.ts',
    line: "logger: loggerOption('pino'),",
    mutator: 'StringLiteral',
    replacement: '""',
    reason: "loggerOption only tells 'silent' apart: any other fallback, '' included, gives the default pino logger.",
  },
  // src/core/clone-input.ts
  {
    file: 'src/core/clone-input.ts',
    line: 'const out = new Array<unknown>(value.length);',
    mutator: 'ArrayDeclaration',
    replacement: 'new Array()',
    reason: 'Speed-only: the loop below writes every index, so an array grown as it is filled ends the same as one sized first.',
  },
  {
    file: 'src/core/clone-input.ts',
    line: "if (key === '__proto__') Object.defineProperty(out, key, { value: copy, enumerable: true, writable: true, configurable: true });",
    mutator: 'ConditionalExpression',
    replacement: 'true',
    reason: 'defineProperty with an enumerable, writable, configurable value on a fresh plain object is what the assignment does for every other key.',
  },
  {
    file: 'src/core/clone-input.ts',
    line: "const notPlain = new Error('not plain data');",
    mutator: 'StringLiteral',
    replacement: '""',
    reason: 'The sentinel is compared by identity and never leaves the module: its message is read nowhere.',
  },
  // src/core/shadow-options.ts
  {
    file: 'src/core/shadow-options.ts',
    line: "error: (issue) => (issue.code === 'invalid_type' ? `must be ${expected}, got ${describeValue(issue.input)}` : undefined),",
    mutator: 'ConditionalExpression',
    replacement: 'true',
    reason: 'The only other issue a strict object raises itself is unrecognized_keys, whose message parseOptions writes itself (its fields raise their own issues).',
  },
  // src/core/glue-service.ts
  {
    file: 'src/core/glue-service.ts',
    line: "error: (issue) => (issue.code === 'invalid_type' ? `must map each method to ${policyNames}, got ${describeValue(issue.input)}` : undefined),",
    mutator: 'ConditionalExpression',
    replacement: 'true',
    reason: 'The record raises no other issue itself: a bad policy is reported by its value field, with its own message and path.',
  },
  // src/core/shadow-runner.ts
  {
    file: 'src/core/shadow-runner.ts',
    line: 'this.#realClock = clock === systemClock;',
    mutator: 'ConditionalExpression',
    replacement: 'false',
    reason: 'Speed-only: when the glue runs on the real clock, the cohort is dated by a second read of that same clock a moment later instead of the take-off reading (the read the flag saves).',
  },
  {
    file: 'src/core/shadow-runner.ts',
    line: "const order = this.#order === 'random' ? (Math.random() < 0.5 ? 'old-first' : 'new-first') : this.#order;",
    mutator: 'StringLiteral',
    replacement: '""',
    original: "'old-first'",
    reason: 'run() takes every order other than parallel and new-first the old-first way: "" is run old-first as well.',
  },
  ...[
    ['flight.done || cargo === undefined', 'ConditionalExpression', 'false'],
    ['flight.done || cargo === undefined', 'LogicalOperator', 'flight.done && cargo === undefined'],
    ['cargo === undefined', 'ConditionalExpression', 'false'],
  ].map(([original, mutator, replacement]) => ({
    file: 'src/core/shadow-runner.ts',
    line: 'if (flight.done || cargo === undefined || cargo.old === undefined || cargo.new === undefined) return;',
    mutator,
    replacement,
    original,
    reason: 'A check made twice: both callers (#oldSettled, #newSettled) return before calling #settleIfReady when the cargo is gone, and a flight is done exactly when its cargo is gone (#land sets both).',
  })),
  {
    file: 'src/core/shadow-runner.ts',
    line: 'this.#finish(flight, comparison, false);',
    mutator: 'BooleanLiteral',
    replacement: 'true',
    reason: 'The comparison here is equal: ShadowJudge.judge counts a match and returns before it reads `flaky`, which only names the kind of a mismatch.',
  },
  ...[
    ['flight.done || cargo?.old === undefined', 'LogicalOperator', 'flight.done && cargo?.old === undefined'],
    ['cargo?.old === undefined', 'ConditionalExpression', 'false'],
    ['cargo?.old', 'OptionalChaining', 'cargo.old'],
    ['cargo.pending === undefined', 'ConditionalExpression', 'false'],
  ].map(([original, mutator, replacement]) => ({
    file: 'src/core/shadow-runner.ts',
    line: 'if (flight.done || cargo?.old === undefined || cargo.pending === undefined) return;',
    mutator,
    replacement,
    original,
    reason: 'A check made twice: a re-run starts only once old answered and `pending` is set, both kept until the flight lands; a landed flight is done and has no cargo, and `flight.done` alone already returns for it.',
  })),
  {
    file: 'src/core/shadow-runner.ts',
    line: 'if (flight.done) return;',
    mutator: 'ConditionalExpression',
    replacement: 'false',
    reason: 'A check made twice: both callers of #finish check `flight.done` first; and for a landed flight judge() returns at once (no cargo) and #land does nothing.',
  },
  {
    file: 'src/core/shadow-runner.ts',
    line: 'if (!flight.done) this.#judge.timedOut(flight, this.#timeoutMs);',
    mutator: 'ConditionalExpression',
    replacement: 'true',
    reason: 'A check made twice: a landed flight has left its cohort, so its timer never reaches it, and timedOut() returns at once for a flight without cargo.',
  },
  {
    file: 'src/core/shadow-runner.ts',
    line: "this.#log.log('error', 'shadow-internal', { err, migration: this.#name }, 'shadow comparison failed; the caller was not affected');",
    mutator: 'StringLiteral',
    replacement: '""',
    original: "'shadow-internal'",
    reason: 'The name of a LogLimiter bucket used by this one line only: "" is as unique among the shadow runner\'s kinds, so the lines are limited the same.',
  },
  ...[
    ['if (flight.done) return false;', 'false', 'true'],
    ['return true;', 'true', 'false'],
  ].map(([line, original, replacement]) => ({
    file: 'src/core/shadow-runner.ts',
    line,
    mutator: 'BooleanLiteral',
    replacement,
    original,
    reason: "#land's answer is read by none of its callers.",
  })),
  ...[
    ['ConditionalExpression', 'true'],
    ['EqualityOperator', 'this.#drainWaiters.length >= 0'],
  ].map(([mutator, replacement]) => ({
    file: 'src/core/shadow-runner.ts',
    line: 'if (this.#inFlight === 0 && this.#drainWaiters.length > 0) {',
    mutator,
    replacement,
    original: 'this.#drainWaiters.length > 0',
    reason: 'Speed-only: with no drain waiting the timers are not held (only drain() holds them, adding a waiter), so release() does nothing and there is no one to resolve.',
  })),
  // src/core/service.ts
  {
    file: 'src/core/service.ts',
    line: "process = typeof service === 'object' && service !== null ? service.process : undefined;",
    mutator: 'ConditionalExpression',
    replacement: 'true',
    original: 'service !== null',
    reason: 'Reading `process` of null throws into the catch just below, which leaves `process` undefined as the guard does.',
  },
];

/** @type {readonly { file: string; line: string; mutator: string; replacement: string; original?: string; kind: 'flaw' | 'not pinned'; reason: string }[]} */
export const notes = [
  ...[
    ['--left < 0', 'ConditionalExpression', 'false'],
    ['--left < 0', 'EqualityOperator', '--left <= 0'],
    ['--left', 'UpdateOperator', '++left'],
  ].map(([original, mutator, replacement]) => ({
    file: 'src/core/input-check.ts',
    line: 'if (--left < 0) throw new Unchecked();',
    mutator,
    replacement,
    original,
    kind: /** @type {const} */ ('not pinned'),
    reason: 'The 1,000,000-node budget of the mutation check: pinning its edge needs two copies of a million nodes, seconds per test under instrumentation, once per mutant.',
  })),
  {
    file: 'src/core/input-check.ts',
    line: 'left -= children.length >> 1;',
    mutator: 'AssignmentOperator',
    replacement: 'left += children.length >> 1',
    kind: 'not pinned',
    reason: 'The 1,000,000-node budget of the mutation check: pinning its edge needs two copies of a million nodes, seconds per test under instrumentation, once per mutant.',
  },
];

/** @type {readonly { file: string; minutes: number; mutants: number; measured: string }[]} */
export const times = [
  { file: 'src/core/cleaner.ts', minutes: 6.1, mutants: 92, measured: '2026-11-26' },
  { file: 'src/core/error-shown.ts', minutes: 9.6, mutants: 80, measured: '2026-11-26' },
  { file: 'src/core/shadow-judge.ts', minutes: 12.8, mutants: 104, measured: '2026-11-26' },
  { file: 'src/core/mismatch-log.ts', minutes: 7.5, mutants: 37, measured: '2026-11-26' },
  { file: 'src/core/rollback-save.ts', minutes: 8.6, mutants: 37, measured: '2026-11-26' },
  { file: 'src/core/shadow-timer.ts', minutes: 7.6, mutants: 84, measured: '2026-11-26' },
  { file: 'src/core/shadow-report.ts', minutes: 25.9, mutants: 171, measured: '2026-11-26' },
  { file: 'src/core/shadow-input.ts', minutes: 12.0, mutants: 52, measured: '2026-11-26' },
  { file: 'src/core/glue-options.ts', minutes: 21.0, mutants: 111, measured: '2026-11-26' },
  { file: 'src/core/clone-input.ts', minutes: 10.6, mutants: 65, measured: '2026-11-26' },
  { file: 'src/core/shadow-options.ts', minutes: 10.4, mutants: 38, measured: '2026-11-26' },
  { file: 'src/core/shadow-admission.ts', minutes: 11.8, mutants: 75, measured: '2026-11-26' },
  { file: 'src/core/input-check.ts', minutes: 12.8, mutants: 152, measured: '2026-11-26' },
  { file: 'src/rollout/step-evidence.ts', minutes: 36.4, mutants: 208, measured: '2026-11-26' },
  { file: 'src/core/glue-service.ts', minutes: 15.4, mutants: 88, measured: '2026-11-26' },
  // an incremental run that re-tested 100 of the 167 mutants
  { file: 'src/core/shadow-runner.ts', minutes: 6.7, mutants: 167, measured: '2026-11-26' },
  { file: 'src/core/service.ts', minutes: 0.6, mutants: 23, measured: '2026-11-26' },
  { file: 'src/core/shadow-flight.ts', minutes: 0.7, mutants: 5, measured: '2026-11-26' },
  { file: 'src/core/key-reader.ts', minutes: 3.5, mutants: 62, measured: '2026-11-26' },
  { file: 'src/core/rollback-hold.ts', minutes: 2.0, mutants: 41, measured: '2026-11-26' },
];
