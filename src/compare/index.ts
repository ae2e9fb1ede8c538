export type { Comparator, Comparison, DiffEntry, DiffKind, Outcome } from './comparator.js';
export { deepEqualComparator } from './deep-equal-comparator.js';
export type { DeepEqualOptions, NormalizeOptions } from './deep-equal-comparator.js';
export { formatDiff } from './format-diff.js';
export type { FormatDiffOptions } from './format-diff.js';
export { describeFingerprint, fingerprintOf } from './fingerprint.js';
export type { ComparatorLike } from './to-comparator.js';
