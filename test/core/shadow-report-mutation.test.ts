import { describe, expect, it } from 'vitest';
import type { Comparator, Comparison, Outcome } from '../../src/compare/comparator.js';
import { deepEqualComparator } from '../../src/compare/deep-equal-comparator.js';
import { Cleaner } from '../../src/core/cleaner.js';
import type { GlueEvents, MismatchEvent, MismatchKind } from '../../src/core/events.js';
import { MismatchLog } from '../../src/core/mismatch-log.js';
import type { CleanHooks } from '../../src/core/shadow-options.js';
import { ShadowReport, checkedComparison } from '../../src/core/shadow-report.js';
import type { MismatchFacts } from '../../src/core/shadow-report.js';
import { InvalidOptionError } from '../../src/errors.js';
import { Emitter } from '../../src/observe/emitter.js';
import { LogLimiter } from '../../src/observe/log-limiter.js';
import { recordingLogger } from '../helpers.js';

// src/core/shadow-report.ts: what is written about a mismatch (the log line,
// the `mismatch` event, the fingerprint table), shown from the cleaned
// values whenever a clean hook could hide something; and checkedComparison,
// which checks and copies a comparator's answer.

type Input = { user: string; card: string };
type Output = Record<string, unknown>;

function reportWith(options: { comparator?: Comparator<Output>; clean?: CleanHooks<Input, Output>; listen?: boolean; perFingerprint?: number } = {}) {
  const logger = recordingLogger();
  const clock = { now: () => 5_000 };
  const emitter = new Emitter<GlueEvents<Input, Output>>(logger);
  const events: MismatchEvent<Input, Output>[] = [];
  if (options.listen !== false) emitter.on('mismatch', (e) => void events.push(e));
  const report = new ShadowReport<Input, Output>({
    name: 'payments',
    comparator: options.comparator ?? deepEqualComparator<Output>(),
    emitter,
    clock,
    mismatchLog: new MismatchLog(logger, options.perFingerprint ?? 10, 1_000),
    clean: new Cleaner<Input, Output>('payments', options.clean ?? {}, new LogLimiter(logger, clock)),
  });
  return { report, logger, events };
}

const ok = (value: Output): Outcome<Output> => ({ ok: true, value });
const failed = (error: unknown): Outcome<Output> => ({ ok: false, error });
const input: Input = { user: 'alice', card: '4111-SECRET' };

function facts(old: Outcome<Output>, neu: Outcome<Output>): MismatchFacts<Input, Output> {
  return { key: 'k1', input, old, new: neu, oldMs: 3, newMs: 4 };
}

/** Reports old against new as compared by deepEqualComparator (or the comparison given). */
function report(r: ShadowReport<Input, Output>, old: Outcome<Output>, neu: Outcome<Output>, kind: MismatchKind = 'value', comparison?: Comparison) {
  r.mismatch(facts(old, neu), comparison ?? deepEqualComparator<Output>().compare(old, neu), kind);
}

const maskToken = (o: Output): Output => ({ ...o, token: '***' });

