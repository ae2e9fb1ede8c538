/**
 * The operator's commands as a person runs them: `migration-glue set`,
 * `approve`, `status --json` and `rollback` as child processes, against a
 * store shared with running glues in other processes (one of them ramping,
 * waiting for approvals from the store). After `rollback` returns, the next
 * call on every instance goes to old.
 */
import { execFile, spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { FileConfigStore, phases } from '../../src/index.js';
import type { MigrationConfig } from '../../src/index.js';
import type { RampState } from '../../src/config/ramp-state.js';
import type { OperatorStatus } from '../../src/cli/operator-types.js';
import { RedisConfigStore } from '../../src/redis/index.js';
import { client, describeWithRedis, uniqueKey } from '../redis/redis-env.js';

const root = path.resolve(import.meta.dirname, '../..');
const fixture = path.join(import.meta.dirname, 'fixtures', 'glue-instance.ts');
const main = path.join(root, 'src/cli/main.ts');

/** Runs `migration-glue ...args` as a child process; resolves with its exit code and output. */
function run(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, ['--import', 'tsx', main, ...args], { cwd: root, env: { ...process.env, MIGRATION_GLUE_STORE: '' } }, (err, stdout, stderr) => {
      resolve({ code: err === null ? 0 : typeof err.code === 'number' ? err.code : 1, stdout, stderr });
    });
  });
}

/** One glue process. */
class Instance {
  readonly child: ChildProcess;
  readonly ready: Promise<void>;
  readonly configs: MigrationConfig[] = [];
  readonly ramps: RampState[] = [];
  readonly #waiters = new Set<() => void>();
  readonly #pending = new Map<number, (value: unknown) => void>();
  #next = 0;

  constructor(env: Record<string, string>) {
    this.child = spawn(process.execPath, ['--import', 'tsx', fixture], { cwd: root, env: { ...process.env, ...env }, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    this.ready = new Promise((resolve, reject) => {
      this.child.once('exit', (code) => reject(new Error(`instance exited with ${code}`)));
      this.child.on('message', (message: { event?: string; config?: MigrationConfig; ramp?: RampState; id?: number; value?: unknown }) => {
        if (message.event === 'ready') resolve();
        if (message.event === 'config') this.configs.push(message.config as MigrationConfig);
        if (message.event === 'ramp') this.ramps.push(message.ramp as RampState);
        if (message.id !== undefined) {
          this.#pending.get(message.id)?.(message.value);
          this.#pending.delete(message.id);
        }
        for (const waiter of this.#waiters) waiter();
      });
    });
  }

  call(userId: string): Promise<{ served: string; config: MigrationConfig }> {
    const id = ++this.#next;
    return new Promise((resolve) => {
      this.#pending.set(id, resolve as (value: unknown) => void);
      this.child.send({ id, cmd: 'call', userId });
    });
  }

  /** Resolves once this instance reported something `seen` accepts; fails after 20 s (a hung instance, not a slow one). */
  until(seen: () => boolean, what: string): Promise<void> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#waiters.delete(check);
        reject(new Error(`instance did not report ${what} within 20 s`));
      }, 20_000);
      const check = () => {
        if (!seen()) return;
        clearTimeout(timer);
        this.#waiters.delete(check);
        resolve();
      };
      this.#waiters.add(check);
      check();
    });
  }

  kill(): void {
    if (this.child.exitCode === null) this.child.kill('SIGKILL');
  }

  /** Kills the process and resolves once it has exited (so it writes nothing more). */
  stop(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return Promise.resolve();
    const exited = new Promise<void>((resolve) => this.child.once('exit', () => resolve()));
    this.kill();
    return exited;
  }
}

const fleet: Instance[] = [];
afterEach(() => {
  for (const member of fleet.splice(0)) member.kill();
});

