import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { OperatorError } from '../../src/cli/operator.js';
import { ConfigConflictError } from '../../src/config/config-conflict.js';
import { failureStatus, publicMessage } from '../../src/dashboard/handler.js';
import { JournalFeed } from '../../src/dashboard/journal-feed.js';
import type { Dashboard } from '../../src/dashboard/server.js';
import { startDashboard } from '../../src/dashboard/server.js';
import { SseHub, maxBufferedBytes } from '../../src/dashboard/sse.js';
import { MigrationJournal } from '../../src/rollout/journal.js';
import { FakeOperator } from './fake-operator.js';
import { openStream } from './sse-client.js';

// Hostile peers of the dashboard's HTTP server, and failures of the store
// that must not be told as something else.

const token = 'hostile-token-0123456789-abcdefghij';
const bearer = { authorization: `Bearer ${token}` };
const json = { 'content-type': 'application/json' };

let running: Dashboard[] = [];
const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
  await Promise.all(running.map((d) => d.close()));
  running = [];
});

async function start(operator = new FakeOperator(), extra: Partial<Parameters<typeof startDashboard>[0]> = {}) {
  const dashboard = await startDashboard({ operator, port: 0, token, ...extra });
  running.push(dashboard);
  return { dashboard, operator, url: (p: string) => new URL(p, dashboard.url).toString(), port: Number(new URL(dashboard.url).port) };
}

/**
 * Sends raw bytes and resolves with what came back once the server closes.
 * `cut` destroys the socket early: 'written' once the bytes are sent,
 * 'answered' at the first bytes of an answer.
 */
function raw(port: number, text: string, cut?: 'written' | 'answered'): Promise<string> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1', () => {
      socket.write(text, () => {
        if (cut === 'written') socket.destroy();
      });
    });
    let got = '';
    socket.on('data', (c) => {
      got += c.toString('latin1');
      if (cut === 'answered') socket.destroy();
    });
    socket.on('close', () => resolve(got));
    socket.on('error', () => resolve(got));
  });
}

/** The status and error of a rollback whose store fails with `err`. */
async function rollbackFailingWith(err: unknown): Promise<{ status: number; error: string }> {
  const operator = new FakeOperator();
  operator.rollback = async () => {
    throw err;
  };
  const { url } = await start(operator);
  const res = await fetch(url('/api/rollback'), { method: 'POST', headers: { ...bearer, ...json }, body: JSON.stringify({ reason: 'p95 doubled' }) });
  return { status: res.status, error: ((await res.json()) as { error: string }).error };
}

describe('a failed action is answered by what failed', () => {
  it('a store that is unreachable (an error with a system code) is a 503, not 409 Conflict', async () => {
    const answer = await rollbackFailingWith(Object.assign(new Error('connect ECONNREFUSED 10.0.4.12:6379'), { code: 'ECONNREFUSED' }));
    expect(answer.status).toBe(503);
    expect(answer.error).toMatch(/ECONNREFUSED/);
  });

  it("the operator's refusals are 409, a store timing out 503, anything else 500", () => {
    const coded = (code: string) => Object.assign(new Error(code), { code });
    expect(failureStatus(new OperatorError('nothing to approve'))).toBe(409);
    expect(failureStatus(new ConfigConflictError('a rollback you had not seen'))).toBe(409);
    expect(failureStatus(coded('ERR_NOTHING_TO_APPROVE'))).toBe(409);
    for (const code of ['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENOTFOUND', 'ERR_TIMEOUT', 'ERR_CLOSED']) expect(failureStatus(coded(code)), code).toBe(503);
    expect(failureStatus(Object.assign(new Error('Reached the max retries per request limit'), { name: 'MaxRetriesPerRequestError' }))).toBe(503);
    expect(failureStatus(new Error('Connection is closed.'))).toBe(503);
    for (const err of [coded('EACCES'), coded('ERR_SOMETHING'), new Error('boom'), 'a string', undefined, null]) expect(failureStatus(err)).toBe(500);
  });

  it('an unknown failure is a 500 whose text is one bounded line without credentials', async () => {
    const secret = 's3cr3t-pa55';
    const answer = await rollbackFailingWith(new Error(`cannot reach redis://admin:${secret}@10.0.4.12:6379?password=${secret}\n${'x'.repeat(5_000)}`));
    expect(answer.status).toBe(500);
    expect(answer.error).not.toContain(secret);
    expect(answer.error).toContain('redis://***@10.0.4.12');
    expect(answer.error).not.toContain('\n');
    expect(answer.error.length).toBeLessThanOrEqual(300);
    expect(publicMessage({ toString: () => `token=${secret}` })).toBe('token=***');
    // A password holding "/" or "@" (base64 passwords do) is masked up to the host.
    expect(publicMessage(new Error('cannot reach redis://admin:Zm9v/YmFy@t-pass@10.0.4.12:6379 now'))).toBe('cannot reach redis://***@10.0.4.12:6379 now');
  });

  it('a known refusal is still a 409 with its reason', async () => {
    const answer = await rollbackFailingWith(new OperatorError('nothing to roll back'));
    expect(answer).toEqual({ status: 409, error: 'nothing to roll back' });
  });
});

