import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import ts from 'typescript';

/**
 * The TypeScript code blocks of Markdown files, compiled (and some run)
 * against the package's sources.
 *
 * A block is a fence opened with ```ts or ```typescript. One-line HTML
 * comments right above the fence (blank lines between allowed) mark it:
 * - `<!-- runnable -->`: also run with tsx; it must exit 0.
 * - `<!-- continues -->`: compiled (and run) after the previous compiled
 *   TypeScript block of the same file and those it continues, as one
 *   module (the prose reads on from it).
 * - `<!-- not-compiled: reason -->`: a deliberate fragment, skipped; the
 *   reason is required.
 */

/** A marker on a block. */
export type BlockMarker = 'runnable' | 'continues' | 'not-compiled';

/** One TypeScript block of a Markdown file. */
export interface CodeBlock {
  /** The Markdown file, as given to `extractBlocks`. */
  readonly file: string;
  /** 1-based line of the opening fence. */
  readonly line: number;
  readonly code: string;
  readonly markers: ReadonlySet<BlockMarker>;
  /** Why a `not-compiled` block is not compiled. */
  readonly reason?: string;
}

/**
 * A module to compile: the block under test, last, after the blocks it
 * continues (those are tested in their own modules).
 */
export interface BlockModule {
  /** File name inside the workspace. */
  readonly name: string;
  readonly blocks: readonly CodeBlock[];
  /** The block under test. */
  readonly block: CodeBlock;
  /** Whether the block under test is marked runnable (the module runs whole). */
  readonly runnable: boolean;
}

/** A compiler message, placed in the Markdown file. */
export interface BlockDiagnostic {
  readonly block: CodeBlock;
  /** 1-based line in the Markdown file. */
  readonly line: number;
  /** `TS2304: Cannot find name 'x'.` */
  readonly message: string;
}

const openFence = /^```(ts|typescript)(\s.*)?$/;
const closeFence = /^```\s*$/;
const anyFence = /^\s*```/;
const comment = /^<!--\s*(.*?)\s*-->$/;

/** Extracts the TypeScript blocks of `text`; throws on an unclosed fence or an unknown or malformed marker. */
export function extractBlocks(file: string, text: string): CodeBlock[] {
  const lines = text.split(/\r?\n/);
  const blocks: CodeBlock[] = [];
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i] as string;
    if (!anyFence.test(line)) continue;
    const indent = /^\s*/.exec(line)?.[0] ?? '';
    const isTs = openFence.test(line.trimStart());
    let end = i + 1;
    while (end < lines.length && !(lines[end]?.startsWith(indent) && closeFence.test((lines[end] as string).slice(indent.length)))) end++;
    if (end >= lines.length) throw new Error(`${file}:${i + 1}: code block never closed`);
    if (isTs) {
      const { markers, reason } = markersAbove(file, lines, i);
      const code = lines
        .slice(i + 1, end)
        .map((l) => (l.startsWith(indent) ? l.slice(indent.length) : l))
        .join('\n');
      blocks.push({ file, line: i + 1, code, markers, ...(reason === undefined ? {} : { reason }) });
    }
    i = end;
  }
  return blocks;
}

function markersAbove(file: string, lines: readonly string[], fence: number): { markers: Set<BlockMarker>; reason?: string } {
  const markers = new Set<BlockMarker>();
  let reason: string | undefined;
  for (let j = fence - 1; j >= 0; j--) {
    const text = (lines[j] as string).trim();
    if (text === '') continue;
    const match = comment.exec(text);
    if (match === null) break;
    const [name, ...rest] = (match[1] as string).split(':');
    const marker = name?.trim();
    const detail = rest.join(':').trim();
    if (marker === 'runnable' || marker === 'continues') {
      if (detail !== '') throw new Error(`${file}:${j + 1}: the marker \`${marker}\` takes no argument`);
      markers.add(marker);
    } else if (marker === 'not-compiled') {
      if (detail === '') throw new Error(`${file}:${j + 1}: \`not-compiled\` needs a reason: <!-- not-compiled: why -->`);
      markers.add(marker);
      reason = detail;
    } else {
      throw new Error(`${file}:${j + 1}: unknown marker "${text}" above a TypeScript block (runnable, continues, not-compiled: reason)`);
    }
  }
  if (markers.has('not-compiled') && markers.size > 1) {
    throw new Error(`${file}:${fence + 1}: a not-compiled block cannot also be ${[...markers].filter((m) => m !== 'not-compiled').join(', ')}`);
  }
  return reason === undefined ? { markers } : { markers, reason };
}

/** One module per compiled block: a `continues` block is compiled after the chain of the block before it in the same file. */
export function toModules(blocks: readonly CodeBlock[]): BlockModule[] {
  const modules: BlockModule[] = [];
  let previous: BlockModule | undefined;
  for (const block of blocks) {
    if (block.markers.has('not-compiled')) continue;
    let chain = [block];
    if (block.markers.has('continues')) {
      if (previous === undefined || previous.block.file !== block.file) {
        throw new Error(`${block.file}:${block.line}: \`continues\` but no compiled TypeScript block comes before it in this file`);
      }
      chain = [...previous.blocks, block];
    }
    previous = { name: `${block.file.replace(/[^A-Za-z0-9]+/g, '-')}-L${block.line}.ts`, blocks: chain, block, runnable: block.markers.has('runnable') };
    modules.push(previous);
  }
  return modules;
}

