import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { InMemoryCheckpointStore } from '../../src/data/checkpoint-store.js';
import { compareKeys } from '../../src/data/keys.js';
import type { KeyRange, RangeChecksum } from '../../src/data/repository.js';
import type { VerifyOptions } from '../../src/data/verify.js';
import { verify } from '../../src/data/verify.js';
import { silentLogger } from '../../src/observe/logger.js';
import { InMemoryRepository } from '../../src/testing/index.js';
import type { Item } from './repository-conformance.js';
import { item, itemKey } from './repository-conformance.js';

/** An in-memory store that checksums key ranges itself, and counts what verify reads. */
class ChecksumRepository extends InMemoryRepository<Item, string> {
  checksums = 0;
  rowsRead = 0;

  constructor(name: string) {
    super({ keyOf: itemKey, name });
  }

  override async getBatch(afterKey: string | null, limit: number): Promise<readonly Item[]> {
    const page = await super.getBatch(afterKey, limit);
    this.rowsRead += page.length;
    return page;
  }

  override async get(key: string): Promise<Item | undefined> {
    const row = await super.get(key);
    if (row !== undefined) this.rowsRead += 1;
    return row;
  }

  async checksum(range: KeyRange<string>): Promise<RangeChecksum<string>> {
    this.checksums += 1;
    let rows = this.snapshot().filter(
      (row) => (range.after === null || compareKeys(row.id, range.after) > 0) && (range.upTo === undefined || range.upTo === null || compareKeys(row.id, range.upTo) <= 0),
    );
    if (range.limit !== undefined) rows = rows.slice(0, range.limit);
    let hash = 0n;
    for (const row of rows) hash += BigInt(`0x${createHash('md5').update(JSON.stringify([row.id, row.name, row.qty])).digest('hex')}`);
    return { count: rows.length, hash, last: rows.length === 0 ? null : (rows[rows.length - 1] as Item).id };
  }
}

function pair(rows: number) {
  const all = Array.from({ length: rows }, (_, i) => item(i * 2));
  const oldRepo = new ChecksumRepository('old').seed(all);
  const newRepo = new ChecksumRepository('new').seed(all);
  return { oldRepo, newRepo };
}

function check(options: Omit<VerifyOptions<Item, string>, 'keyOf'>) {
  return verify({ keyOf: itemKey, logger: silentLogger, sleep: async () => {}, maxListed: 10_000, ...options });
}

type Kind = 'missing' | 'extra' | 'different';

/** Plants one difference per entry into `newRepo`: even keys exist in both, odd ones only where planted. */
function plant(newRepo: ChecksumRepository, plan: readonly (readonly [number, Kind])[]): Record<Kind, string[]> {
  const truth: Record<Kind, string[]> = { missing: [], extra: [], different: [] };
  const seen = new Set<number>();
  for (const [slot, kind] of plan) {
    if (seen.has(slot)) continue;
    seen.add(slot);
    if (kind === 'extra') {
      const row = item(slot * 2 + 1);
      newRepo.seed([row]);
      truth.extra.push(row.id);
    } else {
      const id = item(slot * 2).id;
      if (kind === 'missing') void newRepo.delete(id);
      else newRepo.seed([{ ...item(slot * 2), qty: -1 }]);
      truth[kind].push(id);
    }
  }
  for (const list of Object.values(truth)) list.sort();
  return truth;
}

