// @ts-check
// Surviving mutants that no test can kill because they cannot change what the
// library returns, each with the reason. scripts/mutation-report.mjs marks the
// survivors that match one (same file, mutator, replacement, and a line that
// contains `line`) as equivalent in docs/mutation.md. They still count as
// survivors in Stryker's score: this list explains them, it does not hide them.
// A rule here is a claim: keep it exact, and delete it when the code changes.

/** @type {readonly { file: string; line: string; mutator: string; replacement: string; reason: string }[]} */
export const equivalentMutants = [
  // src/hashing/hasher.ts: bucketOf's ASCII fast path writes the same bytes
  // the TextEncoder path would, so taking the slow path more often, or
  // allocating more often, gives the same bucket.
  ...[
    ['if (hasher === murmur3Hasher) {', 'ConditionalExpression', 'false'],
    ['if (hasher === murmur3Hasher) {', 'BlockStatement', '{}'],
    ['if (length >= 0) return murmur3(scratch, length) % BUCKETS;', 'ConditionalExpression', 'false'],
    ['function asciiBytes(salt: string, text: string): number {', 'BlockStatement', '{}'],
    ['if (unit >= 0x80) return -1;', 'ConditionalExpression', 'true'],
    ['if (salt !== prefixSalt) {', 'ConditionalExpression', 'true'],
    ['if (units <= maxScratchBytes) {', 'ConditionalExpression', 'false'],
    ['if (units <= maxScratchBytes) {', 'EqualityOperator', 'units < maxScratchBytes'],
    ['if (units <= maxScratchBytes) {', 'BlockStatement', '{}'],
  ].map(([line, mutator, replacement]) => ({
    file: 'src/hashing/hasher.ts',
    line,
    mutator,
    replacement,
    reason: 'Speed-only: the ASCII fast path is skipped or redone, and the TextEncoder path yields the same bytes and bucket.',
  })),
  {
    file: 'src/hashing/hasher.ts',
    line: 'if (length >= 0) return murmur3(scratch, length) % BUCKETS;',
    mutator: 'EqualityOperator',
    replacement: 'length > 0',
    reason: 'asciiBytes never returns 0: `salt:key` holds at least the colon.',
  },
  ...[
    ['if (units * 3 > scratch.length)', 'ConditionalExpression', 'true'],
    ['if (units * 3 > scratch.length)', 'EqualityOperator', 'units * 3 >= scratch.length'],
    ['if (scratch.length < maxScratchBytes) scratch = new Uint8Array(maxScratchBytes);', 'ConditionalExpression', 'true'],
    ['if (scratch.length < maxScratchBytes) scratch = new Uint8Array(maxScratchBytes);', 'EqualityOperator', 'scratch.length <= maxScratchBytes'],
    ['if (salt.length + 1 > scratch.length)', 'ConditionalExpression', 'true'],
    ['if (salt.length + 1 > scratch.length)', 'EqualityOperator', 'salt.length + 1 >= scratch.length'],
    ['if (length > scratch.length) grow(', 'ConditionalExpression', 'true'],
    ['if (length > scratch.length) grow(', 'EqualityOperator', 'length >= scratch.length'],
  ].map(([line, mutator, replacement]) => ({
    file: 'src/hashing/hasher.ts',
    line,
    mutator,
    replacement,
    reason: 'Speed-only: the scratch buffer is reallocated (large enough, salt bytes kept or rewritten) when it already had room.',
  })),
  {
    file: 'src/hashing/hasher.ts',
    line: 'for (let i = 0; i < salt.length; i++) {',
    mutator: 'EqualityOperator',
    replacement: 'i <= salt.length',
    reason: "One more round writes 0 (charCodeAt past the end is NaN) where the ':' is written next.",
  },
  {
    file: 'src/hashing/hasher.ts',
    line: 'for (let i = 0, at = prefixLength; i < text.length; i++, at++) {',
    mutator: 'EqualityOperator',
    replacement: 'i <= text.length',
    reason: 'One more round writes 0 one byte past the length that is hashed; murmur3 never reads it.',
  },
  {
    file: 'src/hashing/hasher.ts',
    line: "hash32: (bytes: Uint8Array) => (bytes instanceof Uint8Array ? murmur3(bytes, bytes.length) : murmur.x86.hash32(bytes)),",
    mutator: 'ConditionalExpression',
    replacement: 'false',
    reason: 'Speed-only: murmurhash3js-revisited gives the same numbers for a Uint8Array (the known-answer tests check both).',
  },
  {
    file: 'src/hashing/hasher.ts',
    line: "return (typeof key === 'string' && key.length > 0) || (typeof key === 'number' && Number.isFinite(key));",
    mutator: 'ConditionalExpression',
    replacement: 'true',
    reason: "Only the `typeof key === 'number'` mutant: Number.isFinite is already false for anything but a number.",
  },
];
