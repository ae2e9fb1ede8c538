import { randomBytes } from 'node:crypto';
import type { IncomingMessage, OutgoingHttpHeaders, ServerResponse } from 'node:http';
import { settleWithin } from '../bounded.js';
import { OperatorError } from '../cli/operator.js';
import type { ActionName } from './actions.js';
import { HttpError, isAction, readJsonBody, runAction } from './actions.js';
import { credentialOf, crossSiteProblem, csrfTokenFor, sameSecret, tokenCookieHeader } from './auth.js';
import { messageOf } from '../cli/cli-args.js';
import type { DashboardOperator, LiveState } from './live-state.js';
import { renderPage } from './page.js';
import type { SseHub } from './sse.js';
import { safeJson } from './sse.js';

/** What the request handler works with. */
export interface HandlerContext {
  readonly token: string;
  readonly operator: DashboardOperator;
  readonly state: LiveState;
  readonly hub: SseHub;
  /** How long an action may wait for the store before it is answered 504, ms. */
  readonly timeoutMs: number;
}

/** Headers on every answer: nothing cached, framed, sniffed or leaked by referrer. */
const baseHeaders: OutgoingHttpHeaders = {
  'cache-control': 'no-store',
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  'referrer-policy': 'no-referrer',
  'cross-origin-opener-policy': 'same-origin',
  'cross-origin-resource-policy': 'same-origin',
};

/**
 * Answers one request. Order matters: the token is checked before anything
 * else is read (a request without it gets 401 and changes nothing), then
 * the method, then, for a state change, the cross-site guard, then the body.
 */
export async function handle(ctx: HandlerContext, req: IncomingMessage, res: ServerResponse): Promise<void> {
  for (const [name, value] of Object.entries(baseHeaders)) res.setHeader(name, value as string);
  let url: URL;
  try {
    url = new URL(req.url ?? '/', 'http://dashboard.invalid');
  } catch {
    return send(res, 400, 'bad request URL');
  }
  const offered = url.searchParams.get('token');
  if (offered !== null && req.method === 'GET') return tradeToken(ctx, url, offered, res);
  const credential = credentialOf(req, ctx.token);
  if (credential === undefined) {
    res.setHeader('www-authenticate', 'Bearer realm="migration-glue dashboard"');
    res.setHeader('connection', 'close');
    return send(res, 401, 'a token is required: Authorization: Bearer TOKEN, or open the URL with ?token=TOKEN once');
  }
  const path = url.pathname;
  if (path.startsWith('/api/') && isAction(path.slice(5))) {
    if (req.method !== 'POST') return notAllowed(res, 'POST');
    const problem = crossSiteProblem(req, credential, ctx.token);
    if (problem !== undefined) return send(res, 403, `refused as a cross-site request: ${problem}`);
    return act(ctx, path.slice(5) as ActionName, req, res);
  }
  if (path !== '/' && path !== '/events' && path !== '/api/status') return send(res, 404, 'not found');
  if (req.method !== 'GET' && (req.method !== 'HEAD' || path === '/events')) return notAllowed(res, 'GET');
  if (path === '/') return page(ctx, res);
  if (path === '/api/status') return json(res, 200, ctx.state.snapshot());
  ctx.hub.open(req, res, [['snapshot', ctx.state.snapshot()]]);
}

/** The paths a GET may be redirected to after a login; anything else goes to the page. */
const landings = new Set(['/', '/events', '/api/status']);

/**
 * `?token=` in a GET: a right one becomes the cookie and the URL is cleaned;
 * a wrong one is a 401. The redirect stays on the dashboard: to one of its
 * own paths, never to a path such as `//host/` that a browser reads as another host.
 */
function tradeToken(ctx: HandlerContext, url: URL, offered: string, res: ServerResponse): void {
  if (!sameSecret(offered, ctx.token)) {
    res.setHeader('www-authenticate', 'Bearer realm="migration-glue dashboard"');
    return send(res, 401, 'wrong token');
  }
  url.searchParams.delete('token');
  const rest = url.searchParams.toString();
  const path = landings.has(url.pathname) ? url.pathname : '/';
  res.writeHead(303, { 'set-cookie': tokenCookieHeader(ctx.token), location: `${path}${rest === '' ? '' : `?${rest}`}` }).end();
}

