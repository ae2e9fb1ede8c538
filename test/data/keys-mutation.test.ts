import { describe, expect, it } from 'vitest';
import { MigrationGlueError } from '../../src/errors.js';
import { compareCodePoints, compareKeys, KeyedQueue, keyId, requireKey } from '../../src/data/keys.js';

// src/data/keys.ts: the default key order backfill and verify page in, the
// key check and the per-key write queue of the dual writes.

describe('compareKeys', () => {
  it('orders numbers and bigints numerically, equal ones as 0', () => {
    expect(compareKeys(2, 10)).toBe(-1);
    expect(compareKeys(10, 2)).toBe(1);
    expect(compareKeys(3, 3)).toBe(0);
    expect(compareKeys(2n, 10)).toBe(-1);
    expect(compareKeys(10, 2n)).toBe(1);
    expect(compareKeys(5n, 5n)).toBe(0);
    expect(compareKeys(-1, 0)).toBe(-1);
    // Mixed, both ways round: a bigint is compared as a number, not by its type name or its text.
    expect(compareKeys(10n, 2)).toBe(1);
    expect(compareKeys(2, 10n)).toBe(-1);
    expect(compareKeys(10n, 9n)).toBe(1);
    expect(compareKeys(9n, 10n)).toBe(-1);
  });

  it('orders strings by code point, not as numbers', () => {
    expect(compareKeys('10', '9')).toBeLessThan(0);
    expect(compareKeys('9', '10')).toBeGreaterThan(0);
    expect(compareKeys('abc', 'abc')).toBe(0);
    expect(compareKeys('B', 'a')).toBeLessThan(0);
    // Where code points and UTF-16 units disagree: a character beyond U+FFFF sorts after U+FFFF.
    expect(compareKeys('\u{1F600}', '\uFFFF')).toBeGreaterThan(0);
    expect(compareKeys('\uFFFF', '\u{1F600}')).toBeLessThan(0);
  });

  it('orders keys of different types by type name, whichever comes first', () => {
    // 'number' < 'string'
    expect(compareKeys(5, 'a')).toBe(-1);
    expect(compareKeys('a', 5)).toBe(1);
    // 'bigint' < 'string'
    expect(compareKeys(5n, '1')).toBe(-1);
    expect(compareKeys('1', 5n)).toBe(1);
    // 'boolean' < 'number'
    expect(compareKeys(true, 0)).toBe(-1);
    expect(compareKeys(0, true)).toBe(1);
  });

  it('orders two keys of another same type by their text', () => {
    expect(compareKeys(false, true)).toBe(-1);
    expect(compareKeys(true, false)).toBe(1);
    expect(compareKeys(true, true)).toBe(0);
    expect(compareKeys(null, null)).toBe(0);
  });
});

