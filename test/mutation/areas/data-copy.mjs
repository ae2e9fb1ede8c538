// @ts-check
// One area's part of the mutation setup, merged by the files beside
// test/mutation/areas: which tests pin each file (tests-by-file.mjs),
// survivors that cannot change behaviour (equivalent-mutants.mjs), explained
// survivors (survivor-notes.mjs) and how long a run took (run-times.mjs).
// The formats are those files' own.

/** @type {Readonly<Record<string, readonly string[]>>} */
export const tests = {
  'src/data/backfill.ts': [
    'test/data/backfill-mutation.test.ts',
    'test/data/backfill-count.test.ts',
    'test/data/backfill.test.ts',
    'test/data/backfill-adaptive.test.ts',
    'test/data/backfill-hostile.test.ts',
    'test/data/backfill-range.test.ts',
    'test/data/data-options.test.ts',
  ],
  'src/data/backfill-copy.ts': [
    'test/data/backfill-copy-mutation.test.ts',
    'test/data/backfill-count.test.ts',
    'test/data/backfill.test.ts',
    'test/data/backfill-hostile.test.ts',
    'test/data/backfill-range.test.ts',
  ],
  'src/data/verify.ts': ['test/data/verify-mutation.test.ts', 'test/data/verify-checksum-mutation.test.ts', 'test/data/verify.test.ts', 'test/data/verify-hostile.test.ts'],
  'src/data/verify-rows.ts': ['test/data/verify-mutation.test.ts', 'test/data/verify-checksum-mutation.test.ts', 'test/data/verify.test.ts'],
  'src/data/verify-state.ts': ['test/data/verify.test.ts', 'test/data/verify-hostile.test.ts', 'test/data/verify-mutation.test.ts'],
  'src/data/backfill-pace.ts': ['test/data/backfill-pace-mutation.test.ts', 'test/data/backfill-adaptive.test.ts'],
  'src/data/partition-memory-leases.ts': ['test/data/partition-memory-leases-mutation.test.ts'],
  'src/data/partition-range.ts': ['test/data/partition-range-mutation.test.ts'],
  'src/data/partition-plan.ts': ['test/data/partition-plan-mutation.test.ts'],
  'src/data/read-page.ts': ['test/data/read-page-mutation.test.ts'],
  'src/data/partition-backfill.ts': ['test/data/partition-backfill-mutation.test.ts', 'test/data/partition.test.ts'],
  'src/data/partition-options.ts': ['test/data/partition-options-mutation.test.ts', 'test/data/partition.test.ts'],
  'src/data/backfill-options.ts': ['test/data/backfill-options-mutation.test.ts', 'test/data/data-options.test.ts', 'test/data/backfill.test.ts'],
  'src/data/options.ts': ['test/data/options-mutation.test.ts', 'test/data/data-options.test.ts'],
  'src/data/data-errors.ts': ['test/data/options-mutation.test.ts'],
  'src/data/partition-errors.ts': ['test/data/options-mutation.test.ts'],
  'src/data/keys.ts': ['test/data/keys-mutation.test.ts'],
  'src/data/backfill-range.ts': ['test/data/backfill-range-mutation.test.ts', 'test/data/backfill-range.test.ts'],
};

