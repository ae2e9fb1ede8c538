import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Redis } from 'ioredis';
import type { RampStateStore } from '../config/ramp-state.js';

/** Where a migration's config lives, as given on the command line. */
export type StoreLocation =
  | { readonly kind: 'file'; readonly path: string }
  | { readonly kind: 'redis'; readonly url: string; readonly key: string; readonly fleetKey: string | undefined };

/** A store URL that cannot be used: the command line's usage mistake. */
export class StoreUrlError extends Error {
  override readonly name = 'StoreUrlError';
}

/**
 * Parses `file:PATH` (relative to `cwd`) or `redis://[user:pass@]host:port[/db]?key=KEY[&fleet=PREFIX]`
 * (also `rediss://`). A bare path is taken as a file.
 * @throws StoreUrlError naming what is wrong.
 */
export function parseStoreUrl(url: string, cwd: string): StoreLocation {
  if (typeof url !== 'string' || url.trim() === '') throw new StoreUrlError('no store given: pass --store URL or set MIGRATION_GLUE_STORE');
  if (url.startsWith('redis://') || url.startsWith('rediss://')) {
    let parsed: URL;
    try {
      parsed = new URL(url);
    } catch {
      throw new StoreUrlError(`not a valid redis URL: ${redactStoreUrl(url)}`);
    }
    const key = parsed.searchParams.get('key');
    if (key === null || key === '') throw new StoreUrlError(`the redis URL needs ?key=KEY naming the migration's config key: ${redactStoreUrl(url)}`);
    const fleet = parsed.searchParams.get('fleet');
    parsed.searchParams.delete('key');
    parsed.searchParams.delete('fleet');
    return { kind: 'redis', url: parsed.toString(), key, fleetKey: fleet === null || fleet === '' ? undefined : fleet };
  }
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(url) && !url.startsWith('file://')) {
    throw new StoreUrlError(`unsupported store URL ${JSON.stringify(redactStoreUrl(url))}: use file:PATH or redis://host:port?key=KEY`);
  }
  const file = url.startsWith('file://') ? filePath(url) : url.startsWith('file:') ? url.slice('file:'.length) : url;
  if (file === '') throw new StoreUrlError('file: needs a path, e.g. file:config.json');
  return { kind: 'file', path: path.resolve(cwd, file) };
}

/** The `file://` URL's path, percent-decoded. @throws StoreUrlError when it names no local file. */
function filePath(url: string): string {
  try {
    return fileURLToPath(url);
  } catch (err) {
    throw new StoreUrlError(`not a valid file URL ${JSON.stringify(redactStoreUrl(url))}: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
  }
}

/** The location as it may be shown (messages, `status`, `watch`, the dashboard): see `redactStoreUrl`. */
export function describeLocation(location: StoreLocation): string {
  if (location.kind === 'file') return `file:${location.path}`;
  let url: URL;
  try {
    url = new URL(location.url);
  } catch {
    return redactStoreUrl(location.url);
  }
  url.searchParams.set('key', location.key);
  if (location.fleetKey !== undefined) url.searchParams.set('fleet', location.fleetKey);
  return redactStoreUrl(url.toString());
}

/** The query parameters this library defines in a store URL; any other (ioredis honours `password`, `username`, ...) is never shown. */
const shownParams = new Set(['key', 'fleet']);

/**
 * A store URL as it may be shown, never throwing: without the userinfo (up
 * to the LAST "@" after "//", since a password may hold "@", "/", "?" or
 * "#", even when the URL does not parse; everything after "//" when that
 * "@" may sit in the query), without a fragment, and without any query
 * parameter but `key` and `fleet`.
 */
export function redactStoreUrl(url: string): string {
  let text = String(url);
  try {
    const parsed = new URL(text);
    parsed.username = '';
    parsed.password = '';
    parsed.hash = '';
    parsed.search = new URLSearchParams([...parsed.searchParams].filter(([name]) => shownParams.has(name))).toString();
    // The query is now percent-encoded ("@" as %40): an "@" left is in the path, a password's part.
    text = parsed.toString();
  } catch {
    // not a URL: the text itself is redacted
  }
  const userinfo = /^([a-z][a-z0-9+.-]*:\/\/)([^]*)@([^]*)$/i.exec(text);
  // After a "?" or "#" the "@" may be a query's (?password=a@b): then nothing after it is known to be safe.
  if (userinfo !== null) text = /[?#]/.test(userinfo[2] ?? '') ? `${userinfo[1]}***` : `${userinfo[1]}***@${userinfo[3]}`;
  const query = text.search(/[?#]/);
  if (query === -1) return text;
  const kept = (text.slice(query + 1).split('#')[0] ?? '').split('&').filter((param) => shownParams.has(param.split('=')[0] ?? ''));
  return `${text.slice(0, query)}${kept.length > 0 ? `?${kept.join('&')}` : ''}`;
}

/** An opened store and what must be closed with it. */
export interface OpenedStore {
  readonly store: RampStateStore;
  readonly close: () => Promise<void>;
  /** Reads the fleet's figures (Redis only). */
  readonly redis?: Redis;
}

/**
 * Opens the store at `location`. A file must exist, a Redis key must hold a
 * migration: an operator never creates one by accident.
 * @throws Error naming the file or key that is missing, or Redis unreachable within `connectTimeoutMs`.
 */
export async function openStore(location: StoreLocation, connectTimeoutMs: number): Promise<OpenedStore> {
  if (location.kind === 'file') {
    if (!fs.existsSync(location.path)) throw new Error(`config file not found: ${location.path}`);
    const { FileConfigStore } = await import('../config/file-config-store.js');
    const store = new FileConfigStore({ path: location.path, debounceMs: 5, pollIntervalMs: 250 });
    return { store, close: async () => store.close() };
  }
  const [{ Redis }, { RedisConfigStore }] = await Promise.all([import('ioredis'), import('../redis/redis-config-store.js')]);
  const redis = new Redis(location.url, {
    connectTimeout: connectTimeoutMs,
    maxRetriesPerRequest: 2,
    retryStrategy: (times: number) => (times > 5 ? null : Math.min(times * 100, 500)),
    lazyConnect: true,
  });
  let lastError: Error | undefined;
  redis.on('error', (err: Error) => {
    lastError = err;
  });
  const quit = async () => {
    await redis.quit().catch(() => redis.disconnect());
  };
  try {
    await withTimeout(redis.connect(), connectTimeoutMs, 'no answer').catch((err: unknown) => {
      // ioredis rejects with "Connection is closed." once it gives up; the socket's own error says why.
      const message = err instanceof Error ? err.message : String(err);
      const reason = lastError === undefined || message.startsWith('no answer') ? message : lastError.message;
      throw new Error(`redis not reachable at ${describeLocation(location)}: ${reason}`, { cause: err });
    });
    if ((await redis.exists(location.key)) === 0) throw new Error(`no migration config at redis key "${location.key}"`);
    const store = new RedisConfigStore({ redis, key: location.key });
    await withTimeout(store.ready(), connectTimeoutMs, `redis key "${location.key}" could not be read`);
    return {
      store,
      redis,
      close: async () => {
        await store.close();
        await quit();
      },
    };
  } catch (err) {
    await quit();
    throw err;
  }
}

function withTimeout<T>(promise: Promise<T>, ms: number, message: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${message} (after ${ms} ms)`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
