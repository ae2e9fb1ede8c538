// @ts-check
// One area's part of the mutation setup, merged by the files beside
// test/mutation/areas: which tests pin each file (tests-by-file.mjs),
// survivors that cannot change behaviour (equivalent-mutants.mjs), explained
// survivors (survivor-notes.mjs) and how long a run took (run-times.mjs).
// The formats are those files' own.

/** @type {Readonly<Record<string, readonly string[]>>} */
export const tests = {
  'src/data/dual-writes.ts': [
    'test/data/dual-writes-mutation.test.ts',
    'test/data/dual-write-repository.test.ts',
    'test/data/dual-write-hostile.test.ts',
    'test/data/dual-write-property.test.ts',
  ],
  'src/data/dual-write-repository.ts': [
    'test/data/dual-write-repository-mutation.test.ts',
    'test/data/dual-writes-mutation.test.ts',
    'test/data/dual-write-repository.test.ts',
    'test/data/dual-write-hostile.test.ts',
  ],
  'src/data/dual-reads.ts': [
    'test/data/dual-reads-mutation.test.ts',
    'test/data/dual-write-repository.test.ts',
    'test/data/dual-write-hostile.test.ts',
  ],
  'src/data/tombstone-store.ts': ['test/data/tombstone-store-mutation.test.ts', 'test/data/dual-writes-mutation.test.ts'],
  'src/data/repair-replay.ts': [
    'test/data/repair-replay-mutation.test.ts',
    'test/data/dual-write-repository.test.ts',
    'test/data/dual-write-hostile.test.ts',
  ],
  'src/data/repair-runner.ts': [
    'test/data/repair-runner-mutation.test.ts',
    'test/data/dual-write-repository.test.ts',
    'test/data/dual-write-hostile.test.ts',
  ],
  'src/data/shadow-reads.ts': [
    'test/data/shadow-reads-mutation.test.ts',
    'test/data/dual-write-repository.test.ts',
    'test/data/dual-write-hostile.test.ts',
  ],
  'src/data/repair-log.ts': ['test/data/repair-log-mutation.test.ts', 'test/data/dual-write-repository.test.ts'],
  'src/data/file-repair-log.ts': ['test/data/file-repair-log-mutation.test.ts', 'test/data/file-repair-log.test.ts'],
  'src/data/file-repair-lines.ts': ['test/data/file-repair-lines-mutation.test.ts', 'test/data/file-repair-log.test.ts'],
  'src/data/dual-write-options.ts': ['test/data/dual-write-options-mutation.test.ts', 'test/data/data-options.test.ts', 'test/data/dual-write-repository.test.ts'],
  'src/data/dual-write-events.ts': ['test/data/dual-write-repository.test.ts'],
};

