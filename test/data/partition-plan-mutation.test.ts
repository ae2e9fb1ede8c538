import { describe, expect, it } from 'vitest';
import type { BoundedCall } from '../../src/data/bounded-call.js';
import { InMemoryCheckpointStore } from '../../src/data/checkpoint-store.js';
import { compareKeys } from '../../src/data/keys.js';
import type { PlanInputs } from '../../src/data/partition-plan.js';
import { planRanges, rangesOf } from '../../src/data/partition-plan.js';
import type { PartitionLease, PartitionLeases } from '../../src/data/partition.js';
import { InMemoryPartitionLeases } from '../../src/data/partition-memory-leases.js';
import { InMemoryRepository } from '../../src/testing/index.js';
import { recordingLogger } from '../helpers.js';
import type { Item } from './repository-conformance.js';
import { itemKey } from './repository-conformance.js';

// src/data/partition-plan.ts: the ranges of a partitioned run, made once
// under a lease, saved, and reused by every worker and every resume.

const compare = compareKeys as (a: string, b: string) => number;

function inputs(extra: Partial<PlanInputs<Item, string>> = {}) {
  const names: string[] = [];
  const call: BoundedCall = (what, fn) => {
    names.push(what);
    return Promise.resolve(fn());
  };
  const sleeps: number[] = [];
  const logger = recordingLogger();
  const store = new InMemoryCheckpointStore();
  const p: PlanInputs<Item, string> = {
    from: new InMemoryRepository<Item, string>({ keyOf: itemKey }),
    partitions: undefined,
    splitAt: ['m'],
    store,
    leases: new InMemoryPartitionLeases(),
    owner: 'w1',
    compare,
    call,
    sleep: async (ms) => void sleeps.push(ms),
    retryMs: 25,
    signal: undefined,
    logger,
    ...extra,
  };
  return { p, names, sleeps, logger, store };
}

describe('rangesOf', () => {
  it('makes one range more than boundary keys, each after the previous key up to its own', () => {
    expect(rangesOf(['f', 'p'], compare)).toEqual([
      { index: 0, after: null, upTo: 'f' },
      { index: 1, after: 'f', upTo: 'p' },
      { index: 2, after: 'p', upTo: null },
    ]);
    expect(rangesOf([], compare)).toEqual([{ index: 0, after: null, upTo: null }]);
  });

  it('refuses boundary keys that are not strictly ascending, naming the pair', () => {
    expect(() => rangesOf(['a', 'c', 'b'], compare)).toThrow(/option `splitAt`.*"c" is not before "b"/);
    expect(() => rangesOf(['a', 'a'], compare)).toThrow(/option `splitAt`/);
    expect(() => rangesOf(['b', 'a'], compare)).toThrow(/"b" is not before "a"/);
  });
});

