import { describe, expect, it } from 'vitest';
import type { Comparator, Comparison, Outcome } from '../../src/compare/comparator.js';
import { deepEqualComparator } from '../../src/compare/deep-equal-comparator.js';
import { Cleaner } from '../../src/core/cleaner.js';
import type { GlueEvents, MismatchEvent, ShadowErrorEvent } from '../../src/core/events.js';
import { MismatchLog } from '../../src/core/mismatch-log.js';
import type { CleanHooks } from '../../src/core/shadow-options.js';
import { newCargo, newFlight } from '../../src/core/shadow-flight.js';
import type { Flight } from '../../src/core/shadow-flight.js';
import { ShadowJudge } from '../../src/core/shadow-judge.js';
import { ShadowReport } from '../../src/core/shadow-report.js';
import { Emitter } from '../../src/observe/emitter.js';
import { LogLimiter } from '../../src/observe/log-limiter.js';
import { recordingLogger } from '../helpers.js';

// src/core/shadow-judge.ts: the verdict on a shadow call whose both outcomes
// are in, what it counts (in total and over the window), and the
// shadowError events it emits.

type Input = { user: string; card: string };
type Output = { total: number };

const windowMs = 60_000;
const noSkips = { sampledOut: 0, overCapacity: 0, missingKey: 0, outsidePercentage: 0 };

function judgeWith(options: { comparator?: Comparator<Output>; clean?: CleanHooks<Input, Output>; aa?: boolean; listen?: boolean } = {}) {
  const logger = recordingLogger();
  const clock = { t: 1_000_000, now: () => clock.t };
  const emitter = new Emitter<GlueEvents<Input, Output>>(logger);
  const mismatches: MismatchEvent<Input, Output>[] = [];
  const shadowErrors: ShadowErrorEvent<Input>[] = [];
  if (options.listen !== false) {
    emitter.on('mismatch', (e) => void mismatches.push(e));
    emitter.on('shadowError', (e) => void shadowErrors.push(e));
  }
  const comparator = options.comparator ?? deepEqualComparator<Output>();
  const log = new LogLimiter(logger, clock);
  const report = new ShadowReport<Input, Output>({
    name: 'payments',
    comparator,
    emitter,
    clock,
    mismatchLog: new MismatchLog(logger, 10, 50),
    clean: new Cleaner<Input, Output>('payments', options.clean ?? {}, log),
  });
  const judge = new ShadowJudge<Input, Output>({ name: 'payments', comparator, emitter, log, report, clock, windowMs, aa: options.aa ?? false });
  return { judge, logger, clock, mismatches, shadowErrors };
}

const ok = (total: number): Outcome<Output> => ({ ok: true, value: { total } });
const failed = (error: unknown): Outcome<Output> => ({ ok: false, error });

/** A flight of `input` whose outcomes are in, settled at `settledAt`. */
function landed(old: Outcome<Output> | undefined, neu: Outcome<Output> | undefined, extra: Partial<Flight<Input, Output>> = {}): Flight<Input, Output> {
  const cargo = newCargo<Input, Output>({ user: 'alice', card: '4111-SECRET' });
  cargo.old = old;
  cargo.new = neu;
  const flight = newFlight<Input, Output>('k1', cargo, 0);
  flight.oldMs = 12;
  flight.newMs = 34;
  flight.settledAt = 1_000_000;
  return Object.assign(flight, extra);
}

const throwing: Comparator<Output> = {
  compare() {
    throw new Error('comparator broke on 4111-SECRET');
  },
};