/** @type {readonly { file: string; line: string; mutator: string; replacement: string; original?: string; reason: string }[]} */
export const equivalents = [
  {
    file: 'src/data/dual-writes.ts',
    line: "if (typeof now === 'number' && Number.isFinite(now)) return now;",
    mutator: 'ConditionalExpression',
    replacement: 'true',
    original: "typeof now === 'number'",
    reason: 'Number.isFinite does not convert: it is false for every value that is not a number, so the typeof test it guards changes nothing.',
  },
  {
    file: 'src/data/dual-reads.ts',
    line: "const outcome = await this.#read('new', key);",
    mutator: 'StringLiteral',
    replacement: '""',
    reason: "#read picks old only for side 'old' and new for anything else, and uses the side for nothing more: '' reads new all the same.",
  },
  {
    file: 'src/data/repair-replay.ts',
    line: 'if (count === 0) this.#inDoubt.delete(id);',
    mutator: 'ConditionalExpression',
    replacement: 'false',
    reason: 'Memory only: a count of 0 left in the map reads as not in doubt all the same (inDoubt asks for a count above 0).',
  },
  {
    file: 'src/data/repair-log.ts',
    line: 'if (afterId !== null && entry.id <= afterId) continue;',
    mutator: 'ConditionalExpression',
    replacement: 'true',
    original: 'afterId !== null',
    reason: 'With afterId null, `entry.id <= null` compares with 0, and every id is 1 or more (InMemoryRepairLog counts from 1, parseLine refuses ids below 1): no entry is skipped either way.',
  },
  {
    file: 'src/data/file-repair-lines.ts',
    line: '} catch {',
    mutator: 'BlockStatement',
    replacement: '{}',
    reason: "parseLine: a line JSON.parse refuses leaves `value` undefined, which the next check reads as bad all the same. fileSize: an emptied catch returns undefined, as the catch does.",
  },
  {
    file: 'src/data/file-repair-lines.ts',
    line: "if (typeof key !== 'string' && !(typeof key === 'number' && Number.isFinite(key))) return { kind: 'bad' };",
    mutator: 'ConditionalExpression',
    replacement: 'true',
    original: "typeof key === 'number'",
    reason: 'Number.isFinite does not convert: it is false for every value that is not a number, so the typeof test it guards changes nothing.',
  },
  ...['ConditionalExpression', 'EqualityOperator'].map((mutator) => ({
    file: 'src/data/file-repair-lines.ts',
    line: 'if (start < chunk.length) keep(chunk.subarray(start));',
    mutator,
    replacement: mutator === 'ConditionalExpression' ? 'true' : 'start <= chunk.length',
    reason: 'Keeping the empty rest of a chunk that ends with a newline pushes an empty buffer: no byte is added and an empty chunk is never over the room left, so no line changes.',
  })),  ...[
    ['src/data/file-repair-log.ts', "const schema = z.strictObject({ path: option.string(), logger: loggerOption('pino') });"],
    ['src/data/dual-write-options.ts', "logger: loggerOption('pino'),"],
  ].map(([file, line]) => ({
    file,
    line,
    mutator: 'StringLiteral',
    replacement: '""',
    reason: "loggerOption treats only 'silent' apart: any other fallback, '' included, gives the default pino logger when none is given.",
  })),
  {
    file: 'src/data/file-repair-log.ts',
    line: "if (typeof key !== 'string' && !(typeof key === 'number' && Number.isFinite(key))) {",
    mutator: 'ConditionalExpression',
    replacement: 'true',
    original: "typeof key === 'number'",
    reason: 'Number.isFinite does not convert: it is false for every value that is not a number, so the typeof test it guards changes nothing.',
  },
  {
    file: 'src/data/file-repair-log.ts',
    line: "const at = typeof entry.at === 'number' && Number.isFinite(entry.at) ? entry.at : 0;",
    mutator: 'ConditionalExpression',
    replacement: 'true',
    original: "typeof entry.at === 'number'",
    reason: 'Number.isFinite does not convert: it is false for every value that is not a number, so the typeof test it guards changes nothing.',
  },
  {
    file: 'src/data/file-repair-log.ts',
    line: 'if (state.bytes === undefined || size !== state.bytes) {',
    mutator: 'ConditionalExpression',
    replacement: 'false',
    original: 'state.bytes === undefined',
    reason: 'With the size unknown, `size !== undefined` refuses the compaction all the same: #compact runs right after a removal record was appended to the file, so fileSize finds it.',
  },
  {
    file: 'src/data/file-repair-log.ts',
    line: "const parsed = line.tooLong ? { kind: 'bad' as const } : parseLine<K>(line.text);",
    mutator: 'ObjectLiteral',
    replacement: '{}',
    reason: 'A parse of no kind matches no branch either, and a too-long line skips the torn-record branch: it lands among the damaged lines as too-long all the same.',
  },  {
    file: 'src/data/repair-runner.ts',
    line: 'const last = entries.length === 0 ? undefined : entries[entries.length - 1]?.id;',
    mutator: 'ConditionalExpression',
    replacement: 'false',
    reason: 'The element before the first of an empty array is undefined too, and `?.id` of it is undefined: the guard is redundant.',
  },
  {
    file: 'src/data/repair-runner.ts',
    line: 'const last = entries.length === 0 ? undefined : entries[entries.length - 1]?.id;',
    mutator: 'OptionalChaining',
    replacement: 'entries[entries.length - 1].id',
    reason: 'Reached only for a non-empty array of entries (isEntry kept only objects), whose last element is always there.',
  },
  {
    file: 'src/data/repair-runner.ts',
    line: "if (appended.status === 'ok' && tracker.get(id)?.entry === entry) tracker.note(id, entry, true);",
    mutator: 'OptionalChaining',
    replacement: 'tracker.get(id).entry',
    reason: 'The key came from tracker.unrecorded() a moment before, and only a replay forgets a key (one replay runs at a time, this one): it is still tracked here.',
  },
  {
    file: 'src/data/repair-runner.ts',
    line: "if (typeof value !== 'object' || value === null) return false;",
    mutator: 'ConditionalExpression',
    replacement: 'false',
    original: "typeof value !== 'object'",
    reason: 'null is still refused by `value === null`, and a primitive has no numeric `id` (reading it gives undefined), so the next line refuses it all the same.',
  },
];

