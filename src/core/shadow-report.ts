import type { Comparator, Comparison, DiffEntry, DiffKind, Outcome } from '../compare/comparator.js';
import { errorSummary, rulesOf } from '../compare/deep-equal-comparator.js';
import { defaultDiffRules, diffValues } from '../compare/diff.js';
import { formatDiff } from '../compare/format-diff.js';
import { describeFingerprint, fingerprintOf } from '../compare/fingerprint.js';
import { InvalidOptionError, describeValue, ignoreRejection } from '../errors.js';
import type { RoutingKey } from '../hashing/hasher.js';
import type { Emitter } from '../observe/emitter.js';
import type { Clock } from '../observe/clock.js';
import type { GlueEvents, MismatchKind } from './events.js';
import type { MismatchLog } from './mismatch-log.js';
import type { Cleaner } from './cleaner.js';
import { isThenable } from './cleaner.js';
import type { FingerprintCount } from './stats.js';

const maxFingerprints = 200;
const shownFingerprints = 20;
/** Diff entries kept from a comparator's answer. */
const maxEntries = 100;
const kinds = new Set<DiffKind>(['changed', 'missing', 'extra', 'type', 'error']);
const redactedRoot: DiffEntry = Object.freeze({ path: '', kind: 'changed', old: '[redacted]', new: '[redacted]' });

/** What a mismatch report needs of a shadow call. */
export interface MismatchFacts<I, O> {
  readonly key: RoutingKey | undefined;
  readonly input: I;
  readonly old: Outcome<O>;
  readonly new: Outcome<O>;
  readonly oldMs: number;
  readonly newMs: number;
}

/**
 * Everything the shadow runner writes about a mismatch: the log line, the
 * `mismatch` event, the fingerprint table of `stats()`. Built from the
 * cleaned values only when `clean.output` is set: the comparator's verdict
 * comes from the real values, what is shown (diff, fingerprint) from the
 * cleaned ones, so a secret in a value or in a key never leaves.
 */
export class ShadowReport<I, O> {
  readonly #name: string;
  readonly #comparator: Comparator<O>;
  readonly #emitter: Emitter<GlueEvents<I, O>>;
  readonly #mismatchLog: MismatchLog;
  readonly #clock: Clock;
  readonly #clean: Cleaner<I, O>;
  readonly #fingerprints = new Map<string, { count: number; description: string }>();

  constructor(init: {
    name: string;
    comparator: Comparator<O>;
    emitter: Emitter<GlueEvents<I, O>>;
    mismatchLog: MismatchLog;
    clock: Clock;
    clean: Cleaner<I, O>;
  }) {
    this.#name = init.name;
    this.#comparator = init.comparator;
    this.#emitter = init.emitter;
    this.#mismatchLog = init.mismatchLog;
    this.#clock = init.clock;
    this.#clean = init.clean;
  }

  /** The clean rules this report shows values by. */
  get cleaner(): Cleaner<I, O> {
    return this.#clean;
  }

  /** Reports one mismatch: counts its fingerprint, logs (rate-limited), emits `mismatch`. */
  mismatch(facts: MismatchFacts<I, O>, comparison: Comparison, kind: MismatchKind): void {
    const old = this.#cleanOutcome(facts.old, facts.input);
    const neu = this.#cleanOutcome(facts.new, facts.input);
    const failed = !facts.old.ok || !facts.new.ok;
    const shown = !this.#clean.cleansOutput && !(failed && this.#clean.active) ? comparison : this.#redacted(comparison, old, neu);
    const plain = fingerprintOf(shown);
    const fingerprint = kind === 'flaky' ? `flaky|${plain}` : plain;
    this.#count(fingerprint);
    this.#mismatchLog.log(
      this.#clock.now(),
      fingerprint,
      () => ({ migration: this.#name, key: facts.key, kind, fingerprint, diff: formatDiff(shown.diff, shown.truncated) }),
      `shadow mismatch (${kind})`,
    );
    if (!this.#emitter.has('mismatch')) return;
    this.#emitter.emit('mismatch', {
      migration: this.#name,
      key: facts.key,
      input: this.#clean.input(facts.input),
      old,
      new: neu,
      oldDurationMs: facts.oldMs,
      newDurationMs: facts.newMs,
      kind,
      comparison: shown,
      fingerprint,
    });
  }

