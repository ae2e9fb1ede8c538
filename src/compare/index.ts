export type { Comparator, Comparison, DiffEntry, DiffKind, Outcome } from './comparator.js';
export { deepEqualComparator } from './deep-equal-comparator.js';
export type { DeepEqualOptions, NormalizeOptions } from './deep-equal-comparator.js';
export { formatDiff } from './diff.js';
export type { FormatDiffOptions } from './diff.js';
export { describeFingerprint, fingerprintOf } from './fingerprint.js';
export type { ComparatorLike } from './to-comparator.js';