describe('ShadowReport.mismatch without clean hooks', () => {
  it('emits the mismatch as compared, with the values as they are', () => {
    const { report: r, events } = reportWith();
    const comparison = deepEqualComparator<Output>().compare(ok({ total: 1 }), ok({ total: 2 }));
    r.mismatch(facts(ok({ total: 1 }), ok({ total: 2 })), comparison, 'value');
    expect(events).toHaveLength(1);
    const event = events[0];
    expect(event).toMatchObject({ migration: 'payments', key: 'k1', oldDurationMs: 3, newDurationMs: 4, kind: 'value', fingerprint: 'total:changed' });
    expect(event?.input).toBe(input);
    expect(event?.old).toEqual(ok({ total: 1 }));
    expect(event?.comparison).toBe(comparison);
  });

  it('logs a warn line naming the kind, with the fingerprint and the formatted diff', () => {
    const { report: r, logger } = reportWith();
    report(r, ok({ total: 1 }), ok({ total: 2 }), 'value');
    expect(logger.lines).toHaveLength(1);
    expect(logger.lines[0]).toMatchObject({
      level: 'warn',
      message: 'shadow mismatch (value)',
      context: { migration: 'payments', key: 'k1', kind: 'value', fingerprint: 'total:changed', diff: 'total: 1 → 2' },
    });
  });

  it('a flaky mismatch gets its own fingerprint', () => {
    const { report: r, events, logger } = reportWith();
    report(r, ok({ total: 1 }), ok({ total: 2 }), 'flaky');
    expect(events[0]?.fingerprint).toBe('flaky|total:changed');
    expect(logger.lines[0]?.message).toBe('shadow mismatch (flaky)');
    expect(r.fingerprints()).toEqual([{ fingerprint: 'flaky|total:changed', description: expect.any(String), count: 1 }]);
  });

  it('errors are shown as they are: the same error object', () => {
    const { report: r, events } = reportWith();
    const error = new Error('new broke on 4111-SECRET');
    report(r, ok({ total: 1 }), failed(error));
    expect((events[0]?.new as { error: unknown }).error).toBe(error);
    expect(events[0]?.comparison.diff[0]?.kind).toBe('error');
  });

  it('still counts and logs when nobody listens, without cleaning an input no one sees', () => {
    let cleaned = 0;
    const { report: r, logger } = reportWith({
      listen: false,
      clean: {
        input: (i) => {
          cleaned += 1;
          return i;
        },
      },
    });
    report(r, ok({ total: 1 }), ok({ total: 2 }));
    expect(logger.lines).toHaveLength(1);
    expect(r.fingerprints()).toHaveLength(1);
    expect(cleaned).toBe(0);
  });

  it('gives the cleaner it shows values by', () => {
    const logger = recordingLogger();
    const clock = { now: () => 0 };
    const cleaner = new Cleaner<Input, Output>('payments', {}, new LogLimiter(logger, clock));
    const r = new ShadowReport<Input, Output>({
      name: 'payments',
      comparator: deepEqualComparator<Output>(),
      emitter: new Emitter<GlueEvents<Input, Output>>(logger),
      clock,
      mismatchLog: new MismatchLog(logger, 1, 1),
      clean: cleaner,
    });
    expect(r.cleaner).toBe(cleaner);
  });
});