/** @type {readonly { file: string; line: string; mutator: string; replacement: string; original?: string; reason: string }[]} */
export const equivalents = [
  // src/data/backfill-copy.ts
  ...[
    ['if (countsOnly(plan) && batch.length > 0) {', 'ConditionalExpression', 'true'],
    ['if (countsOnly(plan) && batch.length > 0) {', 'EqualityOperator', 'batch.length >= 0'],
  ].map(([line, mutator, replacement]) => ({
    file: 'src/data/backfill-copy.ts',
    line,
    mutator,
    replacement,
    reason: 'Backfill never writes an empty batch (an empty page is the end), so only the countsOnly operand decides.',
  })),
  {
    file: 'src/data/backfill-copy.ts',
    line: "if (typeof count !== 'number' || !Number.isSafeInteger(count) || count < 0 || count > batch.length) {",
    mutator: 'ConditionalExpression',
    replacement: 'false',
    reason: "Only the `typeof count !== 'number'` operand: Number.isSafeInteger does not convert, it is false for every value that is not a number.",
  },
  // src/data/backfill-range.ts
  ...[
    ['if (copy.insertedKeys !== undefined && copy.insertedKeys.length > 0) {', 'ConditionalExpression', 'true'],
    ['if (copy.insertedKeys !== undefined && copy.insertedKeys.length > 0) {', 'EqualityOperator', 'copy.insertedKeys.length >= 0'],
  ].map(([line, mutator, replacement]) => ({
    file: 'src/data/backfill-range.ts',
    line,
    mutator,
    replacement,
    reason: 'Speed-only: with no key inserted, tombstoned() answers an empty set without asking the tombstone store, so nothing is removed either way.',
  })),
  {
    file: 'src/data/backfill-range.ts',
    line: 'answer !== null &&',
    mutator: 'ConditionalExpression',
    replacement: 'true',
    reason: 'A null answer is read as {} (answer ?? {}): its count is undefined, which Number.isSafeInteger refuses on the next line all the same.',
  },
  {
    file: 'src/data/read-page.ts',
    line: "if (typeof key === 'string' || typeof key === 'bigint' || (typeof key === 'number' && Number.isFinite(key))) return key;",
    mutator: 'ConditionalExpression',
    replacement: 'true',
    reason: 'Only the `typeof key === \'number\'` operand: Number.isFinite does not convert, it is false for every value that is not a number.',
  },
  {
    file: 'src/data/verify-state.ts',
    line: "const validKey = lastKey === null || typeof lastKey === 'string' || (typeof lastKey === 'number' && Number.isFinite(lastKey));",
    mutator: 'ConditionalExpression',
    replacement: 'true',
    reason: 'Only the `typeof lastKey === \'number\'` operand: Number.isFinite does not convert, it is false for every value that is not a number.',
  },
  {
    file: 'src/data/backfill.ts',
    line: "!(state.lastKey === null || typeof state.lastKey === 'string' || (typeof state.lastKey === 'number' && Number.isFinite(state.lastKey)))",
    mutator: 'ConditionalExpression',
    replacement: 'true',
    reason: 'Only the `typeof state.lastKey === \'number\'` operand: Number.isFinite does not convert, it is false for every value that is not a number.',
  },
  {
    file: 'src/data/verify-rows.ts',
    line: '#keys: readonly K[] = [];',
    mutator: 'ArrayDeclaration',
    replacement: '["Stryker was here"]',
    reason: 'Never read: #rows starts empty, so the first peek reads a page and replaces #keys before any key is looked at.',
  },
  // src/data/backfill-pace.ts
  {
    file: 'src/data/backfill-pace.ts',
    line: 'if (target === undefined || rows === 0) return 0;',
    mutator: 'ConditionalExpression',
    replacement: 'false',
    reason: 'A batch of 0 rows gives msPerRow NaN: it is not full, NaN <= 0 and NaN > 2 are false, so it changes nothing and pauses 0 all the same (and backfill never reports one).',
  },
  ...[
    ['ConditionalExpression', 'true'],
    ['EqualityOperator', 'msPerRow >= 0'],
  ].map(([mutator, replacement]) => ({
    file: 'src/data/backfill-pace.ts',
    line: 'const ideal = msPerRow > 0 ? target / msPerRow : Infinity;',
    mutator,
    replacement,
    reason: 'msPerRow is never negative (Math.max(writeMs, 0)); at 0, target / 0 is Infinity, the other branch.',
  })),
  ...[
    ['ConditionalExpression', 'false'],
    ['LogicalOperator', 'baseline === undefined && baseline <= 0'],
  ].map(([mutator, replacement]) => ({
    file: 'src/data/backfill-pace.ts',
    line: 'if (baseline === undefined || baseline <= 0) return 0;',
    mutator,
    replacement,
    reason: 'Unreachable: the baseline is taken only once five latencies were learned, each above 0 (msPerRow <= 0 returned before), so their median is defined and positive.',
  })),
  {
    file: 'src/data/backfill-pace.ts',
    line: 'if (values.length === 0) return undefined;',
    mutator: 'ConditionalExpression',
    replacement: 'false',
    reason: 'Unreachable: median is called only with the five learned latencies.',
  },
  {
    file: 'src/data/backfill-pace.ts',
    line: "if (typeof wait !== 'number' || !Number.isFinite(wait) || wait > maxTimerMs) {",
    mutator: 'ConditionalExpression',
    replacement: 'false',
    reason: 'Number.isFinite does not convert: it is false for every value that is not a number, so the typeof test it guards changes nothing.',
  },
  ...[
    ['this.#ended = true;', 'BooleanLiteral', 'false'],
    ['this.#rows = [];', 'ArrayDeclaration', '["Stryker was here"]'],
  ].map(([line, mutator, replacement]) => ({
    file: 'src/data/verify-rows.ts',
    line,
    mutator,
    replacement,
    reason: 'Speed-only, in the upTo branch: #at already points at the key past upTo, so a later peek either reads the next page (all past upTo, and ends again) or finds the same key past upTo; no row past upTo is ever returned.',
  })),
  // src/data/partition-range.ts
  {
    file: 'src/data/partition-range.ts',
    line: 'endedAfter = { key: kept.length > 0 ? keyOf(kept[kept.length - 1] as E) : upTo };',
    mutator: 'ConditionalExpression',
    replacement: 'false',
    reason: 'Speed-only: with the end marked at upTo, the next page (after the last row kept, before upTo) is read from the source once more, and all of it lies past upTo, so the view answers the end all the same.',
  },
  {
    file: 'src/data/partition-range.ts',
    line: 'const bound = copy.upTo === undefined || copy.upTo === null || (upTo !== null && compare(upTo, copy.upTo) < 0) ? upTo : copy.upTo;',
    mutator: 'EqualityOperator',
    replacement: 'compare(upTo, copy.upTo) <= 0',
    reason: 'When the two bounds compare equal either one is the bound: the same key.',
  },
  {
    file: 'src/data/partition-plan.ts',
    line: "if (!Array.isArray(keys) || keys.length >= (partitions as number) || !keys.every((key) => typeof key === 'string' || (typeof key === 'number' && Number.isFinite(key)))) {",
    mutator: 'ConditionalExpression',
    replacement: 'true',
    original: "typeof key === 'number'",
    reason: 'Only the `typeof key === \'number\'` operand: Number.isFinite does not convert, it is false for every value that is not a number.',
  },
  {
    file: 'src/data/partition-options.ts',
    line: "(value) => Array.isArray(value) && value.length < 10_000 && value.every((key) => typeof key === 'string' || (typeof key === 'number' && Number.isFinite(key))),",
    mutator: 'ConditionalExpression',
    replacement: 'true',
    original: "typeof key === 'number'",
    reason: 'Only the `typeof key === \'number\'` operand: Number.isFinite does not convert, it is false for every value that is not a number.',
  },
  // src/data/backfill-options.ts
  {
    file: 'src/data/backfill-options.ts',
    line: "logger: loggerOption('pino'),",
    mutator: 'StringLiteral',
    replacement: '""',
    reason: "loggerOption reads its fallback only as `fallback === 'silent'`: any other string, the empty one included, keeps the default pino logger.",
  },
  ...[
    ['ConditionalExpression', 'true'],
    ['ConditionalExpression', 'false'],
    ['EqualityOperator', 'x <= y'],
    ['EqualityOperator', 'x >= y'],
  ].map(([mutator, replacement]) => ({
    file: 'src/data/backfill-options.ts',
    line: 'return x > y ? 1 : x < y ? -1 : 0;',
    mutator,
    replacement,
    original: 'x < y',
    reason: 'compareVersions is only read as `> 0` (newer wins): once x > y is false it answers -1 or 0, and the `x < y` choice between them decides nothing.',
  })),
  // src/data/keys.ts
  {
    file: 'src/data/keys.ts',
    line: 'if (ta !== tb) return ta < tb ? -1 : 1;',
    mutator: 'EqualityOperator',
    replacement: 'ta <= tb',
    reason: 'Only reached with ta !== tb: two different type names are never equal, so < and <= agree.',
  },
  {
    file: 'src/data/keys.ts',
    line: "if (typeof key === 'string' || typeof key === 'bigint' || (typeof key === 'number' && Number.isFinite(key))) return key;",
    mutator: 'ConditionalExpression',
    replacement: 'true',
    reason: 'Only the `typeof key === \'number\'` operand: Number.isFinite does not convert, it is false for every value that is not a number.',
  },
  ...[
    ['} catch {', 'BlockStatement', '{}'],
    ["return 'a revoked Proxy';", 'StringLiteral', '""'],
  ].map(([line, mutator, replacement]) => ({
    file: 'src/data/keys.ts',
    line,
    mutator,
    replacement,
    reason: "Unreachable: describeValue never throws (it already answers 'a revoked Proxy' itself), so safeDescribe's catch never runs.",
  })),
  ...[
    ['void tail.then(() => {', 'BlockStatement', '{}'],
    ['if (this.#tails.get(id) === tail) this.#tails.delete(id);', 'ConditionalExpression', 'false'],
  ].map(([line, mutator, replacement]) => ({
    file: 'src/data/keys.ts',
    line,
    mutator,
    replacement,
    reason: 'Memory only: forgetting a settled tail frees the map entry; a kept settled tail delays the next task of that key by no more than a resolved promise, in the same order.',
  })),
];

