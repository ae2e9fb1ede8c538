import { describe, expect, it } from 'vitest';
import { InjectedFailure, MemoryRepository } from './memory-repository.js';
import type { Item } from './repository-conformance.js';
import { describeRepository, item, itemKey } from './repository-conformance.js';

describeRepository('MemoryRepository', async () => ({ repo: new MemoryRepository<Item, string>({ keyOf: itemKey }) }));
describeRepository('MemoryRepository without bulkInsert', async () => ({
  repo: new MemoryRepository<Item, string>({ keyOf: itemKey, bulkInsert: false }),
}));

describe('MemoryRepository fault injection', () => {
  it('fails the next N calls of an operation, then works', async () => {
    const repo = new MemoryRepository<Item, string>({ keyOf: itemKey, name: 'old' }).failNext('save', 2);
    await expect(repo.save(item(1))).rejects.toBeInstanceOf(InjectedFailure);
    await expect(repo.save(item(1))).rejects.toThrow('old: injected save failure on k0001');
    await repo.save(item(1));
    expect(repo.counts.save).toBe(3);
    expect(repo.counts.rowsWritten).toBe(1);
  });

  it('fails every call on one key until healed', async () => {
    const repo = new MemoryRepository<Item, string>({ keyOf: itemKey }).failKey('k0002', 'write');
    await repo.save(item(1));
    await expect(repo.save(item(2))).rejects.toThrow(InjectedFailure);
    await expect(repo.bulkInsert?.([item(3), item(2)])).rejects.toThrow(InjectedFailure);
    expect(repo.snapshot().map(itemKey)).toEqual(['k0001', 'k0003']);
    repo.heal();
    await repo.save(item(2));
    expect(repo.size).toBe(3);
  });

  it('fails in the middle of a bulkInsert after writing some rows', async () => {
    const repo = new MemoryRepository<Item, string>({ keyOf: itemKey }).failMidBatch(2);
    await expect(repo.bulkInsert?.([item(1), item(2), item(3)])).rejects.toThrow(InjectedFailure);
    expect(repo.snapshot().map(itemKey)).toEqual(['k0001', 'k0002']);
  });

  it('hands out copies, so a caller cannot change a stored row', async () => {
    const repo = new MemoryRepository<Item, string>({ keyOf: itemKey });
    const row = item(1);
    await repo.save(row);
    row.qty = 99;
    const read = await repo.get('k0001');
    if (read !== undefined) read.qty = 77;
    expect(await repo.get('k0001')).toEqual(item(1));
  });
});