describe('ShadowReport.mismatch with clean.output', () => {
  it('shows the diff of the cleaned values, never the secret, and the verdict stands', () => {
    const { report: r, events, logger } = reportWith({ clean: { output: maskToken } });
    report(r, ok({ total: 1, token: 'old-SECRET' }), ok({ total: 2, token: 'new-SECRET' }));
    const event = events[0];
    expect(event?.old).toEqual(ok({ total: 1, token: '***' }));
    expect(event?.new).toEqual(ok({ total: 2, token: '***' }));
    expect(event?.comparison).toEqual({ equal: false, kind: 'value', diff: [{ path: 'total', kind: 'changed', old: 1, new: 2 }], truncated: false });
    expect(event?.fingerprint).toBe('total:changed');
    expect(JSON.stringify({ events, lines: logger.lines })).not.toMatch(/(old|new)-SECRET/);
  });

  it('a difference the hook hid shows as a root [redacted] entry', () => {
    const { report: r, events } = reportWith({ clean: { output: maskToken } });
    report(r, ok({ token: 'old-SECRET' }), ok({ token: 'new-SECRET' }));
    expect(events[0]?.comparison).toEqual({ equal: false, kind: 'value', diff: [{ path: '', kind: 'changed', old: '[redacted]', new: '[redacted]' }], truncated: false });
    expect(events[0]?.fingerprint).toBe(':changed');
  });

  it('cleaned values that cannot be diffed show as [redacted]', () => {
    const hostile = new Proxy(
      {},
      {
        ownKeys() {
          throw new Error('no');
        },
      },
    );
    const { report: r, events } = reportWith({ clean: { output: () => hostile } });
    report(r, ok({ total: 1 }), ok({ total: 2 }));
    expect(events[0]?.comparison.diff).toEqual([{ path: '', kind: 'changed', old: '[redacted]', new: '[redacted]' }]);
  });

  it('keeps the kind of the comparison; a comparison without one is a value mismatch', () => {
    const { report: r, events } = reportWith({ clean: { output: maskToken } });
    report(r, ok({ total: 1 }), ok({ total: 2 }), 'value', { equal: false, kind: 'error', diff: [], truncated: false });
    expect(events[0]?.comparison.kind).toBe('error');
    report(r, ok({ total: 1 }), ok({ total: 2 }), 'value', { equal: false, diff: [], truncated: false });
    expect(events[1]?.comparison.kind).toBe('value');
    report(r, ok({ token: 'a' }), ok({ token: 'b' }), 'value', { equal: false, diff: [], truncated: false });
    expect(events[2]?.comparison.kind).toBe('value');
    report(r, ok({ total: 1 }), failed(new Error('x')), 'value', { equal: false, diff: [], truncated: false });
    expect(events[3]?.comparison.kind).toBe('value');
  });

  it('diffs the cleaned values under a deepEqualComparator\'s own rules', () => {
    const comparator = deepEqualComparator<Output>({ ignore: ['stamp'] });
    const { report: r, events } = reportWith({ comparator, clean: { output: maskToken } });
    report(r, ok({ total: 1, stamp: 1 }), ok({ total: 2, stamp: 2 }));
    expect(events[0]?.comparison.diff).toEqual([{ path: 'total', kind: 'changed', old: 1, new: 2 }]);
  });

  it('a deepEqualComparator\'s maxDiffs bounds the diff shown, and marks it truncated', () => {
    const comparator = deepEqualComparator<Output>({ maxDiffs: 2 });
    const { report: r, events } = reportWith({ comparator, clean: { output: maskToken } });
    report(r, ok({ a: 1, b: 1, c: 1 }), ok({ a: 2, b: 2, c: 2 }));
    expect(events[0]?.comparison.diff).toHaveLength(2);
    expect(events[0]?.comparison.truncated).toBe(true);
  });

  it('another comparator: the cleaned values are diffed by the default rules, at most 20 entries', () => {
    const custom: Comparator<Output> = { compare: () => ({ equal: false, diff: [], truncated: false }) };
    const { report: r, events } = reportWith({ comparator: custom, clean: { output: maskToken } });
    const many = (n: number) => Object.fromEntries(Array.from({ length: 30 }, (_, i) => [`f${i}`, n]));
    report(r, ok(many(1)), ok(many(2)), 'value', custom.compare(ok({}), ok({})));
    expect(events[0]?.comparison.diff).toHaveLength(20);
    expect(events[0]?.comparison.truncated).toBe(true);
    report(r, ok({ when: new Date(0) }), ok({ when: new Date(0) }), 'value', custom.compare(ok({}), ok({})));
    expect(events[1]?.comparison.diff).toEqual([{ path: '', kind: 'changed', old: '[redacted]', new: '[redacted]' }]);
  });

  it('a deepEqualComparator with more than 100 maxDiffs shows at most 100 entries', () => {
    const comparator = deepEqualComparator<Output>({ maxDiffs: 500 });
    const { report: r, events } = reportWith({ comparator, clean: { output: maskToken } });
    const many = (n: number) => Object.fromEntries(Array.from({ length: 150 }, (_, i) => [`f${i}`, n]));
    report(r, ok(many(1)), ok(many(2)));
    expect(events[0]?.comparison.diff).toHaveLength(100);
  });
});

