import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { MigrationGlue, phases } from '../../src/index.js';
import type { MigrationConfig, MigrationGlueOptions } from '../../src/index.js';
import { fakeService, recordEvents } from '../../src/testing/index.js';
import { recordingLogger } from '../helpers.js';

type Input = { userId: string; secret?: string; items?: number[] };
type Output = { total: number; token?: string };

const unhandled: unknown[] = [];
const onUnhandled = (reason: unknown) => unhandled.push(reason);
beforeEach(() => {
  unhandled.length = 0;
  process.on('unhandledRejection', onUnhandled);
});
afterEach(async () => {
  // give stray rejections a turn to surface before checking
  await new Promise((resolve) => setTimeout(resolve, 5));
  process.off('unhandledRejection', onUnhandled);
  expect(unhandled).toEqual([]);
});

function shadowGlue(options: Partial<MigrationGlueOptions<Input, Output>> & { config?: MigrationConfig } = {}) {
  const logger = recordingLogger();
  const glue = new MigrationGlue<Input, Output>({
    name: 'pricing',
    oldService: async () => ({ total: 10 }),
    newService: async () => ({ total: 10 }),
    config: phases.shadow(),
    logger,
    ...options,
  });
  const { mismatch: mismatches, shadowError: errors, shadowSkipped: skipped } = recordEvents(glue).events;
  return { glue, logger, mismatches, errors, skipped };
}

/** A new service that never answers. */
const never = () => fakeService<Input, Output>({ output: [{ total: 10 }], hang: true });

/** A new service that answers `{ total }` and records its calls. */
const answering = (total = 10) => fakeService<Input, Output>({ output: () => ({ total }) });

describe('in shadow mode', () => {
  it('the caller gets old answer (the same object) and new answer is discarded', async () => {
    const answer = { total: 10 };
    const newService = answering(11);
    const { glue, mismatches } = shadowGlue({ oldService: async () => answer, newService });
    expect(await glue.process({ userId: 'a' })).toBe(answer);
    await glue.drain();
    expect(newService.calls).toHaveLength(1);
    expect(mismatches).toHaveLength(1);
    expect(mismatches[0]).toMatchObject({ kind: 'value', key: 'a', old: { ok: true, value: { total: 10 } }, new: { ok: true, value: { total: 11 } } });
    expect(mismatches[0]?.comparison.diff).toEqual([{ path: 'total', kind: 'changed', old: 10, new: 11 }]);
    expect(glue.stats().shadow).toMatchObject({ compared: 1, matched: 0, mismatched: 1, mismatchRate: 1 });
    expect(glue.stats().new.calls).toBe(0);
  });

  it('equal outputs count as matched', async () => {
    const { glue, mismatches } = shadowGlue();
    for (let i = 0; i < 5; i++) await glue.process({ userId: `u${i}` });
    await glue.drain();
    expect(mismatches).toEqual([]);
    expect(glue.stats().shadow).toMatchObject({ compared: 5, matched: 5, mismatched: 0, inFlight: 0 });
  });

  it('never makes the caller wait for new', async () => {
    const { glue } = shadowGlue({ newService: never(), shadow: { timeoutMs: 50 } });
    await expect(glue.process({ userId: 'a' })).resolves.toEqual({ total: 10 });
    expect(glue.stats().shadow.inFlight).toBe(1);
    await glue.drain();
    expect(glue.stats().shadow).toMatchObject({ inFlight: 0, timeouts: 1 });
  });
});

describe('when new misbehaves in shadow', () => {
  it('rejects: an error mismatch and a shadowError, the caller unaffected', async () => {
    const failure = new Error('new down');
    const { glue, mismatches, errors } = shadowGlue({ newService: fakeService<Input, Output>({ output: [{ total: 10 }], failRate: 1, error: failure }) });
    expect(await glue.process({ userId: 'a' })).toEqual({ total: 10 });
    await glue.drain();
    expect(errors).toEqual([expect.objectContaining({ reason: 'error', error: failure })]);
    expect(mismatches[0]?.kind).toBe('error');
    expect(glue.stats().shadow).toMatchObject({ errors: 1, mismatched: 1, mismatchesByKind: { value: 0, error: 1, flaky: 0 } });
  });

  it('throws synchronously: handled like a rejection', async () => {
    const { glue, errors } = shadowGlue({
      newService: (() => {
        throw new TypeError('sync');
      }) as never,
    });
    await expect(glue.process({ userId: 'a' })).resolves.toEqual({ total: 10 });
    await glue.drain();
    expect(errors[0]?.error).toBeInstanceOf(TypeError);
  });

  it('hangs forever: times out, the slot is freed, drain resolves', async () => {
    const { glue, errors } = shadowGlue({ newService: never(), shadow: { timeoutMs: 20 } });
    await glue.process({ userId: 'a' });
    await glue.drain();
    expect(errors).toEqual([expect.objectContaining({ reason: 'timeout' })]);
    expect(glue.stats().shadow).toMatchObject({ timeouts: 1, inFlight: 0, compared: 0 });
  });

  it('returns garbage or the wrong type: a mismatch with a type diff', async () => {
    const { glue, mismatches } = shadowGlue({ newService: (async () => 'garbage') as never });
    await glue.process({ userId: 'a' });
    const second = shadowGlue({ newService: (async () => undefined) as never });
    await second.glue.process({ userId: 'a' });
    await Promise.all([glue.drain(), second.glue.drain()]);
    expect(mismatches[0]?.comparison.diff[0]).toMatchObject({ path: '', kind: 'type' });
    expect(second.mismatches).toHaveLength(1);
  });

  it('a comparator that throws is a shadowError, never reaching the caller', async () => {
    const { glue, errors } = shadowGlue({
      comparator: {
        compare: () => {
          throw new Error('comparator bug');
        },
      },
    });
    await expect(glue.process({ userId: 'a' })).resolves.toEqual({ total: 10 });
    await glue.drain();
    expect(errors).toEqual([expect.objectContaining({ reason: 'comparator' })]);
    expect(glue.stats().shadow.inFlight).toBe(0);
  });
});

