import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BlockDiagnostic, BlockModule, Workspace } from './doc-blocks.js';
import { compileModules, createWorkspace, extractBlocks, formatDiagnostic, runModule, toModules } from './doc-blocks.js';

const root = path.resolve(import.meta.dirname, '../..');
const fence = '```';

describe('extractBlocks', () => {
  it('takes ts and typescript fences with their line, and skips the others', () => {
    const text = ['# t', `${fence}sh`, 'npm test', fence, `${fence}ts`, 'const a = 1;', fence, '', `${fence}typescript`, 'const b = 2;', fence].join('\n');
    const blocks = extractBlocks('x.md', text);
    expect(blocks.map((b) => [b.line, b.code])).toEqual([
      [5, 'const a = 1;'],
      [9, 'const b = 2;'],
    ]);
  });

  it('does not mistake a ts fence inside another block for a block', () => {
    const text = [`${fence}md`, `${fence}ts`, 'not code', fence, `${fence}ts`, 'code', fence].join('\n');
    // The md block ends at the first closing fence; what follows is a ts block.
    expect(extractBlocks('x.md', text).map((b) => b.code)).toEqual(['code']);
  });

  it('reads indented fences (in a list) and strips the indent', () => {
    const text = ['- item', `  ${fence}ts`, '  const a = 1;', '    const b = a;', `  ${fence}`].join('\n');
    expect(extractBlocks('x.md', text)[0]?.code).toBe('const a = 1;\n  const b = a;');
  });

  it('reads the markers on the lines right above a fence', () => {
    const text = ['<!-- runnable -->', '', '<!-- continues -->', `${fence}ts`, 'a;', fence, '<!-- not-compiled: a fragment: on purpose -->', `${fence}ts`, 'b', fence].join('\n');
    const [first, second] = extractBlocks('x.md', text);
    expect([...(first?.markers ?? [])].sort()).toEqual(['continues', 'runnable']);
    expect(second?.reason).toBe('a fragment: on purpose');
  });

  it('refuses an unknown marker, a not-compiled without reason, and an unclosed fence', () => {
    expect(() => extractBlocks('x.md', ['<!-- runable -->', `${fence}ts`, 'a', fence].join('\n'))).toThrow(/x\.md:1: unknown marker/);
    expect(() => extractBlocks('x.md', ['<!-- not-compiled -->', `${fence}ts`, 'a', fence].join('\n'))).toThrow(/needs a reason/);
    expect(() => extractBlocks('x.md', ['<!-- not-compiled: x -->', '<!-- runnable -->', `${fence}ts`, 'a', fence].join('\n'))).toThrow(/cannot also be runnable/);
    expect(() => extractBlocks('x.md', ['text', `${fence}ts`, 'a'].join('\n'))).toThrow(/x\.md:2: code block never closed/);
  });
});

describe('toModules', () => {
  it('compiles a continuing block after the chain before it, and skips fragments', () => {
    const text = [`${fence}ts`, 'a', fence, '<!-- not-compiled: why -->', `${fence}ts`, 'b', fence, '<!-- continues -->', `${fence}ts`, 'c', fence].join('\n');
    const modules = toModules(extractBlocks('x.md', text));
    expect(modules.map((m) => m.blocks.map((b) => b.code))).toEqual([['a'], ['a', 'c']]);
  });

  it('refuses a continuing block with nothing before it in its file', () => {
    const blocks = [...extractBlocks('a.md', [`${fence}ts`, 'a', fence].join('\n')), ...extractBlocks('b.md', ['<!-- continues -->', `${fence}ts`, 'b', fence].join('\n'))];
    expect(() => toModules(blocks)).toThrow(/b\.md:2: `continues` but no compiled TypeScript block/);
  });
});

// A small program through the real compiler and tsx: how a wrong block is reported, and that runs are bounded.
// (code-blocks.test.ts compiles the docs against src/ with the same functions.)
describe('compiling and running blocks', () => {
  const doc = [
    '# sample', // 1
    '', // 2
    `${fence}ts`, // 3
    "import { setTimeout as sleep } from 'node:timers/promises';", // 4
    '', // 5
    'const percentage: number = 5;', // 6
    'const clock = { advance: (ms: number) => sleep(ms) };', // 7
    fence, // 8
    '', // 9
    '<!-- continues -->', // 10
    `${fence}ts`, // 11
    'const label: string = percentage;', // 12
    'clock.advance(1);', // 13
    fence, // 14
    '<!-- runnable -->', // 15
    `${fence}ts`, // 16
    "throw new Error('block failed');", // 17
    fence, // 18
    '<!-- runnable -->', // 19
    `${fence}ts`, // 20
    'setInterval(() => {}, 1_000);', // 21
    fence, // 22
  ].join('\n');
  let modules: BlockModule[];
  let workspace: Workspace;
  let diagnostics: BlockDiagnostic[];

  beforeAll(() => {
    modules = toModules(extractBlocks('docs/sample.md', doc));
    workspace = createWorkspace(root, modules);
    diagnostics = compileModules(workspace, modules);
  }, 120_000);

  afterAll(() => workspace?.remove());

  it('names the file, the line and the compiler message of a wrong block, once', () => {
    expect(diagnostics.map(formatDiagnostic)).toEqual([
      "docs/sample.md:12 (block at line 11): TS2322: Type 'number' is not assignable to type 'string'.",
    ]);
  });

  it('fails a runnable block that throws', async () => {
    const result = await runModule(workspace, modules[2] as BlockModule, 60_000);
    expect(result.code).not.toBe(0);
    expect(result.stderr).toContain('block failed');
  }, 90_000);

  it('kills a runnable block that never ends at its time limit', async () => {
    const result = await runModule(workspace, modules[3] as BlockModule, 1_500);
    expect(result.code).toBeNull();
    expect(result.signal).toBe('SIGKILL');
  }, 30_000);
});
