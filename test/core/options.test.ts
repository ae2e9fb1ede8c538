import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { MigrationGlueError, phases, silentLogger } from '../../src/index.js';
import { glueService } from '../../src/core/glue-service.js';
import { MigrationGlue } from '../../src/core/migration-glue.js';

// Options are parsed once, by one strict schema per options type: an unknown
// option (a slip in plain JavaScript) is refused with ERR_INVALID_OPTION
// naming it and suggesting the nearest known name.

const base = { name: 'pricing', oldService: async () => 1, newService: async () => 2, config: phases.preparation(), logger: silentLogger };

interface Accounts {
  balance(input: { userId: string }): Promise<number>;
  deposit(input: { userId: string; amount: number }): Promise<number>;
}
const accounts = (): Accounts => ({ balance: async () => 1, deposit: async ({ amount }) => amount });
const serviceBase = {
  name: 'accounts',
  oldService: accounts(),
  newService: accounts(),
  policies: { balance: 'shadow', deposit: 'dualWrite' } as const,
  config: phases.preparation(),
  logger: silentLogger,
};

/** The error `make` throws (undefined when it does not). */
function thrown(make: () => unknown): unknown {
  try {
    make();
  } catch (err) {
    return err;
  }
  return undefined;
}

/** Asserts ERR_INVALID_OPTION naming `option`, and returns its message. */
function refused(make: () => unknown, option: string): string {
  const err = thrown(make);
  expect(MigrationGlueError.is(err, 'ERR_INVALID_OPTION')).toBe(true);
  expect(err).toMatchObject({ option });
  return (err as Error).message;
}

describe('MigrationGlue given an option it does not know', () => {
  it('refuses timeoutMs and suggests newTimeoutMs', () => {
    const message = refused(() => new MigrationGlue({ ...base, timeoutMs: 5 } as never), 'timeoutMs');
    expect(message).toContain('did you mean `newTimeoutMs`?');
  });

  it('refuses shadow.sampleRatio and suggests shadow.sampleRate', () => {
    const message = refused(() => new MigrationGlue({ ...base, shadow: { sampleRatio: 0.5 } } as never), 'shadow.sampleRatio');
    expect(message).toContain('did you mean `shadow.sampleRate`?');
  });

  it('refuses shadow.clean.inputs and suggests shadow.clean.input', () => {
    const message = refused(() => new MigrationGlue({ ...base, shadow: { clean: { inputs: (i: unknown) => i } } } as never), 'shadow.clean.inputs');
    expect(message).toContain('did you mean `shadow.clean.input`?');
  });

  it('lists the known names when none is near', () => {
    const message = refused(() => new MigrationGlue({ ...base, zzzzzzzzzzzz: 1 } as never), 'zzzzzzzzzzzz');
    expect(message).not.toContain('did you mean');
    expect(message).toContain('known: ');
    expect(message).toContain('newTimeoutMs');
  });

  it('refuses any name that is not an option, naming it', () => {
    const known = new Set(['name', 'salt', 'oldService', 'newService', 'config', 'routingKey', 'hasher', 'comparator', 'logger', 'notifier', 'notifierTimeoutMs', 'storeTimeoutMs', 'clock', 'shadow', 'newTimeoutMs', 'windowMs']);
    fc.assert(
      fc.property(
        fc.string({ minLength: 1, maxLength: 30 }).filter((key) => !known.has(key)),
        fc.anything(),
        (key, value) => {
          const options: Record<string, unknown> = { ...base };
          Object.defineProperty(options, key, { value, enumerable: true, configurable: true, writable: true });
          refused(() => new MigrationGlue(options as never), key);
        },
      ),
      { numRuns: 200 },
    );
  });

  it('refuses an unknown shadow option whatever its name', () => {
    const known = new Set(['timeoutMs', 'maxInFlight', 'sampleRate', 'order', 'isolateInput', 'aa', 'rerunOldOnMismatch', 'clean', 'logPerMinute', 'logTotalPerMinute']);
    fc.assert(
      fc.property(fc.string({ minLength: 1, maxLength: 30 }).filter((key) => !known.has(key)), (key) => {
        const shadow: Record<string, unknown> = {};
        Object.defineProperty(shadow, key, { value: 1, enumerable: true, configurable: true, writable: true });
        refused(() => new MigrationGlue({ ...base, shadow } as never), `shadow.${key}`);
      }),
      { numRuns: 200 },
    );
  });
});

