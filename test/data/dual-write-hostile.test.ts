import { describe, expect, it } from 'vitest';
import { InMemoryConfigStore } from '../../src/config/in-memory-config-store.js';
import type { MigrationConfig } from '../../src/config/migration-config.js';
import { phases } from '../../src/config/phases.js';
import { MigrationGlueError } from '../../src/errors.js';
import type { Logger } from '../../src/observe/logger.js';
import { silentLogger } from '../../src/observe/logger.js';
import { DualWriteRepository } from '../../src/data/dual-write-repository.js';
import type { DualWriteRepositoryOptions } from '../../src/data/dual-write-repository.js';
import type { RepairLog } from '../../src/data/repair-log.js';
import { InMemoryRepairLog } from '../../src/data/repair-log.js';
import { InMemoryRepository } from '../../src/testing/index.js';
import type { Item } from './repository-conformance.js';
import { item, itemKey } from './repository-conformance.js';

const never = <T>(): Promise<T> => new Promise<T>(() => {});

function revokedProxy(): object {
  const { proxy, revoke } = Proxy.revocable({}, {});
  revoke();
  return proxy;
}

function throwingGetters(): object {
  return {
    get message(): string {
      throw new Error('message getter');
    },
    get name(): string {
      throw new Error('name getter');
    },
    get then(): never {
      throw new Error('then getter');
    },
  };
}

type Options = Partial<DualWriteRepositoryOptions<Item, string>>;

function setup(config: MigrationConfig = phases.shadow(), extra: Options = {}) {
  const store = new InMemoryConfigStore(config);
  const oldRepo = new InMemoryRepository<Item, string>({ keyOf: itemKey, name: 'old' });
  const newRepo = new InMemoryRepository<Item, string>({ keyOf: itemKey, name: 'new' });
  const dual = new DualWriteRepository<Item, string>({
    name: 'items',
    old: oldRepo,
    new: newRepo,
    keyOf: itemKey,
    config: store,
    logger: silentLogger,
    secondaryTimeoutMs: 20,
    shadow: { timeoutMs: 20 },
    ...extra,
  });
  return { store, oldRepo, newRepo, dual };
}

