import { describe, expect, it } from 'vitest';
import { phases } from '../../src/config/phases.js';
import { backfill } from '../../src/data/backfill.js';
import { DualWriteRepository } from '../../src/data/dual-write-repository.js';
import { FileCheckpointStore } from '../../src/data/file-checkpoint-store.js';
import { FileRepairLog } from '../../src/data/file-repair-log.js';
import { silentLogger } from '../../src/observe/logger.js';
import { sqlCheckpointStore } from '../../src/sql/sql-checkpoint-store.js';
import { sqlRepairLog } from '../../src/sql/sql-repair-log.js';
import { sqlRepository } from '../../src/sql/sql-repository.js';
import { sqlTombstoneStore } from '../../src/sql/sql-tombstone-store.js';
import { InMemoryRepository } from '../../src/testing/index.js';
import type { Item } from './repository-conformance.js';
import { itemKey } from './repository-conformance.js';

const repo = () => new InMemoryRepository<Item, string>({ keyOf: itemKey });
const query = async () => ({ rows: [] });

describe('unknown options are refused everywhere in data and sql, naming the nearest known one', () => {
  it.each<[string, () => unknown, RegExp]>([
    ['DualWriteRepository', () => new DualWriteRepository({ name: 'x', old: repo(), new: repo(), keyOf: itemKey, config: phases.shadow(), timeoutMS: 5 } as never), /option `timeoutMS` is not an option of DualWriteRepository; did you mean `timeoutMs`\?/],
    ['DualWriteRepository shadow', () => new DualWriteRepository({ name: 'x', old: repo(), new: repo(), keyOf: itemKey, config: phases.shadow(), shadow: { sampleRatio: 1 } } as never), /option `shadow.sampleRatio` is not an option of DualWriteRepository/],
    ['sqlRepository', () => sqlRepository({ query, table: 't', key: 'id', colums: ['id'] } as never), /option `colums` is not an option of sqlRepository; did you mean `columns`\?/],
    ['sqlRepairLog', () => sqlRepairLog({ query, name: 'x', createTables: false } as never), /did you mean `createTable`\?/],
    ['sqlCheckpointStore', () => sqlCheckpointStore({ query, name: 'x', nmae: 'y' } as never), /option `nmae` is not an option of sqlCheckpointStore; did you mean `name`\?/],
    ['sqlTombstoneStore', () => sqlTombstoneStore({ query, name: 'x', tabel: 't' } as never), /did you mean `table`\?/],
    ['FileRepairLog', () => new FileRepairLog({ path: 'x', loger: silentLogger } as never), /did you mean `logger`\?/],
    ['FileCheckpointStore', () => new FileCheckpointStore({ path: 'x', pth: 'y' } as never), /option `pth` is not an option of FileCheckpointStore; did you mean `path`\?/],
  ])('%s', (_, make, message) => {
    expect(make).toThrow(message);
  });

  it('backfill refuses one before reading', async () => {
    const from = repo();
    await expect(backfill({ from, to: repo(), keyOf: itemKey, logger: silentLogger, batchSise: 5 } as never)).rejects.toThrow(/did you mean `batchSize`\?/);
    expect(from.counts.getBatch).toBe(0);
  });

  it('keeps the checks that span options', () => {
    expect(() => sqlRepository({ query, table: 't', key: 'id', columns: ['name'] })).toThrow(/option `columns` must include the key column "id"/);
    const same = repo();
    expect(() => new DualWriteRepository({ name: 'x', old: same, new: same, keyOf: itemKey, config: phases.shadow() })).toThrow(/option `new` must be a different store/);
  });
});
