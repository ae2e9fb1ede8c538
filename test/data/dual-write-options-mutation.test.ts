import { describe, expect, it } from 'vitest';
import { InMemoryConfigStore } from '../../src/config/in-memory-config-store.js';
import { phases } from '../../src/config/phases.js';
import type { DualWriteRepositoryOptions } from '../../src/data/dual-write-options.js';
import { resolveDualWriteOptions } from '../../src/data/dual-write-options.js';
import { InMemoryRepairLog } from '../../src/data/repair-log.js';
import { InMemoryTombstoneStore } from '../../src/data/tombstone-store.js';
import { silentLogger } from '../../src/observe/logger.js';
import { InMemoryRepository } from '../../src/testing/index.js';
import { ManualClock } from '../../src/testing/manual-clock.js';
import type { Item } from './repository-conformance.js';
import { itemKey } from './repository-conformance.js';

// src/data/dual-write-options.ts: a DualWriteRepository's options, checked
// once, with their defaults.

const repo = () => new InMemoryRepository<Item, string>({ keyOf: itemKey });

function options(extra: Record<string, unknown> = {}): DualWriteRepositoryOptions<Item, string> {
  return { name: 'items', old: repo(), new: repo(), keyOf: itemKey, config: phases.shadow(), logger: silentLogger, ...extra } as DualWriteRepositoryOptions<Item, string>;
}

describe('resolveDualWriteOptions', () => {
  it('resolves the defaults: 30 s for the primary, 5 s after it, shadow reads of 5 s, 1000 at once', () => {
    const o = resolveDualWriteOptions(options());
    expect(o).toMatchObject({ name: 'items', timeoutMs: 30_000, secondaryTimeoutMs: 5_000, shadow: { timeoutMs: 5_000, maxInFlight: 1_000 } });
    expect(o.repairLog).toBeInstanceOf(InMemoryRepairLog);
    expect(o.tombstones).toBeInstanceOf(InMemoryTombstoneStore);
    expect(o.comparator).toBeUndefined();
  });

  it('gives each repository its own default repair log and tombstone store', () => {
    const a = resolveDualWriteOptions(options());
    const b = resolveDualWriteOptions(options());
    expect(a.repairLog).not.toBe(b.repairLog);
    expect(a.tombstones).not.toBe(b.tombstones);
  });

  it('fills in the shadow defaults one by one', () => {
    expect(resolveDualWriteOptions(options({ shadow: {} })).shadow).toEqual({ timeoutMs: 5_000, maxInFlight: 1_000 });
    expect(resolveDualWriteOptions(options({ shadow: { maxInFlight: 3 } })).shadow).toEqual({ timeoutMs: 5_000, maxInFlight: 3 });
    expect(resolveDualWriteOptions(options({ shadow: { timeoutMs: 7 } })).shadow).toEqual({ timeoutMs: 7, maxInFlight: 1_000 });
  });

  it('keeps what was given', () => {
    const repairLog = new InMemoryRepairLog<string>();
    const tombstones = new InMemoryTombstoneStore<string>();
    const comparator = () => true;
    const clock = new ManualClock({ start: 5 });
    const o = resolveDualWriteOptions(options({ repairLog, tombstones, comparator, clock, timeoutMs: 10, secondaryTimeoutMs: 20 }));
    expect(o.repairLog).toBe(repairLog);
    expect(o.tombstones).toBe(tombstones);
    expect(o.comparator).toBe(comparator);
    expect(o.clock.now()).toBe(5);
    expect(o).toMatchObject({ timeoutMs: 10, secondaryTimeoutMs: 20 });
  });

  it('reads a static config through a provider of its own, and a provider as it is', () => {
    const fixed = resolveDualWriteOptions(options({ config: phases.canary(25) }));
    expect(fixed.provider.current()).toEqual(phases.canary(25));
    const store = new InMemoryConfigStore(phases.full());
    expect(resolveDualWriteOptions(options({ config: store })).provider).toBe(store);
  });

  it.each<[string, Record<string, unknown>, RegExp]>([
    ['a blank name', { name: '   ' }, /option `name` must be a non-empty string/],
    ['a name that is not a string', { name: 5 }, /option `name` must be a non-empty string/],
    ['a config of null', { config: null }, /option `config` must be a MigrationConfig or a ConfigProvider/],
    ['a config that is a string', { config: 'shadow' }, /option `config` must be a MigrationConfig or a ConfigProvider/],
    ['a static config that is not valid', { config: { shadowMode: true } }, /newSystemEnabled|MigrationConfig/],
    ['tombstones without clear', { tombstones: { add: () => {}, remove: () => {}, has: () => {} } }, /option `tombstones`/],
    ['tombstones without add', { tombstones: { remove: () => {}, has: () => {}, clear: () => {} } }, /option `tombstones`/],
    ['a repair log without size', { repairLog: { append: () => {}, list: () => {}, remove: () => {} } }, /option `repairLog`/],
    ['a clock without now', { clock: {} }, /option `clock`/],
    ['a maxInFlight of 0', { shadow: { maxInFlight: 0 } }, /option `shadow.maxInFlight`/],
    ['a keyOf that is not a function', { keyOf: 'id' }, /option `keyOf`/],
    ['a new store that is not a repository', { new: {} }, /option `new`/],
  ])('refuses %s, naming the option', (_name, extra, message) => {
    expect(() => resolveDualWriteOptions(options(extra))).toThrow(message);
  });

  it('refuses the same store as old and new', () => {
    const same = repo();
    expect(() => resolveDualWriteOptions(options({ old: same, new: same }))).toThrow(/option `new` must be a different store from `old`/);
  });
});
