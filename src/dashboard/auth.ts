import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';

// Who may use the dashboard: whoever holds the token, sent as
// `Authorization: Bearer TOKEN` or, from the page, in an HttpOnly cookie the
// first `?token=` was traded for. State changes from the page also carry a
// CSRF token derived from the token, and come from the page's own origin.

/** The cookie the page's token is kept in. */
export const tokenCookie = 'migration_glue_token';

/** The header the page sends its CSRF token in. */
export const csrfHeader = 'x-migration-glue-csrf';

/** A fresh random token: 32 bytes, base64url. */
export function generateToken(): string {
  return randomBytes(32).toString('base64url');
}

/** The CSRF token for `token`: an HMAC, so that the page never holds the token itself. */
export function csrfTokenFor(token: string): string {
  return createHmac('sha256', token).update('migration-glue dashboard csrf').digest('base64url');
}

/** Compares two secrets in time independent of where they differ (and of their lengths). */
export function sameSecret(given: string, expected: string): boolean {
  const a = createHash('sha256').update(given).digest();
  const b = createHash('sha256').update(expected).digest();
  return timingSafeEqual(a, b) && given.length === expected.length;
}

/** How a request proved it holds the token: a header (a script, curl) or the page's cookie. */
export type Credential = 'bearer' | 'cookie';

/** The credential of `req` when it carries the right token, else undefined. A wrong bearer is never rescued by a cookie. */
export function credentialOf(req: IncomingMessage, token: string): Credential | undefined {
  const authorization = req.headers.authorization;
  if (authorization !== undefined) {
    const match = /^Bearer[ ]+(\S+)\s*$/i.exec(authorization);
    return match !== null && sameSecret(match[1] as string, token) ? 'bearer' : undefined;
  }
  const cookie = cookieValue(req.headers.cookie, tokenCookie);
  return cookie !== undefined && sameSecret(cookie, token) ? 'cookie' : undefined;
}

/** The value of cookie `name` in a Cookie header, undefined when absent. */
export function cookieValue(header: string | undefined, name: string): string | undefined {
  if (header === undefined) return undefined;
  for (const part of header.split(';')) {
    const at = part.indexOf('=');
    if (at === -1) continue;
    if (part.slice(0, at).trim() === name) {
      try {
        return decodeURIComponent(part.slice(at + 1).trim());
      } catch {
        return undefined;
      }
    }
  }
  return undefined;
}

/** The Set-Cookie value that keeps `token` for the page: HttpOnly, SameSite=Strict, the whole site. */
export function tokenCookieHeader(token: string): string {
  return `${tokenCookie}=${encodeURIComponent(token)}; HttpOnly; SameSite=Strict; Path=/`;
}

/**
 * Why a state-changing request must be refused as cross-site, or undefined
 * when it may go on: a browser's `Sec-Fetch-Site` other than same-origin, an
 * `Origin` other than this server's, and, for the page's cookie, a missing
 * or wrong CSRF token. A bearer token is never sent by a browser on its own,
 * so it needs no CSRF token.
 */
export function crossSiteProblem(req: IncomingMessage, credential: Credential, token: string): string | undefined {
  const site = req.headers['sec-fetch-site'];
  if (site !== undefined && site !== 'same-origin') return `Sec-Fetch-Site is ${site}`;
  const origin = req.headers.origin;
  if (origin !== undefined) {
    const host = req.headers.host;
    if (host === undefined || (origin !== `http://${host}` && origin !== `https://${host}`)) return `Origin ${origin} is not this server`;
  }
  if (credential === 'cookie') {
    const given = req.headers[csrfHeader];
    if (typeof given !== 'string' || !sameSecret(given, csrfTokenFor(token))) return 'the CSRF token is missing or wrong';
  }
  return undefined;
}
