import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { MigrationGlue, phases } from '../../src/index.js';
import type { MigrationConfig, MigrationGlueOptions } from '../../src/index.js';
import { recordEvents } from '../../src/testing/index.js';
import { recordingLogger } from '../helpers.js';

type Input = Record<string, unknown> & { userId: string };
type Output = Record<string, unknown>;

const unhandled: unknown[] = [];
const onUnhandled = (reason: unknown) => unhandled.push(reason);
beforeEach(() => {
  unhandled.length = 0;
  process.on('unhandledRejection', onUnhandled);
});
afterEach(async () => {
  vi.useRealTimers();
  // give stray rejections a turn to surface before checking
  await new Promise((resolve) => setTimeout(resolve, 5));
  process.off('unhandledRejection', onUnhandled);
  expect(unhandled).toEqual([]);
});

function glueOf(options: Partial<MigrationGlueOptions<Input, Output>> & { config?: MigrationConfig } = {}) {
  const logger = recordingLogger();
  const glue = new MigrationGlue<Input, Output>({
    name: 'pricing',
    oldService: async () => ({ total: 10 }),
    newService: async () => ({ total: 10 }),
    config: phases.shadow(),
    logger,
    ...options,
  });
  const recorder = recordEvents(glue);
  const { mismatch: mismatches, shadowError: errors } = recorder.events;
  return { glue, logger, mismatches, errors, recorder };
}

const hang = () => new Promise<never>(() => {});
const tick = () => new Promise((resolve) => setTimeout(resolve, 1));

function cyclicInput(): Input {
  const input: Input = { userId: 'a', items: [1, 2] };
  input['self'] = input;
  return input;
}

describe('a cyclic input in shadow mode', () => {
  it('new answering first: the caller gets old value and nothing is reported as mutated', async () => {
    const answer = { total: 10 };
    const { glue, errors } = glueOf({
      oldService: async () => {
        await tick();
        return answer;
      },
    });
    await expect(glue.process(cyclicInput())).resolves.toBe(answer);
    await glue.drain();
    expect(errors).toEqual([]);
    expect(glue.stats().shadow).toMatchObject({ compared: 1, matched: 1, inputMutations: 0 });
  });

  it('new answering last: no unhandled rejection, the comparison is counted', async () => {
    const { glue, errors } = glueOf({
      newService: async () => {
        await tick();
        return { total: 10 };
      },
    });
    await expect(glue.process(cyclicInput())).resolves.toEqual({ total: 10 });
    await glue.drain();
    expect(errors).toEqual([]);
    expect(glue.stats().shadow).toMatchObject({ compared: 1, matched: 1, inFlight: 0 });
  });

  it('a new service that mutates a cyclic input is reported', async () => {
    const { glue, errors } = glueOf({
      newService: async (input) => {
        (input['items'] as number[]).push(3);
        return { total: 10 };
      },
    });
    const input = cyclicInput();
    await glue.process(input);
    await glue.drain();
    expect(input['items']).toEqual([1, 2]);
    expect(errors.map((e) => e.reason)).toEqual(['input-mutated']);
    expect(glue.stats().shadow.inputMutations).toBe(1);
  });

  it('an input new made unreadable (a throwing getter, a revoked proxy) is reported as not checked, never thrown', async () => {
    const { glue, errors, logger } = glueOf({
      newService: async (input) => {
        Object.defineProperty(input, 'items', {
          enumerable: true,
          get() {
            throw new Error('getter bomb');
          },
        });
        return { total: 10 };
      },
    });
    await expect(glue.process(cyclicInput())).resolves.toEqual({ total: 10 });
    await glue.drain();
    expect(errors.map((e) => e.reason)).toEqual([]);
    expect(logger.lines.some((l) => /could not be checked/.test(l.message ?? ''))).toBe(true);
    expect(glue.stats().shadow).toMatchObject({ compared: 1, inFlight: 0 });
  });

  it('a very deep input (a long linked list) is cloned and checked without overflowing the stack', async () => {
    let list: Record<string, unknown> = { end: true };
    for (let i = 0; i < 50_000; i++) list = { next: list };
    const { glue } = glueOf();
    await expect(glue.process({ userId: 'a', list })).resolves.toEqual({ total: 10 });
    await glue.drain();
    expect(glue.stats().shadow).toMatchObject({ compared: 1, inFlight: 0 });
  });

  it('an input with exponential sharing (a DAG) is cloned and checked in linear time', async () => {
    let node: Record<string, unknown> = { leaf: 1 };
    for (let i = 0; i < 40; i++) node = { left: node, right: node };
    const newService = vi.fn(async () => ({ total: 10 }));
    const { glue, errors } = glueOf({ newService });
    await expect(glue.process({ userId: 'a', node })).resolves.toEqual({ total: 10 });
    await glue.drain();
    expect(newService).toHaveBeenCalledTimes(1);
    expect(errors).toEqual([]);
    expect(glue.stats().shadow).toMatchObject({ compared: 1, inputMutations: 0 });
  });
});

