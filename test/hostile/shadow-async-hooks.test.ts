import { describe, expect, it } from 'vitest';
import type { Comparator, MigrationGlueOptions } from '../../src/index.js';
import { MigrationGlue, phases } from '../../src/index.js';
import { revokedProxy } from './arbitraries.js';
import { flush, recordingLogger, trackProcessFaults } from './harness.js';

// A `clean` hook or a comparator must answer synchronously. One that answers
// with a promise (an `async` function) is a misuse the glue survives: its
// promise, rejected or not, never becomes an unhandled rejection, and what
// it was meant to hide is withheld.

const faults = trackProcessFaults();

type Input = { userId: string; card: string };
type Output = { total: number; token: string };

async function runShadow(options: Partial<MigrationGlueOptions<Input, Output>>) {
  faults.take();
  const { logger, calls } = recordingLogger();
  const glue = new MigrationGlue<Input, Output>({
    name: 'async-hooks',
    config: phases.shadow(),
    logger,
    oldService: async () => ({ total: 10, token: 'old-secret' }),
    newService: async () => ({ total: 11, token: 'new-secret' }),
    ...options,
  });
  const mismatches: unknown[] = [];
  const shadowErrors: unknown[] = [];
  glue.on('mismatch', (e) => void mismatches.push(e));
  glue.on('shadowError', (e) => void shadowErrors.push(e));
  const served = await glue.process({ userId: 'u1', card: '4111-secret' });
  await glue.drain();
  await glue.close();
  await flush();
  return { served, calls, mismatches, shadowErrors, faults: faults.take() };
}

const rejectsLater = () => Promise.reject(new Error('async hook rejected'));

describe('a clean hook that answers with a promise', () => {
  it('clean.input rejecting: no unhandled rejection, the input is withheld, the caller gets old', async () => {
    const run = await runShadow({ shadow: { clean: { input: rejectsLater as never } } });
    expect(run.faults).toEqual([]);
    expect(run.served).toEqual({ total: 10, token: 'old-secret' });
    expect(run.mismatches).toHaveLength(1);
    expect(run.mismatches[0]).toMatchObject({ input: '[clean failed]' });
    expect(run.calls.some((c) => c.level === 'warn' && String(c.message).includes('clean.input returned a promise'))).toBe(true);
  });

  it('clean.output rejecting: no unhandled rejection, both outputs withheld', async () => {
    const run = await runShadow({ shadow: { clean: { output: rejectsLater as never } } });
    expect(run.faults).toEqual([]);
    expect(run.mismatches[0]).toMatchObject({ old: { ok: true, value: '[clean failed]' }, new: { ok: true, value: '[clean failed]' } });
  });

  it('clean.input rejecting with a revoked Proxy: no unhandled rejection', async () => {
    const run = await runShadow({ shadow: { clean: { input: (() => Promise.reject(revokedProxy())) as never } } });
    expect(run.faults).toEqual([]);
  });

  it('clean.input resolving: the promise is never shown in its place', async () => {
    const run = await runShadow({ shadow: { clean: { input: (async (i: Input) => ({ ...i, card: '***' })) as never } } });
    expect(run.faults).toEqual([]);
    expect(run.mismatches[0]).toMatchObject({ input: '[clean failed]' });
  });
});

describe('a comparator whose compare answers with a promise', () => {
  it('rejecting: no unhandled rejection, a comparator shadowError, the caller gets old', async () => {
    const comparator: Comparator<Output> = { compare: rejectsLater as never };
    const run = await runShadow({ comparator });
    expect(run.faults).toEqual([]);
    expect(run.served).toEqual({ total: 10, token: 'old-secret' });
    expect(run.shadowErrors).toMatchObject([{ reason: 'comparator' }]);
  });

  it('rejecting on the re-run of old too (rerunOldOnMismatch): no unhandled rejection', async () => {
    let n = 0;
    const comparator: Comparator<Output> = {
      compare: () => (n++ === 0 ? { equal: false, diff: [], truncated: false } : rejectsLater()) as never,
    };
    const run = await runShadow({ comparator, shadow: { rerunOldOnMismatch: true } });
    expect(run.faults).toEqual([]);
    expect(n).toBe(2);
  });
});
