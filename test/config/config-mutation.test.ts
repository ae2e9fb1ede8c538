import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { FileConfigStore, InMemoryConfigStore, MigrationConfigError, migrationConfigSchema, parseMigrationConfig, phaseOf, phases } from '../../src/index.js';
import type { MigrationConfig } from '../../src/index.js';
import { ConfigConflictError, undoesUnseenRollback } from '../../src/config/config-conflict.js';
import { isRolledBack, sameConfig } from '../../src/config/migration-config.js';
import { describeSafely, requireListener, resolveStoreLogger } from '../../src/config/store-options.js';

// Limits and messages, one by one: each check here is one a mutant of
// src/config would otherwise pass.

const full = phases.full();

function issuesOf(value: unknown): readonly { path: string; message: string }[] {
  let caught: unknown;
  try {
    parseMigrationConfig(value);
  } catch (err) {
    caught = err;
  }
  expect(caught).toBeInstanceOf(MigrationConfigError);
  return (caught as MigrationConfigError).issues;
}

function thrownBy(run: () => unknown): Error & { code?: string } {
  let caught: unknown;
  try {
    run();
  } catch (err) {
    caught = err;
  }
  expect(caught).toBeInstanceOf(Error);
  return caught as Error & { code?: string };
}

describe('parseMigrationConfig at every limit', () => {
  it.each([0, 0.01, 0.1, 0.29, 0.3, 1.1, 1.23, 12.34, 33.33, 99.99, 100, 0.1 + 0.2])(
    'accepts the percentage %d',
    (percentage) => {
      expect(parseMigrationConfig({ ...full, newSystemPercentage: percentage }).newSystemPercentage).toBe(percentage);
    },
  );

  it.each([
    [-0.01, 'must be at least 0, got -0.01'],
    [-1, 'must be at least 0, got -1'],
    [100.01, 'must be at most 100, got 100.01'],
    [1e9, 'must be at most 100, got 1000000000'],
    [12.345, 'must have at most two decimals (steps of 0.01), got 12.345'],
    [0.001, 'must have at most two decimals (steps of 0.01), got 0.001'],
    [50.00001, 'must have at most two decimals (steps of 0.01), got 50.00001'],
    [Number.NaN, 'must be a finite number from 0 to 100, got NaN'],
    [Number.POSITIVE_INFINITY, 'must be a finite number from 0 to 100, got Infinity'],
    [Number.NEGATIVE_INFINITY, 'must be a finite number from 0 to 100, got -Infinity'],
    ['50', 'must be a number from 0 to 100, got string'],
    [null, 'must be a number from 0 to 100, got object'],
    [true, 'must be a number from 0 to 100, got boolean'],
    [undefined, 'is required (a number from 0 to 100)'],
  ])('refuses the percentage %s with exactly one issue: %s', (percentage, message) => {
    expect(issuesOf({ ...full, newSystemPercentage: percentage })).toEqual([{ path: 'newSystemPercentage', message }]);
  });

  it('keeps only the first problem of a field (a negative percentage with three decimals is "at least 0")', () => {
    expect(issuesOf({ ...full, newSystemPercentage: -1.234 })).toEqual([{ path: 'newSystemPercentage', message: 'must be at least 0, got -1.234' }]);
    expect(issuesOf({ ...full, newSystemPercentage: 100.001 })).toEqual([{ path: 'newSystemPercentage', message: 'must be at most 100, got 100.001' }]);
  });

  it.each(['shadowMode', 'newSystemEnabled', 'fallbackEnabled'] as const)('refuses a bad or missing %s with its own message', (field) => {
    expect(issuesOf({ ...full, [field]: 'true' })).toEqual([{ path: field, message: 'must be true or false, got string' }]);
    expect(issuesOf({ ...full, [field]: 1 })).toEqual([{ path: field, message: 'must be true or false, got number' }]);
    expect(issuesOf({ ...full, [field]: null })).toEqual([{ path: field, message: 'must be true or false, got object' }]);
    const { [field]: _dropped, ...rest } = full;
    expect(issuesOf(rest)).toEqual([{ path: field, message: 'is required (true or false)' }]);
  });

  it('names each field in the schema description, for generated docs and JSON schema', () => {
    expect(migrationConfigSchema.shape.shadowMode.description).toBe('shadowMode');
    expect(migrationConfigSchema.shape.newSystemEnabled.description).toBe('newSystemEnabled');
    expect(migrationConfigSchema.shape.fallbackEnabled.description).toBe('fallbackEnabled');
  });

  it.each([
    [null, 'must be an object with the four config fields, got null'],
    [[full], 'must be an object with the four config fields, got an array'],
    [42, 'must be an object with the four config fields, got number'],
    ['full', 'must be an object with the four config fields, got string'],
    [undefined, 'must be an object with the four config fields, got undefined'],
    [() => full, 'must be an object with the four config fields, got function'],
  ])('refuses %j at the root', (value, message) => {
    expect(issuesOf(value)).toEqual([{ path: '(root)', message }]);
  });

  it('says everything in one message with a stable code, every field in schema order', () => {
    const error = thrownBy(() => parseMigrationConfig({ shadowMode: 'yes', newSystemPercentage: 150 })) as MigrationConfigError;
    expect(error).toBeInstanceOf(MigrationConfigError);
    expect(error.code).toBe('ERR_INVALID_CONFIG');
    expect(error.name).toBe('MigrationConfigError');
    expect(error.message).toBe(
      '[migration-glue] invalid config: `shadowMode` must be true or false, got string; `newSystemEnabled` is required (true or false); ' +
        '`newSystemPercentage` must be at most 100, got 150; `fallbackEnabled` is required (true or false)',
    );
  });

  it('returns a fresh frozen copy holding only the four fields', () => {
    const given = { ...phases.canary(5), extra: 1 };
    const parsed = parseMigrationConfig(given);
    expect(parsed).not.toBe(given);
    expect(Object.isFrozen(parsed)).toBe(true);
    expect(Object.keys(parsed).sort()).toEqual(['fallbackEnabled', 'newSystemEnabled', 'newSystemPercentage', 'shadowMode']);
  });
});