describe('clean.output with a comparator written for the real output', () => {
  it('the comparator runs once, on the real values, and the caller gets old value', async () => {
    const seen: unknown[] = [];
    const comparator = (a: Output, b: Output) => {
      seen.push(a, b);
      return (a['items'] as unknown[]).length === (b['items'] as unknown[]).length;
    };
    const { glue, mismatches, logger } = glueOf({
      oldService: async () => ({ items: [1], card: '4111-SECRET' }),
      newService: async () => ({ items: [1, 2], card: '4111-SECRET' }),
      comparator,
      shadow: { clean: { output: () => ({ redacted: true }) } },
    });
    await expect(glue.process({ userId: 'a' })).resolves.toEqual({ items: [1], card: '4111-SECRET' });
    await glue.drain();
    expect(seen).toEqual([
      { items: [1], card: '4111-SECRET' },
      { items: [1, 2], card: '4111-SECRET' },
    ]);
    expect(mismatches).toHaveLength(1);
    expect(JSON.stringify({ mismatches, lines: logger.lines })).not.toContain('SECRET');
  });

  it('a Comparator object that throws on cleaned values is never called with them', async () => {
    const compare = vi.fn((a: { ok: boolean; value?: unknown }, b: { ok: boolean; value?: unknown }) => {
      const x = (a.value as { n: number }).n.toFixed(0);
      const y = (b.value as { n: number }).n.toFixed(0);
      return x === y ? { equal: true, diff: [], truncated: false } : { equal: false, kind: 'value' as const, diff: [{ path: 'n', kind: 'changed' as const, old: x, new: y }], truncated: false };
    });
    const { glue, mismatches } = glueOf({
      oldService: async () => ({ n: 1 }),
      newService: async () => ({ n: 2 }),
      comparator: { compare } as never,
      shadow: { clean: { output: () => 'hidden' as never } },
    });
    await expect(glue.process({ userId: 'a' })).resolves.toEqual({ n: 1 });
    await glue.drain();
    expect(compare).toHaveBeenCalledTimes(1);
    expect(mismatches).toHaveLength(1);
    expect(glue.stats().shadow).toMatchObject({ mismatched: 1, errors: 0 });
  });
});

describe('formatting a mismatch of hostile values', () => {
  it('a getter that throws in old output: the caller gets old value, the line is logged', async () => {
    const answer = {
      extra: {
        get lazy(): never {
          throw new Error('getter bomb');
        },
      },
    };
    const { glue, logger, mismatches } = glueOf({ oldService: async () => answer, newService: async () => ({ extra: 5 }) });
    await expect(glue.process({ userId: 'a' })).resolves.toBe(answer);
    await glue.drain();
    expect(mismatches).toHaveLength(1);
    const line = logger.lines.find((l) => l.message?.startsWith('shadow mismatch'));
    expect((line?.context as { diff: string }).diff).toMatch(/^extra: \{"lazy":\[unreadable\]\} → 5/);
  });

  it('revoked proxies, cycles and huge values on either side never reach the caller', async () => {
    const { proxy, revoke } = Proxy.revocable({ a: 1 }, {});
    revoke();
    const cyclic: Record<string, unknown> = { n: 1 };
    cyclic['self'] = cyclic;
    const huge = { list: Array.from({ length: 200_000 }, (_, i) => i), text: 'x'.repeat(5_000_000) };
    const pairs: [unknown, unknown][] = [
      [{ p: proxy }, { p: 1 }],
      [[1, proxy], [1, 2]],
      [{ c: cyclic }, { c: 2 }],
      [huge, { list: [] }],
      [new Map([[1, huge]]), new Set([1])],
    ];
    for (const [oldValue, newValue] of pairs) {
      const { glue } = glueOf({ oldService: async () => oldValue as Output, newService: async () => newValue as Output });
      await expect(glue.process({ userId: 'a' })).resolves.toBe(oldValue);
      await glue.drain();
      expect(glue.stats().shadow.inFlight).toBe(0);
    }
  });
});