/** @type {readonly { file: string; line: string; mutator: string; replacement: string; original?: string; kind: 'flaw' | 'not pinned'; reason: string }[]} */
export const notes = [
  {
    file: 'src/data/partition-range.ts',
    line: 'if (endedAfter !== undefined && afterKey !== null && compare(afterKey, endedAfter.key) >= 0) return [];',
    mutator: 'ConditionalExpression',
    replacement: 'true',
    reason: 'A page asked from the start (afterKey null) after the view found its end: only a first batch retried after a write timeout does it, and only with keys that compareKeys puts before null (numbers); not pinned at the deadline.',
  },
  ...[
    ['readonly #early: number[] = [];', 'ArrayDeclaration', '["Stryker was here"]'],
    ['if (msPerRow <= 0) return 0;', 'ConditionalExpression', 'false'],
    ['if (msPerRow <= 0) return 0;', 'EqualityOperator', 'msPerRow < 0'],
  ].map(([line, mutator, replacement]) => ({
    file: 'src/data/backfill-pace.ts',
    line,
    mutator,
    replacement,
    kind: /** @type {const} */ ('not pinned'),
    reason: 'Which batches make the baseline: only a test learning several batches written in 0 ms (or a seeded bogus entry) among the first five would tell; the median of five hides one of them.',
  })),
  ...[
    ["throw new InvalidOptionError('throttle', `must answer true, false or a number of ms up to ${maxTimerMs}, answered ${describeValue(answer)}`);", 'StringLiteral', '``'],
    ["throwIfAborted(signal, 'backfill');", 'StringLiteral', '""'],
  ].map(([line, mutator, replacement]) => ({
    file: 'src/data/backfill-pace.ts',
    line,
    mutator,
    replacement,
    kind: /** @type {const} */ ('not pinned'),
    reason: 'Error wording only (the code and option are pinned): found at the deadline, not yet pinned.',
  })),
];