  /** The most frequent mismatch causes, most frequent first. */
  fingerprints(): FingerprintCount[] {
    if (this.#fingerprints.size === 0) return [];
    return [...this.#fingerprints]
      .sort((a, b) => b[1].count - a[1].count)
      .slice(0, shownFingerprints)
      .map(([fingerprint, { count, description }]) => ({ fingerprint, description, count }));
  }

  #count(fingerprint: string): void {
    const entry = this.#fingerprints.get(fingerprint);
    if (entry !== undefined) entry.count += 1;
    else if (this.#fingerprints.size < maxFingerprints) {
      this.#fingerprints.set(fingerprint, { count: 1, description: describeFingerprint(fingerprint) });
    }
  }

  #cleanOutcome(outcome: Outcome<O>, input: I): Outcome<O> {
    if (!outcome.ok) return this.#clean.active ? { ok: false, error: this.#clean.error(outcome.error, input) } : outcome;
    return this.#clean.cleansOutput ? { ok: true, value: this.#clean.output(outcome.value) } : outcome;
  }

  /**
   * The comparison as it may be shown: the diff of the cleaned values (under
   * the comparator's rules when it is a deepEqualComparator), never a second
   * call of the user's comparator; a root `[redacted]` entry when the cleaned
   * values show no difference or cannot be diffed.
   */
  #redacted(comparison: Comparison, old: Outcome<O>, neu: Outcome<O>): Comparison {
    const kind = comparison.kind ?? 'value';
    if (!old.ok || !neu.ok) {
      // Errors here are already as shown (Cleaner.error) when a clean hook is set.
      const side = (outcome: Outcome<O>): unknown => (outcome.ok ? outcome.value : errorSummary(outcome.error));
      return { equal: false, kind, diff: [{ path: '', kind: 'error', old: side(old), new: side(neu) }], truncated: false };
    }
    const { rules, maxDiffs } = rulesOf(this.#comparator) ?? { rules: defaultDiffRules, maxDiffs: 20 };
    try {
      const found = diffValues(old.value, neu.value, rules, Math.min(maxDiffs, maxEntries));
      if (found.diff.length > 0) return { equal: false, kind, diff: found.diff, truncated: found.truncated };
    } catch {
      // cleaned values that cannot be diffed show as redacted
    }
    return { equal: false, kind, diff: [redactedRoot], truncated: false };
  }
}

/**
 * A comparator's answer, checked and copied: `equal` a boolean, `diff` at
 * most 100 well-formed entries (a path that is not a string shows as `[*]`, an
 * unknown kind as `changed`). Reads each field once.
 * @throws InvalidOptionError (`comparator`) when the answer is not a Comparison (a promise, null, `equal` not a boolean).
 */
export function checkedComparison(answer: unknown): Comparison {
  // An async comparator: its promise may reject later, and must not kill the process.
  ignoreRejection(answer);
  if (typeof answer !== 'object' || answer === null) {
    throw new InvalidOptionError('comparator', `must return a Comparison ({ equal, diff, truncated }), got ${describeValue(answer)}`);
  }
  const { equal, kind, diff, truncated } = answer as Record<string, unknown>;
  if (typeof equal !== 'boolean') {
    const promise = isThenable(answer) ? ' (a promise: compare must answer synchronously)' : '';
    throw new InvalidOptionError('comparator', `must return a Comparison whose \`equal\` is a boolean, got ${describeValue(equal)}${promise}`);
  }
  const entries: DiffEntry[] = [];
  const length = Array.isArray(diff) ? diff.length : 0;
  for (let at = 0; at < length && entries.length < maxEntries; at++) {
    const entry = (diff as unknown[])[at];
    if (typeof entry !== 'object' || entry === null) continue;
    const { path, kind: entryKind, old, new: neu } = entry as Record<string, unknown>;
    entries.push({
      path: typeof path === 'string' ? path : '[*]',
      kind: kinds.has(entryKind as DiffKind) ? (entryKind as DiffKind) : 'changed',
      old,
      new: neu,
    });
  }
  if (equal) return { equal, diff: [], truncated: false };
  return { equal, kind: kind === 'error' ? 'error' : 'value', diff: entries, truncated: truncated === true || length > entries.length };
}
