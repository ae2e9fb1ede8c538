// @ts-check
import { equivalents as equivalentsDataWrites } from './areas/data-writes.mjs';
import { equivalents as equivalentsDataCopy } from './areas/data-copy.mjs';
import { equivalents as equivalentsDataVerify } from './areas/data-verify.mjs';
import { equivalents as equivalentsConfig } from './areas/config.mjs';
import { equivalents as equivalentsCoreRest } from './areas/core-rest.mjs';
// Surviving mutants that no test can kill because they cannot change what the
// library returns, each with the reason. scripts/mutation-report.mjs marks the
// survivors that match one (same file, mutator, replacement, and a line that
// contains `line`) as equivalent in docs/mutation.md. They still count as
// survivors in Stryker's score: this list explains them, it does not hide them.
// A rule here is a claim: keep it exact, and delete it when the code changes.

/** `original`, when given, is exactly the source text the mutant replaces (two mutants of one line can share mutator and replacement). */
/** @type {readonly { file: string; line: string; mutator: string; replacement: string; original?: string; reason: string }[]} */
export const equivalentMutants = [
  ...equivalentsDataWrites,
  ...equivalentsDataCopy,
  ...equivalentsDataVerify,
  ...equivalentsConfig,
  ...equivalentsCoreRest,
  // src/hashing/hasher.ts: bucketOf's ASCII fast path writes the same bytes
  // the TextEncoder path would, so taking the slow path more often gives the
  // same bucket.
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
    reason: 'One more round writes 0 one byte past the length that is hashed (or past the buffer, where the write is dropped); murmur3 never reads it.',
  },
  // Which path a key takes that may not fit the kept buffer: the chunked
  // murmur3 and a one-off TextEncoder buffer hash the same bytes as the kept
  // buffer, so sending more keys to them only costs time (a long key sent to
  // the kept buffer is cut there, and the known answers catch it).
  ...[
    ['const fits = units * 3 <= maxScratchBytes;', 'ConditionalExpression', 'false'],
    ['const fits = units * 3 <= maxScratchBytes;', 'EqualityOperator', 'units * 3 < maxScratchBytes'],
    ['if (!fits) return murmur3Chunked(salt, text) % BUCKETS;', 'BooleanLiteral', 'fits'],
    ['if (!fits) return murmur3Chunked(salt, text) % BUCKETS;', 'ConditionalExpression', 'true'],
    ['if (!fits) return murmur3Chunked(salt, text) % BUCKETS;', 'ConditionalExpression', 'false'],
    ['if (!fits) return hasher.hash32(encoder.encode(input)) % BUCKETS;', 'ConditionalExpression', 'true'],
  ].map(([line, mutator, replacement]) => ({
    file: 'src/hashing/hasher.ts',
    line,
    mutator,
    replacement,
    reason:
      'Speed-only: more keys go to the chunked murmur3 or to a one-off TextEncoder buffer, which hash the same bytes; a long key still never reaches the kept buffer (for murmur3 the one-off path below catches it).',
  })),
  {
    file: 'src/hashing/hasher.ts',
    line: 'if (end < text.length && last >= 0xd800 && last <= 0xdbff) end -= 1;',
    mutator: 'AssignmentOperator',
    replacement: 'end += 1',
    reason: 'Keeping the low surrogate in the chunk instead still fits: at most 1,364 units of 3 bytes and a 4-byte pair make 4,096 bytes, and the pair is encoded whole either way.',
  },
  {
    file: 'src/hashing/hasher.ts',
    line: 'if (end < text.length && last >= 0xd800 && last <= 0xdbff) end -= 1;',
    mutator: 'ConditionalExpression',
    replacement: 'true',
    original: 'last >= 0xd800',
    reason: 'Only the `last >= 0xd800` operand: a chunk that ends one unit earlier on a unit below the surrogates splits no pair, and the same bytes are hashed.',
  },
  {
    file: 'src/hashing/hasher.ts',
    line: "hash32: (bytes: Uint8Array) => (bytes instanceof Uint8Array ? murmur3(bytes, bytes.length) : murmur.x86.hash32(bytes)),",
    mutator: 'ConditionalExpression',
    replacement: 'false',
    reason: 'Speed-only: murmurhash3js-revisited gives the same numbers for a Uint8Array (the known-answer tests check both).',
  },

  // src/core/migration-glue.ts
  ...['oldService', 'newService'].map((option) => ({
    file: 'src/core/migration-glue.ts',
    line: `toServiceCall(resolved.${option}, '${option}');`,
    mutator: 'StringLiteral',
    replacement: '""',
    reason: 'The option name only goes into the error of a service that is not one, which resolveGlueOptions has already refused with the same check.',
  })),
  ...[
    "if (this.#emitter.has('route')) this.#route(key, 'old', 'missing-key');",
    "if (this.#emitter.has('route')) this.#route(key, 'old', 'hash-failed');",
    "if (this.#emitter.has('route')) this.#route(key, toNew ? 'new' : 'old', 'bucket');",
    "if (this.#emitter.has('route')) this.#route(key, 'old', 'shadow');",
  ].map((line) => ({
    file: 'src/core/migration-glue.ts',
    line,
    mutator: 'ConditionalExpression',
    replacement: 'true',
    reason: 'Speed-only: the key is already read, and an event nobody listens to reaches no one (Emitter.emit returns at once).',
  })),
  {
    file: 'src/core/migration-glue.ts',
    line: "this.#log.log('warn', 'fallback', { migration: this.name, key, err: shown }, 'new failed, old served (fallback)');",
    mutator: 'StringLiteral',
    replacement: '""',
    original: "'fallback'",
    reason: "The rate-limit bucket's name: no other line of a glue is logged under the name \"\", so the fallback lines are limited alike.",
  },
  {
    file: 'src/core/migration-glue.ts',
    line: 'if (this.#closed) return;',
    mutator: 'ConditionalExpression',
    replacement: 'false',
    reason: 'A second close() unsubscribes again (a no-op), drains no shadow call and clears no listener: the same result.',
  },

  // src/core/config-in-force.ts
  {
    file: 'src/core/config-in-force.ts',
    line: 'if (config === this.#checked) return config as MigrationConfig;',
    mutator: 'ConditionalExpression',
    replacement: 'false',
    reason: 'Speed-only: the config last checked is checked again, with the same answer.',
  },
  {
    file: 'src/core/config-in-force.ts',
    line: 'if (this.#override !== undefined && isRolledBack(stored)) {',
    mutator: 'ConditionalExpression',
    replacement: 'true',
    original: 'this.#override !== undefined',
    reason: 'Only the `this.#override !== undefined` operand: follow() set the override, and nothing ends it while #saving is set (configs that arrive are not applied).',
  },
  {
    file: 'src/core/config-in-force.ts',
    line: 'if (this.#override !== undefined) {',
    mutator: 'ConditionalExpression',
    replacement: 'true',
    reason: 'Without an override there is no config rolled back from either: the echo check is skipped and ending no override changes nothing.',
  },
  {
    file: 'src/core/config-in-force.ts',
    line: 'if (this.#overrideFrom !== undefined && sameConfig(config, this.#overrideFrom)) return;',
    mutator: 'ConditionalExpression',
    replacement: 'true',
    original: 'this.#overrideFrom !== undefined',
    reason: 'Only the `this.#overrideFrom !== undefined` operand: the override and the config it replaced are always set and cleared together.',
  },
  ...[
    ['ConditionalExpression', 'false'],
    ['BooleanLiteral', 'true'],
  ].map(([mutator, replacement]) => ({
    file: 'src/core/config-in-force.ts',
    line: 'if (!isRolledBack(config)) this.#rolledBack = false;',
    mutator,
    replacement,
    reason:
      'The flag is read only while a config that uses no new is in force, and the move into such a config from one that uses new sets it to true (the line below): what a config that uses new leaves in it is never read.',
  })),
  {
    file: 'src/core/config-in-force.ts',
    line: "return typeof info === 'function' && info.call(provider)?.rolledBack === true;",
    mutator: 'ConditionalExpression',
    replacement: 'true',
    original: "typeof info === 'function'",
    reason: 'Calling an `info` that is not a function throws, and the catch below answers false all the same.',
  },
  {
    file: 'src/core/config-in-force.ts',
    line: "return typeof info === 'function' && info.call(provider)?.rolledBack === true;",
    mutator: 'OptionalChaining',
    replacement: 'info.call(provider).rolledBack',
    reason: 'Reading a field of undefined or null throws, and the catch below answers false all the same.',
  },
  {
    file: 'src/core/config-in-force.ts',
    line: '} catch {',
    mutator: 'BlockStatement',
    replacement: '{}',
    reason: 'The catch then returns undefined instead of false; both callers treat it as false.',
  },
  ...[
    ['ConditionalExpression', 'false', undefined],
    ['LogicalOperator', "typeof config !== 'object' && config === null", undefined],
  ].map(([mutator, replacement]) => ({
    file: 'src/core/config-in-force.ts',
    line: "if (typeof config !== 'object' || config === null) return false;",
    mutator,
    replacement,
    reason: 'A fast refusal only: destructuring null or undefined throws (caught, false), and a primitive has none of the four fields, so the checks below refuse the same values.',
  })),

  // src/core/routing-key.ts, src/core/key-reader.ts
  {
    file: 'src/core/routing-key.ts',
    line: "if (typeof input !== 'object' || input === null) return undefined;",
    mutator: 'ConditionalExpression',
    replacement: 'false',
    original: 'input === null',
    reason: 'Only the `input === null` operand: reading a field of null throws, and the catch below gives no key all the same.',
  },
  {
    file: 'src/core/routing-key.ts',
    line: '} catch {',
    mutator: 'BlockStatement',
    replacement: '{}',
    reason: 'The emptied catch returns undefined, which is what its `return undefined` returns.',
  },
  ...[
    ['ConditionalExpression', 'true', 'bucket < BUCKETS'],
    ['EqualityOperator', 'bucket <= BUCKETS', undefined],
  ].map(([mutator, replacement, original]) => ({
    file: 'src/core/key-reader.ts',
    line: 'if (Number.isInteger(bucket) && bucket >= 0 && bucket < BUCKETS) return bucket;',
    mutator,
    replacement,
    ...(original === undefined ? {} : { original }),
    reason: 'bucketOf returns the hash modulo BUCKETS: an integer hash gives a bucket below BUCKETS, so the upper bound never refuses one.',
  })),

  // src/core/arm-recorder.ts
  {
    file: 'src/core/arm-recorder.ts',
    line: 'const duration = durationMs > 0 ? durationMs : 0;',
    mutator: 'EqualityOperator',
    replacement: 'durationMs >= 0',
    reason: 'At a duration of exactly 0 both branches give 0.',
  },

  // src/rollout/criteria.ts
  {
    file: 'src/rollout/criteria.ts',
    line: "const isFiniteNumber = (value: unknown): value is number => typeof value === 'number' && Number.isFinite(value);",
    mutator: 'ConditionalExpression',
    replacement: 'true',
    original: "typeof value === 'number'",
    reason: "Only the `typeof value === 'number'` guard: Number.isFinite is already false for anything but a number.",
  },

  // src/option-schema.ts
  ...[
    ["const isInteger = (min: number) => (value: unknown) => typeof value === 'number' && Number.isSafeInteger(value) && value >= min;", 'ConditionalExpression', 'true'],
    ["field<number>((value) => typeof value === 'number' && Number.isFinite(value) && value > 0, 'a positive finite number'),", 'ConditionalExpression', 'true'],
    ["(value) => typeof value === 'number' && Number.isFinite(value) && value > 0 && value <= maxTimerMs,", 'ConditionalExpression', 'true'],
    ["(value) => typeof value === 'number' && Number.isFinite(value) && value > 0 && value <= maxTimerMs,", 'LogicalOperator', "typeof value === 'number' || Number.isFinite(value)"],
    ["typeof value === 'number' && Number.isFinite(value) && value >= min && value <= max", 'ConditionalExpression', 'true'],
  ].map(([line, mutator, replacement]) => ({
    file: 'src/option-schema.ts',
    line,
    mutator,
    replacement,
    ...(mutator === 'ConditionalExpression' ? { original: "typeof value === 'number'" } : {}),
    reason: "Only the `typeof value === 'number'` guard: Number.isFinite and Number.isSafeInteger are already false for anything but a number.",
  })),
  {
    file: 'src/option-schema.ts',
    line: "if ((typeof value !== 'object' && typeof value !== 'function') || value === null) return false;",
    mutator: 'ConditionalExpression',
    replacement: 'false',
    original: 'value === null',
    reason: 'Only the `value === null` operand: reading a method of null throws, and the catch below returns false all the same.',
  },
  {
    file: 'src/option-schema.ts',
    line: '} catch {',
    mutator: 'BlockStatement',
    replacement: '{}',
    reason: 'hasMethods then returns undefined instead of false; field() treats both as a refusal.',
  },
  ...['current.def.innerType', 'current.def.in'].map((replacement) => ({
    file: 'src/option-schema.ts',
    line: 'const inner = current.def?.innerType ?? current.def?.in;',
    mutator: 'OptionalChaining',
    replacement,
    reason: 'Every zod schema has `def`: the optional chaining only guards a schema that is not a zod schema, which parseOptions never receives.',
  })),
  {
    file: 'src/option-schema.ts',
    line: "const name = issue.keys[0] ?? '';",
    mutator: 'StringLiteral',
    replacement: '"Stryker was here!"',
    reason: 'zod never reports unrecognized_keys without a key, so the fallback name is never used.',
  },
  {
    file: 'src/option-schema.ts',
    line: 'return [];',
    mutator: 'ArrayDeclaration',
    replacement: '["Stryker was here"]',
    reason: "Unreachable: the loop over [...path, ''] always returns at its last segment.",
  },

  {
    file: 'src/option-schema.ts',
    line: "error: (issue) => (issue.code === 'invalid_type' ? `must be an object, got ${describeValue(issue.input)}` : undefined),",
    mutator: 'ConditionalExpression',
    replacement: 'true',
    original: "issue.code === 'invalid_type'",
    reason: 'The only other issue a strict object raises itself is unrecognized_keys, whose message parseOptions writes itself (its fields raise their own issues).',
  },
  // src/config/migration-config.ts
  ...[
    ['ConditionalExpression', 'false'],
    ['StringLiteral', '""'],
  ].map(([mutator, replacement]) => ({
    file: 'src/config/migration-config.ts',
    line: "const path = issue.path.length === 0 ? '(root)' : issue.path.map(String).join('.');",
    mutator,
    replacement,
    reason: 'zod never reports a root issue here (the value was already checked to be a non-array object, which z.object accepts), and the four fields are flat, so no path has two segments to join.',
  })),
  {
    file: 'src/config/migration-config.ts',
    line: 'return Math.abs(scaled - Math.round(scaled)) < 1e-7;',
    mutator: 'EqualityOperator',
    replacement: 'Math.abs(scaled - Math.round(scaled)) <= 1e-7',
    reason: 'No double v gives |v·100 − round(v·100)| exactly 1e-7: k + 1e-7 is not representable for k ≥ 1, and no v·100 rounds to exactly 1e-7 (searched).',
  },

  // src/rollout/sequential.ts
  {
    file: 'src/rollout/sequential.ts',
    line: 'if (!(t > 0)) return Number.POSITIVE_INFINITY;',
    mutator: 'EqualityOperator',
    replacement: 't >= 0',
    reason: 'At t = 0 the formula divides by t² = 0 and gives +Infinity too, for every alpha below 1.',
  },
  ...[
    ['EqualityOperator', 'a.trials < 0', 'a.trials <= 0'],
    ['ConditionalExpression', 'false', 'b.trials <= 0'],
    ['EqualityOperator', 'b.trials < 0', 'b.trials <= 0'],
  ].map(([mutator, replacement, original]) => ({
    file: 'src/rollout/sequential.ts',
    line: 'if (a.trials <= 0 || b.trials <= 0) return { estimate, lower: -1, upper: 1 };',
    mutator,
    replacement,
    original,
    reason: 'One side at 0 trials (the other check still catches both at 0): its variance term divides by 0, the radius is +Infinity and the clamps give -1 and 1 all the same.',
  })),

  // src/rollout/judge.ts
  ...[
    ['ConditionalExpression', 'true', 'control.p95 !== undefined && control.p95 > 0'],
    ['LogicalOperator', 'control.p95 !== undefined || control.p95 > 0', undefined],
    ['ConditionalExpression', 'true', 'control.p95 !== undefined'],
    ['ConditionalExpression', 'true', 'control.p95 > 0'],
    ['EqualityOperator', 'control.p95 >= 0', undefined],
  ].map(([mutator, replacement, original]) => ({
    file: 'src/rollout/judge.ts',
    line: '} else if (control.p95 !== undefined && control.p95 > 0) {',
    mutator,
    replacement,
    ...(original === undefined ? {} : { original }),
    reason: 'The `if (!(p95 > 0)) return undefined` right below refuses the same values (undefined, 0, negative, NaN): the guard is redundant.',
  })),
  {
    file: 'src/rollout/judge.ts',
    line: '} else {',
    mutator: 'BlockStatement',
    replacement: '{}',
    reason: 'Without its `return undefined`, p95 stays unassigned, and `if (!(p95 > 0)) return undefined` right below returns the same.',
  },
  {
    file: 'src/rollout/judge.ts',
    line: 'if (bound.estimate >= limit || i >= 60) return undefined;',
    mutator: 'ConditionalExpression',
    replacement: 'false',
    original: 'bound.estimate >= limit',
    reason: 'With the estimate at or above the limit the upper bound never reaches it, so the 60-round cap returns the same undefined, later.',
  },
  {
    file: 'src/rollout/judge.ts',
    line: 'if (bound.estimate >= limit || i >= 60) return undefined;',
    mutator: 'EqualityOperator',
    replacement: 'bound.estimate > limit',
    reason: 'At an estimate exactly on the limit the upper bound (above the estimate) never reaches it: the 60-round cap returns the same undefined.',
  },
  ...[
    ['if (bound.upper <= limit) break;', 'bound.upper < limit'],
    ['if (at(mid).upper <= limit) high = mid;', 'at(mid).upper < limit'],
  ].map(([line, replacement]) => ({
    file: 'src/rollout/judge.ts',
    line,
    mutator: 'EqualityOperator',
    replacement,
    reason: 'Differs only when an upper bound equals the limit exactly, and then moves the estimate by at most the 1 % the bisection allows.',
  })),
  // src/rollout/rollback-guard.ts
  {
    file: 'src/rollout/rollback-guard.ts',
    line: '#safeJudge(explain = false): GuardResult | undefined {',
    mutator: 'BooleanLiteral',
    replacement: 'true',
    original: 'false',
    reason: 'Speed only: watch() judges without the estimate of calls still needed (a search), and judges again with it once per stall for the notification; estimating on every judged call gives the same verdicts and the same notification.',
  },
  {
    file: 'src/rollout/rollback-guard.ts',
    line: 'const judgement = judgeStep(evidence, this.#settings, { explain });',
    mutator: 'ObjectLiteral',
    replacement: '{}',
    original: '{ explain }',
    reason: 'Speed only, as `explain = false` above: without the option the judge always estimates the calls still needed, which changes no verdict.',
  },
  {
    file: 'src/rollout/rollback-guard.ts',
    line: "this.#recorder.startStep(after, typeof event.at === 'number' && Number.isFinite(event.at)",
    mutator: 'ConditionalExpression',
    replacement: 'true',
    original: "typeof event.at === 'number'",
    reason: 'Number.isFinite does not convert: it is false for every value that is not a number, so the typeof test it guards changes nothing.',
  },
  {
    file: 'src/rollout/rollback-guard.ts',
    line: "if (config !== undefined && typeof config === 'object') this.#recorder.startStep(",
    mutator: 'ConditionalExpression',
    replacement: 'true',
    original: 'config !== undefined',
    reason: "typeof undefined is 'undefined': the `typeof config === 'object'` beside it already refuses an undefined config.",
  },
  {
    file: 'src/rollout/rollback-guard.ts',
    line: '} else if (this.#noise !== undefined) {',
    mutator: 'ConditionalExpression',
    replacement: 'true',
    reason: "Without a noise floor it sets the evidence's `noise` to undefined, which is what the step recorder always gives.",
  },
  {
    file: 'src/rollout/rollback-guard.ts',
    line: "const stalled = judgement.verdict === 'inconclusive' && now !== undefined && now - since > this.criteria.maxInconclusiveMs;",
    mutator: 'ConditionalExpression',
    replacement: 'true',
    original: 'now !== undefined',
    reason: 'With no clock reading, `now - since` is NaN and `NaN > maxInconclusiveMs` is false: the step is not stalled either way.',
  },
  ...[
    ['ConditionalExpression', 'true'],
    ['EqualityOperator', 'control.latency.count >= 0'],
  ].map(([mutator, replacement]) => ({
    file: 'src/rollout/rollback-guard.ts',
    line: 'p95: control.latency !== undefined && control.latency.count > 0 ? control.latency.percentile(0.95) : (control.p95 ?? 0),',
    mutator,
    replacement,
    original: 'control.latency.count > 0',
    reason: "An empty histogram's percentile is 0, the same as `control.p95 ?? 0` for a measured control (which has a histogram and no p95).",
  })),
];
