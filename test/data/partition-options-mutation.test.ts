import { hostname } from 'node:os';
import { describe, expect, it } from 'vitest';
import type { CheckpointStore } from '../../src/data/checkpoint-store.js';
import { InMemoryCheckpointStore } from '../../src/data/checkpoint-store.js';
import { realSleep } from '../../src/data/options.js';
import type { PartitionedBackfillOptions } from '../../src/data/partition-options.js';
import { resolvePartitionOptions } from '../../src/data/partition-options.js';
import { InMemoryPartitionLeases } from '../../src/data/partition-memory-leases.js';
import { InvalidOptionError } from '../../src/errors.js';
import { silentLogger } from '../../src/observe/logger.js';
import { InMemoryRepository, ManualClock } from '../../src/testing/index.js';

// src/data/partition-options.ts: backfillPartitioned's own options, and
// backfill's passed through to it.

interface Row {
  readonly id: number;
}
const keyOf = (row: Row): number => row.id;
const repo = () => new InMemoryRepository<Row, number>({ keyOf });
const checkpointFor = (_name: string): CheckpointStore => new InMemoryCheckpointStore();

function base(extra: Partial<PartitionedBackfillOptions<Row, number>> = {}): PartitionedBackfillOptions<Row, number> {
  return { from: repo(), to: repo(), keyOf, leases: new InMemoryPartitionLeases(), checkpointFor, partitions: 3, ...extra };
}

/** The InvalidOptionError `run` throws. */
function refusal(run: () => unknown): InvalidOptionError {
  let thrown: unknown;
  try {
    run();
  } catch (err) {
    thrown = err;
  }
  expect(thrown).toBeInstanceOf(InvalidOptionError);
  return thrown as InvalidOptionError;
}

