import { randomBytes } from 'node:crypto';
import type { IncomingMessage, OutgoingHttpHeaders, ServerResponse } from 'node:http';
import { OperatorError } from '../cli/operator.js';
import { HttpError, isAction, readJsonBody, runAction } from './actions.js';
import { credentialOf, crossSiteProblem, csrfTokenFor, sameSecret, tokenCookieHeader } from './auth.js';
import { messageOf } from './journal-feed.js';
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
    return act(ctx, path.slice(5) as Parameters<typeof runAction>[1], req, res);
  }
  if (path !== '/' && path !== '/events' && path !== '/api/status') return send(res, 404, 'not found');
  if (req.method !== 'GET' && (req.method !== 'HEAD' || path === '/events')) return notAllowed(res, 'GET');
  if (path === '/') return page(ctx, res);
  if (path === '/api/status') return json(res, 200, ctx.state.snapshot());
  ctx.hub.open(req, res, [['snapshot', ctx.state.snapshot()]]);
}

/** `?token=` in a GET: a right one becomes the cookie and the URL is cleaned; a wrong one is a 401. */
function tradeToken(ctx: HandlerContext, url: URL, offered: string, res: ServerResponse): void {
  if (!sameSecret(offered, ctx.token)) {
    res.setHeader('www-authenticate', 'Bearer realm="migration-glue dashboard"');
    return send(res, 401, 'wrong token');
  }
  url.searchParams.delete('token');
  const rest = url.searchParams.toString();
  res.writeHead(303, { 'set-cookie': tokenCookieHeader(ctx.token), location: `${url.pathname}${rest === '' ? '' : `?${rest}`}` }).end();
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

async function act(ctx: HandlerContext, name: Parameters<typeof runAction>[1], req: IncomingMessage, res: ServerResponse): Promise<void> {
  let result: Record<string, unknown>;
  try {
    result = await runAction(ctx.operator, name, await readJsonBody(req));
  } catch (err) {
    if (err instanceof HttpError) {
      if (err.status === 413) res.setHeader('connection', 'close');
      return json(res, err.status, { error: err.message });
    }
    // The operator refused (nothing pending, a store that is down): say why.
    const coded = err instanceof OperatorError || typeof (err as { code?: unknown } | undefined)?.code === 'string';
    return json(res, coded ? 409 : 500, { error: messageOf(err) });
  }
  // The page hears of the change over its stream; a slow store must not hold this answer.
  void ctx.state.refresh();
  json(res, 200, result);
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