describe('orders that start new first, with a new that never answers', () => {
  for (const order of ['new-first', 'random'] as const) {
    it(`${order}: the caller waits at most timeoutMs`, async () => {
      vi.useFakeTimers();
      const { glue } = glueOf({ newService: hang, shadow: { order, timeoutMs: 50 } });
      const settled: unknown[] = [];
      for (let i = 0; i < 10; i++) void glue.process({ userId: `u${i}` }).then((value) => settled.push(value));
      await vi.advanceTimersByTimeAsync(49);
      expect(settled.length).toBeLessThan(10);
      await vi.advanceTimersByTimeAsync(2);
      expect(settled).toHaveLength(10);
      expect(glue.stats().shadow).toMatchObject({ inFlight: 0 });
      expect(glue.stats().shadow.timeouts).toBeGreaterThan(0);
    });
  }
});

describe('close() and drain() in a script whose new hangs', () => {
  it('keep the process alive until the shadow calls time out, then the code after them runs', async () => {
    const root = path.resolve(import.meta.dirname, '../..');
    const script = `
      import { MigrationGlue, phases } from './src/index.ts';
      const glue = new MigrationGlue({
        name: 'x', config: phases.shadow(), logger: { debug() {}, info() {}, warn() {}, error() {} },
        oldService: async () => 1, newService: () => new Promise(() => {}), shadow: { timeoutMs: 100 },
      });
      await glue.process({ userId: 'a' });
      await glue.drain();
      console.log('after drain', glue.stats().shadow.timeouts);
      await glue.process({ userId: 'b' });
      await glue.close();
      console.log('after close', glue.stats().shadow.timeouts);
    `;
    const { stdout } = await promisify(execFile)(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { cwd: root, timeout: 15_000 });
    expect(stdout.trim().split('\n')).toEqual(['after drain 1', 'after close 2']);
  });
});

describe('secrets in object keys', () => {
  it('what clean.output hides is absent from log lines, events and stats fingerprints', async () => {
    const maskKeys = (o: Output): Output => ({
      apiKeys: Object.fromEntries(Object.entries(o['apiKeys'] as Record<string, unknown>).map(([, v], i) => [`key${i}`, v])),
    });
    const { glue, logger, recorder } = glueOf({
      oldService: async () => ({ apiKeys: { sk_live_SECRET1: 'on' } }),
      newService: async () => ({ apiKeys: { sk_live_SECRET1: 'off' } }),
      shadow: { clean: { output: maskKeys } },
    });
    await glue.process({ userId: 'a' });
    await glue.drain();
    const written = JSON.stringify({ lines: logger.lines, events: recorder.all, stats: glue.stats() });
    expect(written).not.toContain('SECRET');
    expect(glue.stats().shadow.fingerprints.map((f) => f.fingerprint)).toEqual(['apiKeys.key0:changed']);
  });

  it('a secret only in the path, with outputs equal once cleaned, shows as a redacted root', async () => {
    const { glue, logger, recorder } = glueOf({
      oldService: async () => ({ tokens: { tok_SECRET_a: 1 } }),
      newService: async () => ({ tokens: { tok_SECRET_b: 1 } }),
      shadow: { clean: { output: () => ({ tokens: '[hidden]' }) } },
    });
    await glue.process({ userId: 'a' });
    await glue.drain();
    expect(JSON.stringify({ lines: logger.lines, events: recorder.all, stats: glue.stats() })).not.toContain('SECRET');
    expect(glue.stats().shadow.fingerprints.map((f) => f.fingerprint)).toEqual([':changed']);
  });
});

