/**
 * A real fleet: several Node processes (test/fleet/fixtures/instance.ts)
 * sharing one Redis, driven from here over IPC.
 */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import path from 'node:path';
import type { Redis } from 'ioredis';
import { afterAll, afterEach, expect, it } from 'vitest';
import { phases } from '../../src/index.js';
import type { MigrationConfig } from '../../src/index.js';
import { RedisConfigStore } from '../../src/redis/index.js';
import { client, describeWithRedis, ownRedis, uniqueKey, until } from '../redis/redis-env.js';

const root = path.resolve(import.meta.dirname, '../..');
const fixture = path.join(import.meta.dirname, 'fixtures', 'instance.ts');

interface Reply {
  readonly id?: number;
  readonly ok?: boolean;
  readonly value?: unknown;
  readonly error?: string;
  readonly event?: string;
}

/** One child process of the fleet. */
class Instance {
  readonly child: ChildProcess;
  readonly #pending = new Map<number, { resolve: (value: unknown) => void; reject: (err: Error) => void }>();
  #next = 0;
  readonly ready: Promise<void>;
  /** Every config this instance's store applied, in order (its unprompted `config` events). */
  readonly configs: MigrationConfig[] = [];
  #onConfig: (() => void) | undefined;

  constructor(url: string, configKey: string, name: string, leaseKey = `${configKey}:lease`) {
    this.child = spawn(process.execPath, ['--import', 'tsx', fixture], {
      cwd: root,
      env: { ...process.env, REDIS_URL: url, CONFIG_KEY: configKey, LEASE_KEY: leaseKey, INSTANCE: name },
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    this.ready = new Promise((resolve, reject) => {
      this.child.once('exit', (code) => reject(new Error(`instance ${name} exited with ${code}`)));
      this.child.on('message', (message: Reply) => {
        if (message.event === 'ready') resolve();
        if (message.event === 'config') {
          this.configs.push((message as { config: MigrationConfig }).config);
          this.#onConfig?.();
        }
        if (message.id === undefined) return;
        const pending = this.#pending.get(message.id);
        this.#pending.delete(message.id);
        if (message.ok) pending?.resolve(message.value);
        else pending?.reject(new Error(message.error));
      });
    });
  }

  request<T>(cmd: string, fields: Record<string, unknown> = {}): Promise<T> {
    const id = ++this.#next;
    return new Promise<T>((resolve, reject) => {
      this.#pending.set(id, { resolve: resolve as (value: unknown) => void, reject });
      this.child.send({ id, cmd, ...fields });
    });
  }

  call(userId: string): Promise<{ served: string; config: MigrationConfig }> {
    return this.request('call', { userId });
  }

  save(config: MigrationConfig): Promise<MigrationConfig> {
    return this.request('save', { config });
  }

  current(): Promise<{ config: MigrationConfig; log: string[] }> {
    return this.request('current');
  }

  /** Resolves once a config applied after the `from`-th one matches; fails after 10 s. */
  appliedAfter(from: number, matches: (config: MigrationConfig) => boolean): Promise<void> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('the change did not reach this instance within 10 s')), 10_000);
      const check = () => {
        if (!this.configs.slice(from).some(matches)) return;
        clearTimeout(timer);
        this.#onConfig = undefined;
        resolve();
      };
      this.#onConfig = check;
      check();
    });
  }

  kill(): void {
    if (this.child.exitCode === null) this.child.kill('SIGKILL');
  }
}