describe('ShadowJudge.judge', () => {
  it('counts a match, nothing else', () => {
    const { judge, mismatches, shadowErrors, clock } = judgeWith();
    judge.judge(landed(ok(1), ok(1)), undefined, false);
    const stats = judge.stats(clock.now(), 0, noSkips, 0);
    expect(stats).toMatchObject({ compared: 1, matched: 1, mismatched: 0, errors: 0, timeouts: 0, mismatchRate: 0 });
    expect(stats.window).toEqual({ compared: 1, mismatched: 0, errors: 0, timeouts: 0, mismatchRate: 0 });
    expect(mismatches).toEqual([]);
    expect(shadowErrors).toEqual([]);
  });

  it('reports a value mismatch with the flight\'s key, input, outcomes and durations', () => {
    const { judge, mismatches, clock } = judgeWith();
    judge.judge(landed(ok(1), ok(2)), undefined, false);
    expect(mismatches).toHaveLength(1);
    expect(mismatches[0]).toMatchObject({
      migration: 'payments',
      key: 'k1',
      input: { user: 'alice', card: '4111-SECRET' },
      old: ok(1),
      new: ok(2),
      oldDurationMs: 12,
      newDurationMs: 34,
      kind: 'value',
    });
    const stats = judge.stats(clock.now(), 0, noSkips, 0);
    expect(stats.mismatchesByKind).toEqual({ value: 1, error: 0, flaky: 0 });
    expect(stats).toMatchObject({ compared: 1, matched: 0, mismatched: 1, mismatchRate: 1 });
    expect(stats.window).toEqual({ compared: 1, mismatched: 1, errors: 0, timeouts: 0, mismatchRate: 1 });
  });

  it('a flaky mismatch is counted apart: compared, not mismatched, not in the window\'s mismatches', () => {
    const { judge, mismatches, clock } = judgeWith();
    judge.judge(landed(ok(1), ok(2)), undefined, true);
    judge.judge(landed(ok(1), ok(1)), undefined, false);
    expect(mismatches[0]?.kind).toBe('flaky');
    expect(mismatches[0]?.fingerprint.startsWith('flaky|')).toBe(true);
    const stats = judge.stats(clock.now(), 0, noSkips, 0);
    expect(stats.mismatchesByKind).toEqual({ value: 0, error: 0, flaky: 1 });
    expect(stats).toMatchObject({ compared: 2, matched: 1, mismatched: 0, mismatchRate: 0 });
    expect(stats.window).toEqual({ compared: 2, mismatched: 0, errors: 0, timeouts: 0, mismatchRate: 0 });
  });

  it('new failing where old answered: an error, a shadowError, and an error mismatch', () => {
    const { judge, mismatches, shadowErrors, clock } = judgeWith();
    const error = new TypeError('new broke');
    judge.judge(landed(ok(1), failed(error)), undefined, false);
    expect(shadowErrors).toEqual([{ migration: 'payments', key: 'k1', input: { user: 'alice', card: '4111-SECRET' }, reason: 'error', error }]);
    expect(mismatches[0]?.kind).toBe('error');
    const stats = judge.stats(clock.now(), 0, noSkips, 0);
    expect(stats).toMatchObject({ errors: 1, mismatched: 1, mismatchesByKind: { value: 0, error: 1, flaky: 0 } });
    expect(stats.window).toMatchObject({ errors: 1, compared: 1, mismatched: 1 });
  });

  it('both failing, or only old failing, is no shadow error', () => {
    const { judge, shadowErrors, clock } = judgeWith();
    judge.judge(landed(failed(new Error('a')), failed(new Error('a'))), undefined, false);
    judge.judge(landed(failed(new Error('a')), ok(1)), undefined, false);
    expect(shadowErrors).toEqual([]);
    expect(judge.stats(clock.now(), 0, noSkips, 0)).toMatchObject({ errors: 0, compared: 2, matched: 1, mismatched: 1 });
  });

  it('takes a known comparison without asking the comparator', () => {
    let asked = 0;
    const comparator: Comparator<Output> = {
      compare() {
        asked += 1;
        return { equal: true, diff: [], truncated: false };
      },
    };
    const { judge, mismatches } = judgeWith({ comparator });
    const known: Comparison = { equal: false, kind: 'value', diff: [{ path: 'total', kind: 'changed', old: 1, new: 1 }], truncated: false };
    judge.judge(landed(ok(1), ok(1)), known, false);
    expect(asked).toBe(0);
    expect(mismatches).toHaveLength(1);
    expect(mismatches[0]?.comparison.diff).toEqual(known.diff);
  });

  it('a comparison without a kind counts as a value mismatch', () => {
    const { judge, mismatches, clock } = judgeWith();
    judge.judge(landed(ok(1), ok(1)), { equal: false, diff: [], truncated: false }, false);
    expect(mismatches[0]?.kind).toBe('value');
    expect(judge.stats(clock.now(), 0, noSkips, 0).mismatchesByKind).toEqual({ value: 1, error: 0, flaky: 0 });
  });

  it('does nothing until both outcomes are in, or once the cargo is dropped', () => {
    const { judge, shadowErrors, mismatches, clock } = judgeWith();
    judge.judge(landed(undefined, failed(new Error('x'))), undefined, false);
    judge.judge(landed(ok(1), undefined), undefined, false);
    judge.judge(landed(ok(1), ok(2), { cargo: undefined }), undefined, false);
    expect(shadowErrors).toEqual([]);
    expect(mismatches).toEqual([]);
    expect(judge.stats(clock.now(), 0, noSkips, 0)).toMatchObject({ compared: 0, errors: 0 });
  });

  it('counts the comparison in the window at the time the flight settled', () => {
    const { judge, clock } = judgeWith();
    clock.t = 0;
    judge.judge(landed(ok(1), ok(2), { settledAt: 1_000_000 }), undefined, false);
    expect(judge.stats(1_000_000 + windowMs - 1_000, 0, noSkips, 0).window.compared).toBe(1);
    expect(judge.stats(1_000_000 + 2 * windowMs, 0, noSkips, 0).window.compared).toBe(0);
  });
});

