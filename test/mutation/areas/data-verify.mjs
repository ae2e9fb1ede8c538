// @ts-check
// One area's part of the mutation setup, merged by the files beside
// test/mutation/areas: which tests pin each file (tests-by-file.mjs),
// survivors that cannot change behaviour (equivalent-mutants.mjs), explained
// survivors (survivor-notes.mjs) and how long a run took (run-times.mjs).
// The formats are those files' own.

/** @type {Readonly<Record<string, readonly string[]>>} */
export const tests = {
  'src/data/verify-checksum.ts': ['test/data/verify-checksum-mutation.test.ts'],
  'src/data/verify-options.ts': ['test/data/verify-options-mutation.test.ts'],
  'src/data/bounded-call.ts': ['test/data/bounded-call-mutation.test.ts'],
  'src/data/bounded.ts': ['test/data/bounded-mutation.test.ts'],
  'src/data/checkpoint-store.ts': ['test/data/checkpoint-store-mutation.test.ts'],
  'src/data/file-checkpoint-store.ts': ['test/data/file-checkpoint-store-mutation.test.ts', 'test/data/data-options.test.ts'],
};

/** @type {readonly { file: string; line: string; mutator: string; replacement: string; original?: string; reason: string }[]} */
export const equivalents = [
  // src/data/bounded.ts: errorText's object line is a shortcut; every value it
  // does not take (objects included) gets the same describeValue text on the
  // line after it.
  ...[
    ['ConditionalExpression', 'false', undefined],
    ['StringLiteral', '""', undefined],
    ['ConditionalExpression', 'true', 'error !== null'],
    ['EqualityOperator', 'error === null', undefined],
  ].map(([mutator, replacement, original]) => ({
    file: 'src/data/bounded.ts',
    line: "if (typeof error === 'object' && error !== null) return describeValue(error);",
    mutator: String(mutator),
    replacement: String(replacement),
    ...(original === undefined ? {} : { original }),
    reason: 'Anything that is not an Error or a string, null and objects alike, gets describeValue(error) on the next line: the same text whichever line returns it.',
  })),
  // src/data/bounded-call.ts: onAbort calls settle(), which removes the
  // listener, so `once` removes nothing that would not be removed anyway.
  ...[
    ['ObjectLiteral', '{}'],
    ['BooleanLiteral', 'false'],
  ].map(([mutator, replacement]) => ({
    file: 'src/data/bounded-call.ts',
    line: "signal?.addEventListener('abort', onAbort, { once: true });",
    mutator,
    replacement,
    reason: 'The abort listener runs settle(), which removes it: with or without `once` it runs at most once and is gone afterwards.',
  })),
  // src/data/verify-options.ts
  {
    file: 'src/data/verify-options.ts',
    line: "logger: loggerOption('pino'),",
    mutator: 'StringLiteral',
    replacement: '""',
    reason: "loggerOption only tests its fallback against 'silent': any other value, '' included, gives the default pino logger.",
  },
  // src/data/verify-checksum.ts
  {
    file: 'src/data/verify-checksum.ts',
    line: "if (typeof sum !== 'object' || sum === null || !Number.isSafeInteger(count) || (count as number) < 0 || typeof hash !== 'bigint' || last === undefined) {",
    mutator: 'ConditionalExpression',
    replacement: 'false',
    original: 'sum === null',
    reason: 'A null answer has no count (it is read from `sum ?? {}`), so the count test refuses it with the same error and message.',
  },
  {
    file: 'src/data/verify-checksum.ts',
    line: 'if (empty ? last !== null : !inside || (range.limit !== undefined && (count as number) > range.limit)) {',
    mutator: 'ConditionalExpression',
    replacement: 'true',
    original: 'range.limit !== undefined',
    reason: 'Without a limit the comparison is `count > undefined`, which is false: the same as not comparing.',
  },
];

/** @type {readonly { file: string; line: string; mutator: string; replacement: string; original?: string; kind: 'flaw' | 'not pinned'; reason: string }[]} */
export const notes = [
  // src/data/verify-checksum.ts: of two keys that compare 0, lastOf keeps the
  // first and the split point the smaller one's; the mutants take the other.
  {
    file: 'src/data/verify-checksum.ts',
    line: 'return keys.reduce<K | null>((max, key) => (max === null || job.compare(key, max) > 0 ? key : max), null);',
    mutator: 'EqualityOperator',
    replacement: 'job.compare(key, max) >= 0',
    kind: /** @type {const} */ ('not pinned'),
    reason:
      "Only keys that compare 0 yet differ as values tell them apart (a case-insensitive collation: 'K9' and 'k9'). Both name the same position in the stores' order, so the checkpoint resumes at the same place whichever spelling it saves.",
  },
  {
    file: 'src/data/verify-checksum.ts',
    line: 'const middle = [oldHead.last, newHead.last].reduce<K | null>((min, key) => (key === null ? min : min === null || job.compare(key, min) < 0 ? key : min), null);',
    mutator: 'EqualityOperator',
    replacement: 'job.compare(key, min) <= 0',
    kind: /** @type {const} */ ('not pinned'),
    reason:
      "Only keys that compare 0 yet differ as values tell them apart (a case-insensitive collation). Both name the same split point in the stores' order: the ranges asked and the rows found are the same.",
  },
];

/** @type {readonly { file: string; minutes: number; mutants: number; measured: string }[]} */
export const times = [
  { file: 'src/data/verify-checksum.ts', minutes: 31.6, mutants: 215, measured: '2026-11-26' },
  { file: 'src/data/verify-options.ts', minutes: 2.2, mutants: 31, measured: '2026-11-26' },
  { file: 'src/data/bounded-call.ts', minutes: 3.7, mutants: 23, measured: '2026-11-26' },
  { file: 'src/data/bounded.ts', minutes: 1.2, mutants: 38, measured: '2026-11-26' },
  { file: 'src/data/checkpoint-store.ts', minutes: 0.3, mutants: 6, measured: '2026-11-26' },
  { file: 'src/data/file-checkpoint-store.ts', minutes: 1.0, mutants: 13, measured: '2026-11-26' },
];
