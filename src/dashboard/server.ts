import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { z } from 'zod';
import { field, option, parseOptions } from '../option-schema.js';
import { generateToken } from './auth.js';
import { handle, publicMessage } from './handler.js';
import type { JournalSource } from './journal-feed.js';
import { JournalFeed } from './journal-feed.js';
import type { DashboardOperator } from './live-state.js';
import { LiveState } from './live-state.js';
import { SseHub } from './sse.js';

/** The port the dashboard listens on unless told otherwise. */
export const defaultDashboardPort = 4280;

/**
 * How long the dashboard waits for the store, ms: for the first status at
 * start, for each status read after it (then given up and reported as the
 * page's problem), and for an action (then answered 504).
 */
export const storeTimeoutMs = 5_000;

/** Options of startDashboard. */
export interface DashboardOptions {
  /** The migration to show and steer: `openOperator(url)`'s Operator, or any object with its methods. */
  readonly operator: DashboardOperator;
  /** @default 4280; 0 picks a free port */
  readonly port?: number;
  /** The interface to listen on. @default '127.0.0.1' (this machine only) */
  readonly host?: string;
  /** The token every request must carry, at least 16 characters. @default 32 random bytes, base64url */
  readonly token?: string;
  /** The migration's journal: a JSON-lines file path or a MigrationJournal, shown as a feed. */
  readonly journal?: JournalSource;
  /** Closes the dashboard when aborted. */
  readonly signal?: AbortSignal;
  /** How often the status is read even when the store says nothing (fleet figures move on their own), ms. @default 2000 */
  readonly pollMs?: number;
}

/** A running dashboard. */
export interface Dashboard {
  /** Where it listens, e.g. `http://127.0.0.1:4280/` (without the token). */
  readonly url: string;
  /** The token requests must carry. */
  readonly token: string;
  /** Ends every event stream and connection and stops listening; resolves when done. Idempotent. */
  close(): Promise<void>;
}

const schema = z.strictObject({
  operator: option.withMethods<DashboardOperator>('status', 'approve', 'pause', 'resume', 'rollback', 'subscribe'),
  port: option.range(0, 65_535, true).default(defaultDashboardPort),
  host: option.string().default('127.0.0.1'),
  token: field<string>((v) => typeof v === 'string' && v.length >= 16 && !/\s/.test(v), 'a string of at least 16 characters without spaces').optional(),
  journal: field<JournalSource>(
    (v) => (typeof v === 'string' && v !== '') || (typeof v === 'object' && v !== null && typeof (v as { entries?: unknown }).entries === 'function'),
    'a journal file path or an object with entries()',
  ).optional(),
  signal: field<AbortSignal>((v) => v instanceof AbortSignal, 'an AbortSignal').optional(),
  pollMs: option.timerMs().default(2_000),
});

/**
 * Serves the live dashboard of the migration `operator` steers: a single
 * page, updated over Server-Sent Events, with Approve, Pause, Resume and
 * Rollback. Every request must carry the token; state changes are POSTs
 * guarded against cross-site requests. Resolves once listening.
 * @throws InvalidOptionError on a bad option; the listen error (EADDRINUSE, ...) when the port cannot be had.
 */
export async function startDashboard(options: DashboardOptions): Promise<Dashboard> {
  const o = parseOptions(schema, options, 'startDashboard');
  if (o.signal?.aborted === true) throw new Error('startDashboard: the signal is already aborted');
  const token = o.token ?? generateToken();
  const hub = new SseHub();
  const state = new LiveState({
    operator: o.operator,
    feed: o.journal === undefined ? undefined : new JournalFeed(o.journal),
    pollMs: o.pollMs,
    timeoutMs: storeTimeoutMs,
    publish: (event, data) => hub.broadcast(event, data),
  });
  const server = createServer({ requestTimeout: 30_000, headersTimeout: 10_000 }, (req, res) => {
    handle({ token, operator: o.operator, state, hub, timeoutMs: storeTimeoutMs }, req, res).catch((err: unknown) => {
      if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain; charset=utf-8' });
      res.end(`dashboard error: ${publicMessage(err)}\n`);
    });
  });
  server.maxHeadersCount = 100;
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(o.port, o.host, () => {
        server.off('error', reject);
        resolve();
      });
    });
  } catch (err) {
    state.close();
    hub.close();
    throw err;
  }
  // The first status, so that the first page sees it; a read the store does not answer within storeTimeoutMs is given up and reported.
  await state.refresh();
  const address = server.address() as AddressInfo;
  const host = address.family === 'IPv6' || address.address.includes(':') ? `[${address.address}]` : address.address;
  let closing: Promise<void> | undefined;
  const close = (): Promise<void> => {
    closing ??= new Promise<void>((resolve) => {
      o.signal?.removeEventListener('abort', onAbort);
      state.close();
      hub.close();
      server.close(() => resolve());
      server.closeAllConnections();
    });
    return closing;
  };
  const onAbort = () => void close();
  o.signal?.addEventListener('abort', onAbort, { once: true });
  return { url: `http://${host}:${address.port}/`, token, close };
}