describe('mismatches whose path holds an id', () => {
  it('fold ids into one fingerprint and cap the log lines overall', async () => {
    const idOf = (input: Input) => {
      const n = Number(input.userId.slice(1));
      if (n % 3 === 0) return String(100_000 + n);
      if (n % 3 === 1) return `8f3a${(n * 7919).toString(16).padStart(20, '0')}`;
      return `${String(n).padStart(8, '0')}-3f0d-4c2e-9a61-0d3b5e7f9a2c`;
    };
    const { glue, logger } = glueOf({
      oldService: async (input) => ({ users: { [idOf(input)]: { name: 'old' } } }),
      newService: async (input) => ({ users: { [idOf(input)]: { name: 'new' } } }),
    });
    for (let i = 0; i < 3_000; i++) await glue.process({ userId: `u${i}` });
    await glue.drain();
    const lines = logger.lines.filter((l) => l.message?.startsWith('shadow mismatch'));
    expect(lines.length).toBeLessThanOrEqual(10);
    const stats = glue.stats().shadow;
    expect(stats.mismatched).toBe(3_000);
    expect(stats.fingerprints.map((f) => [f.fingerprint, f.count])).toEqual([['users[*].name:changed', 3_000]]);
  });

  it('distinct fingerprints beyond the overall cap are counted, not logged', async () => {
    let n = 0;
    const { glue, logger } = glueOf({
      oldService: async () => ({ [`field${(n += 1)}x`]: 1 }),
      newService: async () => ({}),
      shadow: { logPerMinute: 10 },
    });
    for (let i = 0; i < 500; i++) await glue.process({ userId: `u${i}` });
    await glue.drain();
    const lines = logger.lines.filter((l) => l.message?.startsWith('shadow mismatch'));
    expect(lines.length).toBe(100);
    expect(glue.stats().shadow.mismatched).toBe(500);
  });
});

describe('a timed-out shadow call', () => {
  it('is not retained by the runner while new holds its pending promise', async () => {
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as () => void;
    const pending: Promise<never>[] = [];
    const { glue, recorder } = glueOf({
      newService: () => {
        const call = hang();
        pending.push(call);
        return call;
      },
      shadow: { timeoutMs: 20 },
    });
    recorder.stop();
    // In a function of its own, so no frame of the test still holds the last input.
    const callAll = async () => {
      const made: WeakRef<object>[] = [];
      for (let i = 0; i < 5; i++) {
        const input = { userId: `u${i}`, payload: new Array(1_000).fill(i) };
        const output = await glue.process(input);
        made.push(new WeakRef(input), new WeakRef(output));
      }
      return made;
    };
    const refs = await callAll();
    await glue.drain();
    expect(glue.stats().shadow.timeouts).toBe(5);
    await tick();
    gc();
    await tick();
    gc();
    expect(refs.map((ref, i) => (ref.deref() !== undefined ? i : -1)).filter((i) => i >= 0)).toEqual([]);
    expect(pending).toHaveLength(5);
  });
});

describe('hooks that misbehave', () => {
  it('a comparator answering garbage (a promise, null, a non-boolean equal) is a comparator error, never a match', async () => {
    const answers: unknown[] = [Promise.resolve(false), null, { equal: 'no', diff: [] }];
    for (const answer of answers) {
      const { glue, errors } = glueOf({ comparator: { compare: () => answer } as never });
      await expect(glue.process({ userId: 'a' })).resolves.toEqual({ total: 10 });
      await glue.drain();
      expect(errors.map((e) => e.reason)).toEqual(['comparator']);
      expect(glue.stats().shadow).toMatchObject({ compared: 0, matched: 0, errors: 1, inFlight: 0 });
    }
    const async = glueOf({ comparator: (async () => false) as never });
    await async.glue.process({ userId: 'a' });
    await async.glue.drain();
    expect(async.glue.stats().shadow).toMatchObject({ matched: 0, errors: 1 });
  });

  it('a clean.output that throws: the value is withheld and the warning rate-limited', async () => {
    const { glue, logger, mismatches } = glueOf({
      newService: async () => ({ total: 11 }),
      shadow: {
        clean: {
          output: () => {
            throw new Error('clean bug');
          },
        },
      },
    });
    for (let i = 0; i < 50; i++) await expect(glue.process({ userId: `u${i}` })).resolves.toEqual({ total: 10 });
    await glue.drain();
    expect(mismatches).toHaveLength(50);
    expect(mismatches[0]?.old).toEqual({ ok: true, value: '[clean failed]' });
    expect(logger.lines.filter((l) => l.message?.startsWith('shadow.clean.output threw')).length).toBeLessThanOrEqual(10);
  });

  it('a clean hook that mutates what it is given never changes the caller value or input', async () => {
    const answer = { total: 10, token: 'tok-real' };
    const input = { userId: 'a', secret: 'real' };
    const { glue, mismatches } = glueOf({
      oldService: async () => answer,
      newService: async () => ({ total: 11, token: 'tok-real' }),
      shadow: {
        clean: {
          input: (value) => Object.assign(value, { secret: '***' }),
          output: (value) => Object.assign(value, { token: '***' }),
        },
      },
    });
    const served = await glue.process(input);
    await glue.drain();
    expect(served).toBe(answer);
    expect(answer).toEqual({ total: 10, token: 'tok-real' });
    expect(input).toEqual({ userId: 'a', secret: 'real' });
    expect(mismatches[0]?.old).toEqual({ ok: true, value: { total: 10, token: '***' } });
  });

  it('a hasher that throws while admitting: old serves, unshadowed', async () => {
    const newService = vi.fn(async () => ({ total: 10 }));
    const { glue } = glueOf({
      newService,
      config: { ...phases.shadow(), newSystemPercentage: 50 },
      hasher: {
        hash32: () => {
          throw new Error('hasher bug');
        },
      },
    });
    await expect(glue.process({ userId: 'a' })).resolves.toEqual({ total: 10 });
    expect(newService).not.toHaveBeenCalled();
  });

  it('an unknown or ill-typed shadow option is refused when the glue is built', () => {
    expect(() => glueOf({ shadow: { timeout: 50 } as never })).toThrow(expect.objectContaining({ code: 'ERR_INVALID_OPTION', message: expect.stringContaining('shadow.timeout') }));
    expect(() => glueOf({ shadow: { aa: 'yes' } as never })).toThrow(expect.objectContaining({ code: 'ERR_INVALID_OPTION' }));
    expect(() => glueOf({ shadow: { clean: 'x' } as never })).toThrow(expect.objectContaining({ code: 'ERR_INVALID_OPTION' }));
  });
});