/** @type {readonly { file: string; line: string; mutator: string; replacement: string; original?: string; kind: 'flaw' | 'not pinned'; reason: string }[]} */
export const notes = [
  {
    file: 'src/data/dual-writes.ts',
    line: "'late-primary',",
    mutator: 'StringLiteral',
    replacement: '""',
    kind: 'not pinned',
    reason: 'The name of the rate-limit bucket of the late-primary error: no other line of the repository logs under "", so only the limiter itself could tell the names apart.',
  },
  {
    file: 'src/data/dual-reads.ts',
    line: "log.log('warn', 'fallback', { migration: name, key, err: loggableError(error) }",
    mutator: 'StringLiteral',
    replacement: '""',
    original: "'fallback'",
    kind: 'not pinned',
    reason: 'The name of the rate-limit bucket of the fallback warning: no other line of the repository logs under "", so only the limiter itself could tell the names apart.',
  },
  ...[
    ["'repair-log-failed',", 'repair-log-failed'],
    ["limitedLog.log('warn', 'repair-in-doubt',", 'repair-in-doubt'],
    ["limitedLog.log('warn', 'repair-failed',", 'repair-failed'],
  ].map(([line, kind]) => ({
    file: 'src/data/repair-runner.ts',
    line,
    mutator: 'StringLiteral',
    replacement: '""',
    original: `'${kind}'`,
    kind: /** @type {const} */ ('not pinned'),
    reason: `The name of the rate-limit bucket of the ${kind} line: no other line of the repository logs under "", so only the limiter itself could tell the names apart.`,
  })),
  {
    file: 'src/data/shadow-reads.ts',
    line: "this.#init.log.log('warn', 'shadow-error',",
    mutator: 'StringLiteral',
    replacement: '""',
    original: "'shadow-error'",
    kind: 'not pinned',
    reason: 'The name of the rate-limit bucket of the shadow-error warning: no other line of the repository logs under "", so only the limiter itself could tell the names apart.',
  },
  {
    file: 'src/data/repair-runner.ts',
    line: 'if (tracked) this.#init.tracker.note(id, entry, true);',
    mutator: 'ConditionalExpression',
    replacement: 'true',
    kind: 'not pinned',
    reason: 'An untracked entry means the tracker was full, and note() refuses a new key at the cap; it could take it only if a replay forgot keys while the append was in flight, and would then track it as recorded, as loadTracked() does. No test races a full tracker with a replay.',
  },
];

/** @type {readonly { file: string; minutes: number; mutants: number; measured: string }[]} */
// Wall clock of the first (full) run of each file, on two cores shared with about eight other mutation runs.
export const times = [
  { file: 'src/data/dual-writes.ts', minutes: 8.8, mutants: 124, measured: '2026-11-26' },
  { file: 'src/data/dual-write-repository.ts', minutes: 2.9, mutants: 42, measured: '2026-11-26' },
  { file: 'src/data/dual-reads.ts', minutes: 5.8, mutants: 58, measured: '2026-11-26' },
  { file: 'src/data/tombstone-store.ts', minutes: 1.7, mutants: 7, measured: '2026-11-26' },
  { file: 'src/data/repair-replay.ts', minutes: 7.7, mutants: 97, measured: '2026-11-26' },
  { file: 'src/data/repair-runner.ts', minutes: 19.2, mutants: 224, measured: '2026-11-26' },
  { file: 'src/data/shadow-reads.ts', minutes: 11.3, mutants: 94, measured: '2026-11-26' },
  { file: 'src/data/repair-log.ts', minutes: 3.3, mutants: 21, measured: '2026-11-26' },
  { file: 'src/data/file-repair-log.ts', minutes: 10.5, mutants: 172, measured: '2026-11-26' },
  { file: 'src/data/file-repair-lines.ts', minutes: 10.4, mutants: 154, measured: '2026-11-26' },
  { file: 'src/data/dual-write-options.ts', minutes: 5.9, mutants: 44, measured: '2026-11-26' },
  { file: 'src/data/dual-write-events.ts', minutes: 1.5, mutants: 0, measured: '2026-11-26' },
];