describe('ShadowJudge.compare', () => {
  it('answers the comparator\'s checked comparison', () => {
    const { judge } = judgeWith();
    const flight = landed(ok(1), ok(2));
    expect(judge.compare(flight, ok(1), ok(2))).toMatchObject({ equal: false, kind: 'value' });
    expect(judge.compare(flight, ok(1), ok(1))).toEqual({ equal: true, diff: [], truncated: false });
  });

  it('a comparator that throws: undefined, an error counted, logged and emitted, nothing compared', () => {
    const { judge, logger, shadowErrors, mismatches, clock } = judgeWith({ comparator: throwing });
    judge.judge(landed(ok(1), ok(2)), undefined, false);
    expect(mismatches).toEqual([]);
    expect(shadowErrors).toHaveLength(1);
    expect(shadowErrors[0]).toMatchObject({ migration: 'payments', key: 'k1', reason: 'comparator' });
    expect((shadowErrors[0]?.error as Error).message).toBe('comparator broke on 4111-SECRET');
    const line = logger.lines.find((l) => l.level === 'error');
    expect(line?.message).toBe('shadow comparator threw');
    expect(line?.context).toMatchObject({ migration: 'payments' });
    expect((line?.context as { err?: Error }).err?.message).toBe('comparator broke on 4111-SECRET');
    const stats = judge.stats(clock.now(), 0, noSkips, 0);
    expect(stats).toMatchObject({ compared: 0, errors: 1 });
    expect(stats.window).toMatchObject({ compared: 0, errors: 1 });
  });

  it('a comparator answering garbage counts as throwing', () => {
    const { judge, shadowErrors } = judgeWith({ comparator: { compare: () => null as unknown as Comparison } });
    expect(judge.compare(landed(ok(1), ok(2)), ok(1), ok(2))).toBeUndefined();
    expect(shadowErrors[0]?.reason).toBe('comparator');
  });

  it('with a clean hook, the logged and emitted comparator error is the masked copy', () => {
    const { judge, logger, shadowErrors } = judgeWith({ comparator: throwing, clean: { input: (i) => ({ ...i, card: '***' }) } });
    judge.compare(landed(ok(1), ok(2)), ok(1), ok(2));
    const masked = { name: 'Error', message: 'comparator broke on [redacted]' };
    expect(shadowErrors[0]?.error).toEqual(masked);
    expect(shadowErrors[0]?.input).toEqual({ user: 'alice', card: '***' });
    expect(logger.lines.find((l) => l.level === 'error')?.context).toMatchObject({ err: masked });
  });

  it('a comparator that throws on a flight whose cargo is dropped: counted and logged, no event, no throw', () => {
    const { judge, logger, shadowErrors, clock } = judgeWith({ comparator: throwing, clean: { output: (o) => o } });
    expect(judge.compare(landed(ok(1), ok(2), { cargo: undefined }), ok(1), ok(2))).toBeUndefined();
    expect(shadowErrors).toEqual([]);
    expect(logger.lines.find((l) => l.level === 'error')?.context).toMatchObject({ err: { name: 'Error', message: 'comparator broke on 4111-SECRET' } });
    expect(judge.stats(clock.now(), 0, noSkips, 0).errors).toBe(1);
  });
});