describe('a stream that is not read', () => {
  it('is dropped once it holds more than the bound, so that it cannot grow the memory', async () => {
    const hub = new SseHub();
    let response: http.ServerResponse | undefined;
    let opened!: () => void;
    const isOpen = new Promise<void>((resolve) => (opened = resolve));
    const server = http.createServer((req, res) => {
      hub.open(req, res, []);
      response = res;
      opened();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const socket = net.connect((server.address() as net.AddressInfo).port, '127.0.0.1');
    socket.on('error', () => undefined);
    cleanups.push(async () => {
      hub.close();
      socket.destroy();
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    });
    socket.pause(); // a peer that opens the stream and never reads it
    socket.write('GET /events HTTP/1.1\r\nHost: x\r\n\r\n');
    await isOpen;
    const status = { reason: 'x'.repeat(1024 * 1024) };
    for (let i = 0; i < 64; i++) {
      hub.broadcast('status', status); // 64 MiB of updates
      const held = response === undefined || response.destroyed ? 0 : response.writableLength;
      expect(held).toBeLessThanOrEqual(maxBufferedBytes + 1024 * 1024 + 64);
    }
    expect(response?.destroyed).toBe(true);
    expect(hub.size).toBe(0);
  });

  it('a stream that reads keeps getting every event', async () => {
    const { operator, url } = await start();
    const stream = await openStream(url('/events'), bearer);
    cleanups.push(() => stream.close());
    await stream.next('snapshot');
    for (let p = 6; p <= 20; p++) operator.change((s) => ({ ...s, percentage: p }));
    for (;;) {
      const event = await stream.next('status');
      if ((JSON.parse(event.data) as { status: { percentage: number } }).status.percentage === 20) break;
    }
  });
});

describe('the ?token= login', () => {
  it('redirects only to a path on the dashboard itself, never to another host', async () => {
    const { port } = await start();
    for (const target of ['/.//evil.example/', '//evil.example/', '/%2F%2Fevil.example/', '/\\evil.example/', '/./\\/evil.example/']) {
      const answer = await raw(port, `GET ${target}?token=${token} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n`);
      expect(answer, target).toMatch(/^HTTP\/1\.1 303/);
      const location = /\r\nlocation: ([^\r]*)/i.exec(answer)?.[1] ?? '';
      expect(location, target).toBe('/');
    }
  });

  it("keeps the dashboard's own path and the rest of the query", async () => {
    const { url } = await start();
    const res = await fetch(url(`/api/status?token=${token}&view=1`), { redirect: 'manual' });
    expect(res.status).toBe(303);
    expect(res.headers.get('location')).toBe('/api/status?view=1');
  });
});

describe('the journal', () => {
  it('is not resent to every stream on each refresh when a MigrationJournal did not change', async () => {
    const journal = new MigrationJournal();
    journal.issue('v2 slow under load');
    const { operator, url } = await start(new FakeOperator(), { journal });
    const stream = await openStream(url('/events'), bearer);
    cleanups.push(() => stream.close());
    await stream.next('snapshot');
    for (let i = 0; i < 5; i++) operator.change((s) => s); // the store says "changed" without a change
    operator.change((s) => ({ ...s, percentage: 7 }));
    for (;;) {
      const event = await stream.next('status');
      if ((JSON.parse(event.data) as { status: { percentage: number } }).status.percentage === 7) break;
    }
    expect(stream.events.filter((e) => e.event === 'journal')).toEqual([]);
    // A change of the journal is sent, once.
    journal.issue('v2 fixed');
    operator.change((s) => ({ ...s, percentage: 8 }));
    const event = await stream.next('journal');
    expect((JSON.parse(event.data) as { entries: { issue: string }[] }).entries.map((e) => e.issue)).toEqual(['v2 slow under load', 'v2 fixed']);
  });

  it('that is a FIFO is refused unread, without hanging the process', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dashboard-fifo-'));
    cleanups.push(() => fs.rmSync(dir, { recursive: true, force: true }));
    const fifo = path.join(dir, 'journal.jsonl');
    try {
      execFileSync('mkfifo', [fifo]);
    } catch {
      return; // no mkfifo here (Windows): nothing to check
    }
    const feed = new JournalFeed(fifo);
    expect(feed.read()).toEqual({ entries: [], skipped: 0, problem: `cannot read the journal: ${fifo} is not a regular file` });
    expect(feed.read()).toBeUndefined(); // said once
    const { url } = await start(new FakeOperator(), { journal: fifo });
    const snapshot = (await (await fetch(url('/api/status'), { headers: bearer })).json()) as { journal: { problem: string } };
    expect(snapshot.journal.problem).toMatch(/is not a regular file/);
  });

  it('that is a directory is refused too', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dashboard-dir-'));
    cleanups.push(() => fs.rmSync(dir, { recursive: true, force: true }));
    expect(new JournalFeed(dir).read()?.problem).toMatch(/is not a regular file/);
  });
});

