import { setImmediate as yieldToLoop } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { MigrationGlueError } from '../../src/errors.js';
import type { Logger } from '../../src/observe/logger.js';
import { silentLogger } from '../../src/observe/logger.js';
import type { BackfillOptions } from '../../src/data/backfill.js';
import { backfill } from '../../src/data/backfill.js';
import type { CheckpointStore } from '../../src/data/checkpoint-store.js';
import { InMemoryCheckpointStore } from '../../src/data/checkpoint-store.js';
import type { Repository } from '../../src/data/repository.js';
import { InMemoryRepository, ManualClock } from '../../src/testing/index.js';
import type { Item } from './repository-conformance.js';
import { item, itemKey, withMethods } from './repository-conformance.js';

function stores(rows = 30, bulkInsert = true) {
  const from = new InMemoryRepository<Item, string>({ keyOf: itemKey, name: 'old' }).seed(Array.from({ length: rows }, (_, i) => item(i)));
  const to = new InMemoryRepository<Item, string>({ keyOf: itemKey, name: 'new', bulkInsert });
  return { from, to };
}

function run(options: Omit<BackfillOptions<Item, string>, 'keyOf'> & { keyOf?: (row: Item) => string }) {
  return backfill({ keyOf: itemKey, logger: silentLogger, ...options });
}

/** `repo` with some methods replaced; the others (bulkInsert too) still reach it. */
function override(repo: Repository<Item, string>, methods: Partial<Record<keyof Repository<Item, string>, unknown>>): Repository<Item, string> {
  const bulkInsert = repo.bulkInsert;
  return withMethods(repo, { ...(bulkInsert === undefined ? {} : { bulkInsert: (rows: readonly Item[]) => bulkInsert.call(repo, rows) }), ...methods });
}

const never = (): Promise<never> => new Promise(() => {});

function errorOf(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    () => undefined,
    (err: unknown) => err,
  );
}