describe('ShadowJudge.timedOut', () => {
  it('counts, logs and emits a timeout waiting for old, with our own error shown as it is', () => {
    const { judge, logger, shadowErrors, clock } = judgeWith({ clean: { input: (i) => ({ ...i, card: '***' }) } });
    judge.timedOut(landed(undefined, ok(1)), 250);
    const line = logger.lines.find((l) => l.level === 'warn');
    expect(line).toMatchObject({ message: 'shadow call timed out', context: { migration: 'payments', key: 'k1', timeoutMs: 250 } });
    expect(shadowErrors).toHaveLength(1);
    expect(shadowErrors[0]).toMatchObject({ migration: 'payments', key: 'k1', reason: 'timeout', input: { user: 'alice', card: '***' } });
    expect(shadowErrors[0]?.error).toBeInstanceOf(Error);
    expect((shadowErrors[0]?.error as Error).message).toBe('shadow comparison timed out after 250 ms waiting for old');
    const stats = judge.stats(clock.now(), 0, noSkips, 0);
    expect(stats).toMatchObject({ timeouts: 1, errors: 0, compared: 0 });
    expect(stats.window).toMatchObject({ timeouts: 1 });
  });

  it('names new when old answered', () => {
    const { judge, shadowErrors } = judgeWith();
    judge.timedOut(landed(ok(1), undefined), 100);
    expect((shadowErrors[0]?.error as Error).message).toBe('shadow comparison timed out after 100 ms waiting for new');
  });

  it('does nothing for a flight whose cargo is dropped', () => {
    const { judge, logger, shadowErrors, clock } = judgeWith();
    judge.timedOut(landed(ok(1), undefined, { cargo: undefined }), 100);
    expect(shadowErrors).toEqual([]);
    expect(logger.lines).toEqual([]);
    expect(judge.stats(clock.now(), 0, noSkips, 0).timeouts).toBe(0);
  });
});

describe('ShadowJudge.shadowError', () => {
  it('without a listener, never runs the clean hooks', () => {
    let cleaned = 0;
    const { judge } = judgeWith({
      listen: false,
      clean: {
        input: (i) => {
          cleaned += 1;
          return i;
        },
      },
    });
    judge.shadowError('k1', { user: 'a', card: 'b' }, 'error', new Error('x'));
    expect(cleaned).toBe(0);
  });

  it('shows a service error cleaned and the input cleaned', () => {
    const { judge, shadowErrors } = judgeWith({ clean: { input: (i) => ({ ...i, card: '***' }) } });
    judge.shadowError(7, { user: 'alice', card: '4111-SECRET' }, 'input-mutated', new Error('changed 4111-SECRET'));
    expect(shadowErrors).toEqual([
      { migration: 'payments', key: 7, input: { user: 'alice', card: '***' }, reason: 'input-mutated', error: { name: 'Error', message: 'changed [redacted]' } },
    ]);
  });
});

describe('ShadowJudge.stats', () => {
  it('passes through what the runner counted, sums the skips, and reports A/A mode', () => {
    const { judge, clock } = judgeWith({ aa: true });
    const skippedBy = { sampledOut: 1, overCapacity: 2, missingKey: 4, outsidePercentage: 8 };
    const stats = judge.stats(clock.now(), 3, skippedBy, 5);
    expect(stats).toEqual({
      compared: 0,
      matched: 0,
      mismatched: 0,
      mismatchesByKind: { value: 0, error: 0, flaky: 0 },
      errors: 0,
      timeouts: 0,
      skipped: 15,
      skippedBy,
      inFlight: 3,
      inputMutations: 5,
      mismatchRate: 0,
      aa: true,
      window: { compared: 0, mismatched: 0, errors: 0, timeouts: 0, mismatchRate: 0 },
      fingerprints: [],
    });
    expect(judgeWith({ aa: false }).judge.stats(clock.now(), 0, noSkips, 0).aa).toBe(false);
  });

  it('mismatchRate is the real mismatches over all comparisons, flaky ones included; in total and in the window', () => {
    const { judge, clock } = judgeWith();
    judge.judge(landed(ok(1), ok(2)), undefined, false);
    judge.judge(landed(ok(1), failed(new Error('x'))), undefined, false);
    judge.judge(landed(ok(1), ok(2)), undefined, true);
    judge.judge(landed(ok(1), ok(1)), undefined, false);
    const stats = judge.stats(clock.now(), 0, noSkips, 0);
    expect(stats).toMatchObject({ compared: 4, matched: 1, mismatched: 2, mismatchRate: 0.5 });
    expect(stats.window).toEqual({ compared: 4, mismatched: 2, errors: 1, timeouts: 0, mismatchRate: 0.5 });
    expect(stats.fingerprints.map((f) => f.count)).toEqual([1, 1, 1]);
  });
});
