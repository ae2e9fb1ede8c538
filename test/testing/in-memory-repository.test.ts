import { describe, expect, it } from 'vitest';
import { MigrationGlueError } from '../../src/index.js';
import { InMemoryRepository, InjectedFailure } from '../../src/testing/index.js';
import type { RepositoryOp } from '../../src/testing/index.js';
import type { Item } from '../data/repository-conformance.js';
import { describeRepository, item, itemKey } from '../data/repository-conformance.js';

describeRepository('InMemoryRepository', async () => ({ repo: new InMemoryRepository<Item, string>({ keyOf: itemKey }) }));
describeRepository('InMemoryRepository without bulkInsert', async () => ({
  repo: new InMemoryRepository<Item, string>({ keyOf: itemKey, bulkInsert: false }),
}));

const repo = (name?: string) => new InMemoryRepository<Item, string>({ keyOf: itemKey, ...(name === undefined ? {} : { name }) });

describe('InMemoryRepository fault injection', () => {
  it('fails the next N calls of an operation, then works', async () => {
    const store = repo('old').failNext('save', 2);
    await expect(store.save(item(1))).rejects.toBeInstanceOf(InjectedFailure);
    await expect(store.save(item(1))).rejects.toThrow('old: injected save failure on k0001');
    await store.save(item(1));
    expect(store.counts.save).toBe(3);
    expect(store.counts.rowsWritten).toBe(1);
  });

  it('fails only the listed operations, and throws the error you give', async () => {
    const outage = new Error('connection reset');
    const store = repo().seed([item(1)]).failNext(['get', 'getBatch'], 2, () => outage);
    await store.save(item(2));
    await expect(store.get('k0001')).rejects.toBe(outage);
    await expect(store.getBatch(null, 10)).rejects.toBe(outage);
    expect(await store.get('k0001')).toEqual(item(1));
  });

  it('fails every call on one key until healed', async () => {
    const store = repo().failKey('k0002', 'write');
    await store.save(item(1));
    await expect(store.save(item(2))).rejects.toThrow(InjectedFailure);
    await expect(store.bulkInsert?.([item(3), item(2)])).rejects.toThrow(InjectedFailure);
    expect(store.snapshot().map(itemKey)).toEqual(['k0001', 'k0003']);
    expect(await store.get('k0002')).toBeUndefined();
    store.heal();
    await store.save(item(2));
    expect(store.size).toBe(3);
  });

  it('fails in the middle of a bulkInsert after writing some rows', async () => {
    const store = repo().failMidBatch(2);
    const failure = await store.bulkInsert?.([item(1), item(2), item(3)]).catch((err: unknown) => err);
    expect(failure).toBeInstanceOf(InjectedFailure);
    expect(failure).toMatchObject({ op: 'bulkInsert', key: 'k0003' });
    expect(store.snapshot().map(itemKey)).toEqual(['k0001', 'k0002']);
    await store.bulkInsert?.([item(3)]);
    expect(store.size).toBe(3);
  });

  it('fails a run of saves mid-way, naming the save that failed', async () => {
    const store = repo().failMidBatch(1);
    await store.save(item(1));
    await expect(store.save(item(2))).rejects.toThrow('memory: injected save failure on k0002');
    expect(store.counts).toMatchObject({ save: 2, rowsWritten: 1 });
  });

  it('matches its failures by code, not instanceof, across bundled copies', async () => {
    const failure = await repo().failNext('any').get('x').catch((err: unknown) => err);
    expect(InjectedFailure.is(failure)).toBe(true);
    expect(InjectedFailure.is({ code: 'ERR_INJECTED_FAILURE' })).toBe(true);
    expect(InjectedFailure.is(new Error('x'))).toBe(false);
    expect(MigrationGlueError.is(failure)).toBe(false);
  });
});

describe('InMemoryRepository bookkeeping', () => {
  it('counts every operation, failed ones included, and resets the counts', async () => {
    const store = repo().failNext('delete');
    await store.save(item(1));
    await store.get('k0001');
    await store.delete('k0001').catch(() => undefined);
    await store.getBatch(null, 5);
    await store.bulkInsert?.([item(1), item(2)]);
    expect(store.counts).toEqual({ get: 1, save: 1, delete: 1, getBatch: 1, bulkInsert: 1, rowsWritten: 2 });
    store.resetCounts();
    expect(store.counts).toEqual({ get: 0, save: 0, delete: 0, getBatch: 0, bulkInsert: 0, rowsWritten: 0 });
  });

  it('seed and snapshot neither count nor fail', () => {
    const store = repo().failNext('any', 5).seed([item(2), item(1)]);
    expect(store.snapshot().map(itemKey)).toEqual(['k0001', 'k0002']);
    expect(store.counts.save).toBe(0);
  });

  it('runs beforeOp inside each operation, before it fails', async () => {
    const seen: [RepositoryOp, string | undefined][] = [];
    const store = repo().failNext('save');
    store.beforeOp = (op, key) => {
      seen.push([op, key]);
    };
    await store.save(item(1)).catch(() => undefined);
    await store.get('k0001');
    expect(seen).toEqual([
      ['save', 'k0001'],
      ['get', 'k0001'],
    ]);
  });

  it('hands out copies, so a caller cannot change a stored row', async () => {
    const store = repo();
    const row = item(1);
    await store.save(row);
    row.qty = 99;
    const read = await store.get('k0001');
    if (read !== undefined) read.qty = 77;
    expect(await store.get('k0001')).toEqual(item(1));
  });

  it('gives the same rows, counts and failures for the same calls', async () => {
    const run = async () => {
      const store = repo().failKey('k0003', 'save').failNext('save', 1);
      for (let i = 0; i < 6; i++) await store.save(item(i)).catch(() => undefined);
      return { rows: store.snapshot(), counts: { ...store.counts } };
    };
    expect(await run()).toEqual(await run());
  });

  it('refuses bad options, naming them', () => {
    const bad = (make: () => unknown, option: string) => expect(make).toThrow(expect.objectContaining({ code: 'ERR_INVALID_OPTION', option }));
    bad(() => new InMemoryRepository({ keyOf: 'id' as unknown as (item: Item) => string }), 'keyOf');
    bad(() => new InMemoryRepository({ keyOf: itemKey, bulkInsert: 'yes' as unknown as boolean }), 'bulkInsert');
    bad(() => repo().failNext('save', 0), 'times');
    bad(() => repo().failNext('put' as RepositoryOp), 'ops');
    bad(() => repo().failMidBatch(-1), 'after');
  });
});