function recordingLogger(): Logger & { lines: { level: string; message: string | undefined }[] } {
  const lines: { level: string; message: string | undefined }[] = [];
  const at = (level: string) => (_context: object, message?: string) => {
    lines.push({ level, message });
  };
  return { lines, debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
}

describe('when the secondary never answers a write', () => {
  it("resolves with the primary's outcome and records the write in the repair log", async () => {
    const { dual, oldRepo, newRepo } = setup();
    newRepo.save = () => never();
    await dual.save(item(1));
    expect(oldRepo.snapshot()).toEqual([item(1)]);
    expect(await dual.repairLog.list(null, 10)).toMatchObject([{ key: 'k0001', op: 'save', side: 'new', error: expect.stringMatching(/timed out/) }]);
    expect(dual.stats().writes).toMatchObject({ acknowledged: 1, secondaryFailures: 1, secondaryTimeouts: 1 });
  });

  it('lets later writes of the same key through instead of queueing them behind it', async () => {
    const { dual, oldRepo, newRepo } = setup(phases.full());
    const hung = oldRepo.save.bind(oldRepo);
    oldRepo.save = () => never();
    await dual.save({ ...item(1), qty: 1 });
    await dual.save({ ...item(1), qty: 2 });
    await dual.delete(item(2).id);
    oldRepo.save = hung;
    expect(newRepo.snapshot()).toEqual([{ ...item(1), qty: 2 }]);
    expect(await dual.repairLog.size()).toBe(2);
  });

  it('leaves a key whose hung write may still land out of repair until it settles', async () => {
    const { dual, oldRepo, newRepo } = setup();
    let land: (() => void) | undefined;
    const save = newRepo.save.bind(newRepo);
    newRepo.save = (entity) =>
      new Promise<void>((resolve) => {
        land = () => void save(entity).then(resolve);
      });
    await dual.save({ ...item(1), qty: 1 });
    newRepo.save = save;
    await dual.save({ ...item(1), qty: 2 });
    expect(await dual.repair()).toMatchObject({ replayed: 0, failed: 1, remaining: 1 });
    land?.();
    await new Promise((resolve) => setTimeout(resolve, 0));
    // The late write of qty 1 landed over qty 2; the repair puts the acknowledged row back.
    expect(newRepo.snapshot()).toEqual([{ ...item(1), qty: 1 }]);
    expect(await dual.repair()).toMatchObject({ replayed: 1, failed: 0, remaining: 0 });
    expect(newRepo.snapshot()).toEqual(oldRepo.snapshot());
  });
});

describe('when the primary never answers a write', () => {
  it('rejects with ERR_TIMEOUT, writes no secondary, and frees the key', async () => {
    const { dual, oldRepo, newRepo } = setup(phases.shadow(), { timeoutMs: 20 });
    const save = oldRepo.save.bind(oldRepo);
    oldRepo.save = () => never();
    const failure = await dual.save(item(1)).catch((err: unknown) => err);
    expect(MigrationGlueError.is(failure, 'ERR_TIMEOUT')).toBe(true);
    expect(newRepo.counts.save).toBe(0);
    oldRepo.save = save;
    await dual.save({ ...item(1), qty: 7 });
    expect(newRepo.snapshot()).toEqual([{ ...item(1), qty: 7 }]);
  });
});

describe('when a served read never answers', () => {
  it('rejects with ERR_TIMEOUT; in canary with fallback, old serves it', async () => {
    const { dual, oldRepo, newRepo } = setup(phases.full(), { timeoutMs: 20 });
    oldRepo.seed([item(1)]);
    newRepo.get = () => never();
    const failure = await dual.get(item(1).id).catch((err: unknown) => err);
    expect(MigrationGlueError.is(failure, 'ERR_TIMEOUT')).toBe(true);
    const canary = setup(phases.canary(99.99), { timeoutMs: 20 });
    canary.oldRepo.seed([item(1)]);
    canary.newRepo.get = () => never();
    expect(await canary.dual.get(item(1).id)).toEqual(item(1));
    expect(canary.dual.stats().reads.fallbacks).toBe(1);
  });
});

describe('when new never answers a shadow read', () => {
  it('times the read out, counts it, and drain() resolves', async () => {
    const { dual, oldRepo, newRepo } = setup();
    oldRepo.seed([item(1)]);
    newRepo.get = () => never();
    const errors: unknown[] = [];
    dual.on('shadowError', (event) => errors.push(event.error));
    expect(await dual.get(item(1).id)).toEqual(item(1));
    await dual.drain();
    expect(MigrationGlueError.is(errors[0], 'ERR_TIMEOUT')).toBe(true);
    expect(dual.stats().shadow).toMatchObject({ errors: 1, timeouts: 1, inFlight: 0 });
  });

  it('shadows at most maxInFlight reads at once and counts the rest as skipped', async () => {
    const { dual, oldRepo, newRepo } = setup(phases.shadow(), { shadow: { timeoutMs: 60_000, maxInFlight: 3 } });
    oldRepo.seed([item(1)]);
    newRepo.get = () => never();
    for (let i = 0; i < 10; i++) expect(await dual.get(item(1).id)).toEqual(item(1));
    expect(dual.stats().shadow).toMatchObject({ inFlight: 3, skipped: 7 });
  });
});

describe('when the comparator misbehaves in shadow reads', () => {
  it.each([
    ['throws', () => { throw new Error('comparator broke'); }],
    ['throws a revoked Proxy', () => { throw revokedProxy(); }],
    ['returns garbage', () => 'yes'],
    ['returns null', () => null],
  ])('%s: the caller gets old and a shadow error is counted', async (_name, compare) => {
    const { dual, oldRepo, newRepo } = setup(phases.shadow(), { comparator: { compare } as never });
    oldRepo.seed([item(1)]);
    newRepo.seed([item(1)]);
    expect(await dual.get(item(1).id)).toEqual(item(1));
    await dual.drain();
    expect(dual.stats().shadow.errors).toBe(1);
  });
});

describe('when a store throws synchronously or rejects with odd values', () => {
  const odd: [string, () => unknown][] = [
    ['null', () => null],
    ['undefined', () => undefined],
    ['a revoked Proxy', revokedProxy],
    ['an object with throwing getters', throwingGetters],
    ['a string', () => 'nope'],
  ];

  /** The rejection reason, kept in a box: resolving a promise with a revoked Proxy or a throwing `then` would throw. */
  async function reasonOf(pending: Promise<unknown>): Promise<{ rejected: boolean; reason?: unknown }> {
    const box: { rejected: boolean; reason?: unknown } = { rejected: false };
    await pending.catch((reason: unknown) => {
      box.rejected = true;
      box.reason = reason;
    });
    return box;
  }

  it.each(odd)('primary rejects with %s: the caller gets that very value', async (_name, make) => {
    const { dual, oldRepo, newRepo } = setup();
    const value = make();
    oldRepo.save = () => Promise.reject(value);
    const box = await reasonOf(dual.save(item(1)));
    expect(box.rejected).toBe(true);
    expect(box.reason === value).toBe(true);
    expect(newRepo.counts.save).toBe(0);
  });

  it.each(odd)('primary throws %s synchronously: the promise rejects with it', async (_name, make) => {
    const { dual, oldRepo } = setup();
    const value = make();
    oldRepo.delete = () => {
      throw value;
    };
    const pending = dual.delete(item(1).id);
    expect(pending).toBeInstanceOf(Promise);
    const box = await reasonOf(pending);
    expect(box.rejected).toBe(true);
    expect(box.reason === value).toBe(true);
  });

  it.each(odd)('secondary throws %s synchronously: the write resolves and is recorded', async (_name, make) => {
    const logger = recordingLogger();
    const { dual, oldRepo, newRepo } = setup(phases.shadow(), { logger });
    const value = make();
    newRepo.save = () => {
      throw value;
    };
    await dual.save(item(1));
    expect(oldRepo.snapshot()).toEqual([item(1)]);
    expect(await dual.repairLog.list(null, 10)).toMatchObject([{ key: 'k0001', op: 'save', side: 'new', error: expect.any(String) }]);
  });

  it('a store method that returns a non-promise still works', async () => {
    const { dual, oldRepo, newRepo } = setup(phases.full());
    newRepo.seed([item(1)]);
    newRepo.get = ((key: string) => (key === item(1).id ? item(1) : undefined)) as never;
    oldRepo.save = (() => undefined) as never;
    expect(await dual.get(item(1).id)).toEqual(item(1));
    await dual.save(item(2));
    expect(await dual.repairLog.size()).toBe(0);
  });

  it('a get that returns a cyclic value reaches the caller unchanged, and the shadow comparison survives it', async () => {
    const { dual, oldRepo, newRepo } = setup();
    const cyclic: Record<string, unknown> = { id: 'k0001' };
    cyclic.self = cyclic;
    oldRepo.get = async () => cyclic as never;
    newRepo.get = async () => ({ id: 'k0001', self: { id: 'other' } }) as never;
    expect(await dual.get('k0001')).toBe(cyclic);
    await dual.drain();
    const shadow = dual.stats().shadow;
    expect(shadow.compared).toBe(1);
    expect(shadow.mismatches + shadow.errors).toBe(1);
  });
});

describe('when keyOf misbehaves', () => {
  it.each([
    ['undefined', undefined],
    ['an object', { id: 1 }],
    ['NaN', Number.NaN],
    ['a symbol', Symbol('k')],
    ['a revoked Proxy', revokedProxy()],
  ])('returns %s: the save rejects with ERR_INVALID_KEY and nothing is written', async (_name, key) => {
    const { dual, oldRepo } = setup(phases.shadow(), { keyOf: (() => key) as never });
    const failure = await dual.save(item(1)).catch((err: unknown) => err);
    expect(MigrationGlueError.is(failure, 'ERR_INVALID_KEY')).toBe(true);
    expect(oldRepo.counts.save).toBe(0);
  });

  it('get and delete with a garbage key reject with ERR_INVALID_KEY', async () => {
    const { dual } = setup();
    for (const key of [undefined, {}, revokedProxy(), Symbol('x')]) {
      expect(MigrationGlueError.is(await dual.get(key as never).catch((err: unknown) => err), 'ERR_INVALID_KEY')).toBe(true);
      expect(MigrationGlueError.is(await dual.delete(key as never).catch((err: unknown) => err), 'ERR_INVALID_KEY')).toBe(true);
    }
  });
});

describe('when the repair log cannot record a failed secondary write', () => {
  function brokenLog(append: RepairLog<string>['append']): RepairLog<string> {
    const inner = new InMemoryRepairLog<string>();
    return { append, list: (a, l) => inner.list(a, l), remove: (ids) => inner.remove(ids), size: () => inner.size() };
  }

  it.each([
    ['rejects', () => Promise.reject(new Error('disk full'))],
    ['throws synchronously', () => { throw new Error('disk full'); }],
    ['rejects with a revoked Proxy', () => Promise.reject(revokedProxy())],
    ['never answers', () => never<void>()],
  ])("append %s: the caller gets the primary's outcome, and the loss is logged, counted and emitted", async (_name, append) => {
    const logger = recordingLogger();
    const { dual, oldRepo, newRepo } = setup(phases.shadow(), { repairLog: brokenLog(append as RepairLog<string>['append']), logger, timeoutMs: 20 });
    const events: unknown[] = [];
    dual.on('repairLogFailure', (event) => events.push(event));
    newRepo.failNext('save');
    await dual.save(item(1));
    expect(oldRepo.snapshot()).toEqual([item(1)]);
    expect(dual.stats().repair).toMatchObject({ recorded: 0, unrecorded: 1, pending: 1 });
    expect(events).toMatchObject([{ key: 'k0001', op: 'save', side: 'new' }]);
    expect(logger.lines.some((line) => line.level === 'error' && /repair log/.test(line.message ?? ''))).toBe(true);
    // Kept in memory: this instance's repair() still replays it.
    expect(await dual.repair()).toMatchObject({ replayed: 1, failed: 0 });
    expect(newRepo.snapshot()).toEqual([item(1)]);
    expect(dual.stats().repair.pending).toBe(0);
  });
});

describe('repair() after a rollback from full', () => {
  it('keeps the write new acknowledged: old gets it, new is not overwritten', async () => {
    const { dual, store, oldRepo, newRepo } = setup(phases.full());
    oldRepo.seed([{ ...item(1), qty: 100 }]);
    newRepo.seed([{ ...item(1), qty: 100 }]);
    oldRepo.failNext('save');
    await dual.save({ ...item(1), qty: 250 });
    await store.save(phases.preparation());
    await dual.repair();
    expect(newRepo.snapshot()).toEqual([{ ...item(1), qty: 250 }]);
    expect(oldRepo.snapshot()).toEqual([{ ...item(1), qty: 250 }]);
  });

  it('a later write after the rollback supersedes the logged one, before or after repair', async () => {
    const { dual, store, oldRepo, newRepo } = setup(phases.full());
    oldRepo.failNext('save');
    await dual.save({ ...item(1), qty: 250 });
    await store.save(phases.preparation());
    await dual.save({ ...item(1), qty: 300 });
    await dual.repair();
    expect(oldRepo.snapshot()).toEqual([{ ...item(1), qty: 300 }]);
    expect(newRepo.snapshot()).toEqual([{ ...item(1), qty: 300 }]);
  });

  it('a delete after the rollback supersedes a logged save', async () => {
    const { dual, store, oldRepo, newRepo } = setup(phases.full());
    oldRepo.failNext('save');
    await dual.save({ ...item(1), qty: 250 });
    await store.save(phases.preparation());
    await dual.delete(item(1).id);
    await dual.repair();
    expect(oldRepo.size).toBe(0);
    expect(newRepo.size).toBe(0);
  });
});

describe('a new process sharing the repair log of one that wrote in full', () => {
  it('learns the logged keys before a write reaches old alone, so the repair keeps that write', async () => {
    const repairLog = new InMemoryRepairLog<string>();
    const first = setup(phases.full(), { repairLog });
    first.oldRepo.failNext('save');
    await first.dual.save({ ...item(1), qty: 250 });
    // Restarted after the rollback: same stores, same log, nothing in memory.
    const store = new InMemoryConfigStore(phases.preparation());
    const second = new DualWriteRepository<Item, string>({ name: 'items', old: first.oldRepo, new: first.newRepo, keyOf: itemKey, config: store, logger: silentLogger, repairLog });
    await second.save({ ...item(1), qty: 300 });
    await second.repair();
    expect(first.oldRepo.snapshot()).toEqual([{ ...item(1), qty: 300 }]);
    expect(first.newRepo.snapshot()).toEqual([{ ...item(1), qty: 300 }]);
  });
});

describe('options', () => {
  it.each([
    [{ timeoutMs: 0 }, /timeoutMs/],
    [{ secondaryTimeoutMs: -1 }, /secondaryTimeoutMs/],
    [{ shadow: 'x' }, /shadow/],
    [{ shadow: { timeoutMs: Number.NaN } }, /shadow.timeoutMs/],
    [{ shadow: { maxInFlight: 1.5 } }, /shadow.maxInFlight/],
  ])('%o is refused with ERR_INVALID_OPTION', (extra, message) => {
    expect(() => setup(phases.shadow(), extra as Options)).toThrow(message);
  });
});
