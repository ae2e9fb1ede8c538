import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import fc from 'fast-check';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FileConfigStore, MigrationGlueError, phases } from '../../src/index.js';
import { parseTarget } from '../../src/cli/operator-commands.js';
import { OperatorError, openOperator, targetConfig } from '../../src/cli/operator.js';
import type { Operator } from '../../src/cli/operator.js';
import { parseStoreUrl } from '../../src/cli/store-url.js';
import { runCli } from '../../src/cli/run-cli.js';

let dir = '';
let file = '';
const open: Operator[] = [];
const stores: FileConfigStore[] = [];
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'operator-'));
  file = path.join(dir, 'config.json');
});
afterEach(async () => {
  for (const operator of open.splice(0)) await operator.close();
  for (const store of stores.splice(0)) store.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

function store(initial = phases.preparation(), watch = true): FileConfigStore {
  const made = new FileConfigStore({ path: file, initial, debounceMs: 1, pollIntervalMs: 20, watch });
  stores.push(made);
  return made;
}

async function operator(): Promise<Operator> {
  const made = await openOperator(`file:${file}`, { by: 'tester' });
  open.push(made);
  return made;
}

describe('openOperator on a file', () => {
  it('refuses a missing file, an unknown URL scheme and a redis URL without a key', async () => {
    await expect(openOperator(`file:${file}`)).rejects.toThrow(/config file not found/);
    expect(() => parseStoreUrl('http://x', dir)).toThrow(/unsupported store URL/);
    expect(() => parseStoreUrl('redis://127.0.0.1:6379', dir)).toThrow(/\?key=KEY/);
    expect(parseStoreUrl('redis://h:1/2?key=k&fleet=f', dir)).toEqual({ kind: 'redis', url: 'redis://h:1/2', key: 'k', fleetKey: 'f' });
    expect(parseStoreUrl('file:c.json', dir)).toEqual({ kind: 'file', path: path.join(dir, 'c.json') });
    await expect(openOperator(`file:${file}`, { bogus: 1 } as never)).rejects.toThrow(/`bogus` is not an option/);
  });

  it('tells a rollback apart from preparation', async () => {
    store();
    const op = await operator();
    expect((await op.status()).phase).toBe('preparation');
    await op.set({ phase: 'canary', percentage: 10 });
    expect(await op.status()).toMatchObject({ phase: 'canary', percentage: 10 });
    const { storedMs } = await op.rollback('p95 doubled');
    expect(storedMs).toBeGreaterThanOrEqual(0);
    const status = await op.status();
    expect(status).toMatchObject({ phase: 'rolled-back', percentage: 0, ramp: { lastRollback: { reason: 'p95 doubled', by: 'tester', percentage: 10 } } });
    expect(JSON.parse(JSON.stringify(status))).toEqual(status);
    await op.set({ phase: 'preparation' });
    expect((await op.status()).phase).toBe('preparation');
  });

  it('a rollback wins over a step decided before it: the stale save is refused and the file stays rolled back', async () => {
    // Not watching: its view stays the one the step was decided from.
    const glueSide = store(phases.canary(5), false);
    const op = await operator();
    const seen = glueSide.current();
    expect(seen).toEqual(phases.canary(5));
    await op.rollback('bad release');
    await expect(glueSide.save(phases.canary(10))).rejects.toSatisfy((err: unknown) => MigrationGlueError.is(err, 'ERR_CONFLICT'));
    expect((await op.status()).phase).toBe('rolled-back');
  });

  it('approve without a ramp waiting or a plan says so; with a plan it approves the next step', async () => {
    const s = store(phases.shadow());
    const op = await operator();
    await expect(op.approve()).rejects.toBeInstanceOf(OperatorError);
    await s.updateRamp((ramp) => ({ ramp: { ...ramp, plan: [{ percentage: 1, holdMs: 0 }, { percentage: 100, holdMs: 0 }] } }));
    await op.approve({ comment: 'ok' });
    expect((await op.status()).ramp.approvals).toMatchObject([{ percentage: 1, by: 'tester', comment: 'ok' }]);
  });

  it('pause and resume; resume after a rollback puts shadow mode', async () => {
    store(phases.canary(5));
    const op = await operator();
    await op.pause({ reason: 'holiday' });
    expect((await op.status()).ramp).toMatchObject({ blockedBy: 'paused', paused: { by: 'tester', reason: 'holiday' } });
    await op.resume();
    expect((await op.status()).ramp.paused).toBeUndefined();
    await op.rollback('x');
    await op.resume();
    expect(await op.status()).toMatchObject({ phase: 'shadow', ramp: { blockedBy: null } });
  });

  it('subscribe fires when another process changes the file', async () => {
    const other = store();
    const op = await operator();
    const changed = new Promise<void>((resolve) => op.subscribe(resolve));
    await other.save(phases.shadow());
    await changed;
    expect((await op.status()).phase).toBe('shadow');
  });
});

describe('set targets', () => {
  it('a canary percentage is taken iff it is above 0, below 100, in steps of 0.01', () => {
    fc.assert(
      fc.property(fc.oneof(fc.double({ min: -10, max: 110, noNaN: true }), fc.integer({ min: -5, max: 105 }), fc.constantFrom(0, 0.01, 99.99, 100, 12.5)), (p) => {
        const ok = p > 0 && p < 100 && Math.abs(p * 100 - Math.round(p * 100)) < 1e-7;
        let taken = true;
        try {
          expect(targetConfig({ phase: 'canary', percentage: p }).newSystemPercentage).toBeCloseTo(p, 6);
        } catch {
          taken = false;
        }
        expect(taken).toBe(ok);
      }),
    );
  });

  it('the command line reads shadow, canary N, full and preparation, and nothing else', () => {
    expect(parseTarget(['canary', '12.5'])).toEqual({ phase: 'canary', percentage: 12.5 });
    expect(parseTarget(['full'])).toEqual({ phase: 'full' });
    for (const bad of [['canary'], ['canary', '0'], ['canary', '100'], ['canary', '1e1'], ['canary', '5', '6'], ['full', '3'], ['half']]) {
      expect(() => parseTarget(bad)).toThrow();
    }
  });
});

describe('migration-glue watch', () => {
  it('draws the status, redraws on a change from another process, and stops on abort with exit 0', async () => {
    const other = store();
    const out: string[] = [];
    const controller = new AbortController();
    let drawn: (() => void) | undefined;
    const io = {
      out: (text: string) => {
        out.push(text);
        drawn?.();
      },
      err: (text: string) => out.push(`ERR ${text}`),
      cwd: dir,
      signal: controller.signal,
    };
    const waitFor = (text: string) =>
      new Promise<void>((resolve) => {
        drawn = () => {
          if (out.some((line) => line.includes(text))) resolve();
        };
        drawn();
      });
    const running = runCli(['watch', '--store', `file:${file}`], io);
    await waitFor('phase: preparation');
    await other.save(phases.canary(25));
    await waitFor('phase: canary 25 %');
    controller.abort();
    expect(await running).toBe(0);
    expect(out.join('\n')).not.toContain('ERR');
  });

  it('a bad --refresh is a usage mistake', async () => {
    store();
    const err: string[] = [];
    expect(await runCli(['watch', '--store', `file:${file}`, '--refresh', 'soon'], { out: () => {}, err: (t) => err.push(t), cwd: dir })).toBe(2);
    expect(err.join('\n')).toContain('Usage: migration-glue watch');
  });
});

describe('the command line', () => {
  it('takes the store from MIGRATION_GLUE_STORE, prints JSON with --json, and exits 2 without a store', async () => {
    store(phases.canary(5));
    const out: string[] = [];
    const io = (env: Record<string, string>) => ({ out: (t: string) => out.push(t), err: (t: string) => out.push(t), cwd: dir, env });
    expect(await runCli(['status', '--json'], io({ MIGRATION_GLUE_STORE: 'file:config.json' }))).toBe(0);
    expect(JSON.parse(out.at(-1) as string)).toMatchObject({ phase: 'canary', percentage: 5 });
    expect(await runCli(['status'], io({}))).toBe(2);
    expect(await runCli(['--version'], io({}))).toBe(0);
    expect(out.at(-1)).toMatch(/^\d+\.\d+\.\d+/);
    for (const command of ['status', 'set', 'approve', 'pause', 'resume', 'rollback', 'watch', 'checklist', 'report']) {
      expect(await runCli([command, '--help'], io({})), command).toBe(0);
      expect(out.at(-1), command).toContain(`Usage: migration-glue ${command}`);
    }
  });
});

describe('migration-glue checklist with the header names', () => {
  it('puts the names given in the header, with no placeholder left for them', async () => {
    const journal = path.join(dir, 'journal.jsonl');
    fs.writeFileSync(journal, `${JSON.stringify({ at: Date.UTC(2026, 4, 2), kind: 'step', percentage: 10 })}\n${JSON.stringify({ at: Date.UTC(2026, 4, 3), kind: 'step', percentage: 100 })}\n`);
    const out: string[] = [];
    const args = ['checklist', 'journal.jsonl', '--name', 'pricing', '--old', 'v1', '--new', 'v2', '--owner', 'pricing team', '--target', '2026-06-30'];
    expect(await runCli(args, { out: (t) => out.push(t), err: (t) => out.push(t), cwd: dir })).toBe(0);
    const text = out.join('\n');
    expect(text).toContain('# Migration: pricing (v1 → v2)');
    expect(text).toContain('- **Owner:** pricing team');
    for (const placeholder of ['[Old System]', '[New System]', '[Name]', 'YYYY-MM-DD']) expect(text).not.toContain(placeholder);
    expect(text).toContain('- [x] 10% traffic migrated');
    expect(text).toContain('- [ ] 25% traffic migrated');
  });
});
