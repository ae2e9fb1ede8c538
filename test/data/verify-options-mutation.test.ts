import { describe, expect, it } from 'vitest';
import type { Comparator } from '../../src/compare/comparator.js';
import { InMemoryCheckpointStore } from '../../src/data/checkpoint-store.js';
import { resolveVerifyOptions } from '../../src/data/verify-options.js';
import type { VerifyOptions } from '../../src/data/verify-options.js';
import { silentLogger } from '../../src/observe/logger.js';
import { InMemoryRepository } from '../../src/testing/index.js';
import type { Item } from './repository-conformance.js';
import { item, itemKey } from './repository-conformance.js';

// src/data/verify-options.ts: verify's options checked once, defaults
// resolved, `recheck: false` turned into no re-check, and the row equality
// built from the comparator.

function base(): VerifyOptions<Item, string> {
  return {
    old: new InMemoryRepository<Item, string>({ keyOf: itemKey }),
    new: new InMemoryRepository<Item, string>({ keyOf: itemKey }),
    keyOf: itemKey,
    logger: silentLogger,
  };
}

/** A comparator that records what it is asked and answers `equal`. */
function answering(equal: boolean) {
  const asked: unknown[][] = [];
  const comparator: Comparator<Item> = {
    compare: (a, b) => {
      asked.push([a, b]);
      return { equal } as ReturnType<Comparator<Item>['compare']>;
    },
  };
  return { comparator, asked };
}

describe('resolveVerifyOptions, defaults', () => {
  it('resolves every default', () => {
    const options = base();
    const resolved = resolveVerifyOptions(options);
    expect(resolved).toMatchObject({
      batchSize: 1000,
      checksum: true,
      chunkRows: 10_000,
      leafRows: 64,
      repair: false,
      deleteExtra: false,
      maxListed: 100,
      recheck: { attempts: 2, delayMs: 100 },
      timeoutMs: 60_000,
    });
    expect(resolved.old).toBe(options.old);
    expect(resolved.new).toBe(options.new);
    expect(resolved.keyOf).toBe(itemKey);
    expect(resolved.checkpoint).toBeUndefined();
    expect(resolved.signal).toBeUndefined();
    expect(resolved.compareKeys).toBeUndefined();
    expect(resolved.onProgress).toBeUndefined();
    expect(typeof resolved.sleep).toBe('function');
    expect(typeof resolved.same).toBe('function');
    expect(typeof resolved.logger.info).toBe('function');
  });

  it('keeps what is given', () => {
    const checkpoint = new InMemoryCheckpointStore();
    const signal = new AbortController().signal;
    const sleep = async () => {};
    const compareKeys = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
    const onProgress = () => {};
    const resolved = resolveVerifyOptions({
      ...base(),
      batchSize: 7,
      checksum: false,
      chunkRows: 9,
      leafRows: 3,
      repair: true,
      deleteExtra: true,
      maxListed: 0,
      recheck: { attempts: 0, delayMs: 5 },
      checkpoint,
      signal,
      sleep,
      compareKeys,
      onProgress,
      timeoutMs: 250,
    });
    expect(resolved).toMatchObject({ batchSize: 7, checksum: false, chunkRows: 9, leafRows: 3, repair: true, deleteExtra: true, maxListed: 0, timeoutMs: 250 });
    expect(resolved.recheck).toEqual({ attempts: 0, delayMs: 5 });
    expect(resolved.checkpoint).toBe(checkpoint);
    expect(resolved.signal).toBe(signal);
    expect(resolved.sleep).toBe(sleep);
    expect(resolved.compareKeys).toBe(compareKeys);
    expect(resolved.onProgress).toBe(onProgress);
  });
});