describe('sameConfig and isRolledBack', () => {
  const base: MigrationConfig = phases.canary(5);
  it.each([
    ['shadowMode', true],
    ['newSystemEnabled', false],
    ['newSystemPercentage', 6],
    ['fallbackEnabled', false],
  ] as const)('tells configs apart that differ only in %s', (field, value) => {
    expect(sameConfig(base, { ...base, [field]: value })).toBe(false);
    expect(sameConfig(base, { ...base })).toBe(true);
  });

  it('calls a config rolled back only when new is disabled and at 0 %', () => {
    expect(isRolledBack(phases.rolledBack())).toBe(true);
    expect(isRolledBack(phases.preparation())).toBe(true);
    expect(isRolledBack({ ...phases.rolledBack(), newSystemEnabled: true })).toBe(false);
    expect(isRolledBack({ ...phases.rolledBack(), newSystemPercentage: 0.01 })).toBe(false);
    expect(isRolledBack({ ...phases.rolledBack(), shadowMode: true, fallbackEnabled: true })).toBe(true);
  });
});

describe('phases', () => {
  it('returns a new frozen config on each call', () => {
    for (const make of [phases.preparation, phases.shadow, phases.full, phases.rolledBack, () => phases.canary(5)]) {
      const a = make();
      expect(Object.isFrozen(a)).toBe(true);
      expect(make()).not.toBe(a);
      expect(make()).toEqual(a);
    }
    expect(phases.rolledBack()).toEqual({ shadowMode: false, newSystemEnabled: false, newSystemPercentage: 0, fallbackEnabled: false });
  });

  it('accepts a canary at 0 and 100 and refuses one with three decimals', () => {
    expect(phases.canary(0).newSystemPercentage).toBe(0);
    expect(phases.canary(100).newSystemPercentage).toBe(100);
    expect(() => phases.canary(1.234)).toThrow(MigrationConfigError);
  });

  it.each([
    [{ ...full, newSystemEnabled: false }, 'preparation'],
    [{ ...full, newSystemPercentage: 0 }, 'preparation'],
    [{ ...phases.shadow(), newSystemPercentage: 0 }, 'preparation'],
    [{ ...phases.shadow(), newSystemEnabled: false }, 'preparation'],
    [{ ...phases.shadow(), newSystemPercentage: 10 }, 'shadow'],
    [phases.canary(0.01), 'canary'],
    [phases.canary(99.99), 'canary'],
    [{ ...phases.canary(100) }, 'full'],
  ] as const)('names %j %s', (config, phase) => {
    expect(phaseOf(config)).toBe(phase);
  });
});