describe('when old fails in shadow', () => {
  it('its error reaches the caller unchanged and the comparison still happens', async () => {
    const oldFailure = new RangeError('old broke');
    const { glue, mismatches } = shadowGlue({ oldService: async () => Promise.reject(oldFailure) });
    await expect(glue.process({ userId: 'a' })).rejects.toBe(oldFailure);
    await glue.drain();
    expect(mismatches[0]?.kind).toBe('error');
    expect(glue.stats().shadow.compared).toBe(1);
  });

  it('both failing with the same error class and message is a match', async () => {
    const { glue, mismatches } = shadowGlue({
      oldService: async () => Promise.reject(new RangeError('no such sku')),
      newService: async () => Promise.reject(new RangeError('no such sku')),
    });
    await expect(glue.process({ userId: 'a' })).rejects.toThrow('no such sku');
    await glue.drain();
    expect(mismatches).toEqual([]);
    expect(glue.stats().shadow.matched).toBe(1);
  });
});

describe('capacity, sampling and percentage', () => {
  it('10,000 concurrent calls with a hanging new keep at most maxInFlight in flight', async () => {
    const { glue } = shadowGlue({ newService: never(), shadow: { maxInFlight: 100, timeoutMs: 30 } });
    glue.on('shadowSkipped', () => {});
    const calls = Array.from({ length: 10_000 }, (_, i) => glue.process({ userId: `u${i}` }));
    expect(glue.stats().shadow.inFlight).toBe(100);
    await Promise.all(calls);
    const stats = glue.stats().shadow;
    expect(stats.skipped).toBe(9_900);
    expect(stats.skippedBy.overCapacity).toBe(9_900);
    expect(stats.inFlight).toBeLessThanOrEqual(100);
    await glue.drain();
    expect(glue.stats().shadow).toMatchObject({ inFlight: 0, timeouts: 100 });
  });

  it('samples by routing key: a sampled user is always compared', async () => {
    const newService = answering();
    const { glue, skipped } = shadowGlue({ newService, shadow: { sampleRate: 0.3 } });
    const sampled = new Set<string>();
    for (let round = 0; round < 3; round++) {
      for (let i = 0; i < 1_000; i++) {
        const calledBefore = newService.calls.length;
        await glue.process({ userId: `u${i}` });
        const wasSampled = newService.calls.length > calledBefore;
        if (round === 0 && wasSampled) sampled.add(`u${i}`);
        else expect(wasSampled).toBe(sampled.has(`u${i}`));
      }
    }
    expect(sampled.size).toBeGreaterThan(240);
    expect(sampled.size).toBeLessThan(360);
    expect(skipped.every((s) => s.reason === 'sampled-out')).toBe(true);
    await glue.drain();
  });

  it('with a percentage below 100 shadows only that share of keys', async () => {
    const newService = answering();
    const { glue, skipped } = shadowGlue({ newService, config: { ...phases.shadow(), newSystemPercentage: 10 } });
    for (let i = 0; i < 2_000; i++) await glue.process({ userId: `u${i}` });
    await glue.process({ userId: '' });
    await glue.drain();
    expect(newService.calls.length).toBeGreaterThan(140);
    expect(newService.calls.length).toBeLessThan(260);
    expect(skipped.at(-1)?.reason).toBe('missing-key');
    expect(glue.stats().shadow.skippedBy.outsidePercentage).toBe(2_000 - newService.calls.length);
  });

  it('does not call new at all when new is disabled', async () => {
    const newService = answering();
    const { glue } = shadowGlue({ newService, config: { ...phases.shadow(), newSystemEnabled: false } });
    await glue.process({ userId: 'a' });
    expect(newService.calls).toEqual([]);
  });
});

