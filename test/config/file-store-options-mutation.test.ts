import { describe, expect, it } from 'vitest';
import { fileSaveSchema, fileStoreOptionsSchema } from '../../src/config/file-store-options.js';

// The options of FileConfigStore and of its save, rule by rule: each case is
// one a mutant of src/config/file-store-options.ts would otherwise pass.

describe('fileStoreOptionsSchema', () => {
  it('fills in watching, a 20 ms debounce, a 1 s poll and a 10 s lock timeout', () => {
    expect(fileStoreOptionsSchema.parse({ path: 'config.json' })).toEqual({
      path: 'config.json',
      watch: true,
      debounceMs: 20,
      pollIntervalMs: 1000,
      lockTimeoutMs: 10_000,
    });
  });

  it('keeps what it is given, initial and logger untouched', () => {
    const logger = console;
    const initial = { shadowMode: true };
    expect(fileStoreOptionsSchema.parse({ path: 'c', initial, logger, watch: false, debounceMs: 0, pollIntervalMs: 1, lockTimeoutMs: 1 })).toEqual({
      path: 'c',
      initial,
      logger,
      watch: false,
      debounceMs: 0,
      pollIntervalMs: 1,
      lockTimeoutMs: 1,
    });
  });

  it('takes a path of one character, and refuses an empty one, one with a NUL byte, or one that is not a string', () => {
    expect(fileStoreOptionsSchema.safeParse({ path: 'c' }).success).toBe(true);
    for (const path of ['', 'a\0b', '\0', 42, undefined, null, ['c']]) expect(fileStoreOptionsSchema.safeParse({ path }).success).toBe(false);
  });

  it('refuses a millisecond option that is not a finite number at or above its minimum', () => {
    for (const [name, min] of [['debounceMs', 0], ['pollIntervalMs', 1], ['lockTimeoutMs', 1]] as const) {
      expect(fileStoreOptionsSchema.safeParse({ path: 'c', [name]: min }).success).toBe(true);
      expect(fileStoreOptionsSchema.safeParse({ path: 'c', [name]: min + 1e6 }).success).toBe(true);
      for (const bad of [min - 0.5, Number.NaN, Number.POSITIVE_INFINITY, '20', null, true]) {
        const result = fileStoreOptionsSchema.safeParse({ path: 'c', [name]: bad });
        expect(result.success).toBe(false);
        expect(result.error?.issues[0]?.message).toContain(`a finite number of milliseconds, at least ${min}`);
      }
    }
  });

  it('refuses an unknown option and a watch that is not a boolean', () => {
    expect(fileStoreOptionsSchema.safeParse({ path: 'c', poll: 5 }).success).toBe(false);
    expect(fileStoreOptionsSchema.safeParse({ path: 'c', watch: 'yes' }).success).toBe(false);
  });
});

describe('fileSaveSchema', () => {
  it('takes overwriteInvalid as a boolean or not at all, and nothing else', () => {
    expect(fileSaveSchema.parse({})).toEqual({});
    expect(fileSaveSchema.parse({ overwriteInvalid: true })).toEqual({ overwriteInvalid: true });
    expect(fileSaveSchema.parse({ overwriteInvalid: false })).toEqual({ overwriteInvalid: false });
    expect(fileSaveSchema.safeParse({ overwriteInvalid: 1 }).success).toBe(false);
    expect(fileSaveSchema.safeParse({ overwrite: true }).success).toBe(false);
  });
});
