import fc from 'fast-check';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { MigrationJournal } from '../../src/rollout/journal.js';
import { csrfHeader, csrfTokenFor, sameSecret, tokenCookie } from '../../src/dashboard/auth.js';
import type { Dashboard } from '../../src/dashboard/server.js';
import { startDashboard } from '../../src/dashboard/server.js';
import { safeJson } from '../../src/dashboard/sse.js';
import { FakeOperator } from './fake-operator.js';
import { openStream } from './sse-client.js';

const token = 'test-token-0123456789-abcdefghij';
const bearer = { authorization: `Bearer ${token}` };
const json = { 'content-type': 'application/json' };
const hostile = '<script>window.pwned = 1</script><img src=x onerror="window.pwned = 2">';

let running: Dashboard[] = [];
afterEach(async () => {
  await Promise.all(running.map((d) => d.close()));
  running = [];
});

async function start(operator = new FakeOperator(), extra: Partial<Parameters<typeof startDashboard>[0]> = {}) {
  const dashboard = await startDashboard({ operator, port: 0, token, ...extra });
  running.push(dashboard);
  return { dashboard, operator, url: (p: string) => new URL(p, dashboard.url).toString() };
}

/** The cookie the page gets by trading `?token=`. */
async function login(url: (p: string) => string): Promise<string> {
  const res = await fetch(url(`/?token=${encodeURIComponent(token)}`), { redirect: 'manual' });
  expect(res.status).toBe(303);
  const cookie = res.headers.get('set-cookie') ?? '';
  return cookie.split(';')[0] as string;
}

describe('a request without the right token', () => {
  it('gets 401 on every path and method, and changes nothing', async () => {
    const { operator, url } = await start();
    const wrong: Record<string, string>[] = [{}, { authorization: 'Bearer wrong-token-0123456789-abcdef' }, { authorization: `Basic ${token}` }, { cookie: `${tokenCookie}=nope` }];
    for (const headers of wrong) {
      for (const p of ['/', '/events', '/api/status', '/nowhere']) {
        const res = await fetch(url(p), { headers });
        expect(res.status, `${p} ${JSON.stringify(headers)}`).toBe(401);
        expect(res.headers.get('www-authenticate')).toMatch(/^Bearer/);
        expect(await res.text()).not.toContain('canary');
      }
      for (const action of ['approve', 'pause', 'resume', 'rollback']) {
        const res = await fetch(url(`/api/${action}`), { method: 'POST', headers: { ...headers, ...json, origin: new URL(url('/')).origin }, body: JSON.stringify({ reason: 'x' }) });
        expect(res.status).toBe(401);
      }
    }
    expect(operator.calls).toEqual([]);
    expect((await operator.status()).phase).toBe('canary');
  });

  it('is not rescued by a right cookie when its bearer is wrong, nor by ?token= on a POST', async () => {
    const { operator, url } = await start();
    const cookie = await login(url);
    const wrongBearer = await fetch(url('/api/status'), { headers: { cookie, authorization: 'Bearer wrong' } });
    expect(wrongBearer.status).toBe(401);
    const queryPost = await fetch(url(`/api/rollback?token=${token}`), { method: 'POST', headers: json, body: '{"reason":"x"}' });
    expect(queryPost.status).toBe(401);
    expect(operator.calls).toEqual([]);
  });

  it('with a wrong ?token= gets 401 and no cookie', async () => {
    const { url } = await start();
    const res = await fetch(url('/?token=wrong'), { redirect: 'manual' });
    expect(res.status).toBe(401);
    expect(res.headers.get('set-cookie')).toBeNull();
  });
});