describe('compareCodePoints', () => {
  it('orders by the first differing unit, then by length', () => {
    expect(compareCodePoints('ab', 'ac')).toBe('b'.charCodeAt(0) - 'c'.charCodeAt(0));
    expect(compareCodePoints('ac', 'ab')).toBe(1);
    expect(compareCodePoints('ab', 'abc')).toBe(-1);
    expect(compareCodePoints('abc', 'ab')).toBe(1);
    expect(compareCodePoints('', '')).toBe(0);
    expect(compareCodePoints('same', 'same')).toBe(0);
  });

  it('puts a character beyond U+FFFF (a surrogate pair) after U+E000..U+FFFF, as UTF-8 bytes do', () => {
    const astral = '\u{1F600}'; // starts with the surrogate U+D83D
    for (const high of ['\uE000', '\uFFFF', '\uFB01']) {
      expect(compareCodePoints(astral, high)).toBe(1);
      expect(compareCodePoints(high, astral)).toBe(-1);
    }
    // The surrogate ranges' edges: U+D800 and U+DFFF (lone surrogates) count as surrogates too.
    expect(compareCodePoints('\uD800', '\uE000')).toBe(1);
    expect(compareCodePoints('\uDFFF', '\uE000')).toBe(1);
    expect(compareCodePoints('\uE000', '\uD800')).toBe(-1);
    expect(compareCodePoints('\uE000', '\uDFFF')).toBe(-1);
  });

  it('keeps UTF-16 order between a surrogate and a character below U+E000', () => {
    const astral = '\u{1F600}';
    expect(compareCodePoints(astral, 'z')).toBeGreaterThan(0);
    expect(compareCodePoints('z', astral)).toBeLessThan(0);
    // U+D7FF is below the surrogates, U+DFFF vs U+DFFE both surrogates: plain unit order.
    expect(compareCodePoints('\uD7FF', '\uE000')).toBeLessThan(0);
    expect(compareCodePoints('\uE000', '\uD7FF')).toBeGreaterThan(0);
    expect(compareCodePoints('\uDFFF', '\uDFFE')).toBe(1);
    expect(compareCodePoints('\uDFFE', '\uDFFF')).toBe(-1);
    // U+E000 against U+DFFF is the edge above; U+E000 against U+E001 is plain too.
    expect(compareCodePoints('\uE001', '\uE000')).toBe(1);
  });

  it('sorts a list the way the UTF-8 bytes sort', () => {
    const words = ['\u{1F600}', '\uFFFD', 'a', '\uE000', 'ab', '', '\u00E9', '\u{10000}'];
    const bytewise = [...words].sort((a, b) => Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8')));
    expect([...words].sort(compareCodePoints)).toEqual(bytewise);
  });
});

describe('requireKey', () => {
  it('returns strings, finite numbers and bigints unchanged', () => {
    expect(requireKey('k', 'the key')).toBe('k');
    expect(requireKey('', 'the key')).toBe('');
    expect(requireKey(0, 'the key')).toBe(0);
    expect(requireKey(-3.5, 'the key')).toBe(-3.5);
    expect(requireKey(7n, 'the key')).toBe(7n);
  });

  it.each([[Number.NaN], [Number.POSITIVE_INFINITY], [null], [undefined], [{}], [true]])('refuses %s with ERR_INVALID_KEY naming what produced it', (value) => {
    let error: unknown;
    try {
      requireKey(value, 'the last key');
    } catch (err) {
      error = err;
    }
    expect(MigrationGlueError.is(error)).toBe(true);
    expect((error as MigrationGlueError).code).toBe('ERR_INVALID_KEY');
    expect((error as Error).message).toMatch(/ the last key must be a string, a finite number or a bigint, got /);
  });

  it('describes a revoked Proxy without throwing', () => {
    const { proxy, revoke } = Proxy.revocable({}, {});
    revoke();
    expect(() => requireKey(proxy, 'keyOf')).toThrow(/got a revoked Proxy/);
  });
});

describe('keyId', () => {
  it('keeps a number and its text apart', () => {
    expect(keyId(1)).toBe('number:1');
    expect(keyId('1')).toBe('string:1');
    expect(keyId(1n)).toBe('bigint:1');
    expect(keyId(1)).not.toBe(keyId('1'));
  });
});

describe('KeyedQueue', () => {
  function deferred() {
    let resolve!: () => void;
    const promise = new Promise<void>((r) => (resolve = r));
    return { promise, resolve };
  }
  const settle = async () => {
    for (let i = 0; i < 10; i++) await Promise.resolve();
  };

  it('runs the tasks of one key one at a time, in call order, and tasks of other keys freely', async () => {
    const queue = new KeyedQueue();
    const log: string[] = [];
    const first = deferred();
    const one = queue.run('a', async () => {
      log.push('a1 start');
      await first.promise;
      log.push('a1 end');
      return 1;
    });
    const two = queue.run('a', async () => {
      log.push('a2');
      return 2;
    });
    const other = queue.run('b', async () => {
      log.push('b1');
      return 3;
    });
    await settle();
    expect(log).toEqual(['a1 start', 'b1']);
    first.resolve();
    expect(await Promise.all([one, two, other])).toEqual([1, 2, 3]);
    expect(log).toEqual(['a1 start', 'b1', 'a1 end', 'a2']);
  });

  it('keeps the order after an earlier task settled: a task queued later still waits for the one running', async () => {
    const queue = new KeyedQueue();
    const log: string[] = [];
    const second = deferred();
    const one = queue.run('a', async () => void log.push('a1'));
    const two = queue.run('a', async () => {
      log.push('a2 start');
      await second.promise;
      log.push('a2 end');
    });
    await one;
    await settle();
    // The first task's tail is settled and forgotten; the second's must stay, or this one would not wait.
    const three = queue.run('a', async () => void log.push('a3'));
    await settle();
    expect(log).toEqual(['a1', 'a2 start']);
    second.resolve();
    await Promise.all([two, three]);
    expect(log).toEqual(['a1', 'a2 start', 'a2 end', 'a3']);
  });

  it('runs the next task of a key after one that failed, and passes the failure to its caller only', async () => {
    const queue = new KeyedQueue();
    const failure = new Error('save failed');
    const one = queue.run('a', async () => {
      throw failure;
    });
    const two = queue.run('a', async () => 'next');
    await expect(one).rejects.toBe(failure);
    await expect(two).resolves.toBe('next');
  });
});