describe('undoesUnseenRollback (the rule every store applies)', () => {
  const rolledBack = phases.rolledBack();
  const canary = phases.canary(5);
  it('refuses only a non-rollback over a newer rollback', () => {
    expect(undoesUnseenRollback(canary, rolledBack, true)).toBe(true);
    expect(undoesUnseenRollback(canary, rolledBack, false)).toBe(false);
    expect(undoesUnseenRollback(rolledBack, rolledBack, true)).toBe(false);
    expect(undoesUnseenRollback(canary, phases.canary(10), true)).toBe(false);
    expect(undoesUnseenRollback(rolledBack, canary, true)).toBe(false);
  });

  it('is an ERR_CONFLICT MigrationGlueError carrying its cause', () => {
    const cause = new Error('why');
    const error = new ConfigConflictError('not saved', { cause });
    expect(error.code).toBe('ERR_CONFLICT');
    expect(error.name).toBe('ConfigConflictError');
    expect(error.message).toBe('[migration-glue] not saved');
    expect(error.cause).toBe(cause);
  });
});

describe('store options', () => {
  it('takes an absent logger as silent, and refuses anything without the four methods, naming it', () => {
    expect(() => resolveStoreLogger(undefined).warn({}, 'x')).not.toThrow();
    const methods = { debug() {}, info() {}, warn() {}, error() {} };
    for (const level of ['debug', 'info', 'warn', 'error'] as const) {
      const { [level]: _missing, ...rest } = methods;
      const error = thrownBy(() => resolveStoreLogger(rest));
      expect(error.code).toBe('ERR_INVALID_OPTION');
      expect(error.message).toBe(
        '[migration-glue] option `logger` must have debug, info, warn and error methods (a pino logger or console), got an object',
      );
      expect(() => resolveStoreLogger({ ...rest, [level]: 'not a function' })).toThrow(/option `logger` must have/);
    }
    expect(() => resolveStoreLogger(null)).toThrow('got null');
    expect(() => resolveStoreLogger('console')).toThrow('got "console"');
    const revocable = Proxy.revocable(methods, {});
    revocable.revoke();
    expect(() => resolveStoreLogger(revocable.proxy)).toThrow(/option `logger` must have .* got a revoked Proxy/);
    const throwing = Object.defineProperty({ ...methods }, 'warn', {
      get() {
        throw new Error('getter');
      },
    });
    expect(() => resolveStoreLogger(throwing)).toThrow(/option `logger` must have/);
  });

  it('accepts a function with the four methods, and swallows what its methods throw', () => {
    const calls: string[] = [];
    const logger = Object.assign(() => {}, {
      debug: () => calls.push('debug'),
      info: () => calls.push('info'),
      warn: () => {
        calls.push('warn');
        throw new Error('logger down');
      },
      error: () => calls.push('error'),
    });
    const resolved = resolveStoreLogger(logger);
    expect(() => resolved.warn({}, 'x')).not.toThrow();
    resolved.info({}, 'y');
    expect(calls).toEqual(['warn', 'info']);
  });

  it('checks a listener when it is subscribed, naming it', () => {
    const listener = (): void => {};
    expect(requireListener(listener)).toBe(listener);
    const error = thrownBy(() => requireListener('x'));
    expect(error.code).toBe('ERR_INVALID_OPTION');
    expect(error.message).toBe('[migration-glue] option `listener` must be a function (config) => void, got "x"');
  });

  it('describes a value that cannot be read without throwing', () => {
    expect(describeSafely(5)).toBe('5');
    const revocable = Proxy.revocable({}, {});
    revocable.revoke();
    expect(describeSafely(revocable.proxy)).toBe('a revoked Proxy');
  });

  it('InMemoryConfigStore checks its options like every other store: not an object, unreadable, unknown', () => {
    expect(thrownBy(() => new InMemoryConfigStore(undefined, null as never)).message).toBe(
      '[migration-glue] option `options` must be an object (the InMemoryConfigStore options), got null',
    );
    const getter = Object.defineProperty({}, 'logger', {
      enumerable: true,
      get() {
        throw new Error('no reading');
      },
    });
    const unreadable = thrownBy(() => new InMemoryConfigStore(undefined, getter as never));
    expect(unreadable.code).toBe('ERR_INVALID_OPTION');
    expect(unreadable.message).toMatch(/could not be read \(the InMemoryConfigStore options\)/);
    expect(thrownBy(() => new InMemoryConfigStore(undefined, { loger: console } as never)).message).toMatch(/`loger`.*did you mean `logger`/);
  });
});

