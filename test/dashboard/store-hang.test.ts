import { afterEach, describe, expect, it, vi } from 'vitest';
import type { Dashboard } from '../../src/dashboard/server.js';
import { startDashboard, storeTimeoutMs } from '../../src/dashboard/server.js';
import { FakeOperator } from './fake-operator.js';

// A store that stops answering (a Redis behind a partition, a blocked server):
// the dashboard must not freeze or leave a request open forever. The clock is
// simulated (vi fake timers), so nothing here waits in real time.

const token = 'hang-token-0123456789-abcdefghij';
const bearer = { authorization: `Bearer ${token}` };
const never = () => new Promise<never>(() => {});
const fakeTimers = () => vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval'] });

let running: Dashboard[] = [];
afterEach(async () => {
  vi.useRealTimers();
  await Promise.all(running.map((d) => d.close()));
  running = [];
});

async function start(operator: FakeOperator) {
  const dashboard = await startDashboard({ operator, port: 0, token });
  running.push(dashboard);
  fakeTimers();
  return (p: string) => new URL(p, dashboard.url).toString();
}

/** Lets pending I/O and promise callbacks run, then moves the simulated clock on. */
async function passMinutes(minutes: number) {
  for (let i = 0; i < minutes * 6; i++) {
    await new Promise<void>((resolve) => setImmediate(resolve));
    await vi.advanceTimersByTimeAsync(10_000);
  }
}

/**
 * Moves the simulated clock on 10 s at a time until `done()` holds (at most
 * an hour of it): on a loaded machine a request may reach the server only
 * after several turns, and its timer must be set before the clock passes it.
 */
async function passUntil(done: () => boolean | Promise<boolean>) {
  for (let i = 0; i < 360 && !(await done()); i++) await passMinutes(1 / 6);
}

async function snapshotOf(url: (p: string) => string) {
  return (await (await fetch(url('/api/status'), { headers: bearer })).json()) as { status: { percentage: number; ramp: { paused?: { reason?: string } } } | null; problem?: string };
}

/** Posts `action` and records its status once answered (-1 on a network error). */
function post(url: (p: string) => string, action: string, body: unknown) {
  const answer: { status?: number; body?: { error?: string } } = {};
  const done = fetch(url(`/api/${action}`), { method: 'POST', headers: { ...bearer, 'content-type': 'application/json' }, body: JSON.stringify(body) }).then(
    async (res) => {
      answer.body = (await res.json()) as { error?: string };
      answer.status = res.status;
    },
    () => (answer.status = -1),
  );
  return { answer, done };
}

describe('a store that stops answering', () => {
  it('one status read that never answers is given up and reported, and later changes still reach the page', async () => {
    const operator = new FakeOperator();
    const url = await start(operator);
    const real = operator.status.bind(operator);
    let first = true;
    operator.status = () => {
      if (!first) return real();
      first = false;
      return never();
    };
    operator.change((s) => s); // this read never answers
    operator.change((s) => ({ ...s, percentage: 42 }));
    await passUntil(async () => (await snapshotOf(url)).status?.percentage === 42);
    const snapshot = await snapshotOf(url);
    expect(snapshot.status?.percentage).toBe(42);
    expect(snapshot.problem).toBeUndefined();
  });

  it('a store that never answers at all is reported as the problem, and the dashboard recovers when it answers again', async () => {
    const operator = new FakeOperator();
    const real = operator.status.bind(operator);
    operator.status = never;
    fakeTimers();
    const starting = startDashboard({ operator, port: 0, token });
    let dashboard: Dashboard | undefined;
    void starting.then((d) => {
      dashboard = d;
      running.push(d);
    });
    for (let i = 0; i < 60 && dashboard === undefined; i++) await passMinutes(1 / 6);
    expect(dashboard).toBeDefined();
    const url = (p: string) => new URL(p, (dashboard as Dashboard).url).toString();
    const stalled = (await (await fetch(url('/api/status'), { headers: bearer })).json()) as { status: unknown; problem?: string };
    expect(stalled.status).toBeNull();
    expect(stalled.problem).toBe(`cannot read the store: no answer within ${storeTimeoutMs} ms`);
    operator.status = real;
    operator.change((s) => ({ ...s, percentage: 9 }));
    await passUntil(async () => (await snapshotOf(url)).status?.percentage === 9);
    const recovered = await snapshotOf(url);
    expect(recovered.status?.percentage).toBe(9);
    expect(recovered.problem).toBeUndefined();
  });

  it('a rollback the store never acknowledges gets an answer (504) instead of an open request', async () => {
    const operator = new FakeOperator();
    operator.rollback = never;
    const url = await start(operator);
    const { answer, done } = post(url, 'rollback', { reason: 'p95 doubled' });
    await passUntil(() => answer.status !== undefined);
    await done;
    expect(answer.status).toBe(504);
    expect(answer.body?.error).toMatch(/did not answer within .* the rollback may still take effect/);
  });

  it('after an action that timed out, the next ones and the status are still answered', async () => {
    const operator = new FakeOperator();
    const url = await start(operator);
    const pause = operator.pause.bind(operator);
    operator.pause = never;
    const stuck = post(url, 'pause', { reason: 'lunch' });
    await passUntil(() => stuck.answer.status !== undefined);
    await stuck.done;
    expect(stuck.answer.status).toBe(504);
    operator.pause = pause;
    const next = post(url, 'pause', { reason: 'lunch' });
    await passUntil(() => next.answer.status !== undefined);
    await next.done;
    expect(next.answer.status).toBe(200);
    await passUntil(async () => (await snapshotOf(url)).status?.ramp.paused?.reason === 'lunch');
    const snapshot = await snapshotOf(url);
    expect(snapshot.status?.ramp.paused?.reason).toBe('lunch');
  });
});
