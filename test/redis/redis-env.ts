/**
 * Where the Redis tests find their server: REDIS_URL (scripts/redis-start.sh
 * prints it). Unset, the tests skip locally and fail under CI.
 */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, afterEach, describe, expect, it } from 'vitest';

export const redisUrl: string | undefined = process.env.REDIS_URL === '' ? undefined : process.env.REDIS_URL;

const underCi = process.env.CI !== undefined && process.env.CI !== '' && process.env.CI !== 'false';

/** `describe` when REDIS_URL is set; a failing test under CI without it; a skip otherwise. */
export function describeWithRedis(name: string, body: (url: string) => void): void {
  if (redisUrl !== undefined) {
    describe(name, () => body(redisUrl));
  } else if (underCi) {
    describe(name, () => {
      it('has a Redis server to test against (REDIS_URL)', () => {
        expect(redisUrl, 'REDIS_URL is not set: run scripts/redis-start.sh (npm run redis:start) and export the REDIS_URL it prints').toBeTruthy();
      });
    });
  } else {
    describe.skip(`${name} (set REDIS_URL to run; scripts/redis-start.sh starts a server)`, () => {
      it('runs against Redis', () => {});
    });
  }
}

/** A client that reconnects fast, as tests want. */
export function client(url: string): Redis {
  const redis = new Redis(url, { retryStrategy: () => 20, maxRetriesPerRequest: 500 });
  // Outages are part of the tests; without a listener ioredis prints each failed reconnect.
  redis.on('error', () => {});
  return redis;
}

/** A key no other test uses. */
export function uniqueKey(label: string): string {
  return `mg-test:${label}:${randomBytes(6).toString('hex')}`;
}

/** Polls `check` every 2 ms until true; throws after `timeoutMs`. */
export async function until(check: () => boolean, timeoutMs = 5000, what = 'condition'): Promise<void> {
  const start = Date.now();
  while (!check()) {
    if (Date.now() - start > timeoutMs) throw new Error(`${what} not met within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/** A redis-server of the test's own, on a free port, without persistence: killed and restarted at will. */
export interface OwnRedis {
  readonly port: number;
  readonly url: string;
  /** Kills the server (SIGKILL): what it held is lost. */
  kill(): Promise<void>;
  /** Starts it again on the same port, empty. */
  start(): Promise<void>;
}

/** Spawns `redis-server --port N --save '' --appendonly no --daemonize no` as a child of the test. */
export async function ownRedis(): Promise<OwnRedis> {
  const port = await freePort();
  const url = `redis://127.0.0.1:${port}`;
  let child: ChildProcess | undefined;
  const start = async () => {
    child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--daemonize', 'no'], {
      stdio: 'ignore',
    });
    const deadline = Date.now() + 10_000;
    for (;;) {
      const probe = new Redis(url, { lazyConnect: true, retryStrategy: () => null, maxRetriesPerRequest: 0 });
      probe.on('error', () => {});
      try {
        await probe.connect();
        await probe.ping();
        probe.disconnect();
        return;
      } catch {
        probe.disconnect();
        if (Date.now() > deadline) throw new Error(`redis-server on port ${port} did not start`);
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    }
  };
  const kill = async () => {
    const running = child;
    child = undefined;
    if (running === undefined || running.exitCode !== null) return;
    await new Promise<void>((resolve) => {
      running.once('exit', () => resolve());
      running.kill('SIGKILL');
    });
  };
  await start();
  return { port, url, kill, start };
}

/**
 * Per-suite Redis clients and cleanups: `redis()` opens a client that is
 * disconnected after the suite; `closers` run (last first) after each test.
 */
export function redisPool(url: string): { redis: () => Redis; closers: (() => Promise<void> | void)[] } {
  const clients: Redis[] = [];
  const closers: (() => Promise<void> | void)[] = [];
  afterEach(async () => {
    for (const close of closers.splice(0).reverse()) await close();
  });
  afterAll(() => {
    for (const c of clients.splice(0)) c.disconnect();
  });
  return {
    redis: () => {
      const c = client(url);
      clients.push(c);
      return c;
    },
    closers,
  };
}
