import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { Cohort, Timed } from '../../src/core/shadow-timer.js';
import { ShadowTimers } from '../../src/core/shadow-timer.js';

// src/core/shadow-timer.ts: shadow calls that take off within the same
// millisecond (and turn of the event loop) share one timer. Fake timers
// drive it: `realNow` is passed in, the timers fire when advanced.

interface Item extends Timed<Item> {
  readonly name: string;
}

const item = (name: string): Item => ({ name, cohort: undefined, prev: undefined, next: undefined });

function timers(timeoutMs = 100) {
  const fired: string[] = [];
  const t = new ShadowTimers<Item>(timeoutMs, (it) => {
    fired.push(it.name);
    t.leave(it);
  });
  return { t, fired };
}

/** Runs the setImmediate callbacks (which close the cohorts open) without firing the timeouts. */
function nextTurn(): void {
  vi.advanceTimersByTime(0);
}

/** Fakes the timeouts only: the setImmediate that closes a cohort then waits for a real turn of the event loop, which a synchronous test never gives. */
function timeoutsOnly(): void {
  vi.useRealTimers();
  vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
}

const refed = (cohort: Cohort<Item> | undefined): boolean | undefined => (cohort?.timer as { hasRef?: () => boolean } | undefined)?.hasRef?.();

beforeEach(() => {
  vi.useFakeTimers();
});

afterEach(() => {
  vi.useRealTimers();
});

describe('ShadowTimers.join', () => {
  it('calls within the same millisecond share one cohort and time out together, in the order they joined', () => {
    const { t, fired } = timers();
    const [a, b, c] = [item('a'), item('b'), item('c')];
    t.join(a, 1_000);
    t.join(b, 1_000.5);
    t.join(c, 1_000.999);
    expect(b.cohort).toBe(a.cohort);
    expect(c.cohort).toBe(a.cohort);
    expect(a.cohort).toMatchObject({ openedAt: 1_000, open: true, head: a, tail: c });
    expect([a.prev, a.next, b.prev, b.next, c.prev, c.next]).toEqual([undefined, b, a, c, b, undefined]);
    vi.advanceTimersByTime(99);
    expect(fired).toEqual([]);
    vi.advanceTimersByTime(1);
    expect(fired).toEqual(['a', 'b', 'c']);
    expect([a.cohort, b.cohort, c.cohort]).toEqual([undefined, undefined, undefined]);
  });

  it('a call one millisecond later opens a new cohort with its own timer', () => {
    const { t, fired } = timers();
    const [a, b] = [item('a'), item('b')];
    t.join(a, 1_000);
    t.join(b, 1_001);
    expect(b.cohort).not.toBe(a.cohort);
    expect(b.cohort?.openedAt).toBe(1_001);
    vi.advanceTimersByTime(100);
    expect(fired).toEqual(['a', 'b']);
  });

  it('a clock that steps back opens a new cohort', () => {
    const { t } = timers();
    const [a, b] = [item('a'), item('b')];
    t.join(a, 1_000);
    t.join(b, 999.5);
    expect(b.cohort).not.toBe(a.cohort);
  });

  it('once a turn of the event loop has passed, the cohort is closed to new calls', () => {
    const { t } = timers();
    const [a, b] = [item('a'), item('b')];
    t.join(a, 1_000);
    const first = a.cohort;
    nextTurn();
    expect(first?.open).toBe(false);
    t.join(b, 1_000.5);
    expect(b.cohort).not.toBe(first);
    expect(b.cohort?.open).toBe(true);
  });

  it('a cohort left empty is dropped, with its timer, when the next one opens', () => {
    const { t } = timers();
    const [a, b] = [item('a'), item('b')];
    t.join(a, 1_000);
    const first = a.cohort;
    t.leave(a);
    nextTurn();
    expect(vi.getTimerCount()).toBe(1);
    t.join(b, 1_005);
    nextTurn();
    expect(vi.getTimerCount()).toBe(1);
    // dropped: holding does not keep its timer alive
    t.hold();
    expect(refed(first)).toBe(false);
    expect(refed(b.cohort)).toBe(true);
  });

  it('a cohort still holding calls keeps its timer when the next one opens', () => {
    const { t, fired } = timers();
    const [a, b] = [item('a'), item('b')];
    t.join(a, 1_000);
    t.join(b, 1_005);
    nextTurn();
    expect(vi.getTimerCount()).toBe(2);
    vi.advanceTimersByTime(100);
    expect(fired).toEqual(['a', 'b']);
  });
});