describe('MigrationGlue given options of the wrong shape', () => {
  it.each([
    ['null', null],
    ['a string', 'pricing'],
    ['a number', 42],
  ])('refuses %s as options, naming `options`', (_what, options) => {
    refused(() => new MigrationGlue(options as never), 'options');
  });

  it('refuses options whose getter throws as `options`, never with the getter error', () => {
    const options = Object.defineProperty({ ...base }, 'windowMs', {
      enumerable: true,
      get() {
        throw new Error('getter exploded');
      },
    });
    const message = refused(() => new MigrationGlue(options as never), 'options');
    expect(message).not.toContain('getter exploded');
  });

  it.each([
    ['shadow', { shadow: 'fast' }, /must be an object, got "fast"/],
    ['shadow.order', { shadow: { order: 'sideways' } }, /must be 'parallel', 'old-first', 'new-first' or 'random', got "sideways"/],
    ['shadow.isolateInput', { shadow: { isolateInput: 'deep' } }, /must be 'clone' or 'none', got "deep"/],
    ['shadow.maxInFlight', { shadow: { maxInFlight: 1.5 } }, /must be an integer from 1 to/],
    ['shadow.clean', { shadow: { clean: 'mask' } }, /must be an object \{ input\?, output\? \}, got "mask"/],
    ['shadow.clean.output', { shadow: { clean: { output: 'mask' } } }, /must be a function, got "mask"/],
    ['name', { name: '   ' }, /must be a non-empty string/],
    ['salt', { salt: 7 }, /must be a string, got 7/],
    ['hasher', { hasher: { hash: () => 1 } }, /hash32/],
    ['comparator', { comparator: { equals: () => true } }, /must be a Comparator/],
    ['config', { config: 'full' }, /must be a MigrationConfig or a ConfigProvider, got "full"/],
    ['storeTimeoutMs', { storeTimeoutMs: 0 }, /must be a number of ms above 0/],
  ])('refuses a bad %s, naming it and the value', (option, extra, says) => {
    expect(refused(() => new MigrationGlue({ ...base, ...extra } as never), option)).toMatch(says);
  });

  it('accepts shadow: null and shadow.clean: null as "none", as it always did', async () => {
    for (const shadow of [null, { clean: null }, {}, undefined]) {
      const glue = new MigrationGlue({ ...base, config: phases.shadow(), shadow: shadow as never });
      await expect(glue.process({ userId: 'a' } as never)).resolves.toBe(1);
      await glue.close();
    }
  });

  it('applies the resolved shadow settings (sampleRate 0 shadows nothing)', async () => {
    const glue = new MigrationGlue({ ...base, config: phases.shadow(), shadow: { sampleRate: 0 } });
    await glue.process({ userId: 'a' } as never);
    await glue.drain();
    expect(glue.stats().shadow.skippedBy.sampledOut).toBe(1);
    await glue.close();
  });
});

describe('glueService given an option it does not know', () => {
  it('refuses secondaryTimeout and suggests secondaryTimeoutMs', () => {
    const message = refused(() => glueService<Accounts>({ ...serviceBase, secondaryTimeout: 10 } as never), 'secondaryTimeout');
    expect(message).toContain('did you mean `secondaryTimeoutMs`?');
  });

  it('refuses a glue option misspelt (timeoutMs) before building any glue', () => {
    const message = refused(() => glueService<Accounts>({ ...serviceBase, timeoutMs: 10 } as never), 'timeoutMs');
    expect(message).toContain('did you mean `newTimeoutMs`?');
  });

  it('refuses shadow.sampleRatio, naming it under shadow', () => {
    const message = refused(() => glueService<Accounts>({ ...serviceBase, shadow: { sampleRatio: 1 } } as never), 'shadow.sampleRatio');
    expect(message).toContain('did you mean `shadow.sampleRate`?');
  });

  it('refuses salt, which it sets itself (the service name)', () => {
    refused(() => glueService<Accounts>({ ...serviceBase, salt: 'other' } as never), 'salt');
  });

  it.each([
    ['policies', { policies: null }, /must map each method to 'shadow', 'dualWrite' or 'oldOnly', got null/],
    ['policies.balance', { policies: { balance: 'read', deposit: 'dualWrite' } }, /must be 'shadow', 'dualWrite' or 'oldOnly', got "read"/],
    ['oldService', { oldService: 3 }, /got 3/],
    ['routingKey', { routingKey: 'userId' }, /must be a function/],
    ['name', { name: '' }, /must be a non-empty string, got ""/],
  ])('refuses a bad %s, naming it', (option, extra, says) => {
    expect(refused(() => glueService<Accounts>({ ...serviceBase, ...extra } as never), option)).toMatch(says);
  });
});
