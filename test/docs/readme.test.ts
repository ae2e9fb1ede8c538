import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from '../../src/cli/run-cli.js';

// What the README says about the repository, checked against it.
const root = path.resolve(import.meta.dirname, '../..');
const readme = fs.readFileSync(path.join(root, 'README.md'), 'utf8');
const pkg = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8')) as {
  name: string;
  scripts: Record<string, string>;
  exports: Record<string, unknown>;
  peerDependencies: Record<string, string>;
};

/** The text of the README section under `## title`. */
function section(title: string): string {
  const start = readme.indexOf(`\n## ${title}\n`);
  if (start === -1) throw new Error(`README has no section "${title}"`);
  const end = readme.indexOf('\n## ', start + 1);
  return readme.slice(start, end === -1 ? undefined : end);
}

describe('README', () => {
  it('opens with the two commands a newcomer runs on a fresh machine', () => {
    const first = /^# .+\n\n```sh\n([\s\S]*?)\n```/.exec(readme);
    const commands = (first?.[1] ?? '').split('\n').map((line) => line.replace(/\s+#.*$/, '').trim());
    expect(commands).toEqual(['npm ci && npm run demo', 'npm ci && npm test']);
    expect(pkg.scripts.demo).toBeDefined();
    expect(pkg.scripts.test).toBeDefined();
  });

  it('links only to files that exist', () => {
    const links = [...readme.matchAll(/\]\(([^)#\s]+)\)/g)].map((m) => m[1] as string).filter((l) => !/^[a-z]+:/.test(l));
    expect(links.length).toBeGreaterThan(10);
    expect(links.filter((link) => !fs.existsSync(path.join(root, link)))).toEqual([]);
  });

  it('lists every example, and only those', () => {
    const listed = [...section('Examples').matchAll(/\[examples\/([\w-]+\.ts)\]/g)].map((m) => m[1]).sort();
    const present = fs.readdirSync(path.join(root, 'examples')).filter((f) => f.endsWith('.ts')).sort();
    expect(listed).toEqual(present);
  });

  it('names the demo options that the demo has', () => {
    const demo = fs.readFileSync(path.join(root, 'examples/demo.ts'), 'utf8');
    for (const option of ['seed', 'speed', 'fault']) expect(demo).toContain(`--${option}`);
  });

  it('gives the package table the subpath exports and peer dependencies of package.json', () => {
    const rows = [...section('Packages').matchAll(/^\| `([^`]+)` \| .* \| (.+) \|$/gm)].map((m) => ({ name: m[1] as string, peer: (m[2] as string).trim() }));
    const exported = Object.keys(pkg.exports)
      .filter((k) => k !== './package.json')
      .map((k) => (k === '.' ? pkg.name : `${pkg.name}/${k.slice(2)}`));
    expect(rows.map((r) => r.name).sort()).toEqual(exported.sort());
    const peers = rows.map((r) => /^`([^`]+)`$/.exec(r.peer)?.[1]).filter((p): p is string => p !== undefined);
    expect(peers.sort()).toEqual(Object.keys(pkg.peerDependencies).sort());
  });

  it('names only error codes the library has', () => {
    const codes = new Set([...fs.readFileSync(path.join(root, 'src/errors.ts'), 'utf8').matchAll(/'(ERR_[A-Z_]+)'/g)].map((m) => m[1]));
    const named = [...readme.matchAll(/`(ERR_[A-Z_]+)`/g)].map((m) => m[1]);
    expect(named.length).toBeGreaterThan(0);
    expect(named.filter((code) => !codes.has(code))).toEqual([]);
  });

  it('runs only npm scripts and files that exist in its shell blocks', () => {
    const shell = [...readme.matchAll(/```sh\n([\s\S]*?)\n```/g)].map((m) => m[1] as string).join('\n');
    const scripts = [...shell.matchAll(/npm run ([\w:]+)/g)].map((m) => m[1] as string);
    expect(scripts.filter((s) => pkg.scripts[s] === undefined)).toEqual([]);
    const files = [...shell.matchAll(/^bash (\S+)/gm)].map((m) => m[1] as string);
    expect(files.length).toBeGreaterThan(0);
    expect(files.filter((f) => !fs.existsSync(path.join(root, f)))).toEqual([]);
  });

  it('describes the commands the CLI has', async () => {
    let help = '';
    const code = await runCli(['--help'], { out: (t) => (help += t), err: () => {}, cwd: root });
    expect(code).toBe(0);
    for (const command of ['checklist', 'report', 'status']) expect(help).toMatch(new RegExp(`^\\s+${command} `, 'm'));
  });
});