describe('attacks that are handled', () => {
  it('a chunked body over 16 KiB (no Content-Length) gets 413 and nothing changes', async () => {
    const { operator, dashboard } = await start();
    const answer = await new Promise<number | undefined>((resolve) => {
      const req = http.request(new URL('/api/pause', dashboard.url), { method: 'POST', headers: { ...bearer, ...json } }, (res) => {
        res.resume();
        resolve(res.statusCode);
      });
      req.on('error', () => resolve(undefined));
      req.write(`{"reason":"${'a'.repeat(40_000)}`);
      req.end('"}');
    });
    expect(answer).toBe(413);
    expect(operator.calls).toEqual([]);
  });

  it('a peer that disconnects mid-body or mid-stream neither crashes the server nor stops it answering others', async () => {
    const { operator, port, url } = await start();
    await raw(port, `POST /api/rollback HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${token}\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{"reason":`, 'written');
    await raw(port, `POST /api/rollback HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${token}\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n5\r\n{"rea\r\nzz\r\n`, 'written');
    await raw(port, `GET /events HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${token}\r\n\r\n`, 'answered');
    expect(operator.calls).toEqual([]);
    const res = await fetch(url('/api/status'), { headers: bearer });
    expect(res.status).toBe(200);
  });

  it('a cookie-authorised POST from another localhost port (same site, other origin) is refused', async () => {
    const { operator, url } = await start();
    const login = await fetch(url(`/?token=${token}`), { redirect: 'manual' });
    const cookie = (login.headers.get('set-cookie') ?? '').split(';')[0] as string;
    const res = await fetch(url('/api/rollback'), {
      method: 'POST',
      headers: { cookie, ...json, origin: 'http://127.0.0.1:3000', 'sec-fetch-site': 'same-site' },
      body: JSON.stringify({ reason: 'csrf' }),
    });
    expect(res.status).toBe(403);
    expect(operator.calls).toEqual([]);
  });

  it('a wrong token of any shape (empty, huge, unicode, in the cookie with odd encoding) is a 401', async () => {
    const { url } = await start();
    const shapes: Record<string, string>[] = [
      { authorization: 'Bearer ' },
      { authorization: `Bearer ${'x'.repeat(8000)}` },
      { authorization: `Bearer ${token}\u00e9` },
      { authorization: `Bearer  ${token} extra` },
      { cookie: 'migration_glue_token=%E0%A4%A' },
      { cookie: `migration_glue_token=${token.slice(0, -1)}` },
    ];
    for (const headers of shapes) {
      const res = await fetch(url('/api/status'), { headers });
      expect(res.status, JSON.stringify(headers).slice(0, 60)).toBe(401);
    }
  });

  it('the page carries no store data: a script in the store URL, a rollback reason or a name stays out of the HTML', async () => {
    const hostile = '<script>window.pwned=1</script>';
    const operator = new FakeOperator({ store: `file:/tmp/${hostile}` });
    const { url } = await start(operator);
    await fetch(url('/api/rollback'), { method: 'POST', headers: { ...bearer, ...json }, body: JSON.stringify({ reason: hostile, by: hostile }) });
    const page = await (await fetch(url('/'), { headers: bearer })).text();
    expect(page).not.toContain('pwned');
    const status = await (await fetch(url('/api/status'), { headers: bearer })).text();
    expect(status).not.toMatch(/[<>]/);
  });
});
