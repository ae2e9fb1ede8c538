import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BlockDiagnostic, BlockModule, Workspace } from './doc-blocks.js';
import { compileModules, createWorkspace, extractBlocks, formatDiagnostic, runModule, toModules } from './doc-blocks.js';

// Every TypeScript block of the README and docs/ compiles against src/ under
// the repository's strict options, and those marked runnable run to exit 0.
const root = path.resolve(import.meta.dirname, '../..');
const files = ['README.md', ...fs.readdirSync(path.join(root, 'docs')).filter((f) => f.endsWith('.md')).sort().map((f) => `docs/${f}`)];
const blocks = files.flatMap((file) => extractBlocks(file, fs.readFileSync(path.join(root, file), 'utf8')));
const modules = toModules(blocks);
const label = (m: BlockModule) => `${m.block.file}:${m.block.line}`;

let workspace: Workspace;
let diagnostics: BlockDiagnostic[];

beforeAll(() => {
  workspace = createWorkspace(root, modules);
  diagnostics = compileModules(workspace, modules);
}, 120_000);

afterAll(() => workspace?.remove());

describe('TypeScript blocks in README and docs/', () => {
  it('finds the blocks, the README Quick start among the runnable ones', () => {
    expect(blocks.length).toBeGreaterThan(40);
    const quickStart = modules.find((m) => m.block.file === 'README.md');
    expect(quickStart?.runnable).toBe(true);
  });

  it('gives every deliberate fragment a reason', () => {
    for (const block of blocks.filter((b) => b.markers.has('not-compiled'))) expect(block.reason).toMatch(/\w{3}/);
  });

  it.each(modules.map((m) => [label(m), m] as const))('%s compiles', (_name, module) => {
    const mine = diagnostics.filter((d) => d.block === module.block);
    expect(mine.map(formatDiagnostic)).toEqual([]);
  });
});

describe('runnable blocks', () => {
  const runnable = modules.filter((m) => m.runnable);

  it('are at least a few', () => {
    expect(runnable.length).toBeGreaterThanOrEqual(4);
  });

  it.each(runnable.map((m) => [label(m), m] as const))('%s runs and exits 0', async (_name, module) => {
    // Generous: only a hang should reach it (PGlite alone takes half a minute to start on a loaded 2-core machine).
    const result = await runModule(workspace, module, 180_000);
    expect({ code: result.code, signal: result.signal, stderr: result.stderr.slice(-2000) }).toEqual({ code: 0, signal: null, stderr: expect.any(String) });
  }, 240_000);
});