describe('planRanges', () => {
  it('makes the plan from splitAt under the plan lease, saves it, and gives the lease back', async () => {
    const { p, names, store } = inputs({ splitAt: ['f', 'p'] });
    const ranges = await planRanges(p);
    expect(ranges.map((r) => [r.after, r.upTo])).toEqual([
      [null, 'f'],
      ['f', 'p'],
      ['p', null],
    ]);
    expect(await store.load()).toEqual({ kind: 'partition-plan', parts: -1, splitAt: ['f', 'p'] });
    expect(names).toEqual(['checkpointFor(plan).load', 'leases.acquire(plan)', 'checkpointFor(plan).load', 'checkpointFor(plan).save']);
    expect(await p.leases.acquire('plan', 'w2')).toBeDefined();
  });

  it('asks from to split its keys into `partitions` parts', async () => {
    const asked: number[] = [];
    const from = Object.assign(new InMemoryRepository<Item, string>({ keyOf: itemKey }), {
      splitKeys: async (parts: number) => (asked.push(parts), ['d', 'h', 'q']),
    });
    const { p, names, store } = inputs({ from, partitions: 4, splitAt: undefined });
    expect(await planRanges(p)).toHaveLength(4);
    expect(asked).toEqual([4]);
    expect(names).toContain('from.splitKeys');
    expect(await store.load()).toEqual({ kind: 'partition-plan', parts: 4, splitAt: ['d', 'h', 'q'] });
  });

  it('reuses a saved plan without taking the lease', async () => {
    const { p, names, store } = inputs({ splitAt: ['f'] });
    await store.save({ kind: 'partition-plan', parts: -1, splitAt: ['f'] });
    expect(await planRanges(p)).toHaveLength(2);
    expect(names).toEqual(['checkpointFor(plan).load']);
  });

  it('waits retryMs while another worker holds the plan lease, then uses the plan it saved', async () => {
    const leases = new InMemoryPartitionLeases();
    await leases.acquire('plan', 'w2');
    const { p, sleeps, store, names } = inputs({ leases, splitAt: ['f'] });
    const sleep = async (ms: number) => {
      sleeps.push(ms);
      await store.save({ kind: 'partition-plan', parts: -1, splitAt: ['f'] });
    };
    expect(await planRanges({ ...p, sleep })).toHaveLength(2);
    expect(sleeps).toEqual([25]);
    expect(names).toEqual(['checkpointFor(plan).load', 'leases.acquire(plan)', 'checkpointFor(plan).load']);
  });

  it('uses the plan another worker saved between its first look and taking the lease', async () => {
    const { p, store } = inputs({ splitAt: ['f'] });
    const released: string[] = [];
    const leases: PartitionLeases = {
      acquire: async () => {
        await store.save({ kind: 'partition-plan', parts: -1, splitAt: ['f'] });
        const lease: PartitionLease = { renew: async () => true, release: async () => void released.push('plan') };
        return lease;
      },
    };
    const saves: unknown[] = [];
    const watched = { load: () => store.load(), save: async (s: unknown) => void saves.push(s), clear: () => store.clear() };
    expect(await planRanges({ ...p, leases, store: watched })).toHaveLength(2);
    expect(saves).toEqual([]);
    expect(released).toEqual(['plan']);
  });

  it('gives the plan lease back when planning fails, and logs a release that fails', async () => {
    const released: string[] = [];
    const leases: PartitionLeases = {
      acquire: async () => ({ renew: async () => true, release: async () => void released.push('plan') }),
    };
    const { p } = inputs({ leases, splitAt: ['b', 'a'] });
    await expect(planRanges(p)).rejects.toThrow(/option `splitAt`/);
    expect(released).toEqual(['plan']);

    const failing: PartitionLeases = {
      acquire: async () => ({
        renew: async () => true,
        release: async () => {
          throw new Error('lease store down');
        },
      }),
    };
    const second = inputs({ leases: failing, splitAt: ['f'] });
    expect(await planRanges(second.p)).toHaveLength(2);
    expect(second.logger.lines.filter((line) => line.level === 'warn')).toHaveLength(1);
  });

  it('refuses to go on with other partitions or other splitAt than the saved plan', async () => {
    const byParts = inputs({ partitions: 3, splitAt: undefined });
    await byParts.store.save({ kind: 'partition-plan', parts: 4, splitAt: ['a', 'b', 'c'] });
    await expect(planRanges(byParts.p)).rejects.toThrow(/option `partitions` differs from the plan .*\(partitions 4\)/);

    const byKeys = inputs({ splitAt: ['g'] });
    await byKeys.store.save({ kind: 'partition-plan', parts: -1, splitAt: ['f'] });
    await expect(planRanges(byKeys.p)).rejects.toThrow(/option `splitAt` differs from the plan .*\(splitAt \["f"\]\)/);

    const switched = inputs({ splitAt: ['f'] });
    await switched.store.save({ kind: 'partition-plan', parts: 2, splitAt: ['f'] });
    await expect(planRanges(switched.p)).rejects.toThrow(/option `splitAt`.*\(partitions 2\)/);

    const sameParts = inputs({ partitions: 2, splitAt: undefined });
    await sameParts.store.save({ kind: 'partition-plan', parts: 2, splitAt: ['k'] });
    expect((await planRanges(sameParts.p)).map((r) => r.upTo)).toEqual(['k', null]);
  });

  it.each<[string, unknown]>([
    ['another kind', { kind: 'backfill', parts: -1, splitAt: [] }],
    ['no parts', { kind: 'partition-plan', splitAt: [] }],
    ['no splitAt list', { kind: 'partition-plan', parts: -1, splitAt: 'f' }],
  ])('refuses a plan store holding %s', async (_, value) => {
    const { p, store } = inputs();
    await store.save(value);
    await expect(planRanges(p)).rejects.toMatchObject({ code: 'ERR_INVALID_OPTION', option: 'checkpointFor' });
  });

  it('refuses partitions when from cannot split its keys', async () => {
    const { p } = inputs({ partitions: 2, splitAt: undefined });
    await expect(planRanges(p)).rejects.toMatchObject({ code: 'ERR_INVALID_OPTION', option: 'partitions' });
  });

  it.each<[string, unknown]>([
    ['no array', 'a,b'],
    ['as many keys as parts', ['a', 'b', 'c']],
    ['a key that is no string or number', ['a', { k: 1 }]],
    ['a number that is not finite', [1, Number.POSITIVE_INFINITY]],
  ])('refuses a splitter answering %s, naming from', async (_, answer) => {
    const from = Object.assign(new InMemoryRepository<Item, string>({ keyOf: itemKey }), { splitKeys: async () => answer as string[] });
    const { p } = inputs({ from, partitions: 3, splitAt: undefined });
    await expect(planRanges(p)).rejects.toMatchObject({ code: 'ERR_INVALID_OPTION', option: 'from' });
  });

  it('accepts fewer keys than parts, numbers among them', async () => {
    const from = Object.assign(new InMemoryRepository<Item, number>({ keyOf: () => 0 }), { splitKeys: async () => [5] });
    const { p } = inputs();
    const ranges = await planRanges({ ...(p as unknown as PlanInputs<Item, number>), from, partitions: 3, splitAt: undefined, compare: compareKeys });
    expect(ranges.map((r) => r.upTo)).toEqual([5, null]);
  });
});