/** The whole operator's story against one store URL, with `members[0]` ramping. */
async function operate(url: string, members: Instance[]): Promise<void> {
  const [ramping, other] = members as [Instance, Instance];
  // A usage mistake is exit 2, and moves nothing.
  expect((await run('set', 'canary', '100', '--store', url)).code).toBe(2);
  expect((await run('rollback', '--store', url)).code).toBe(2);

  const marks = members.map((m) => m.configs.length);
  const set = await run('set', 'shadow', '--store', url);
  expect(set, set.stderr).toMatchObject({ code: 0 });
  await Promise.all(members.map((m, i) => m.until(() => m.configs.slice(marks[i]).some((c) => c.shadowMode), 'shadow mode')));

  // The ramping instance asks for approval of its first step through the store.
  await ramping.until(() => ramping.ramps.some((r) => r.pendingApproval?.percentage === 5), 'a pending approval');
  const waiting = await run('status', '--json', '--store', url);
  expect(waiting.code).toBe(0);
  const before = JSON.parse(waiting.stdout) as OperatorStatus;
  expect(before).toMatchObject({ phase: 'shadow', percentage: 0, ramp: { pendingApproval: { percentage: 5 }, blockedBy: 'approval' } });

  const approved = await run('approve', '--comment', 'shadow clean for a day', '--by', 'owner', '--store', url);
  expect(approved, approved.stderr).toMatchObject({ code: 0, stdout: expect.stringContaining('approved 5 %') });
  await Promise.all(members.map((m) => m.until(() => m.configs.at(-1)?.newSystemPercentage === 5 && !m.configs.at(-1)?.shadowMode, 'the 5 % step')));
  const canary = JSON.parse((await run('status', '--json', '--store', url)).stdout) as OperatorStatus;
  expect(canary).toMatchObject({ phase: 'canary', percentage: 5, ramp: { step: 0 } });
  expect(canary.ramp.approvals.at(-1)).toMatchObject({ percentage: 5, by: 'owner', comment: 'shadow clean for a day' });

  // Rollback, while the controller keeps ticking: once it has returned, every instance serves old.
  const rolledMarks = members.map((m) => m.configs.length);
  const rollback = await run('rollback', '--reason', 'p95 doubled', '--by', 'on-call', '--store', url);
  expect(rollback, rollback.stderr).toMatchObject({ code: 0, stdout: expect.stringMatching(/rolled back: stored in [\d.]+ ms/) });
  for (const [i, member] of members.entries()) {
    await member.until(() => member.configs.slice(rolledMarks[i]).some((c) => !c.newSystemEnabled && c.newSystemPercentage === 0), 'the rollback');
    for (let user = 0; user < 50; user++) expect((await member.call(`u${user}`)).served).toBe('old');
  }
  await ramping.until(() => ramping.ramps.at(-1)?.lastRollback?.reason === 'p95 doubled', 'the rollback in the ramp state').catch((err: Error) => {
    throw new Error(`${err.message}; last ramp states: ${JSON.stringify(ramping.ramps.slice(-3))}`);
  });
  const after = JSON.parse((await run('status', '--json', '--store', url)).stdout) as OperatorStatus;
  expect(after).toMatchObject({ phase: 'rolled-back', percentage: 0, ramp: { blockedBy: 'rolledBack', lastRollback: { reason: 'p95 doubled', by: 'on-call', percentage: 5 } } });
  // The controller, still ticking, never steps over the rollback.
  expect((await other.call('u1')).config).toEqual(phases.rolledBack());
}

describe('the operator commands against a FileConfigStore shared with running glues', () => {
  it('set, approve, status --json and rollback steer the glues; after rollback every instance serves old', { timeout: 120_000 }, async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cli-ops-'));
    try {
      const file = path.join(dir, 'config.json');
      new FileConfigStore({ path: file, watch: false, initial: phases.preparation() }).close();
      const members = [new Instance({ CONFIG_FILE: file, RAMP: '1' }), new Instance({ CONFIG_FILE: file })];
      fleet.push(...members);
      await Promise.all(members.map((m) => m.ready));
      await operate(`file:${file}`, members);
    } finally {
      // The ramping instance writes into the directory until it is gone: stop the fleet first.
      await Promise.all(fleet.splice(0).map((member) => member.stop()));
      fs.rmSync(dir, { recursive: true, force: true, maxRetries: 5, retryDelay: 50 });
    }
  });
});

describeWithRedis('the operator commands against a RedisConfigStore shared with running glues', (url) => {
  it('set, approve, status --json and rollback steer the glues; after rollback every instance serves old', { timeout: 120_000 }, async () => {
    const key = uniqueKey('cli-ops');
    const redis = client(url);
    try {
      const store = await RedisConfigStore.connect({ redis, key, initial: phases.preparation() });
      await store.close();
      const members = [new Instance({ REDIS_URL: url, CONFIG_KEY: key, RAMP: '1' }), new Instance({ REDIS_URL: url, CONFIG_KEY: key })];
      fleet.push(...members);
      await Promise.all(members.map((m) => m.ready));
      const storeUrl = new URL(url);
      storeUrl.searchParams.set('key', key);
      await operate(storeUrl.toString(), members);
    } finally {
      redis.disconnect();
    }
  });
});
