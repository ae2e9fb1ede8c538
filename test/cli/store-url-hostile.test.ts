import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FileConfigStore, phases } from '../../src/index.js';
import { describeLocation, parseStoreUrl, redactStoreUrl } from '../../src/cli/store-url.js';
import { runCli } from '../../src/cli/run-cli.js';

// Store URLs with odd schemes or credentials, given to the operator CLI: no
// credential is ever printed, and a bad URL is a usage mistake naming the store.

let dir = '';
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'store-url-hostile-'));
});
afterEach(() => {
  fs.rmSync(dir, { recursive: true, force: true });
});

async function cli(args: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await runCli(args, { out: (t) => out.push(t), err: (t) => err.push(t), cwd: dir, env: {} });
  return { code, out: out.join('\n'), err: err.join('\n') };
}

/** A port on 127.0.0.1 that nothing listens on. */
async function closedPort(): Promise<number> {
  const probe = net.createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const { port } = probe.address() as net.AddressInfo;
  await new Promise((resolve) => probe.close(resolve));
  return port;
}

describe('credentials in a store URL are never printed', () => {
  it('a password holding "/" (common in base64 passwords) is not echoed when the URL cannot be parsed', async () => {
    const { code, err } = await cli(['status', '--store', 'redis://admin:Zm9v/YmFy@127.0.0.1:6379?key=k']);
    expect(code).toBe(2);
    expect(err).not.toContain('Zm9v/YmFy');
    expect(err).not.toContain('Zm9v');
    expect(err).toContain('redis://***@127.0.0.1:6379?key=k');
  });

  it('a password holding "@" is not partly echoed in a usage message', async () => {
    const { code, err } = await cli(['status', '--store', 'redis://admin:s3cr@t-pass@127.0.0.1:6379']);
    expect(code).toBe(2);
    expect(err).toMatch(/\?key=KEY/);
    expect(err).not.toContain('t-pass');
    expect(err).not.toContain('s3cr');
  });

  it('a password given as ?password= (which ioredis honours) is not kept in the store shown by status and the dashboard', () => {
    const location = parseStoreUrl('redis://10.0.4.12:6379?key=migration:pricing&password=hunter2', dir);
    const shown = describeLocation(location);
    expect(shown).toContain('key=migration');
    expect(shown).not.toContain('hunter2');
    expect(shown).toBe('redis://10.0.4.12:6379?key=migration%3Apricing');
  });

  it('?username= and other parameters are dropped; key and fleet are kept', () => {
    const shown = describeLocation(parseStoreUrl('redis://10.0.4.12:6379/2?username=bob&key=k&fleet=f&db=3&password=p', dir));
    expect(shown).toBe('redis://10.0.4.12:6379/2?key=k&fleet=f');
  });

  it('a ?password= in a URL that does not parse is not echoed either', async () => {
    const { code, err } = await cli(['status', '--store', 'redis://127.0.0.1:nope?key=k&password=hunter2']);
    expect(code).toBe(2);
    expect(err).toMatch(/not a valid redis URL/);
    expect(err).not.toContain('hunter2');
  });

  it('user:password in the authority is dropped from the store shown', () => {
    const shown = describeLocation(parseStoreUrl('rediss://admin:hunter2@10.0.4.12:6379/2?key=k', dir));
    expect(shown).not.toContain('hunter2');
    expect(shown).not.toContain('admin');
  });

  it.each([
    ['redis://admin:Zm9v/YmFy@127.0.0.1:6379?key=k', 'redis://***@127.0.0.1:6379?key=k'],
    ['redis://admin:s3cr@t-pass@127.0.0.1:6379?key=k', 'redis://127.0.0.1:6379?key=k'],
    ['redis://admin:1234/se@cret@h:6379?key=k', 'redis://***@h:6379?key=k'],
    ['redis://u:pa?ss#w@h:6379?key=k', 'redis://***'],
    ['redis://h:bad?password=se@cret', 'redis://***'],
    ['redis://h:6379?key=a@b&password=p#frag', 'redis://h:6379?key=a%40b'],
    ['redis://h:bad?key=k&username=bob&password=p#x', 'redis://h:bad?key=k'],
    ['http://user:hunter2@example.com/x?token=t', 'http://example.com/x'],
  ])('redactStoreUrl(%j) is %j', (url, shown) => {
    expect(redactStoreUrl(url)).toBe(shown);
  });
});

describe('odd store URLs', () => {
  it('a malformed file:// URL is a usage mistake (exit 2) with a message naming the store URL', async () => {
    const { code, err } = await cli(['status', '--store', 'file://[']);
    expect(code).toBe(2);
    expect(err).toMatch(/not a valid file URL "file:\/\/\["/);
  });

  it('a file:// URL with percent-encoding names the decoded path', async () => {
    const file = path.join(dir, 'my config.json');
    const made = new FileConfigStore({ path: file, initial: phases.shadow(), debounceMs: 1, watch: false });
    made.close();
    const { code, out, err } = await cli(['status', '--store', `file://${file.replace(/ /g, '%20')}`]);
    expect(err).toBe('');
    expect(code).toBe(0);
    expect(out).toMatch(/phase: shadow/);
    expect(out).toContain(`store: file:${file}`);
  });

  it('an unreachable Redis is reported naming where it was looked for and why, without the password, exit 1', async () => {
    const port = await closedPort();
    const { code, err } = await cli(['status', '--store', `redis://admin:hunter2@127.0.0.1:${port}?key=k&password=hunter2`]);
    expect(code).toBe(1);
    expect(err).toMatch(new RegExp(`^migration-glue: redis not reachable at redis://127\\.0\\.0\\.1:${port}\\?key=k: .*ECONNREFUSED`));
    expect(err).not.toContain('hunter2');
  });

  it('an unknown scheme is a usage mistake and the URL is redacted', async () => {
    const { code, err } = await cli(['status', '--store', 'http://user:hunter2@example.com/x']);
    expect(code).toBe(2);
    expect(err).toMatch(/unsupported store URL/);
    expect(err).not.toContain('hunter2');
  });
});