describe('outputs too big to compare', () => {
  it('two equal DAGs of exponential size: a bounded comparator error, not a hang', async () => {
    const dag = () => {
      let node: Record<string, unknown> = { leaf: 1 };
      for (let i = 0; i < 40; i++) node = { left: node, right: node };
      return node;
    };
    const { glue, errors } = glueOf({ oldService: async () => dag(), newService: async () => dag() });
    await glue.process({ userId: 'a' });
    await glue.drain();
    expect(errors.map((e) => [e.reason, (e.error as { code?: string }).code])).toEqual([['comparator', 'ERR_COMPARE_LIMIT']]);
    expect(glue.stats().shadow).toMatchObject({ compared: 0, errors: 1, inFlight: 0 });
  });
});

describe('an input with an own __proto__ key (as JSON.parse makes)', () => {
  it('reaches new as the same data, and is not reported as mutated', async () => {
    const seen: unknown[] = [];
    const { glue, errors } = glueOf({
      newService: async (input) => {
        seen.push(input);
        return { total: 10 };
      },
    });
    const input = JSON.parse('{"userId":"a","__proto__":{"admin":true}}') as Input;
    await glue.process(input);
    await glue.drain();
    expect(seen).toEqual([input]);
    expect(Object.getPrototypeOf(seen[0])).toBe(Object.prototype);
    expect(errors).toEqual([]);
  });
});

describe('a clean hook that throws on a secret-bearing value', () => {
  it('logs that it failed and the error name, never the message (which may quote the secret)', async () => {
    const logger = recordingLogger();
    const glue = new MigrationGlue<{ userId: string; card: string }, { card: string }>({
      name: 'clean-error-message',
      config: phases.shadow(),
      logger,
      oldService: async () => ({ card: 'last four 4111' }),
      newService: async () => ({ card: 'other' }),
      shadow: {
        clean: {
          input: (q) => {
            throw new SyntaxError(`cannot mask ${q.card}`);
          },
        },
      },
    });
    const seen: unknown[] = [];
    glue.on('mismatch', (event) => seen.push(event)); // the input is cleaned for the event
    await glue.process({ userId: 'u', card: 'TOPSECRET-4111' });
    await glue.drain();
    expect(seen).toHaveLength(1);
    const warned = logger.lines.filter((l) => l.message?.startsWith('shadow.clean.input threw'));
    expect(warned.length, JSON.stringify(logger.lines.map((l) => l.message))).toBeGreaterThanOrEqual(1);
    expect(warned[0]?.context).toMatchObject({ errorName: 'SyntaxError' });
    expect(JSON.stringify(logger.lines)).not.toContain('TOPSECRET');
    await glue.close();
  });
});