describe('verify by chunk checksums', () => {
  it('reads nothing but checksums when the stores are equal', async () => {
    const { oldRepo, newRepo } = pair(2_500);
    const report = await check({ old: oldRepo, new: newRepo, chunkRows: 500 });
    expect(report).toMatchObject({ checked: 2_500, missing: { count: 0 }, extra: { count: 0 }, different: { count: 0 } });
    expect(oldRepo.counts.getBatch + newRepo.counts.getBatch + oldRepo.counts.get + newRepo.counts.get).toBe(0);
    // One per chunk on each side, and the final open-ended one.
    expect(oldRepo.checksums).toBe(6);
    expect(newRepo.checksums).toBe(6);
  });

  it('finds exactly the planted differences, reading only the rows around them (property)', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 0, max: 1_000 }),
        fc.array(fc.tuple(fc.nat(), fc.constantFrom<Kind>('missing', 'extra', 'different')), { maxLength: 12 }),
        fc.integer({ min: 1, max: 400 }),
        fc.integer({ min: 1, max: 40 }),
        async (rows, raw, chunkRows, leafRows) => {
          const { oldRepo, newRepo } = pair(rows);
          const plan = rows === 0 ? [] : raw.map(([slot, kind]) => [slot % rows, kind] as const);
          const truth = plant(newRepo, plan);
          const report = await check({ old: oldRepo, new: newRepo, chunkRows, leafRows });
          expect(report.missing.keys).toEqual(truth.missing);
          expect(report.extra.keys).toEqual(truth.extra);
          expect(report.different.keys).toEqual(truth.different);
          expect(report.checked).toBe(rows + truth.extra.length);
          const planted = truth.missing.length + truth.extra.length + truth.different.length;
          // Each difference sits in one leaf range of at most leafRows rows a side, read in one page; re-checks read it twice more.
          expect(oldRepo.rowsRead + newRepo.rowsRead).toBeLessThanOrEqual(planted * (2 * (leafRows + 1) + 4));
        },
      ),
      { numRuns: 30 },
    );
  });

  it('repairs what it finds, and a second run finds nothing', async () => {
    const { oldRepo, newRepo } = pair(300);
    plant(newRepo, [[3, 'missing'], [100, 'different'], [250, 'extra']]);
    expect(await check({ old: oldRepo, new: newRepo, chunkRows: 64, leafRows: 8, repair: true, deleteExtra: true })).toMatchObject({ repaired: 3 });
    expect(newRepo.snapshot()).toEqual(oldRepo.snapshot());
    newRepo.resetCounts();
    expect(await check({ old: oldRepo, new: newRepo, chunkRows: 64 })).toMatchObject({ checked: 300, different: { count: 0 }, missing: { count: 0 }, extra: { count: 0 } });
    expect(newRepo.counts.getBatch).toBe(0);
  });

  it('does not report a row that a live write changed between the checksum and the re-check', async () => {
    const { oldRepo, newRepo } = pair(200);
    newRepo.seed([{ ...item(20), qty: -1 }]);
    const report = await verify({
      old: oldRepo,
      new: newRepo,
      keyOf: itemKey,
      logger: silentLogger,
      chunkRows: 50,
      // The dual write of the key lands before the re-check.
      sleep: async () => void newRepo.seed([item(20)]),
    });
    expect(report).toMatchObject({ transient: 1, different: { count: 0 } });
  });

  it('resumes from its checkpoint after an abort, and ends with the same report', async () => {
    const { oldRepo, newRepo } = pair(1_000);
    plant(newRepo, [[10, 'different'], [900, 'missing']]);
    const checkpoint = new InMemoryCheckpointStore();
    const controller = new AbortController();
    await expect(
      check({ old: oldRepo, new: newRepo, chunkRows: 100, checkpoint, signal: controller.signal, onProgress: (r) => r.checked >= 300 && controller.abort() }),
    ).rejects.toMatchObject({ code: 'ERR_ABORTED' });
    expect(await checkpoint.load()).toMatchObject({ done: false, checked: 300 });
    const report = await check({ old: oldRepo, new: newRepo, chunkRows: 100, checkpoint });
    expect(report).toMatchObject({ checked: 1_000, different: { keys: [item(20).id] }, missing: { keys: [item(1_800).id] } });
  });

  it('compares row by row when only one store can checksum, or with checksum: false', async () => {
    const { oldRepo } = pair(100);
    const plain = new InMemoryRepository<Item, string>({ keyOf: itemKey }).seed(oldRepo.snapshot());
    expect(await check({ old: oldRepo, new: plain })).toMatchObject({ checked: 100 });
    expect(oldRepo.checksums).toBe(0);
    const { oldRepo: a, newRepo: b } = pair(100);
    expect(await check({ old: a, new: b, checksum: false })).toMatchObject({ checked: 100 });
    expect(a.checksums + b.checksums).toBe(0);
    expect(a.counts.getBatch).toBeGreaterThan(0);
  });

  it('fails on a store that breaks the checksum contract instead of looping', async () => {
    const { oldRepo, newRepo } = pair(100);
    newRepo.checksum = async () => ({ count: 'x' }) as never;
    await expect(check({ old: oldRepo, new: newRepo })).rejects.toMatchObject({ code: 'ERR_INVALID_OPTION', option: 'new' });
    const again = pair(100);
    // A chunk that does not move past `after` would be read for ever.
    again.oldRepo.checksum = async (range) => ({ count: 5, hash: 1n, last: range.after ?? 'a' });
    await expect(check({ old: again.oldRepo, new: again.newRepo, chunkRows: 5 })).rejects.toMatchObject({ code: 'ERR_INVALID_KEY' });
  });

  it('refuses unknown and bad options, naming the nearest one', async () => {
    const { oldRepo, newRepo } = pair(1);
    await expect(check({ old: oldRepo, new: newRepo, chunkRow: 5 } as never)).rejects.toThrow(/option `chunkRow` is not an option of verify; did you mean `chunkRows`\?/);
    await expect(check({ old: oldRepo, new: newRepo, leafRows: 0 })).rejects.toMatchObject({ code: 'ERR_INVALID_OPTION', option: 'leafRows' });
    await expect(check({ old: oldRepo, new: newRepo, checksum: 'yes' as never })).rejects.toMatchObject({ code: 'ERR_INVALID_OPTION', option: 'checksum' });
  });
});
