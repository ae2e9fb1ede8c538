import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { setImmediate as yieldOnce } from 'node:timers/promises';
import type { Redis } from 'ioredis';
import { describe, expect, it } from 'vitest';
import type { CheckpointStore } from '../../src/data/checkpoint-store.js';
import { InMemoryCheckpointStore } from '../../src/data/checkpoint-store.js';
import { FileCheckpointStore } from '../../src/data/file-checkpoint-store.js';
import { backfillPartitioned } from '../../src/data/partition-backfill.js';
import { silentLogger } from '../../src/observe/logger.js';
import { redisPartitionLeases } from '../../src/redis/redis-partition-leases.js';
import { InMemoryRepository } from '../../src/testing/index.js';
import { FileRepository } from '../data/fixtures/file-repository.js';
import type { Item } from '../data/repository-conformance.js';
import { itemKey } from '../data/repository-conformance.js';
import { BATCH, ROWS, SPLIT_AT, source } from './fixtures/partition-lease-rows.js';
import { describeWithRedis, redisPool, uniqueKey } from './redis-env.js';

const child = path.join(import.meta.dirname, 'fixtures', 'partition-lease-child.ts');

describe('redisPartitionLeases options', () => {
  const fakeRedis = { duplicate: () => fakeRedis, eval: () => {}, get: () => {} } as unknown as Redis;
  it('names a bad option and suggests the nearest name for an unknown one', () => {
    expect(() => redisPartitionLeases({ redis: fakeRedis, prefix: 'p:', ttlMs: 5 })).toThrow(/option `ttlMs` must be a finite number of milliseconds, at least 100, got 5/);
    expect(() => redisPartitionLeases({ redis: {} as Redis, prefix: 'p:' })).toThrow(/option `redis` must be an ioredis client/);
    expect(() => redisPartitionLeases({ redis: fakeRedis, prefix: '' })).toThrow(/option `prefix`/);
    expect(() => redisPartitionLeases({ redis: fakeRedis, prefix: 'p:', ttl: 100 } as never)).toThrow(/did you mean `ttlMs`/);
  });
});

/** Starts a child worker and SIGKILLs it once it wrote `afterBatches` batches. */
function killMidway(dir: string, url: string, prefix: string, afterBatches: number): Promise<{ signal: NodeJS.Signals | null; batches: number }> {
  return new Promise((resolve, reject) => {
    const proc = spawn(process.execPath, ['--import', 'tsx', child, dir, url, prefix], { stdio: ['ignore', 'pipe', 'inherit'] });
    let batches = 0;
    let buffered = '';
    proc.stdout.setEncoding('utf8');
    proc.stdout.on('data', (chunk: string) => {
      buffered += chunk;
      const lines = buffered.split('\n');
      buffered = lines.pop() ?? '';
      batches += lines.filter((line) => line.startsWith('batch ')).length;
      if (batches >= afterBatches) proc.kill('SIGKILL');
    });
    proc.on('error', reject);
    proc.on('exit', (_code, signal) => resolve({ signal, batches }));
  });
}

