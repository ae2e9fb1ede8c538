import fs from 'node:fs';
import path from 'node:path';
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
      throw new StoreUrlError(`not a valid redis URL: ${redact(url)}`);
    }
    const key = parsed.searchParams.get('key');
    if (key === null || key === '') throw new StoreUrlError(`the redis URL needs ?key=KEY naming the migration's config key: ${redact(url)}`);
    const fleet = parsed.searchParams.get('fleet');
    parsed.searchParams.delete('key');
    parsed.searchParams.delete('fleet');
    return { kind: 'redis', url: parsed.toString(), key, fleetKey: fleet === null || fleet === '' ? undefined : fleet };
  }
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(url) && !url.startsWith('file://')) {
    throw new StoreUrlError(`unsupported store URL ${JSON.stringify(redact(url))}: use file:PATH or redis://host:port?key=KEY`);
  }
  const file = url.startsWith('file://') ? new URL(url).pathname : url.startsWith('file:') ? url.slice('file:'.length) : url;
  if (file === '') throw new StoreUrlError('file: needs a path, e.g. file:config.json');
  return { kind: 'file', path: path.resolve(cwd, file) };
}

/** The URL without credentials, for messages and `status`. */
export function describeLocation(location: StoreLocation): string {
  if (location.kind === 'file') return `file:${location.path}`;
  const url = new URL(location.url);
  url.username = '';
  url.password = '';
  url.searchParams.set('key', location.key);
  return url.toString();
}

function redact(url: string): string {
  return url.replace(/\/\/[^@/]*@/, '//***@');
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
  redis.on('error', () => {});
  const quit = async () => {
    await redis.quit().catch(() => redis.disconnect());
  };
  try {
    await withTimeout(redis.connect(), connectTimeoutMs, `redis not reachable at ${describeLocation(location)}`);
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