function recorder() {
  const lines: { level: string; context: object; message: string | undefined }[] = [];
  const at =
    (level: string) =>
    (context: object, message?: string): void => {
      lines.push({ level, context, message });
    };
  const logger: Logger = { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
  return { logger, lines };
}

describe('backfill with a source that pages wrong', () => {
  it('refuses a getBatch that ignores afterKey with ERR_INVALID_KEY instead of reading it for ever', async () => {
    const { from, to } = stores(10);
    let reads = 0;
    // Bounded so that the old behaviour (reading the first page for ever) ends the test instead of hanging it.
    const broken = override(from, { getBatch: async (_after: string | null, limit: number) => (++reads > 50 ? [] : from.getBatch(null, limit)) });
    const error = await errorOf(run({ from: broken, to, batchSize: 4 }));
    expect(MigrationGlueError.is(error, 'ERR_INVALID_KEY')).toBe(true);
    expect((error as Error).message).toMatch(/from returned key "k0000" after afterKey "k0003".*strictly greater than afterKey/);
    expect(reads).toBe(2);
    expect(to.size).toBe(4);
  });

  it.each([
    ['repeats a key in a page', [item(0), item(1), item(1)]],
    ['returns a page out of order', [item(0), item(2), item(1)]],
  ])('fails with ERR_INVALID_KEY when it %s, before writing that page', async (_, page) => {
    const { from, to } = stores(0);
    // One bad page, then the end: a backfill that does not check cannot loop.
    const error = await errorOf(run({ from: override(from, { getBatch: async (after: string | null) => (after === null ? page : []) }), to }));
    expect(MigrationGlueError.is(error, 'ERR_INVALID_KEY')).toBe(true);
    expect(to.size).toBe(0);
  });

  it('follows the order given by compareKeys', async () => {
    const rows = [item(2), item(1), item(0)];
    const desc = (a: string, b: string) => (a < b ? 1 : a > b ? -1 : 0);
    const from = override(new InMemoryRepository<Item, string>({ keyOf: itemKey }), {
      getBatch: async (after: string | null) => rows.filter((row) => after === null || desc(row.id, after) > 0).slice(0, 2),
    });
    const { to } = stores(0);
    expect(await run({ from, to, batchSize: 2, compareKeys: desc })).toMatchObject({ copied: 3, lastKey: 'k0000' });
  });

  it.each([
    ['an object', { rows: [] }],
    ['undefined', undefined],
    ['a string', 'rows'],
  ])('fails with ERR_INVALID_OPTION naming `from` when getBatch resolves with %s', async (_, value) => {
    const { from, to } = stores(3);
    await expect(run({ from: override(from, { getBatch: async () => value }), to })).rejects.toMatchObject({
      code: 'ERR_INVALID_OPTION',
      message: expect.stringMatching(/option `from` breaks the Repository contract: getBatch/) as string,
    });
  });

  it('wraps a throwing keyOf in ERR_INVALID_KEY with the cause, and refuses a key that is no string or number', async () => {
    const { from, to } = stores(3);
    const boom = new Error('no id');
    const thrown = await errorOf(run({ from, to, keyOf: () => { throw boom; } }));
    expect(MigrationGlueError.is(thrown, 'ERR_INVALID_KEY')).toBe(true);
    expect((thrown as Error).cause).toBe(boom);
    for (const bad of [undefined, {}, Number.NaN, null]) {
      await expect(run({ from, to, keyOf: () => bad as never })).rejects.toMatchObject({ code: 'ERR_INVALID_KEY' });
    }
    expect(to.size).toBe(0);
  });

  it('copies cyclic rows (the race re-check compares them without overflowing)', async () => {
    const cyclic = Array.from({ length: 5 }, (_, i) => {
      const row = { ...item(i), self: undefined as unknown };
      row.self = row;
      return row;
    });
    const from = new InMemoryRepository<Item, string>({ keyOf: itemKey }).seed(cyclic);
    const to = new InMemoryRepository<Item, string>({ keyOf: itemKey, bulkInsert: false });
    expect(await run({ from, to, overwrite: true, batchSize: 2 })).toMatchObject({ copied: 5, skipped: 0 });
    expect(to.size).toBe(5);
  });
});

describe('backfill with a target or hooks that misbehave', () => {
  it('rejects with the error of a save that throws synchronously, unchanged; a resume finishes', async () => {
    const { from, to } = stores(10, false);
    const boom = new Error('sync throw');
    const checkpoint = new InMemoryCheckpointStore();
    let calls = 0;
    const flaky = override(to, {
      save: (row: Item) => {
        if (++calls === 5) throw boom;
        return to.save(row);
      },
    });
    expect(await errorOf(run({ from, to: flaky, batchSize: 3, checkpoint }))).toBe(boom);
    expect(await run({ from, to: flaky, batchSize: 3, checkpoint })).toMatchObject({ copied: 9, skipped: 1 });
    expect(to.snapshot()).toEqual(from.snapshot());
  });

  it.each([
    ['bulkInsert', (to: Repository<Item, string>) => override(to, { bulkInsert: never }), true],
    ['save', (to: Repository<Item, string>) => override(to, { save: never }), false],
    ['get', (to: Repository<Item, string>) => override(to, { get: never }), false],
  ])('fails with ERR_TIMEOUT naming the call when the target %s never answers', async (op, wrap, bulk) => {
    const { from, to } = stores(5, bulk);
    const error = await errorOf(run({ from, to: wrap(to), timeoutMs: 30 }));
    expect(MigrationGlueError.is(error, 'ERR_TIMEOUT')).toBe(true);
    expect((error as Error).message).toContain(`to.${op} did not settle within 30 ms`);
  });

  it('fails with ERR_INVALID_OPTION when bulkInsert resolves with something other than an array of keys', async () => {
    const { from, to } = stores(5);
    await expect(run({ from, to: override(to, { bulkInsert: async () => 5 }) })).rejects.toMatchObject({ code: 'ERR_INVALID_OPTION', message: expect.stringContaining('bulkInsert') as string });
  });

  it('fails with ERR_INVALID_OPTION when the tombstone store answers garbage, and ERR_TIMEOUT when it hangs', async () => {
    const { from, to } = stores(5);
    const garbage = { add: async () => {}, remove: async () => {}, clear: async () => {}, has: async () => 'none' };
    await expect(run({ from, to, tombstones: garbage as never })).rejects.toMatchObject({ code: 'ERR_INVALID_OPTION' });
    await expect(run({ from, to, timeoutMs: 30, tombstones: { ...garbage, has: never } as never })).rejects.toMatchObject({ code: 'ERR_TIMEOUT' });
  });

  describe('a checkpoint store that misbehaves', () => {
    const good = new InMemoryCheckpointStore();
    it.each<[string, CheckpointStore, string]>([
      ['load hangs', { load: never, save: async () => {}, clear: async () => {} }, 'ERR_TIMEOUT'],
      ['save hangs', { load: async () => undefined, save: never, clear: async () => {} }, 'ERR_TIMEOUT'],
      ['load returns a checkpoint with an object as its last key', { load: async () => ({ kind: 'backfill', lastKey: {}, copied: 0, skipped: 0, batches: 0, done: false }), save: good.save.bind(good), clear: good.clear.bind(good) }, 'ERR_INVALID_OPTION'],
    ])('fails cleanly when %s', async (_, checkpoint, code) => {
      const { from, to } = stores(5);
      await expect(run({ from, to, checkpoint, timeoutMs: 30 })).rejects.toMatchObject({ code });
    });

    it('passes on the error of a save that throws, with the batch written and resumable', async () => {
      const { from, to } = stores(6);
      const boom = new Error('disk full');
      const store = new InMemoryCheckpointStore();
      const checkpoint: CheckpointStore = {
        load: () => store.load(),
        save: (state) => ((state as { batches: number }).batches === 2 ? Promise.reject(boom) : store.save(state)),
        clear: () => store.clear(),
      };
      expect(await errorOf(run({ from, to, checkpoint, batchSize: 2 }))).toBe(boom);
      expect(await store.load()).toMatchObject({ lastKey: 'k0001' });
    });
  });

  describe('when aborted at odd moments', () => {
    it('rejects at once while a store call hangs', async () => {
      const { from, to } = stores(5);
      const controller = new AbortController();
      const pending = errorOf(run({ from: override(from, { getBatch: never }), to, signal: controller.signal }));
      await yieldToLoop();
      controller.abort(new Error('stop'));
      const error = await pending;
      expect(MigrationGlueError.is(error, 'ERR_ABORTED')).toBe(true);
      expect((error as Error).cause).toMatchObject({ message: 'stop' });
    });

    it('reads nothing when the signal has already aborted, not even the checkpoint', async () => {
      const { from, to } = stores(5);
      let loads = 0;
      const checkpoint: CheckpointStore = { load: async () => (loads++, undefined), save: async () => {}, clear: async () => {} };
      await expect(run({ from, to, checkpoint, signal: AbortSignal.abort() })).rejects.toMatchObject({ code: 'ERR_ABORTED' });
      expect(loads).toBe(0);
      expect(from.counts.getBatch).toBe(0);
    });

    it('stops between writing a batch and saving its checkpoint; the resume redoes that batch without copying twice', async () => {
      const { from, to } = stores(10);
      const controller = new AbortController();
      const store = new InMemoryCheckpointStore();
      const checkpoint: CheckpointStore = {
        load: () => store.load(),
        save: async (state) => {
          if ((state as { batches: number }).batches === 2) controller.abort();
          await store.save(state);
        },
        clear: () => store.clear(),
      };
      await expect(run({ from, to, checkpoint, batchSize: 3, signal: controller.signal })).rejects.toMatchObject({ code: 'ERR_ABORTED' });
      expect(await run({ from, to, checkpoint: store, batchSize: 3 })).toMatchObject({ copied: 10 });
      expect(to.counts.rowsWritten).toBe(10);
    });
  });

  it('logs an onProgress that throws or rejects, and finishes', async () => {
    const { from, to } = stores(6);
    const { logger, lines } = recorder();
    let calls = 0;
    const onProgress = () => {
      calls += 1;
      if (calls === 1) throw new Error('sync');
      return Promise.reject(new Error('async'));
    };
    expect(await backfill({ from, to, keyOf: itemKey, logger, batchSize: 2, onProgress: onProgress as () => void })).toMatchObject({ copied: 6 });
    await yieldToLoop();
    expect(lines.filter((line) => line.level === 'warn').map((line) => line.message)).toEqual(['backfill onProgress threw', 'backfill onProgress rejected', 'backfill onProgress rejected']);
  });

  it.each([
    [true, 'yes'],
    [true, Number.NaN],
    [true, Number.POSITIVE_INFINITY],
    [true, {}],
  ])('fails with ERR_INVALID_OPTION naming `throttle` when it answers garbage (%s, %s)', async (_, answer) => {
    const { from, to } = stores(3);
    await expect(run({ from, to, throttle: () => answer as never })).rejects.toMatchObject({ code: 'ERR_INVALID_OPTION', option: 'throttle' });
    expect(to.size).toBe(0);
  });

  it('bounds a throttle that never answers, and passes on one that throws', async () => {
    const { from, to } = stores(3);
    await expect(run({ from, to, throttle: never, timeoutMs: 30 })).rejects.toMatchObject({ code: 'ERR_TIMEOUT', message: expect.stringContaining('throttle') as string });
    const boom = new Error('metrics down');
    expect(await errorOf(run({ from, to, throttle: () => { throw boom; } }))).toBe(boom);
  });
});

describe('backfill options that are garbage', () => {
  it.each<[string, Record<string, unknown>]>([
    ['batchSize', { batchSize: 1.5 }],
    ['batchSize', { batchSize: Number.NaN }],
    ['batchSize', { batchSize: '10' }],
    ['batchSize', { batchSize: Number.POSITIVE_INFINITY }],
    ['maxRowsPerSecond', { maxRowsPerSecond: 0 }],
    ['maxRowsPerSecond', { maxRowsPerSecond: Number.NaN }],
    ['maxRowsPerSecond', { maxRowsPerSecond: Number.POSITIVE_INFINITY }],
    ['maxRowsPerSecond', { maxRowsPerSecond: '1000' }],
    ['timeoutMs', { timeoutMs: 0 }],
    ['timeoutMs', { timeoutMs: 3e9 }],
    ['throttleDelayMs', { throttleDelayMs: 3e9 }],
    ['compareKeys', { compareKeys: 'asc' }],
    ['maxRowPerSecond', { maxRowPerSecond: 10 }],
  ])('rejects `%s` (%o) with ERR_INVALID_OPTION before reading', async (option, bad) => {
    const { from, to } = stores(3);
    const error = await errorOf(run({ from, to, ...bad }));
    expect(error).toMatchObject({ code: 'ERR_INVALID_OPTION', option });
    expect(from.counts.getBatch).toBe(0);
  });
});

describe('backfill when the caller starves the event loop', () => {
  it('a loop that awaits only I/O-free promises stalls the maxRowsPerSecond pause; yielding once per iteration lets it finish', async () => {
    const { from, to } = stores(30);
    const live = new InMemoryRepository<Item, string>({ keyOf: itemKey });
    let finished = false;
    const copy = run({ from, to, batchSize: 10, maxRowsPerSecond: 40 }).finally(() => {
      finished = true;
    });
    // The hazard: every await below settles without I/O, so no timer can fire while this runs.
    for (let writes = 0; writes < 2000 && !finished; writes++) await live.save(item(writes % 50));
    expect(finished).toBe(false);
    expect(to.size).toBe(10);
    // The documented pattern: the same loop, yielding to the event loop once per iteration.
    for (let writes = 0; !finished; writes++) {
      await live.save(item(writes % 50));
      await yieldToLoop();
    }
    expect(await copy).toMatchObject({ copied: 30, batches: 3 });
  }, 20_000);

  it('warns when a pause overran because the event loop was blocked', async () => {
    const { from, to } = stores(4);
    const clock = new ManualClock({ start: 0 });
    const { logger, lines } = recorder();
    // A sleep that comes back 5 s late, as a blocked event loop makes a real timer do.
    const sleep = async (ms: number) => {
      clock.advance(ms + 5000);
    };
    await backfill({ from, to, keyOf: itemKey, batchSize: 2, maxRowsPerSecond: 10, clock, sleep, logger });
    const warning = lines.find((line) => line.level === 'warn');
    expect(warning?.message).toMatch(/pause overran; the event loop was blocked/);
    expect(warning?.context).toMatchObject({ expectedMs: 200, sleptMs: 5200 });
  });
});
