import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { MigrationGlueError } from '../../src/errors.js';
import type { MigrationConfig } from '../../src/config/migration-config.js';
import { phases } from '../../src/config/phases.js';
import { MigrationGlue } from '../../src/core/migration-glue.js';
import { silentLogger } from '../../src/observe/logger.js';
import { tempDirFixture, waitUntil } from './file-store-helpers.js';

const fixture = tempDirFixture();
const child = new URL('./file-store-child.ts', import.meta.url).pathname;
const readJson = (file: string): unknown => JSON.parse(fs.readFileSync(file, 'utf8'));

interface Outcome {
  readonly ok: boolean;
  readonly code?: string;
}

/** Starts a process that opens the store now and saves `config` once `go` exists. */
function saver(file: string, config: MigrationConfig, go: string): { ready: Promise<void>; done: Promise<Outcome> } {
  const proc = spawn(process.execPath, ['--import', 'tsx', child, file, JSON.stringify(config), go], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  let signalReady!: () => void;
  const ready = new Promise<void>((resolve) => (signalReady = resolve));
  proc.stdout.on('data', (chunk: Buffer) => {
    out += chunk.toString();
    if (out.includes('ready\n')) signalReady();
  });
  proc.stderr.on('data', (chunk: Buffer) => (err += chunk.toString()));
  const done = new Promise<Outcome>((resolve, reject) => {
    proc.on('exit', (code) => {
      const line = out.split('\n').find((l) => l.startsWith('{'));
      if (code !== 0 || line === undefined) reject(new Error(`saver exited ${String(code)}: ${err}`));
      else resolve(JSON.parse(line) as Outcome);
    });
  });
  return { ready, done };
}

describe('FileConfigStore compare-and-swap', () => {
  describe('when another process rolled back since this store read the file', () => {
    it('refuses the stale step with ERR_CONFLICT and serves the rollback', async () => {
      const file = path.join(fixture.dir(), 'config.json');
      const store = fixture.open({ path: file, initial: phases.canary(25), watch: false });
      const go = path.join(fixture.dir(), 'go');
      fs.writeFileSync(go, '');
      const rollback = saver(file, phases.rolledBack(), go);
      expect(await rollback.done).toEqual({ ok: true });

      const error = await store.save(phases.canary(50)).catch((err: unknown) => err);
      expect(MigrationGlueError.is(error, 'ERR_CONFLICT')).toBe(true);
      expect(store.current()).toEqual(phases.rolledBack());
      expect(readJson(file)).toEqual(phases.rolledBack());
      // Decided again from the rollback, moving forward is deliberate.
      await store.save(phases.canary(1));
      expect(readJson(file)).toEqual(phases.canary(1));
    }, 60_000);
  });

  describe('when two processes save at the same moment, one rolling back', () => {
    it('always ends rolled back; the step either landed first or was refused', async () => {
      // Two races at once, four processes released by one signal.
      const go = path.join(fixture.dir(), 'go');
      const races = [0, 1].map((round) => {
        const file = path.join(fixture.dir(), `config-${round}.json`);
        fs.writeFileSync(file, JSON.stringify(phases.canary(25)));
        return { file, step: saver(file, phases.canary(50), go), rollback: saver(file, phases.rolledBack(), go) };
      });
      await Promise.all(races.flatMap((race) => [race.step.ready, race.rollback.ready]));
      fs.writeFileSync(go, '');
      for (const race of races) {
        const [stepOutcome, rollbackOutcome] = await Promise.all([race.step.done, race.rollback.done]);
        expect(rollbackOutcome).toEqual({ ok: true });
        if (!stepOutcome.ok) expect(stepOutcome.code).toBe('ERR_CONFLICT');
        expect(readJson(race.file)).toEqual(phases.rolledBack());
      }
      expect(fs.readdirSync(fixture.dir()).filter((name) => name.endsWith('.tmp') || name.endsWith('.lock'))).toEqual([]);
    }, 120_000);
  });

  describe("when a ramp step is saved while glue.rollback()'s write is in flight", () => {
    it('rollback resolves true and every later call goes to old', async () => {
      const file = path.join(fixture.dir(), 'config.json');
      const store = fixture.open({ path: file, initial: phases.canary(25), debounceMs: 5 });
      const glue = new MigrationGlue<{ userId: string }, string>({
        name: 'cas',
        oldService: async () => 'old',
        newService: async () => 'new',
        config: store,
        logger: silentLogger,
      });
      const rolledBack = glue.rollback('errors');
      const step = store.save(phases.canary(50));
      expect(await rolledBack).toBe(true);
      await expect(step).rejects.toMatchObject({ code: 'ERR_CONFLICT' });
      expect(readJson(file)).toEqual(phases.rolledBack());
      const served = await Promise.all(Array.from({ length: 200 }, (_, i) => glue.process({ userId: `u${i}` })));
      expect(served.filter((side) => side === 'new')).toEqual([]);
      await glue.close();
    });
  });

  describe('the lock file', () => {
    it('is broken when left by a process that died on this host', async () => {
      const file = path.join(fixture.dir(), 'config.json');
      const store = fixture.open({ path: file, initial: phases.canary(5), watch: false, lockTimeoutMs: 20_000 });
      const dead = spawn(process.execPath, ['-e', '0']);
      const pid = dead.pid ?? 0;
      await new Promise((resolve) => dead.on('exit', resolve));
      fs.writeFileSync(`${file}.lock`, `${pid} ${os.hostname()}\n`);
      const past = new Date(Date.now() - 1000);
      fs.utimesSync(`${file}.lock`, past, past);
      await store.save(phases.rolledBack());
      expect(readJson(file)).toEqual(phases.rolledBack());
      expect(fs.existsSync(`${file}.lock`)).toBe(false);
    });

    it('is broken when older than 5 s, whoever left it', async () => {
      const file = path.join(fixture.dir(), 'config.json');
      const store = fixture.open({ path: file, initial: phases.canary(5), watch: false });
      fs.writeFileSync(`${file}.lock`, '4242 some-other-host\n');
      const past = new Date(Date.now() - 60_000);
      fs.utimesSync(`${file}.lock`, past, past);
      await store.save(phases.canary(6));
      expect(readJson(file)).toEqual(phases.canary(6));
    });

    it('held by a live process makes a save wait, then reject with ERR_TIMEOUT, leaving file and config alone', async () => {
      const file = path.join(fixture.dir(), 'config.json');
      const store = fixture.open({ path: file, initial: phases.canary(5), watch: false, lockTimeoutMs: 50 });
      fs.writeFileSync(`${file}.lock`, `${process.pid} ${os.hostname()}\n`);
      const error = await store.save(phases.canary(6)).catch((err: unknown) => err);
      expect(MigrationGlueError.is(error, 'ERR_TIMEOUT')).toBe(true);
      expect((error as Error).message).toContain(`${file}.lock`);
      expect(readJson(file)).toEqual(phases.canary(5));
      expect(store.current()).toEqual(phases.canary(5));
      fs.rmSync(`${file}.lock`);
      await store.save(phases.canary(6));
      expect(readJson(file)).toEqual(phases.canary(6));
    });
  });

  it('saves one after another from many stores in one process, none lost, the file always valid', async () => {
    const file = path.join(fixture.dir(), 'config.json');
    const stores = Array.from({ length: 5 }, () => fixture.open({ path: file, watch: false }));
    await Promise.all(stores.flatMap((store, i) => [store.save(phases.canary(i + 1)), store.save(phases.canary(i + 10))]));
    const final = readJson(file) as MigrationConfig;
    expect([10, 11, 12, 13, 14]).toContain(final.newSystemPercentage);
    await waitUntil(() => fs.readdirSync(fixture.dir()).every((name) => !name.endsWith('.lock')), 'locks released');
  });
});
