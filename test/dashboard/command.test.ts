import fs from 'node:fs';
import { createServer } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FileConfigStore } from '../../src/config/file-config-store.js';
import { phases } from '../../src/config/phases.js';
import { dashboardCommand } from '../../src/dashboard/command.js';

let dir = '';
let out: string[] = [];
let err: string[] = [];
// An empty environment: MIGRATION_GLUE_STORE or _TOKEN set around the tests must not leak in.
const io = () => ({ out: (text: string) => out.push(text), err: (text: string) => err.push(text), cwd: dir, env: {} });

beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dashboard-command-'));
  new FileConfigStore({ path: path.join(dir, 'migration.json'), initial: phases.canary(5), watch: false }).close();
  out = [];
  err = [];
});
afterEach(() => {
  fs.rmSync(dir, { recursive: true, force: true });
});

/** Runs the command until its first line is printed, then stops it; resolves with the exit code and that line. */
async function runUntilListening(args: string[], check: (line: string) => Promise<void>, env?: Record<string, string>): Promise<number> {
  const controller = new AbortController();
  let listening: () => void = () => {};
  const printed = new Promise<void>((resolve) => (listening = resolve));
  const running = dashboardCommand(args, { ...io(), out: (text) => (out.push(text), listening()), ...(env === undefined ? {} : { env }), signal: controller.signal });
  await Promise.race([printed, running]);
  try {
    await check(out[0] ?? '');
  } finally {
    controller.abort();
  }
  return running;
}

describe('migration-glue dashboard', () => {
  it('prints its usage with --help', async () => {
    expect(await dashboardCommand(['--help'], io())).toBe(0);
    expect(out.join('\n')).toMatch(/^Usage: migration-glue dashboard --store URL/);
    for (const option of ['--port', '--host', '--token', '--journal', 'MIGRATION_GLUE_TOKEN', '127.0.0.1']) expect(out.join('\n')).toContain(option);
  });

  it.each([
    [[], /--store URL is required/],
    [['--store', 'file:migration.json', '--port', 'http'], /--port must be an integer/],
    [['--store', 'file:migration.json', '--port', '70000'], /--port must be an integer/],
    [['--store', 'file:migration.json', '--token', 'short'], /at least 16 characters/],
    [['--store', 'file:migration.json', '--colour'], /Unknown option '--colour'/],
    [['--store', 'file:migration.json', 'extra'], /positional/],
    [['--store', 'ftp://example/x'], /unsupported store URL/],
  ])('exits 2 on a usage mistake: %j', async (args, message) => {
    expect(await dashboardCommand(args, io())).toBe(2);
    expect(err.join('\n')).toMatch(message);
    expect(err.join('\n')).toContain('Usage: migration-glue dashboard');
  });

  it('exits 1 when the store is missing or the port is taken', async () => {
    expect(await dashboardCommand(['--store', 'file:absent.json'], io())).toBe(1);
    expect(err.join('\n')).toMatch(/config file not found/);
    const taken = createServer();
    await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
    try {
      const port = (taken.address() as { port: number }).port;
      err = [];
      expect(await dashboardCommand(['--store', 'file:migration.json', '--port', String(port)], io())).toBe(1);
      expect(err.join('\n')).toMatch(/EADDRINUSE/);
    } finally {
      taken.close();
    }
  });

  it('serves the store (relative to its directory), prints a generated token once, and exits 0 when stopped', async () => {
    let url = '';
    const code = await runUntilListening(['--store', 'file:migration.json', '--port', '0'], async (line) => {
      const match = /at (http:\/\/127\.0\.0\.1:\d+\/)\?token=([A-Za-z0-9_-]{43})$/.exec(line);
      expect(match, line).not.toBeNull();
      url = match?.[1] as string;
      expect(out[1]).toBe(`token (generated): ${match?.[2]}`);
      const status = await fetch(new URL('/api/status', url), { headers: { authorization: `Bearer ${match?.[2]}` } });
      expect(((await status.json()) as { status: { percentage: number } }).status.percentage).toBe(5);
      expect((await fetch(new URL('/api/status', url))).status).toBe(401);
    });
    expect(code).toBe(0);
    await expect(fetch(url)).rejects.toThrow();
  });

  it('takes its token and store from the environment, and then prints no token', async () => {
    const env = { MIGRATION_GLUE_TOKEN: 'a-token-from-the-environment', MIGRATION_GLUE_STORE: `file:${path.join(dir, 'migration.json')}` };
    const code = await runUntilListening(['--port', '0'], async (line) => {
      expect(line).not.toContain('token');
      const url = /at (\S+)$/.exec(line)?.[1] as string;
      expect((await fetch(new URL('/api/status', url), { headers: { authorization: 'Bearer a-token-from-the-environment' } })).status).toBe(200);
    }, env);
    expect(code).toBe(0);
    expect(out.join('\n')).not.toContain('a-token-from-the-environment');
  });
});
