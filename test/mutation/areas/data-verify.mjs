// @ts-check
// One area's part of the mutation setup, merged by the files beside
// test/mutation/areas: which tests pin each file (tests-by-file.mjs),
// survivors that cannot change behaviour (equivalent-mutants.mjs), explained
// survivors (survivor-notes.mjs) and how long a run took (run-times.mjs).
// The formats are those files' own.

/** @type {Readonly<Record<string, readonly string[]>>} */
export const tests = {
  'src/data/verify-checksum.ts': ['test/data/verify-checksum-mutation.test.ts'],
};

/** @type {readonly { file: string; line: string; mutator: string; replacement: string; original?: string; reason: string }[]} */
export const equivalents = [];

/** @type {readonly { file: string; line: string; mutator: string; replacement: string; original?: string; kind: 'flaw' | 'not pinned'; reason: string }[]} */
export const notes = [];

/** @type {readonly { file: string; minutes: number; mutants: number; measured: string }[]} */
export const times = [
  { file: 'src/data/verify-checksum.ts', minutes: 31.6, mutants: 215, measured: '2026-11-26' },
];
