/**
 * How long a rollback takes to reach a whole fleet: N Node processes (at
 * least 4) share one real Redis through RedisConfigStore; R times, one of
 * them rolls its glue back (`glue.rollback()`, which saves to the store),
 * and we time from just before that call until the last instance's store
 * has applied the rollback (its listener ran). Between rounds the fleet is
 * put back to full and every instance is waited for.
 *
 *   REDIS_URL=redis://127.0.0.1:63790 npx tsx bench/fleet-propagation.ts [--instances 4] [--rollbacks 100]
 *
 * Prints one JSON line on stdout:
 *   {"instances":4,"rollbacks":100,"medianMs":…,"p95Ms":…,"worstMs":…}
 * Exits 1 with a message on stderr when REDIS_URL is not set.
 *
 * Times are wall-clock readings (performance.timeOrigin + performance.now())
 * taken in different processes of one machine.
 */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import { MigrationGlue, phases, silentLogger } from '../src/index.js';
import type { MigrationConfig } from '../src/index.js';
import { RedisConfigStore } from '../src/redis/index.js';

const self = fileURLToPath(import.meta.url);
const now = (): number => performance.timeOrigin + performance.now();

interface ChildMessage {
  readonly kind: 'ready' | 'config' | 'done';
  readonly instance: number;
  readonly at?: number;
  readonly config?: MigrationConfig;
  readonly id?: number;
  readonly startedAt?: number;
  readonly error?: string;
}

interface ParentMessage {
  readonly id: number;
  readonly cmd: 'full' | 'rollback' | 'exit';
}

async function child(): Promise<void> {
  const instance = Number(process.env.FLEET_INSTANCE);
  const redis = new Redis(process.env.REDIS_URL as string);
  const store = await RedisConfigStore.connect({ redis, key: process.env.FLEET_KEY as string, initial: phases.full() });
  const glue = new MigrationGlue<{ userId: string }, string>({
    name: 'fleet-propagation',
    oldService: async () => 'old',
    newService: async () => 'new',
    config: store,
    logger: silentLogger,
  });
  store.subscribe((config) => process.send?.({ kind: 'config', instance, at: now(), config } satisfies ChildMessage));
  process.on('message', (message: ParentMessage) => {
    const run = async (): Promise<number | undefined> => {
      if (message.cmd === 'exit') {
        await glue.close();
        await store.close();
        redis.disconnect();
        process.exit(0);
      }
      if (message.cmd === 'full') {
        await store.save(phases.full());
        return undefined;
      }
      const startedAt = now();
      await glue.rollback('fleet propagation benchmark');
      return startedAt;
    };
    run().then(
      (startedAt) => process.send?.({ kind: 'done', instance, id: message.id, startedAt } satisfies ChildMessage),
      (err: unknown) => process.send?.({ kind: 'done', instance, id: message.id, error: String(err) } satisfies ChildMessage),
    );
  });
  process.send?.({ kind: 'ready', instance, at: now(), config: store.current() } satisfies ChildMessage);
}

function option(name: string, fallback: number, min: number): number {
  const index = process.argv.indexOf(`--${name}`);
  if (index < 0) return fallback;
  const value = Number(process.argv[index + 1]);
  if (!Number.isInteger(value) || value < min) {
    process.stderr.write(`fleet-propagation: --${name} must be an integer >= ${min}, got ${process.argv[index + 1]}\n`);
    process.exit(1);
  }
  return value;
}

function quantile(sorted: readonly number[], q: number): number {
  const rank = Math.max(1, Math.ceil(q * sorted.length));
  return sorted[rank - 1] as number;
}

async function parent(): Promise<void> {
  const url = process.env.REDIS_URL;
  if (url === undefined || url === '') {
    process.stderr.write('fleet-propagation: REDIS_URL is not set; run `npm run redis:start` and export the REDIS_URL it prints\n');
    process.exit(1);
  }
  const instances = option('instances', 4, 4);
  const rollbacks = option('rollbacks', 100, 1);
  const key = `mg-bench:fleet-propagation:${randomBytes(6).toString('hex')}`;
  const children: ChildProcess[] = [];
  // Per instance: the latest config it applied and when.
  const applied = new Map<number, { config: MigrationConfig; at: number }>();
  const waiting = new Map<number, (message: ChildMessage) => void>();
  let changed: (() => void) | undefined;
  let nextId = 0;

  const ready = Array.from({ length: instances }, (_, instance) => {
    const proc = spawn(process.execPath, ['--import', 'tsx', self, '--child'], {
      env: { ...process.env, FLEET_INSTANCE: String(instance), FLEET_KEY: key },
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    children.push(proc);
    return new Promise<void>((resolve, reject) => {
      proc.once('exit', (code) => reject(new Error(`instance ${instance} exited with ${code}`)));
      proc.on('message', (message: ChildMessage) => {
        if (message.kind === 'ready') resolve();
        if ((message.kind === 'config' || message.kind === 'ready') && message.config !== undefined && message.at !== undefined) {
          applied.set(instance, { config: message.config, at: message.at });
          changed?.();
        }
        if (message.kind === 'done' && message.id !== undefined) waiting.get(message.id)?.(message);
      });
    });
  });

  const ask = (instance: number, cmd: ParentMessage['cmd']) =>
    new Promise<ChildMessage>((resolve, reject) => {
      const id = ++nextId;
      waiting.set(id, (message) => {
        waiting.delete(id);
        if (message.error !== undefined) reject(new Error(message.error));
        else resolve(message);
      });
      children[instance]?.send({ id, cmd } satisfies ParentMessage);
    });

  const everyone = (test: (config: MigrationConfig) => boolean, timeoutMs = 10_000) =>
    new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('the fleet did not converge within 10 s')), timeoutMs);
      const check = () => {
        for (let i = 0; i < instances; i++) {
          const seen = applied.get(i);
          if (seen === undefined || !test(seen.config)) return;
        }
        clearTimeout(timer);
        changed = undefined;
        resolve();
      };
      changed = check;
      check();
    });

  const samples: number[] = [];
  try {
    await Promise.all(ready);
    for (let round = 0; round < rollbacks; round++) {
      const saver = round % instances;
      await ask(saver, 'full');
      await everyone((config) => config.newSystemEnabled && config.newSystemPercentage === 100);
      const done = await ask(saver, 'rollback');
      await everyone((config) => !config.newSystemEnabled);
      const startedAt = done.startedAt as number;
      let last = startedAt;
      for (const { at } of applied.values()) if (at > last) last = at;
      samples.push(last - startedAt);
    }
  } finally {
    for (const [i, proc] of children.entries()) {
      if (proc.exitCode === null) proc.send({ id: -1 - i, cmd: 'exit' } satisfies ParentMessage);
    }
    setTimeout(() => {
      for (const proc of children) if (proc.exitCode === null) proc.kill('SIGKILL');
    }, 2000).unref();
  }
  const cleanup = new Redis(url);
  await cleanup.del(key, `${key}:changes`);
  cleanup.disconnect();
  const sorted = [...samples].sort((a, b) => a - b);
  const round2 = (ms: number) => Math.round(ms * 100) / 100;
  process.stdout.write(
    `${JSON.stringify({
      instances,
      rollbacks,
      medianMs: round2(quantile(sorted, 0.5)),
      p95Ms: round2(quantile(sorted, 0.95)),
      worstMs: round2(sorted[sorted.length - 1] as number),
    })}\n`,
  );
}

if (process.argv.includes('--child')) await child();
else await parent();