describe('the token', () => {
  it('as a bearer header reads the status', async () => {
    const { url } = await start();
    const res = await fetch(url('/api/status'), { headers: bearer });
    expect(res.status).toBe(200);
    const body = (await res.json()) as { status: { phase: string; percentage: number } };
    expect(body.status).toMatchObject({ phase: 'canary', percentage: 5 });
  });

  it('given once as ?token= becomes an HttpOnly, SameSite=Strict cookie and leaves the URL', async () => {
    const { url } = await start();
    const res = await fetch(url(`/?token=${token}&view=1`), { redirect: 'manual' });
    expect(res.status).toBe(303);
    expect(res.headers.get('location')).toBe('/?view=1');
    const cookie = res.headers.get('set-cookie') ?? '';
    expect(cookie).toMatch(new RegExp(`^${tokenCookie}=`));
    expect(cookie).toContain('HttpOnly');
    expect(cookie).toContain('SameSite=Strict');
    const page = await fetch(url('/'), { headers: { cookie: cookie.split(';')[0] as string } });
    expect(page.status).toBe(200);
    const html = await page.text();
    expect(html).toContain('<title>migration-glue dashboard</title>');
    expect(html).not.toContain(token);
  });

  it('is generated, long and random when none is given; a short one is refused', async () => {
    const a = await startDashboard({ operator: new FakeOperator(), port: 0 });
    const b = await startDashboard({ operator: new FakeOperator(), port: 0 });
    running.push(a, b);
    expect(a.token).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(a.token).not.toBe(b.token);
    expect((await fetch(new URL('/api/status', a.url), { headers: { authorization: `Bearer ${b.token}` } })).status).toBe(401);
    await expect(startDashboard({ operator: new FakeOperator(), port: 0, token: 'short' })).rejects.toThrow(/token/);
  });

  it('is compared as a whole: sameSecret is string equality for all inputs', () => {
    fc.assert(fc.property(fc.string(), fc.string(), (a, b) => sameSecret(a, b) === (a === b)));
    fc.assert(fc.property(fc.string(), (a) => sameSecret(a, a)));
  });

  it('listens on 127.0.0.1 unless told otherwise', async () => {
    const { dashboard } = await start();
    expect(dashboard.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/$/);
  });
});

describe('a state change', () => {
  it('from the page (cookie) needs the CSRF token, and changes nothing without it', async () => {
    const { operator, url } = await start();
    const cookie = await login(url);
    const origin = new URL(url('/')).origin;
    const without = await fetch(url('/api/rollback'), { method: 'POST', headers: { cookie, origin, ...json }, body: '{"reason":"no csrf"}' });
    expect(without.status).toBe(403);
    const wrong = await fetch(url('/api/rollback'), { method: 'POST', headers: { cookie, origin, ...json, [csrfHeader]: csrfTokenFor('another-token-123456') }, body: '{"reason":"x"}' });
    expect(wrong.status).toBe(403);
    expect(operator.calls).toEqual([]);
    const right = await fetch(url('/api/rollback'), {
      method: 'POST',
      headers: { cookie, origin, 'sec-fetch-site': 'same-origin', ...json, [csrfHeader]: csrfTokenFor(token) },
      body: '{"reason":"p95 doubled","by":"on-call"}',
    });
    expect(right.status).toBe(200);
    expect(await right.json()).toEqual({ ok: true, storedMs: 1.5 });
    expect(operator.calls).toEqual([{ name: 'rollback', args: ['p95 doubled', 'on-call'] }]);
  });

  it('from another site is refused even with the token (Origin, Sec-Fetch-Site)', async () => {
    const { operator, url } = await start();
    const cookie = await login(url);
    const csrf = { [csrfHeader]: csrfTokenFor(token) };
    for (const headers of [
      { ...bearer, origin: 'http://evil.example' },
      { ...bearer, 'sec-fetch-site': 'cross-site' },
      { ...bearer, 'sec-fetch-site': 'same-site' },
      { cookie, ...csrf, origin: 'http://evil.example' },
      { cookie, ...csrf, 'sec-fetch-site': 'cross-site' },
    ]) {
      const res = await fetch(url('/api/pause'), { method: 'POST', headers: { ...headers, ...json }, body: '{}' });
      expect(res.status, JSON.stringify(headers)).toBe(403);
    }
    expect(operator.calls).toEqual([]);
  });

  it('must be a POST of JSON, bounded, with the fields it takes', async () => {
    const { operator, url } = await start();
    const post = (action: string, body: string, headers: Record<string, string> = json) =>
      fetch(url(`/api/${action}`), { method: 'POST', headers: { ...bearer, ...headers }, body });
    expect((await fetch(url('/api/rollback'), { headers: bearer })).status).toBe(405);
    expect((await post('rollback', 'reason=x', { 'content-type': 'application/x-www-form-urlencoded' })).status).toBe(415);
    expect((await post('rollback', 'reason=x', { 'content-type': 'text/plain' })).status).toBe(415);
    expect((await post('rollback', JSON.stringify({ reason: 'x'.repeat(20_000) }))).status).toBe(413);
    expect((await post('rollback', '{"reason":')).status).toBe(400);
    expect((await post('rollback', '{}')).status).toBe(400);
    expect((await post('rollback', '{"reason":"   "}')).status).toBe(400);
    expect((await post('rollback', '{"reason":"x","force":true}')).status).toBe(400);
    expect((await post('approve', JSON.stringify({ comment: 'c'.repeat(1_001) }))).status).toBe(400);
    expect((await post('set', '{}')).status).toBe(404);
    expect(operator.calls).toEqual([]);
  });

  it('runs approve, pause and resume with who did it, and says why the operator refused', async () => {
    const { operator, url } = await start();
    const post = (action: string, body: unknown) =>
      fetch(url(`/api/${action}`), { method: 'POST', headers: { ...bearer, ...json }, body: JSON.stringify(body) });
    expect((await post('approve', { comment: 'looks good', by: 'owner' })).status).toBe(200);
    expect((await post('pause', { reason: 'lunch' })).status).toBe(200);
    expect((await post('resume', {})).status).toBe(200);
    expect(operator.calls).toEqual([
      { name: 'approve', args: [{ by: 'owner', comment: 'looks good' }] },
      { name: 'pause', args: [{ by: 'dashboard', reason: 'lunch' }] },
      { name: 'resume', args: [{ by: 'dashboard' }] },
    ]);
    const again = await post('approve', {});
    expect(again.status).toBe(409);
    expect(await again.json()).toEqual({ error: 'nothing to approve' });
  });
});