function page(ctx: HandlerContext, res: ServerResponse): void {
  const nonce = randomBytes(16).toString('base64');
  res.writeHead(200, {
    'content-type': 'text/html; charset=utf-8',
    'content-security-policy': [
      "default-src 'none'",
      `script-src 'nonce-${nonce}'`,
      `style-src 'nonce-${nonce}'`,
      "connect-src 'self'",
      'img-src data:',
      "base-uri 'none'",
      "form-action 'none'",
      "frame-ancestors 'none'",
    ].join('; '),
  });
  res.end(renderPage({ nonce, csrfToken: csrfTokenFor(ctx.token) }));
}

async function act(ctx: HandlerContext, name: ActionName, req: IncomingMessage, res: ServerResponse): Promise<void> {
  let body: unknown;
  try {
    body = await readJsonBody(req);
  } catch (err) {
    if (!(err instanceof HttpError)) return json(res, 400, { error: 'the body could not be read' });
    if (err.status === 413) res.setHeader('connection', 'close');
    return json(res, err.status, { error: err.message });
  }
  // A store that never answers must not hold the request open: after timeoutMs it is answered 504,
  // and an answer that comes later still refreshes the page.
  const settled = await settleWithin(() => runAction(ctx.operator, name, body), ctx.timeoutMs, () => void ctx.state.refresh());
  if (settled.status === 'timeout') {
    return json(res, 504, { error: `the store did not answer within ${ctx.timeoutMs} ms; the ${name} may still take effect: check the status` });
  }
  if (settled.status === 'error') {
    const err = settled.error;
    if (err instanceof HttpError) return json(res, err.status, { error: err.message });
    return json(res, failureStatus(err), { error: publicMessage(err) });
  }
  // The page hears of the change over its stream; a slow store must not hold this answer.
  void ctx.state.refresh();
  json(res, 200, settled.value);
}

/** Codes of an operator's refusals (a state the action does not apply to): 409. */
const refusalCodes = new Set(['ERR_CONFLICT', 'ERR_NOTHING_TO_APPROVE', 'ERR_INVALID_OPTION']);

/** Codes and names of a store that cannot be reached or did not answer in time: 503. */
const unreachableCodes = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ECONNABORTED',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'EHOSTDOWN',
  'ENETUNREACH',
  'ENETDOWN',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EPIPE',
  'ERR_TIMEOUT',
  'ERR_CLOSED',
]);

/**
 * The HTTP status of a failed action: 409 when the operator refused it
 * (OperatorError, a known refusal code), 503 when the store is unreachable
 * or timed out (a network error code, ioredis giving up), 500 otherwise.
 */
export function failureStatus(err: unknown): number {
  if (err instanceof OperatorError) return 409;
  const { code, name, message } = (typeof err === 'object' && err !== null ? err : {}) as { code?: unknown; name?: unknown; message?: unknown };
  if (typeof code === 'string' && refusalCodes.has(code)) return 409;
  if (typeof code === 'string' && unreachableCodes.has(code)) return 503;
  if (name === 'MaxRetriesPerRequestError') return 503;
  if (typeof message === 'string' && /^(Connection is closed|Stream isn't writeable)/.test(message)) return 503;
  return 500;
}

/** An error's message as a client may see it: one line, at most 300 characters, credentials in URLs and key=value pairs masked. */
export function publicMessage(err: unknown): string {
  return messageOf(err)
    // Up to the last "@" of a URL: a password may hold "/" or "@".
    .replace(/\/\/\S*@/g, '//***@')
    .replace(/\b(password|passwd|pwd|token|secret|auth)=[^&\s]*/gi, '$1=***')
    .slice(0, 300);
}

function notAllowed(res: ServerResponse, allow: string): void {
  res.setHeader('allow', allow === 'GET' ? 'GET, HEAD' : allow);
  send(res, 405, `use ${allow}`);
}

function json(res: ServerResponse, status: number, value: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8' }).end(safeJson(value));
}

function send(res: ServerResponse, status: number, text: string): void {
  res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8' }).end(`${text}\n`);
}