describe('planRanges, what it says', () => {
  it('logs the plan it made with the number of ranges and the worker', async () => {
    const { p, logger } = inputs({ splitAt: ['f', 'p'], owner: 'w7' });
    await planRanges(p);
    expect(logger.lines.filter((line) => line.level === 'info').map((line) => line.context)).toEqual([{ ranges: 3, worker: 'w7' }]);
  });

  it('logs the error of a plan lease that cannot be released', async () => {
    const failure = new Error('lease store down');
    const leases: PartitionLeases = {
      acquire: async () => ({
        renew: async () => true,
        release: async () => {
          throw failure;
        },
      }),
    };
    const { p, logger } = inputs({ leases, splitAt: ['f'] });
    await planRanges(p);
    expect(logger.lines.filter((line) => line.level === 'warn').map((line) => line.context)).toEqual([{ err: failure }]);
  });

  it('says how to give the ranges when from cannot split its keys', async () => {
    const { p } = inputs({ partitions: 2, splitAt: undefined });
    await expect(planRanges(p)).rejects.toThrow(/option `partitions` needs a `from` that can split its keys \(splitKeys\(n\), as sqlRepository has\); give the boundaries with `splitAt` instead/);
  });

  it('says what a splitter that breaks its contract answered', async () => {
    const from = Object.assign(new InMemoryRepository<Item, string>({ keyOf: itemKey }), { splitKeys: async () => ['a', 'b', 'c'] });
    const { p } = inputs({ from, partitions: 3, splitAt: undefined });
    await expect(planRanges(p)).rejects.toThrow(/option `from` breaks the KeySplitter contract: splitKeys\(3\) resolved with an array, not fewer than 3 string or number keys/);
  });

  it('says what a plan store holds that is not a plan', async () => {
    const { p, store } = inputs();
    await store.save({ kind: 'backfill' });
    await expect(planRanges(p)).rejects.toThrow(/option `checkpointFor` gave a `plan` store holding something other than a partition plan: an object/);
  });

  it('reads a plan store answering null as one holding no plan yet', async () => {
    const { p, store } = inputs({ splitAt: ['f'] });
    const nullStore = { load: async () => null, save: (s: unknown) => store.save(s), clear: () => store.clear() };
    expect(await planRanges({ ...p, store: nullStore })).toHaveLength(2);
    expect(await store.load()).toEqual({ kind: 'partition-plan', parts: -1, splitAt: ['f'] });
  });
});

describe('rangesOf, how it compares', () => {
  it('compares each pair of neighbouring keys once, and nothing past the last key', () => {
    const pairs: [unknown, unknown][] = [];
    const recording = (a: string, b: string) => {
      pairs.push([a, b]);
      return compare(a, b);
    };
    expect(rangesOf(['f', 'p', 't'], recording)).toHaveLength(4);
    expect(pairs).toEqual([
      ['f', 'p'],
      ['p', 't'],
    ]);
  });
});