describe('InMemoryConfigStore versions', () => {
  it('accepts a first move forward from a store that starts rolled back', async () => {
    const store = new InMemoryConfigStore();
    await store.save(phases.canary(5));
    expect(store.current()).toEqual(phases.canary(5));
  });

  it('does not count re-saving the config in force as a change: a save decided before it still goes through', async () => {
    const store = new InMemoryConfigStore();
    await Promise.all([store.save(phases.preparation()), store.save(phases.canary(5))]);
    expect(store.current()).toEqual(phases.canary(5));
  });

  it('refuses a save decided before a rollback that was applied first', async () => {
    const store = new InMemoryConfigStore(phases.canary(5));
    const rollback = store.save(phases.rolledBack());
    const stale = store.save(phases.canary(10));
    await rollback;
    const error = await stale.then(
      () => undefined,
      (err: unknown) => err as Error & { code?: string },
    );
    expect(error?.code).toBe('ERR_CONFLICT');
    expect(error?.message).toMatch(/^\[migration-glue\] config not saved: the migration was rolled back after this save was decided/);
    expect(store.current()).toEqual(phases.rolledBack());
  });

  it('notifies nobody after close, and a later subscribe is a no-op', async () => {
    const store = new InMemoryConfigStore();
    const before = vi.fn();
    store.subscribe(before);
    store.close();
    const after = vi.fn();
    const unsubscribe = store.subscribe(after);
    expect(unsubscribe()).toBeUndefined();
    await store.save(phases.canary(1));
    expect(before).not.toHaveBeenCalled();
    expect(after).not.toHaveBeenCalled();
    expect(store.current()).toEqual(phases.canary(1));
  });

  it('refuses a non-function listener even after close', () => {
    const store = new InMemoryConfigStore();
    store.close();
    expect(() => store.subscribe(42 as unknown as () => void)).toThrow(/option `listener` must be a function/);
  });

  it('logs a throwing listener to the logger it was given, and still notifies the next', async () => {
    const warn = vi.fn();
    const store = new InMemoryConfigStore(undefined, { logger: { debug() {}, info() {}, warn, error() {} } });
    const next = vi.fn();
    store.subscribe(() => {
      throw new Error('listener down');
    });
    store.subscribe(next);
    await store.save(phases.canary(2));
    expect(next).toHaveBeenCalledWith(phases.canary(2));
    expect(warn).toHaveBeenCalledTimes(1);
    expect((warn.mock.calls[0]?.[0] as { err: Error }).err.message).toBe('listener down');
  });

  it('refuses a bad initial config or options', () => {
    expect(() => new InMemoryConfigStore({ ...full, newSystemPercentage: 101 })).toThrow(MigrationConfigError);
    expect(() => new InMemoryConfigStore(undefined, null as unknown as object)).toThrow(/option `options` must be an object \(the InMemoryConfigStore options\)/);
    expect(() => new InMemoryConfigStore(undefined, { logger: {} as never })).toThrow(/option `logger`/);
  });
});