/** Calls `member` until `side` serves; fails after 10 s. */
async function servesEventually(member: Instance, side: 'old' | 'new'): Promise<void> {
  const deadline = Date.now() + 10_000;
  while ((await member.call('u1')).served !== side) {
    if (Date.now() > deadline) throw new Error(`${side} did not serve on every instance within 10 s`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

describeWithRedis('a fleet of processes sharing one Redis', (url) => {
  const fleet: Instance[] = [];
  const clients: Redis[] = [];
  const stores: RedisConfigStore[] = [];
  const start = async (n: number, redisUrl: string, configKey: string) => {
    const members = Array.from({ length: n }, (_, i) => new Instance(redisUrl, configKey, `i${i}`));
    fleet.push(...members);
    await Promise.all(members.map((m) => m.ready));
    return members;
  };
  afterEach(async () => {
    for (const member of fleet.splice(0)) member.kill();
    for (const store of stores.splice(0)) await store.close();
  });
  afterAll(() => {
    for (const c of clients.splice(0)) c.disconnect();
  });

  it('a rollback saved from one reaches all the others, and their next call after it goes to old', async () => {
    const key = uniqueKey('fleet-rollback');
    const members = await start(4, url, key);
    for (let round = 0; round < 5; round++) {
      await members[0]!.save(phases.full());
      await Promise.all(members.map((member) => servesEventually(member, 'new')));
      const saver = members[round % members.length]!;
      const others = members.filter((m) => m !== saver);
      const marks = others.map((m) => m.configs.length);
      await saver.save(phases.rolledBack());
      // The promise is "the next call after the store's change reached an instance goes to old":
      // pub/sub and this test's messages travel on different sockets, so wait for each instance
      // to report the change, then call it.
      const served = await Promise.all(
        others.map(async (m, i) => {
          await m.appliedAfter(marks[i]!, (config) => !config.newSystemEnabled);
          return m.call('u1');
        }),
      );
      expect(served.map((s) => s.served)).toEqual(['old', 'old', 'old']);
    }
  }, 40_000);

  it('loses no config change when Redis is killed and restarted', async () => {
    const own = await ownRedis();
    try {
      const key = uniqueKey('fleet-restart');
      const members = await start(4, own.url, key);
      await members[0]!.save(phases.full());
      await Promise.all(members.map((member) => servesEventually(member, 'new')));
      await own.kill();
      // Down: every instance keeps serving its last good config.
      for (const member of members) expect((await member.call('u')).served).toBe('new');
      // A save made while Redis is down waits for it, and is applied everywhere once it is back.
      const pending = members[1]!.save(phases.canary(50));
      await new Promise((resolve) => setTimeout(resolve, 300));
      await own.start();
      await pending;
      for (const member of members) {
        const deadline = Date.now() + 10_000;
        while ((await member.current()).config.newSystemPercentage !== 50) {
          if (Date.now() > deadline) throw new Error('the save made during the outage did not reach every instance');
          await new Promise((resolve) => setTimeout(resolve, 10));
        }
      }
      // The restarted server lost the key: a rollback onto it succeeds and reaches everyone.
      await own.kill();
      await own.start();
      await members[2]!.save(phases.rolledBack());
      await Promise.all(members.map((member) => servesEventually(member, 'old')));
      const logs = await Promise.all(members.map((m) => m.current()));
      for (const { log } of logs) expect(log.filter((line) => /connection lost/.test(line)).length).toBeGreaterThanOrEqual(1);
    } finally {
      for (const member of fleet.splice(0)) member.kill();
      await own.kill();
    }
  }, 60_000);

  it('controllers racing for the lease never both advance, and a dead leader is replaced without skipping or repeating a step', async () => {
    const key = uniqueKey('fleet-lease');
    const observerRedis = client(url);
    clients.push(observerRedis);
    const observer = await RedisConfigStore.connect({ redis: observerRedis, key });
    stores.push(observer);
    const seen: number[] = [];
    observer.subscribe((config) => seen.push(config.newSystemPercentage));
    const members = await start(4, url, key);
    const plan = [1, 2, 5, 10, 25, 50, 75, 90, 100].map((percentage) => ({ percentage, holdMs: 150 }));
    await Promise.all(members.map((m) => m.request('startRamp', { plan, intervalMs: 15, ttlMs: 300 })));
    await until(() => seen.length >= 3, 10_000, 'three steps');
    // Kill whoever leads now (the instance whose save the last step was): the others take over.
    const lease = await observerRedis.get(`${key}:lease`);
    const leader = members.find((m) => lease?.startsWith(`i${members.indexOf(m)}:`));
    expect(leader).toBeDefined();
    leader!.kill();
    await until(() => seen.length >= plan.length, 20_000, 'the whole plan');
    const counts = await Promise.all(members.filter((m) => m !== leader).map((m) => m.request<{ steps: number }>('stopRamp')));
    expect(seen).toEqual(plan.map((s) => s.percentage));
    const taken = counts.reduce((sum, c) => sum + c.steps, 0);
    expect(taken).toBeGreaterThanOrEqual(1);
    expect(taken).toBeLessThanOrEqual(plan.length);
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(seen).toEqual(plan.map((s) => s.percentage));
  }, 40_000);
});