/** The module's source; block `k` starts at line `offsets[k]` (0-based). */
export function moduleSource(module: BlockModule): { text: string; offsets: number[] } {
  const offsets: number[] = [];
  const parts: string[] = [];
  let line = 0;
  for (const block of module.blocks) {
    offsets.push(line);
    parts.push(block.code);
    line += block.code.split('\n').length;
  }
  return { text: `${parts.join('\n')}\n`, offsets };
}

/** A directory where block modules resolve `migration-glue` and its subpaths to `src/`. */
export interface Workspace {
  readonly dir: string;
  readonly tsconfig: string;
  remove(): void;
}

/**
 * Creates a workspace outside the repository: an ESM package whose
 * tsconfig extends the repository's and maps every export of package.json
 * to its source entry point (for the compiler and for tsx alike), with the
 * repository's node_modules linked in.
 */
export function createWorkspace(root: string, modules: readonly BlockModule[]): Workspace {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'migration-glue-docs-'));
  const pkg = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8')) as { name: string; exports: Record<string, unknown> };
  const paths: Record<string, string[]> = {};
  for (const subpath of Object.keys(pkg.exports)) {
    if (subpath === './package.json') continue;
    const entry = path.join(root, 'src', subpath === '.' ? 'index.ts' : `${subpath.slice(2)}/index.ts`);
    if (!fs.existsSync(entry)) throw new Error(`package.json exports ${subpath}, but ${path.relative(root, entry)} does not exist`);
    paths[subpath === '.' ? pkg.name : `${pkg.name}/${subpath.slice(2)}`] = [entry];
  }
  fs.writeFileSync(path.join(dir, 'package.json'), JSON.stringify({ name: 'doc-blocks', private: true, type: 'module' }));
  fs.symlinkSync(path.join(root, 'node_modules'), path.join(dir, 'node_modules'), 'dir');
  const tsconfig = path.join(dir, 'tsconfig.json');
  const config = {
    extends: path.join(root, 'tsconfig.json'),
    compilerOptions: { paths, moduleDetection: 'force', noEmit: true },
    files: modules.map((m) => m.name),
  };
  fs.writeFileSync(tsconfig, JSON.stringify(config, null, 2));
  for (const module of modules) fs.writeFileSync(path.join(dir, module.name), moduleSource(module).text);
  return { dir, tsconfig, remove: () => fs.rmSync(dir, { recursive: true, force: true }) };
}

/** Compiles every module in one program; returns the messages placed in their Markdown files. */
export function compileModules(workspace: Workspace, modules: readonly BlockModule[]): BlockDiagnostic[] {
  const parsed = ts.getParsedCommandLineOfConfigFile(workspace.tsconfig, {}, {
    ...ts.sys,
    onUnRecoverableConfigFileDiagnostic: (d) => {
      throw new Error(ts.flattenDiagnosticMessageText(d.messageText, '\n'));
    },
  });
  if (parsed === undefined) throw new Error(`cannot read ${workspace.tsconfig}`);
  if (parsed.errors.length > 0) throw new Error(ts.formatDiagnostics(parsed.errors, formatHost));
  const program = ts.createProgram(parsed.fileNames, parsed.options);
  const global = program.getOptionsDiagnostics();
  if (global.length > 0) throw new Error(ts.formatDiagnostics(global, formatHost));
  const found: BlockDiagnostic[] = [];
  for (const module of modules) {
    const source = program.getSourceFile(path.join(workspace.dir, module.name));
    if (source === undefined) throw new Error(`${module.name} is not in the program`);
    const { offsets } = moduleSource(module);
    for (const d of [...program.getSyntacticDiagnostics(source), ...program.getSemanticDiagnostics(source)]) {
      // The blocks before the one under test are reported by their own modules.
      const start = offsets[offsets.length - 1] as number;
      const at = d.start === undefined ? start : source.getLineAndCharacterOfPosition(d.start).line;
      if (at < start) continue;
      const block = module.block;
      found.push({ block, line: block.line + 1 + at - start, message: `TS${d.code}: ${ts.flattenDiagnosticMessageText(d.messageText, '\n')}` });
    }
  }
  return found;
}

/** `docs/glue.md:12 (block at line 8): TS2304: Cannot find name 'quote'.` */
export function formatDiagnostic(d: BlockDiagnostic): string {
  return `${d.block.file}:${d.line} (block at line ${d.block.line}): ${d.message}`;
}

/** Runs a module with tsx; resolves with its exit code (null when killed at `timeoutMs`) and output. */
export function runModule(
  workspace: Workspace,
  module: BlockModule,
  timeoutMs: number,
): Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = execFile(
      process.execPath,
      ['--unhandled-rejections=strict', '--import', 'tsx', module.name],
      { cwd: workspace.dir, timeout: timeoutMs, killSignal: 'SIGKILL', env: { ...process.env, TSX_TSCONFIG_PATH: workspace.tsconfig } },
      (_err, stdout, stderr) => resolve({ code: child.exitCode, signal: child.signalCode, stdout, stderr }),
    );
    child.stdin?.end();
  });
}

const formatHost: ts.FormatDiagnosticsHost = {
  getCanonicalFileName: (f) => f,
  getCurrentDirectory: () => process.cwd(),
  getNewLine: () => '\n',
};