describe('resolveVerifyOptions, recheck', () => {
  it('turns `false` into no re-read and no wait', () => {
    expect(resolveVerifyOptions({ ...base(), recheck: false }).recheck).toEqual({ attempts: 0, delayMs: 0 });
  });

  it('fills what a recheck object leaves out, and keeps what it gives', () => {
    expect(resolveVerifyOptions({ ...base(), recheck: {} }).recheck).toEqual({ attempts: 2, delayMs: 100 });
    expect(resolveVerifyOptions({ ...base(), recheck: { attempts: 5 } }).recheck).toEqual({ attempts: 5, delayMs: 100 });
    expect(resolveVerifyOptions({ ...base(), recheck: { delayMs: 0 } }).recheck).toEqual({ attempts: 2, delayMs: 0 });
  });

  it.each<[string, unknown, string]>([
    ['true', true, 'recheck'],
    ['a negative attempts', { attempts: -1 }, 'recheck.attempts'],
    ['a fractional delay', { delayMs: 1.5 }, 'recheck.delayMs'],
    ['an unknown field', { attempt: 1 }, 'recheck.attempt'],
  ])('refuses %s', (_, recheck, option) => {
    expect(() => resolveVerifyOptions({ ...base(), recheck } as never)).toThrow(expect.objectContaining({ code: 'ERR_INVALID_OPTION', option }));
  });
});

describe('resolveVerifyOptions, refusals', () => {
  it('names verify and the option', () => {
    expect(() => resolveVerifyOptions({ ...base(), batchSise: 5 } as never)).toThrow(/option `batchSise` is not an option of verify; did you mean `batchSize`\?/);
    expect(() => resolveVerifyOptions(null as never)).toThrow(/must be an object \(verify\)/);
  });

  it.each<[string, Record<string, unknown>]>([
    ['old', { old: undefined }],
    ['new', { new: {} }],
    ['keyOf', { keyOf: 'id' }],
    ['batchSize', { batchSize: 0 }],
    ['checksum', { checksum: 'yes' }],
    ['chunkRows', { chunkRows: 0 }],
    ['leafRows', { leafRows: 1.5 }],
    ['repair', { repair: 1 }],
    ['deleteExtra', { deleteExtra: 'no' }],
    ['maxListed', { maxListed: -1 }],
    ['checkpoint', { checkpoint: { load: async () => undefined } }],
    ['signal', { signal: {} }],
    ['compareKeys', { compareKeys: 1 }],
    ['onProgress', { onProgress: 'log' }],
    ['logger', { logger: { info: 1 } }],
    ['sleep', { sleep: 100 }],
    ['timeoutMs', { timeoutMs: -1 }],
  ])('refuses a bad %s', (option, bad) => {
    expect(() => resolveVerifyOptions({ ...base(), ...bad } as never)).toThrow(expect.objectContaining({ code: 'ERR_INVALID_OPTION', option }));
  });

  it('refuses a comparator that is none', () => {
    expect(() => resolveVerifyOptions({ ...base(), comparator: 5 } as never)).toThrow(expect.objectContaining({ option: 'comparator' }));
  });
});

describe('resolveVerifyOptions, same', () => {
  it('asks the comparator about two rows, as successful outcomes, old first', () => {
    const { comparator, asked } = answering(true);
    const { same } = resolveVerifyOptions({ ...base(), comparator });
    const a = item(1);
    const b = { ...item(1), qty: -1 };
    expect(same(a, b)).toBe(true);
    expect(asked).toEqual([[{ ok: true, value: a }, { ok: true, value: b }]]);
    expect((asked[0] as { value: unknown }[])[0]?.value).toBe(a);
    expect(resolveVerifyOptions({ ...base(), comparator: answering(false).comparator }).same(a, a)).toBe(false);
  });

  it('calls a row missing on one side different, and two missing rows the same, without asking the comparator', () => {
    const { comparator, asked } = answering(true);
    const { same } = resolveVerifyOptions({ ...base(), comparator });
    expect(same(undefined, item(1))).toBe(false);
    expect(same(item(1), undefined)).toBe(false);
    expect(same(undefined, undefined)).toBe(true);
    expect(asked).toEqual([]);
  });

  it('compares deeply by default, and by a function given as the comparator', () => {
    const { same } = resolveVerifyOptions(base());
    expect(same(item(1), { ...item(1) })).toBe(true);
    expect(same(item(1), { ...item(1), qty: -1 })).toBe(false);
    const byName = resolveVerifyOptions({ ...base(), comparator: (a: Item, b: Item) => a.name === b.name }).same;
    expect(byName(item(1), { ...item(1), qty: -1 })).toBe(true);
    expect(byName(item(1), { ...item(1), name: 'other' })).toBe(false);
  });
});
