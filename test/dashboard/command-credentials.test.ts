import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, beforeEach, afterEach, describe, expect, it } from 'vitest';
import { FileConfigStore, phases } from '../../src/index.js';
import { RedisConfigStore } from '../../src/redis/index.js';
import { dashboardCommand } from '../../src/dashboard/command.js';

// `migration-glue dashboard` as it starts: neither the store's password (in
// the URL's userinfo or as ?password=) nor the token from the environment is
// printed, nor shown on the page (/api/status feeds the page's header).

const password = 's3cr@t-pass';
const hasRedis = ['/usr/bin/redis-server', '/usr/local/bin/redis-server'].some((file) => fs.existsSync(file));
const token = 'credentials-token-0123456789-abcdefghij';
let server: ChildProcess | undefined;
let port = 0;
let redisDir = '';
const key = `command-credentials:${process.pid}`;

async function freePort(): Promise<number> {
  const probe = net.createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const { port: free } = probe.address() as net.AddressInfo;
  await new Promise((resolve) => probe.close(resolve));
  return free;
}

function accepts(at: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect(at, '127.0.0.1', () => {
      socket.destroy();
      resolve(true);
    });
    socket.on('error', () => resolve(false));
  });
}

/** Runs the dashboard on `store` until its first line, fetches /api/status, stops it. */
async function run(store: string, cwd: string, env: Record<string, string> = { MIGRATION_GLUE_TOKEN: token }, host?: string) {
  const out: string[] = [];
  const err: string[] = [];
  const controller = new AbortController();
  let listening: () => void = () => {};
  const printed = new Promise<void>((resolve) => (listening = resolve));
  const running = dashboardCommand(['--store', store, '--port', '0', ...(host === undefined ? [] : ['--host', host])], {
    out: (t) => (out.push(t), listening()),
    err: (t) => err.push(t),
    cwd,
    env,
    signal: controller.signal,
  });
  await Promise.race([printed, running]);
  let status = '';
  try {
    const url = /at (http:\S+)/.exec(out[0] ?? '')?.[1];
    if (url !== undefined) status = await (await fetch(new URL('/api/status', url), { headers: { authorization: `Bearer ${token}` } })).text();
  } finally {
    controller.abort();
  }
  const code = await running;
  return { code, out, printed: `${out.join('\n')}\n${err.join('\n')}`, err: err.join('\n'), status };
}

describe('the dashboard on a file store', () => {
  let dir = '';
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'command-credentials-'));
    new FileConfigStore({ path: path.join(dir, 'migration.json'), initial: phases.canary(5), watch: false }).close();
  });
  afterEach(() => {
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('names the store as status does', async () => {
    const { code, out } = await run('file:migration.json', dir);
    expect(code).toBe(0);
    expect(out[0]).toMatch(new RegExp(`^dashboard of file:${path.join(dir, 'migration.json').replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} at http://127\\.0\\.0\\.1:\\d+/$`));
  });

  it('an unresolvable --host exits 1 with a one-line reason, and the env token is never printed', async () => {
    const secret = 'env-token-secret-0123456789abcdef';
    const { code, err, printed } = await run('file:migration.json', dir, { MIGRATION_GLUE_TOKEN: secret }, 'no-such-host.invalid');
    expect(code).toBe(1);
    expect(err).toMatch(/ENOTFOUND|no-such-host/);
    expect(printed).not.toContain(secret);
  });
});

describe.skipIf(!hasRedis)('the dashboard on a password-protected Redis', () => {
  beforeAll(async () => {
    redisDir = fs.mkdtempSync(path.join(os.tmpdir(), 'command-credentials-redis-'));
    port = await freePort();
    server = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--requirepass', password, '--dir', redisDir], { stdio: 'ignore' });
    for (let i = 0; i < 100 && !(await accepts(port)); i++) await new Promise((resolve) => setTimeout(resolve, 50));
    const redis = new Redis({ port, host: '127.0.0.1', password, lazyConnect: true });
    redis.on('error', () => {});
    try {
      await redis.connect();
      await (await RedisConfigStore.connect({ redis, key, initial: phases.canary(5) })).close();
    } finally {
      redis.disconnect();
    }
  }, 15_000);

  afterAll(async () => {
    const running = server;
    if (running !== undefined && running.exitCode === null && running.signalCode === null) {
      const exited = new Promise((resolve) => running.once('exit', resolve));
      running.kill('SIGTERM');
      await exited;
    }
    if (redisDir !== '') fs.rmSync(redisDir, { recursive: true, force: true });
  }, 15_000);

  it('does not print part of a password that holds "@" when it starts', async () => {
    const { code, printed, status, out } = await run(`redis://default:${password}@127.0.0.1:${port}?key=${key}`, redisDir);
    expect(code).toBe(0);
    expect(status).toContain('"phase":"canary"');
    expect(out[0]).toMatch(new RegExp(`^dashboard of redis://127\\.0\\.0\\.1:${port}\\?key=command-credentials%3A${process.pid} at `));
    expect(printed).not.toContain('t-pass');
    expect(printed).not.toContain('s3cr');
    expect(status).not.toContain('t-pass');
  });

  it('neither prints nor shows on the page a password given as ?password=', async () => {
    const { code, printed, status } = await run(`redis://127.0.0.1:${port}?key=${key}&password=${encodeURIComponent(password)}`, redisDir);
    expect(code).toBe(0);
    expect(status).toContain('"phase":"canary"');
    expect(status).toContain(`"store":"redis://127.0.0.1:${port}?key=command-credentials%3A${process.pid}"`);
    expect({ printed: /s3cr|t-pass/.test(printed), onPage: /s3cr|t-pass/.test(status) }).toEqual({ printed: false, onPage: false });
  });

  it('an unreachable password-protected Redis is named without its password, exit 1', async () => {
    const closed = await freePort();
    const { code, err } = await run(`redis://default:${password}@127.0.0.1:${closed}?key=${key}&password=${encodeURIComponent(password)}`, redisDir);
    expect(code).toBe(1);
    expect(err).toMatch(new RegExp(`redis not reachable at redis://127\\.0\\.0\\.1:${closed}\\?key=`));
    expect(err).not.toMatch(/s3cr|t-pass/);
  });
});