/** @type {readonly { file: string; minutes: number; mutants: number; measured: string }[]} */
export const times = [
  { file: 'src/data/backfill.ts', minutes: 67.0, mutants: 220, measured: '2026-11-26' },
  { file: 'src/data/backfill-copy.ts', minutes: 17.6, mutants: 117, measured: '2026-11-26' },
  { file: 'src/data/backfill-range.ts', minutes: 19.2, mutants: 111, measured: '2026-11-26' },
  { file: 'src/data/keys.ts', minutes: 8.0, mutants: 130, measured: '2026-11-26' },
  { file: 'src/data/verify.ts', minutes: 14.6, mutants: 52, measured: '2026-11-26' },
  { file: 'src/data/verify-state.ts', minutes: 18.0, mutants: 101, measured: '2026-11-26' },
  { file: 'src/data/read-page.ts', minutes: 5.5, mutants: 54, measured: '2026-11-26' },
  { file: 'src/data/backfill-pace.ts', minutes: 31.5, mutants: 154, measured: '2026-11-26' },
  { file: 'src/data/verify-rows.ts', minutes: 16.0, mutants: 89, measured: '2026-11-26' },
  { file: 'src/data/partition-range.ts', minutes: 11.3, mutants: 76, measured: '2026-11-26' },
  { file: 'src/data/partition-memory-leases.ts', minutes: 1.0, mutants: 37, measured: '2026-11-26' },
  { file: 'src/data/partition-plan.ts', minutes: 4.3, mutants: 150, measured: '2026-11-26' },
  { file: 'src/data/options.ts', minutes: 6.6, mutants: 94, measured: '2026-11-26' },
  { file: 'src/data/partition-options.ts', minutes: 2.5, mutants: 50, measured: '2026-11-26' },
  { file: 'src/data/partition-errors.ts', minutes: 0.2, mutants: 2, measured: '2026-11-26' },
  { file: 'src/data/data-errors.ts', minutes: 0.4, mutants: 4, measured: '2026-11-26' },
  { file: 'src/data/backfill-options.ts', minutes: 2.8, mutants: 64, measured: '2026-11-26' },
  { file: 'src/data/partition-backfill.ts', minutes: 4.1, mutants: 93, measured: '2026-11-26' },
];