describe('ShadowReport.mismatch of a failed call with a clean hook', () => {
  it('shows the cleaned error copies and an error entry built from them', () => {
    const { report: r, events, logger } = reportWith({ clean: { input: (i) => ({ ...i, card: '***' }) } });
    report(r, ok({ total: 1 }), failed(new TypeError('declined 4111-SECRET')));
    const shownError = { name: 'TypeError', message: 'declined [redacted]' };
    expect(events[0]?.new).toEqual({ ok: false, error: shownError });
    expect(events[0]?.old).toEqual(ok({ total: 1 }));
    expect(events[0]?.input).toEqual({ user: 'alice', card: '***' });
    expect(events[0]?.comparison).toEqual({ equal: false, kind: 'error', diff: [{ path: '', kind: 'error', old: { total: 1 }, new: shownError }], truncated: false });
    expect(JSON.stringify({ events, lines: logger.lines })).not.toContain('SECRET');
  });

  it('old failing too: both sides shown cleaned', () => {
    const { report: r, events } = reportWith({ clean: { error: (e) => ({ cleaned: e.name }) } });
    report(r, failed(new RangeError('a')), ok({ total: 1 }), 'value', { equal: false, kind: 'error', diff: [], truncated: false });
    expect(events[0]?.old).toEqual({ ok: false, error: { cleaned: 'RangeError' } });
    expect(events[0]?.comparison.diff).toEqual([{ path: '', kind: 'error', old: { cleaned: 'RangeError' }, new: { total: 1 } }]);
  });

  it('with only clean.output set, a success is cleaned and the error shown as a summary', () => {
    const { report: r, events } = reportWith({ clean: { output: maskToken } });
    report(r, ok({ total: 1, token: 'SECRET' }), failed(new Error('boom')));
    expect(events[0]?.old).toEqual(ok({ total: 1, token: '***' }));
    expect(events[0]?.new).toEqual({ ok: false, error: { name: 'Error', message: 'boom' } });
  });

  it('with only clean.input set, successes are shown as they are while the comparison is rebuilt', () => {
    const { report: r, events } = reportWith({ clean: { input: (i) => i } });
    const value = { total: 1 };
    report(r, ok(value), failed(new Error('boom')));
    expect((events[0]?.old as { value: unknown }).value).toBe(value);
    expect(events[0]?.comparison.diff[0]).toEqual({ path: '', kind: 'error', old: value, new: { name: 'Error', message: 'boom' } });
  });

  it('two successes with only clean.input set: the comparison is shown as it is', () => {
    const { report: r, events } = reportWith({ clean: { input: (i) => i } });
    const comparison = deepEqualComparator<Output>().compare(ok({ total: 1 }), ok({ total: 2 }));
    r.mismatch(facts(ok({ total: 1 }), ok({ total: 2 })), comparison, 'value');
    expect(events[0]?.comparison).toBe(comparison);
  });
});

describe('ShadowReport.fingerprints', () => {
  it('is empty before any mismatch', () => {
    expect(reportWith().report.fingerprints()).toEqual([]);
  });

  it('counts each fingerprint, most frequent first, with its description', () => {
    const { report: r } = reportWith();
    report(r, ok({ a: 1 }), ok({ a: 2 }));
    report(r, ok({ b: 1 }), ok({ b: 2 }));
    report(r, ok({ b: 1 }), ok({ b: 3 }));
    report(r, ok({ b: 1 }), ok({}));
    expect(r.fingerprints()).toEqual([
      { fingerprint: 'b:changed', description: '`b`: changed', count: 2 },
      { fingerprint: 'a:changed', description: '`a`: changed', count: 1 },
      { fingerprint: 'b:missing', description: expect.stringContaining('`b`'), count: 1 },
    ]);
  });

  it('shows the 20 most frequent', () => {
    const { report: r } = reportWith({ perFingerprint: 0 });
    for (let i = 0; i < 25; i++) for (let n = 0; n <= i; n++) report(r, ok({ [`f${i}`]: 1 }), ok({ [`f${i}`]: 2 }));
    const shown = r.fingerprints();
    expect(shown).toHaveLength(20);
    expect(shown[0]).toMatchObject({ fingerprint: 'f24:changed', count: 25 });
    expect(shown[19]).toMatchObject({ fingerprint: 'f5:changed', count: 6 });
  });

  it('tracks at most 200 fingerprints; those already tracked keep counting', () => {
    const { report: r } = reportWith({ perFingerprint: 0 });
    for (let i = 0; i < 201; i++) report(r, ok({ [`g${i}`]: 1 }), ok({ [`g${i}`]: 2 }));
    report(r, ok({ g200: 1 }), ok({ g200: 2 }));
    report(r, ok({ g199: 1 }), ok({ g199: 2 }));
    const shown = r.fingerprints();
    expect(shown[0]).toMatchObject({ fingerprint: 'g199:changed', count: 2 });
    expect(shown.some((f) => f.fingerprint === 'g200:changed')).toBe(false);
  });
});