describe('order', () => {
  function ordered(order: 'parallel' | 'old-first' | 'new-first') {
    const log: string[] = [];
    const { glue } = shadowGlue({
      shadow: { order },
      oldService: async () => {
        log.push('old start');
        await new Promise((resolve) => setTimeout(resolve, 5));
        log.push('old end');
        return { total: 1 };
      },
      newService: async () => {
        log.push('new start');
        await new Promise((resolve) => setTimeout(resolve, 5));
        log.push('new end');
        return { total: 1 };
      },
    });
    return { glue, log };
  }

  it('parallel starts both before either ends', async () => {
    const { glue, log } = ordered('parallel');
    await glue.process({ userId: 'a' });
    await glue.drain();
    expect(log.slice(0, 2).sort()).toEqual(['new start', 'old start']);
  });

  it('old-first starts new after old answered', async () => {
    const { glue, log } = ordered('old-first');
    await glue.process({ userId: 'a' });
    await glue.drain();
    expect(log).toEqual(['old start', 'old end', 'new start', 'new end']);
  });

  it('new-first runs new to the end before old starts', async () => {
    const { glue, log } = ordered('new-first');
    await glue.process({ userId: 'a' });
    await glue.drain();
    expect(log).toEqual(['new start', 'new end', 'old start', 'old end']);
  });
});

describe('noise control', () => {
  it('A/A mode compares old with itself and never calls new', async () => {
    const newService = answering();
    const oldService = fakeService<Input, Output>({ output: [{ total: 0 }, { total: 1 }], outputs: 'cycle' });
    const { glue, mismatches } = shadowGlue({ newService, oldService, shadow: { aa: true } });
    for (let i = 0; i < 10; i++) await glue.process({ userId: `u${i}` });
    await glue.drain();
    expect(newService.calls).toEqual([]);
    expect(mismatches.length).toBe(10);
    expect(glue.stats().shadow.compared).toBe(10);
  });

  it('re-runs old on a mismatch and calls it flaky when old disagrees with itself', async () => {
    const { glue, mismatches } = shadowGlue({
      oldService: fakeService<Input, Output>({ output: (_, i) => ({ total: i }) }),
      newService: answering(-1),
      shadow: { rerunOldOnMismatch: true },
    });
    await glue.process({ userId: 'a' });
    await glue.drain();
    expect(mismatches[0]?.kind).toBe('flaky');
    expect(glue.stats().shadow).toMatchObject({ mismatched: 0, mismatchesByKind: { flaky: 1 }, mismatchRate: 0 });

    const stable = shadowGlue({ newService: answering(-1), shadow: { rerunOldOnMismatch: true } });
    await stable.glue.process({ userId: 'a' });
    await stable.glue.drain();
    expect(stable.mismatches[0]?.kind).toBe('value');
  });

  it('detects a new service that mutates its input, and old never sees the change', async () => {
    const seenByOld: number[][] = [];
    const { glue, errors } = shadowGlue({
      shadow: { order: 'new-first' },
      newService: async (input) => {
        input.items?.push(99);
        return { total: 10 };
      },
      oldService: async (input) => {
        seenByOld.push([...(input.items ?? [])]);
        return { total: 10 };
      },
    });
    const input = { userId: 'a', items: [1, 2] };
    await glue.process(input);
    await glue.drain();
    expect(seenByOld).toEqual([[1, 2]]);
    expect(input.items).toEqual([1, 2]);
    expect(errors.map((e) => e.reason)).toEqual(['input-mutated']);
    expect(glue.stats().shadow.inputMutations).toBe(1);
  });
});

describe('reporting', () => {
  it('redacts inputs and outputs in events and logs with the clean hook', async () => {
    const { glue, mismatches, logger } = shadowGlue({
      oldService: async () => ({ total: 1, token: 'tok-old-SECRET' }),
      newService: async () => ({ total: 2, token: 'tok-new-SECRET' }),
      shadow: {
        clean: {
          input: (input) => ({ ...input, secret: '***' }),
          output: (output) => ({ ...output, token: '***' }),
        },
      },
    });
    await glue.process({ userId: 'a', secret: 'hunter2-SECRET' });
    await glue.drain();
    const everything = JSON.stringify({ mismatches, lines: logger.lines });
    expect(everything).not.toContain('SECRET');
    expect(mismatches[0]?.comparison.diff).toEqual([{ path: 'total', kind: 'changed', old: 1, new: 2 }]);
  });

  it('logs identical mismatches rate-limited but counts every one, grouped by fingerprint', async () => {
    const { glue, logger } = shadowGlue({
      newService: fakeService<Input, Output>({ output: [{ total: 10, token: 'extra' }, { total: 11 }, { total: 11 }, { total: 11 }], outputs: 'cycle' }),
    });
    for (let n = 0; n < 100; n++) await glue.process({ userId: `u${n}` });
    await glue.drain();
    const lines = logger.lines.filter((l) => l.message?.startsWith('shadow mismatch'));
    expect(lines.length).toBe(20); // 10 per fingerprint per minute, two fingerprints
    const stats = glue.stats().shadow;
    expect(stats.mismatched).toBe(100);
    expect(stats.fingerprints.map((f) => [f.fingerprint, f.count])).toEqual([
      ['total:changed', 75],
      ['token:extra', 25],
    ]);
    expect(lines.map((l) => (l.context as { diff: string }).diff)).toContain('total: 10 → 11');
  });
});