describe('resolvePartitionOptions', () => {
  it('keeps its own options as given and resolves their defaults', () => {
    const leases = new InMemoryPartitionLeases();
    const onProgress = () => {};
    const o = resolvePartitionOptions(base({ leases, onProgress, workerId: 'w-1', retryMs: 25 }));
    expect(o.partitions).toBe(3);
    expect(o.splitAt).toBeUndefined();
    expect(o.leases).toBe(leases);
    expect(o.checkpointFor).toBe(checkpointFor);
    expect(o.workerId).toBe('w-1');
    expect(o.retryMs).toBe(25);
    expect(o.onProgress).toBe(onProgress);

    const d = resolvePartitionOptions(base({ partitions: undefined, splitAt: ['a', 5] as never }));
    expect(d.partitions).toBeUndefined();
    expect(d.splitAt).toEqual(['a', 5]);
    expect(d.retryMs).toBe(1000);
    expect(d.onProgress).toBeUndefined();
  });

  it('names a worker by host and process, with a random part that differs between calls', () => {
    const a = resolvePartitionOptions(base()).workerId;
    const b = resolvePartitionOptions(base()).workerId;
    const prefix = `${hostname()}:${process.pid}:`;
    expect(a.startsWith(prefix)).toBe(true);
    expect(a.slice(prefix.length)).toMatch(/^[0-9a-f]{8}$/);
    expect(b.startsWith(prefix)).toBe(true);
    expect(a).not.toBe(b);
  });

  it('passes exactly the backfill options given on to backfill, and resolves them by backfill\'s rules', () => {
    const from = repo();
    const to = repo();
    const clock = new ManualClock({ start: 0 });
    const o = resolvePartitionOptions(base({ from, to, batchSize: 7, logger: silentLogger, clock, overwrite: true, retryMs: 5, workerId: 'w' }));
    expect(Object.keys(o.backfill).sort()).toEqual(['batchSize', 'clock', 'from', 'keyOf', 'logger', 'overwrite', 'to']);
    expect(o.backfill.from).toBe(from);
    expect(o.backfill.to).toBe(to);
    expect(o.backfill.keyOf).toBe(keyOf);
    expect(o.backfill.batchSize).toBe(7);
    expect(o.backfill.logger).toBe(silentLogger);
    expect(o.resolved).toMatchObject({ from, to, keyOf, batchSize: 7, decide: 'always', minBatchSize: 10, maxBatchSize: 20_000 });
    expect(o.resolved.sleep).toBe(realSleep);
    expect(o.resolved.clock.now()).toBe(0);
  });

  it('passes every backfill option on, and checks them by backfill\'s rules', () => {
    const all = {
      batchSize: 5,
      targetBatchMs: 100,
      minBatchSize: 2,
      maxBatchSize: 50,
      signal: new AbortController().signal,
      maxRowsPerSecond: 10,
      throttle: () => false,
      throttleDelayMs: 7,
      versionOf: (row: Row) => row.id,
      tombstones: { has: async () => false },
      logger: silentLogger,
      clock: new ManualClock({ start: 0 }),
      sleep: async () => {},
      compareKeys: (a: number, b: number) => a - b,
      timeoutMs: 1234,
    };
    const o = resolvePartitionOptions(base(all as never));
    for (const [key, value] of Object.entries(all)) expect((o.backfill as Record<string, unknown>)[key]).toBe(value);
    expect(o.resolved.timeoutMs).toBe(1234);
    expect(o.resolved.compareKeys).toBe(all.compareKeys);
    expect(() => resolvePartitionOptions(base({ minBatchSize: 9, maxBatchSize: 8 }))).toThrow(/option `minBatchSize` must be at most maxBatchSize/);
    expect(() => resolvePartitionOptions(base({ overwrite: true, versionOf: keyOf }))).toThrow(/option `versionOf` cannot be combined/);
  });

  it('refuses both partitions and splitAt, naming splitAt, and neither, naming partitions', () => {
    const both = refusal(() => resolvePartitionOptions(base({ splitAt: [5] })));
    expect(both.option).toBe('splitAt');
    expect(both.message).toBe('[migration-glue] option `splitAt` give exactly one of `partitions` (a number of ranges) and `splitAt` (the boundary keys)');
    const neither = refusal(() => resolvePartitionOptions(base({ partitions: undefined })));
    expect(neither.option).toBe('partitions');
    expect(neither.message).toMatch(/option `partitions` give exactly one of `partitions`/);
  });

  it('takes partitions as an integer from 1 to 10000', () => {
    expect(resolvePartitionOptions(base({ partitions: 1 })).partitions).toBe(1);
    expect(resolvePartitionOptions(base({ partitions: 10_000 })).partitions).toBe(10_000);
    for (const partitions of [0, 10_001, 2.5, Number.NaN, '3']) {
      const err = refusal(() => resolvePartitionOptions(base({ partitions: partitions as never })));
      expect(err.option).toBe('partitions');
      expect(err.message).toMatch(/must be an integer from 1 to 10000/);
    }
  });

  it('takes splitAt as an array of fewer than 10000 string or finite number keys', () => {
    const longest = Array.from({ length: 9999 }, (_, i) => i);
    expect(resolvePartitionOptions(base({ partitions: undefined, splitAt: longest })).splitAt).toBe(longest);
    expect(resolvePartitionOptions(base({ partitions: undefined, splitAt: [] })).splitAt).toEqual([]);
    expect(resolvePartitionOptions(base({ partitions: undefined, splitAt: ['a', 'b'] as never })).splitAt).toEqual(['a', 'b']);
    const bad: unknown[] = [Array.from({ length: 10_000 }, (_, i) => i), [1, Number.POSITIVE_INFINITY], [Number.NaN], [1, null], [{}], [true], [1n], 'abc', { length: 0 }, 5];
    for (const splitAt of bad) {
      const err = refusal(() => resolvePartitionOptions(base({ partitions: undefined, splitAt: splitAt as never })));
      expect(err.option).toBe('splitAt');
      expect(err.message).toMatch(/option `splitAt` must be an array of fewer than 10000 keys, each a string or a finite number, got /);
    }
  });

  it('needs leases with acquire(), a checkpointFor function, a non-empty workerId, a timer retryMs and a function onProgress', () => {
    const cases: [string, Partial<PartitionedBackfillOptions<Row, number>>, RegExp][] = [
      ['leases', { leases: {} as never }, /must be an object with acquire\(\)/],
      ['leases', { leases: undefined as never }, /must be an object with acquire\(\)/],
      ['checkpointFor', { checkpointFor: new InMemoryCheckpointStore() as never }, /must be a function/],
      ['workerId', { workerId: '' }, /must be a non-empty string/],
      ['retryMs', { retryMs: 0 }, /must be a number of ms above 0/],
      ['onProgress', { onProgress: 'log' as never }, /must be a function/],
    ];
    for (const [option, extra, message] of cases) {
      const err = refusal(() => resolvePartitionOptions(base(extra)));
      expect(err.option).toBe(option);
      expect(err.message).toMatch(message);
    }
  });

  it('refuses an unknown option, and backfill\'s own checkpoint and totalRows, naming backfillPartitioned', () => {
    for (const extra of [{ partition: 3 }, { checkpoint: new InMemoryCheckpointStore() }, { totalRows: 10 }]) {
      const err = refusal(() => resolvePartitionOptions(base(extra as never)));
      expect(err.option).toBe(Object.keys(extra)[0]);
      expect(err.message).toMatch(/is not an option of backfillPartitioned/);
    }
  });

  it('refuses a bad backfill option by backfill\'s rules', () => {
    const err = refusal(() => resolvePartitionOptions(base({ batchSize: 0 })));
    expect(err.option).toBe('batchSize');
    expect(() => resolvePartitionOptions(base({ from: {} as never }))).toThrow(/option `from`/);
  });
});