describeWithRedis('redisPartitionLeases', (url) => {
  const { redis } = redisPool(url);

  it('lets one holder at a time have a lease; only the holder renews or releases it', async () => {
    const prefix = `${uniqueKey('partition')}:`;
    const a = redisPartitionLeases({ redis: redis(), prefix, ttlMs: 60_000 });
    const b = redisPartitionLeases({ redis: redis(), prefix, ttlMs: 60_000 });
    const held = await a.acquire('range-0', 'a');
    expect(held).toBeDefined();
    expect(await b.acquire('range-0', 'b')).toBeUndefined();
    expect(await a.acquire('range-0', 'a again')).toBeUndefined();
    const inspector = redis();
    expect(await inspector.get(`${prefix}range-0`)).toMatch(/^a:/);
    expect(await inspector.pttl(`${prefix}range-0`)).toBeGreaterThan(50_000);
    expect(await held?.renew()).toBe(true);
    // Someone else's lease is neither renewed nor released by a holder that lost it.
    await inspector.set(`${prefix}range-0`, 'intruder', 'PX', 60_000);
    expect(await held?.renew()).toBe(false);
    await held?.release();
    expect(await inspector.get(`${prefix}range-0`)).toBe('intruder');
    await inspector.del(`${prefix}range-0`);
    const again = await b.acquire('range-0', 'b');
    expect(again).toBeDefined();
    await again?.release();
    expect(await inspector.exists(`${prefix}range-0`)).toBe(0);
  });

  it('a lease that expired in Redis no longer renews, and is free for another worker', async () => {
    const prefix = `${uniqueKey('partition')}:`;
    const a = redisPartitionLeases({ redis: redis(), prefix, ttlMs: 60_000 });
    const held = await a.acquire('range-1', 'a');
    // Expiry made explicit: the key is removed as Redis does when the TTL runs out.
    const inspector = redis();
    await inspector.pexpire(`${prefix}range-1`, 1);
    for (let i = 0; i < 2_000 && (await inspector.exists(`${prefix}range-1`)) === 1; i++) await new Promise((resolve) => setTimeout(resolve, 5));
    expect(await inspector.exists(`${prefix}range-1`)).toBe(0);
    expect(await held?.renew()).toBe(false);
    const b = await redisPartitionLeases({ redis: redis(), prefix, ttlMs: 60_000 }).acquire('range-1', 'b');
    expect(b).toBeDefined();
    await b?.release();
    await held?.release();
  });

  it('two workers on two connections split the ranges and end with the same result, each row copied once', async () => {
    const prefix = `${uniqueKey('partition')}:`;
    const from = source();
    const target = new InMemoryRepository<Item, string>({ keyOf: itemKey });
    // Each write lets the event loop turn, as a real store does: the workers interleave.
    const to = Object.create(target) as InMemoryRepository<Item, string>;
    to.bulkInsert = async (entities) => {
      await yieldOnce();
      return (target.bulkInsert as NonNullable<typeof target.bulkInsert>)(entities);
    };
    const checkpoints = new Map<string, CheckpointStore>();
    const checkpointFor = (name: string): CheckpointStore => checkpoints.get(name) ?? (checkpoints.set(name, new InMemoryCheckpointStore()).get(name) as CheckpointStore);
    const ranges: Record<string, Set<number>> = { a: new Set(), b: new Set() };
    const worker = (id: 'a' | 'b') =>
      backfillPartitioned({
        from,
        to,
        keyOf: itemKey,
        batchSize: BATCH,
        splitAt: SPLIT_AT,
        leases: redisPartitionLeases({ redis: redis(), prefix }),
        checkpointFor,
        workerId: id,
        retryMs: 20,
        logger: silentLogger,
        // The batches each worker wrote (not the totals of ranges it found done).
        onProgress: (p) => void (p.rangeDone || ranges[id]?.add(p.range)),
      });
    const [a, b] = await Promise.all([worker('a'), worker('b')]);
    expect(a).toEqual(b);
    expect(a.copied).toBe(ROWS);
    expect(target.snapshot()).toEqual(from.snapshot());
    expect(target.counts.rowsWritten).toBe(ROWS);
    expect(ranges.a?.size).toBeGreaterThan(0);
    expect(ranges.b?.size).toBeGreaterThan(0);
    expect([...(ranges.a ?? [])].filter((r) => ranges.b?.has(r))).toEqual([]);
    // Every lease was given back.
    expect(await redis().keys(`${prefix}*`)).toEqual([]);
  });

  it('a worker SIGKILLed mid-range: another takes its range over when the lease expires, and the target equals the source', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'partition-crash-'));
    const prefix = `${uniqueKey('partition')}:`;
    const { signal, batches } = await killMidway(dir, url, prefix, 12);
    expect(signal).toBe('SIGKILL');
    expect(batches).toBeLessThan(ROWS / BATCH);
    const target = new FileRepository<Item, string>(path.join(dir, 'target.jsonl'), itemKey);
    const before = target.puts;
    expect(before).toBeGreaterThan(0);
    const from = source();
    const result = await backfillPartitioned({
      from,
      to: target,
      keyOf: itemKey,
      batchSize: BATCH,
      splitAt: SPLIT_AT,
      leases: redisPartitionLeases({ redis: redis(), prefix, ttlMs: 1_000 }),
      checkpointFor: (name) => new FileCheckpointStore({ path: path.join(dir, `${name}.json`) }),
      workerId: 'survivor',
      retryMs: 50,
      logger: silentLogger,
    });
    const reopened = new FileRepository<Item, string>(path.join(dir, 'target.jsonl'), itemKey);
    expect(await reopened.getBatch(null, ROWS + 1)).toEqual(from.snapshot());
    expect(result.copied + result.skipped).toBe(ROWS);
    // Only the batch in flight when the worker died may be written twice.
    expect(reopened.puts).toBeLessThanOrEqual(ROWS + BATCH);
  }, 60_000);
});