describe('text from the store and the journal', () => {
  it('never reaches the page or the stream as HTML', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dashboard-'));
    try {
      const journal = path.join(dir, 'journal.jsonl');
      fs.writeFileSync(journal, `${JSON.stringify({ at: 1, kind: 'issue', issue: hostile })}\nnot json\n{"at":2,"kind":"nope"}\n`);
      const { url } = await start(new FakeOperator(), { journal });
      const res = await fetch(url('/api/rollback'), { method: 'POST', headers: { ...bearer, ...json }, body: JSON.stringify({ reason: hostile, by: hostile }) });
      expect(res.status).toBe(200);
      const status = await (await fetch(url('/api/status'), { headers: bearer })).text();
      expect(status).not.toMatch(/[<>]/);
      expect(status).toContain('\\u003cscript\\u003ewindow.pwned = 1\\u003c/script\\u003e');
      const snapshot = JSON.parse(status) as { status: { ramp: { lastRollback: { reason: string } } }; journal: { entries: { issue?: string }[]; skipped: number } };
      expect(snapshot.status.ramp.lastRollback.reason).toBe(hostile);
      expect(snapshot.journal.entries.map((e) => e.issue)).toEqual([hostile]);
      expect(snapshot.journal.skipped).toBe(2);
      const stream = await openStream(url('/events'), bearer);
      const first = await stream.next('snapshot');
      expect(first.data).not.toMatch(/[<>]/);
      expect(JSON.parse(first.data)).toEqual(snapshot);
      stream.close();
      const page = await (await fetch(url('/'), { headers: bearer })).text();
      expect(page).not.toContain('pwned');
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('the page allows only its own inline script and style (a nonce per answer)', async () => {
    const { url } = await start();
    const res = await fetch(url('/'), { headers: bearer });
    const csp = res.headers.get('content-security-policy') ?? '';
    const nonce = /script-src 'nonce-([^']+)'/.exec(csp)?.[1];
    expect(nonce).toBeDefined();
    expect(csp).toContain("default-src 'none'");
    expect(csp).toContain("frame-ancestors 'none'");
    const html = await res.text();
    expect(html.match(/<script/g)).toHaveLength(1);
    expect(html).toContain(`<script nonce="${nonce}">`);
    expect(html).not.toMatch(/\b(src|href)="https?:/);
    expect(res.headers.get('x-frame-options')).toBe('DENY');
  });
});

describe('the event stream', () => {
  it('sends the state, then each change of the store, and ends when the dashboard closes', async () => {
    const { dashboard, operator, url } = await start();
    const stream = await openStream(url('/events'), bearer);
    expect(stream.status).toBe(200);
    expect(stream.headers.get('content-type')).toMatch(/^text\/event-stream/);
    const snapshot = JSON.parse((await stream.next('snapshot')).data) as { status: { percentage: number } };
    expect(snapshot.status.percentage).toBe(5);
    operator.change((s) => ({ ...s, percentage: 10, config: { ...s.config, newSystemPercentage: 10 } }));
    const changed = JSON.parse((await stream.next('status')).data) as { status: { percentage: number }; sample: { percentage: number } };
    expect(changed.status.percentage).toBe(10);
    expect(changed.sample.percentage).toBe(10);
    await dashboard.close();
    await stream.ended;
    expect(operator.listeners).toBe(0);
    await expect(fetch(url('/api/status'), { headers: bearer })).rejects.toThrow();
  });

  it('tells the page when the store cannot be read, and when it can again', async () => {
    const { operator, url } = await start();
    const stream = await openStream(url('/events'), bearer);
    await stream.next('snapshot');
    operator.failWith = new Error('connection refused');
    operator.change((s) => s);
    expect(JSON.parse((await stream.next('problem')).data)).toEqual({ problem: 'cannot read the store: connection refused' });
    operator.failWith = undefined;
    operator.change((s) => ({ ...s, percentage: 25 }));
    expect(JSON.parse((await stream.next('problem')).data)).toEqual({ problem: null });
    stream.close();
  });

  it('closes when its signal aborts', async () => {
    const controller = new AbortController();
    const { url } = await start(new FakeOperator(), { signal: controller.signal });
    const stream = await openStream(url('/events'), bearer);
    await stream.next('snapshot');
    controller.abort();
    await stream.ended;
  });
});

describe('the journal feed', () => {
  it('sends the entries appended to the journal file, and keeps the status history for the charts', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dashboard-'));
    try {
      const journal = path.join(dir, 'journal.jsonl');
      const { operator, url } = await start(new FakeOperator(), { journal, pollMs: 50 });
      const stream = await openStream(url('/events'), bearer);
      const first = JSON.parse((await stream.next('snapshot')).data) as { journal: { entries: unknown[]; problem?: string } };
      expect(first.journal.entries).toEqual([]);
      expect(first.journal.problem).toMatch(/cannot read the journal/);
      fs.writeFileSync(journal, `${JSON.stringify({ at: 5, kind: 'step', percentage: 10 })}\n`);
      const next = JSON.parse((await stream.next('journal')).data) as { entries: unknown[]; skipped: number };
      expect(next).toEqual({ entries: [{ at: 5, kind: 'step', percentage: 10 }], skipped: 0 });
      operator.change((s) => ({ ...s, percentage: 10 }));
      await stream.next('status');
      const snapshot = (await (await fetch(url('/api/status'), { headers: bearer })).json()) as { history: { percentage: number }[] };
      expect(snapshot.history.map((h) => h.percentage)).toEqual([5, 10]);
      stream.close();
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('reads a MigrationJournal given as an object', async () => {
    const journal = new MigrationJournal();
    journal.issue('v2 slow under load', { owner: 'payments team' });
    const { url } = await start(new FakeOperator(), { journal });
    const snapshot = (await (await fetch(url('/api/status'), { headers: bearer })).json()) as { journal: { entries: { kind: string; issue: string }[] } };
    expect(snapshot.journal.entries).toMatchObject([{ kind: 'issue', issue: 'v2 slow under load' }]);
  });
});

describe('safeJson', () => {
  it('never holds <, > or & (nor a raw line separator) and reads back as the same value, for all JSON values', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (value) => {
        const text = safeJson(value);
        expect(text).not.toMatch(/[<>&\u2028\u2029\n]/);
        expect(JSON.parse(text)).toEqual(JSON.parse(JSON.stringify(value)));
      }),
    );
    expect(safeJson('</script><!--')).toBe('"\\u003c/script\\u003e\\u003c!--"');
  });
});

describe('event streams', () => {
  it('are bounded: the 33rd at once gets 503, and one that closes makes room', async () => {
    const { url } = await start();
    const streams = [];
    for (let i = 0; i < 32; i++) {
      const stream = await openStream(url('/events'), bearer);
      await stream.next('snapshot');
      streams.push(stream);
    }
    const refused = await fetch(url('/events'), { headers: bearer });
    expect(refused.status).toBe(503);
    streams[0]?.close();
    await expect.poll(async () => {
      const res = await fetch(url('/events'), { headers: bearer });
      await res.body?.cancel();
      return res.status;
    }, { timeout: 10_000 }).toBe(200);
    for (const stream of streams) stream.close();
  });
});