describe('checkedComparison', () => {
  it('refuses an answer that is not an object, naming the comparator', () => {
    for (const answer of [null, undefined, 'equal', true]) {
      expect(() => checkedComparison(answer)).toThrow(InvalidOptionError);
      expect(() => checkedComparison(answer)).toThrow(expect.objectContaining({ option: 'comparator' }));
    }
    expect(() => checkedComparison({ equal: 1 })).toThrow(expect.objectContaining({ option: 'comparator' }));
    expect(() => checkedComparison(null)).toThrow(/must return a Comparison \(\{ equal, diff, truncated \}\), got null/);
  });

  it('refuses an answer whose equal is not a boolean, saying when it is a promise', () => {
    expect(() => checkedComparison({ equal: 'yes', diff: [] })).toThrow(/`equal` is a boolean, got "yes"$/);
    const promise = Promise.resolve({ equal: true });
    expect(() => checkedComparison(promise)).toThrow(/\(a promise: compare must answer synchronously\)/);
  });

  it('handles the rejection of a promise answered', async () => {
    let handled = 0;
    const thenable = {
      then(_ok: unknown, reject: unknown) {
        if (typeof reject === 'function') handled += 1;
      },
    };
    expect(() => checkedComparison(thenable)).toThrow(InvalidOptionError);
    expect(handled).toBe(1);
  });

  it('an equal answer has an empty diff and no kind, whatever it held', () => {
    expect(checkedComparison({ equal: true, kind: 'error', diff: [{ path: 'a', kind: 'changed', old: 1, new: 2 }], truncated: true })).toEqual({ equal: true, diff: [], truncated: false });
  });

  it('copies well-formed entries; a path that is not a string is [*], an unknown kind is changed; other entries are skipped', () => {
    const answer = {
      equal: false,
      kind: 'error',
      diff: [
        { path: 'a', kind: 'missing', old: 1, new: undefined },
        null,
        'entry',
        { path: 7, kind: 'weird', old: 'x', new: 'y' },
        { path: 'e', kind: 'extra', old: undefined, new: 2 },
        { path: 'f', kind: 'type', old: 1, new: '1' },
        { path: 'g', kind: 'error', old: 'e1', new: 'e2' },
        { path: 'h', kind: 'changed', old: 1, new: 2 },
      ],
      truncated: false,
    };
    expect(checkedComparison(answer)).toEqual({
      equal: false,
      kind: 'error',
      diff: [
        { path: 'a', kind: 'missing', old: 1, new: undefined },
        { path: '[*]', kind: 'changed', old: 'x', new: 'y' },
        { path: 'e', kind: 'extra', old: undefined, new: 2 },
        { path: 'f', kind: 'type', old: 1, new: '1' },
        { path: 'g', kind: 'error', old: 'e1', new: 'e2' },
        { path: 'h', kind: 'changed', old: 1, new: 2 },
      ],
      truncated: true,
    });
  });

  it('a kind other than error is value; a diff that is not an array is empty', () => {
    expect(checkedComparison({ equal: false, kind: 'other', diff: 'x', truncated: false })).toEqual({ equal: false, kind: 'value', diff: [], truncated: false });
    expect(checkedComparison({ equal: false, diff: [], truncated: 'yes' })).toEqual({ equal: false, kind: 'value', diff: [], truncated: false });
    expect(checkedComparison({ equal: false, diff: [], truncated: true }).truncated).toBe(true);
  });

  it('keeps at most 100 entries and marks the rest truncated', () => {
    const entry = { path: 'p', kind: 'changed', old: 1, new: 2 };
    const hundred = checkedComparison({ equal: false, diff: Array.from({ length: 100 }, () => entry), truncated: false });
    expect(hundred.diff).toHaveLength(100);
    expect(hundred.truncated).toBe(false);
    const more = checkedComparison({ equal: false, diff: Array.from({ length: 101 }, () => entry), truncated: false });
    expect(more.diff).toHaveLength(100);
    expect(more.truncated).toBe(true);
  });
});