describe('ShadowTimers.leave', () => {
  it('unlinks an item from the head, the middle or the tail', () => {
    const { t, fired } = timers();
    const [a, b, c, d] = [item('a'), item('b'), item('c'), item('d')];
    for (const it of [a, b, c, d]) t.join(it, 0);
    const cohort = a.cohort;
    t.leave(b);
    expect([a.next, c.prev]).toEqual([c, a]);
    expect([b.cohort, b.prev, b.next]).toEqual([undefined, undefined, undefined]);
    t.leave(a);
    expect(cohort?.head).toBe(c);
    expect(c.prev).toBeUndefined();
    t.leave(d);
    expect(cohort?.tail).toBe(c);
    expect(c.next).toBeUndefined();
    vi.advanceTimersByTime(100);
    expect(fired).toEqual(['c']);
  });

  it('an item in no cohort is left alone', () => {
    const { t } = timers();
    const lone = item('lone');
    t.leave(lone);
    expect(lone).toEqual(item('lone'));
  });

  it('the current cohort left empty keeps its timer for the calls still to join', () => {
    const { t, fired } = timers();
    const [a, b] = [item('a'), item('b')];
    t.join(a, 0);
    const current = a.cohort;
    t.leave(a);
    t.join(b, 0.5);
    expect(b.cohort).toBe(current);
    nextTurn();
    expect(vi.getTimerCount()).toBe(1);
    vi.advanceTimersByTime(100);
    expect(fired).toEqual(['b']);
  });

  it('a past cohort that still holds calls keeps its timer when one leaves', () => {
    const { t, fired } = timers();
    const [a, b, c] = [item('a'), item('b'), item('c')];
    t.join(a, 0);
    t.join(b, 0);
    t.join(c, 5);
    t.leave(a);
    vi.advanceTimersByTime(100);
    expect(fired).toEqual(['b', 'c']);
  });

  it('a past cohort left empty drops its timer at once', () => {
    const { t, fired } = timers();
    const [a, b] = [item('a'), item('b')];
    t.join(a, 0);
    t.join(b, 5);
    nextTurn();
    expect(vi.getTimerCount()).toBe(2);
    t.leave(a);
    expect(vi.getTimerCount()).toBe(1);
    vi.advanceTimersByTime(100);
    expect(fired).toEqual(['b']);
  });
});

describe('ShadowTimers: firing', () => {
  it('after a cohort fired, the next call opens a new one even within the same millisecond', () => {
    const { t, fired } = timers(0);
    const [a, b] = [item('a'), item('b')];
    t.join(a, 0);
    vi.advanceTimersByTime(0);
    expect(fired).toEqual(['a']);
    t.join(b, 0);
    expect(b.cohort).not.toBe(undefined);
    expect(b.cohort?.head).toBe(b);
    vi.advanceTimersByTime(0);
    expect(fired).toEqual(['a', 'b']);
  });

  it('a cohort whose timer fired takes no more calls, even while still open and young', () => {
    timeoutsOnly();
    const { t, fired } = timers(0);
    const [a, b] = [item('a'), item('b')];
    t.join(a, 0);
    const first = a.cohort;
    vi.advanceTimersByTime(0);
    expect(fired).toEqual(['a']);
    expect(first?.open).toBe(true);
    t.join(b, 0.5);
    expect(b.cohort).not.toBe(first);
    expect(b.cohort?.head).toBe(b);
    vi.advanceTimersByTime(0);
    expect(fired).toEqual(['a', 'b']);
  });

  it('an older cohort firing leaves the current one taking calls', () => {
    timeoutsOnly();
    const { t, fired } = timers(10);
    const [a, b, c] = [item('a'), item('b'), item('c')];
    t.join(a, 0);
    vi.advanceTimersByTime(5);
    t.join(b, 5);
    expect(b.cohort).not.toBe(a.cohort);
    vi.advanceTimersByTime(5);
    expect(fired).toEqual(['a']);
    t.join(c, 5.5);
    expect(c.cohort).toBe(b.cohort);
  });

  it('a fired cohort is no longer held', () => {
    const { t } = timers();
    const [a, b] = [item('a'), item('b')];
    t.join(a, 0);
    const first = a.cohort;
    vi.advanceTimersByTime(100);
    t.join(b, 200);
    t.hold();
    expect(refed(first)).toBe(false);
    expect(refed(b.cohort)).toBe(true);
  });
});

describe('ShadowTimers.hold and release', () => {
  it('timers do not keep the process alive unless held', () => {
    const { t } = timers();
    const [a, b, c] = [item('a'), item('b'), item('c')];
    t.join(a, 0);
    expect(refed(a.cohort)).toBe(false);
    t.hold();
    expect(refed(a.cohort)).toBe(true);
    t.join(b, 10);
    expect(refed(b.cohort)).toBe(true);
    t.release();
    expect(refed(a.cohort)).toBe(false);
    expect(refed(b.cohort)).toBe(false);
    t.join(c, 20);
    expect(refed(c.cohort)).toBe(false);
  });
});