describe('FileConfigStore options at their limits', () => {
  const dirs: string[] = [];
  const stores: FileConfigStore[] = [];
  const file = (): string => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'mg-config-mutation-'));
    dirs.push(dir);
    return path.join(dir, 'config.json');
  };
  const open = (options: Record<string, unknown>): FileConfigStore => {
    const store = new FileConfigStore({ watch: false, ...options } as never);
    stores.push(store);
    return store;
  };
  afterEach(() => {
    for (const store of stores.splice(0)) store.close();
  });

  it.each([
    ['debounceMs', 0, -1],
    ['pollIntervalMs', 1, 0.5],
    ['lockTimeoutMs', 1, 0],
  ] as const)('accepts %s at its minimum %d and refuses %d, naming the option', (option, min, below) => {
    expect(() => open({ path: file(), [option]: min, watch: true })).not.toThrow();
    for (const bad of [below, Number.NaN, Number.POSITIVE_INFINITY, '20', null]) {
      const error = thrownBy(() => open({ path: file(), [option]: bad }));
      expect(error.code).toBe('ERR_INVALID_OPTION');
      expect(error.message).toMatch(new RegExp(`^\\[migration-glue\\] option \`${option}\` must be a finite number of milliseconds, at least ${min}, got `));
    }
  });

  it('refuses a path that is missing, empty, not a string or holds a NUL byte, and options that are not an object', () => {
    for (const bad of [undefined, '', 42, 'a\0b']) {
      const error = thrownBy(() => open({ path: bad }));
      expect(error.message).toMatch(/^\[migration-glue\] option `path` must be a non-empty string \(the config file\), got /);
    }
    for (const bad of [null, 'config.json']) {
      expect(() => new FileConfigStore(bad as never)).toThrow(/^\[migration-glue\] option `path` is required \(the config file\), got options /);
    }
  });

  it('refuses a watch option that is not a boolean', () => {
    expect(() => open({ path: file(), watch: 'yes' })).toThrow('[migration-glue] option `watch` must be true or false, got "yes"');
    expect(() => open({ path: file(), watch: 0 })).toThrow('option `watch` must be true or false, got 0');
  });

  it('writes initial when the file is missing, and ignores it when the file exists', () => {
    const where = file();
    expect(open({ path: where, initial: phases.canary(3) }).current()).toEqual(phases.canary(3));
    expect(JSON.parse(readFileSync(where, 'utf8'))).toEqual(phases.canary(3));
    expect(open({ path: where, initial: phases.full() }).current()).toEqual(phases.canary(3));
    expect(open({ path: file() }).current()).toEqual(phases.preparation());
  });

  it('gives up a save after lockTimeoutMs while another live process holds the lock', async () => {
    const where = file();
    const store = open({ path: where, lockTimeoutMs: 30 });
    writeFileSync(`${where}.lock`, `${process.pid} ${os.hostname()}\n`);
    const error = await store.save(phases.canary(1)).then(
      () => undefined,
      (err: unknown) => err as Error & { code?: string },
    );
    expect(error?.code).toBe('ERR_TIMEOUT');
    expect(error?.message).toContain('still held after 30 ms');
    expect(store.current()).toEqual(phases.preparation());
  });

  it('replaces a file holding no valid config only for a rollback or with overwriteInvalid', async () => {
    const where = file();
    const store = open({ path: where });
    writeFileSync(where, '{"shadowMode": 1}');
    await expect(store.save(phases.canary(1))).rejects.toMatchObject({ code: 'ERR_INVALID_CONFIG' });
    await expect(store.save(phases.canary(1), { overwriteInvalid: false })).rejects.toThrow(/not replaced by a save that is not a rollback/);
    await store.save(phases.canary(2), { overwriteInvalid: true });
    expect(JSON.parse(readFileSync(where, 'utf8'))).toEqual(phases.canary(2));
    writeFileSync(where, 'not json');
    await store.save(phases.rolledBack());
    expect(JSON.parse(readFileSync(where, 'utf8'))).toEqual(phases.rolledBack());
  });

  it('refuses an unknown or mistyped save option, naming it, and leaves the file as it was', async () => {
    const where = file();
    const store = open({ path: where, initial: phases.shadow() });
    const before = readFileSync(where, 'utf8');
    await expect(store.save(phases.canary(1), { overwriteInvalid: 'yes' } as never)).rejects.toThrow(/`overwriteInvalid`/);
    await expect(store.save(phases.canary(1), { overwriteInvalids: true } as never)).rejects.toThrow(/did you mean `overwriteInvalid`/);
    await expect(store.save(phases.canary(1), null as never)).rejects.toMatchObject({ code: 'ERR_INVALID_OPTION' });
    expect(readFileSync(where, 'utf8')).toBe(before);
    expect(store.current()).toEqual(phases.shadow());
  });
});
