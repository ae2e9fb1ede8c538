import fc from 'fast-check';
import { describe } from 'vitest';
import type { Repository } from '../../src/index.js';
import { backfill, verify } from '../../src/index.js';
import { InMemoryRepository } from '../../src/testing/index.js';
import type { Behaviour } from './arbitraries.js';
import { prop } from './known-failures.js';
import { behaviourArb, params, propertyTimeoutMs, voidHookArb } from './arbitraries.js';
import { flush, recordingLogger, show, trackProcessFaults, within } from './harness.js';

// DESIGN: every wait on user code (repositories, hooks) is bounded:
// backfill and verify settle (resolve or reject) whatever the stores do,
// and an abort stops them.

const faults = trackProcessFaults();

interface Row {
  readonly id: number;
}

/** A store whose `op` behaves as `behaviour` once, then as the real store; `getBatch` may ignore `afterKey`. */
function hostileStore(inner: InMemoryRepository<Row, number>, op: keyof Repository<Row, number>, behaviour: Behaviour, ignoresAfterKey: boolean): Repository<Row, number> {
  let used = false;
  const once =
    <A extends unknown[]>(name: string, real: (...args: A) => Promise<unknown>) =>
    (...args: A): Promise<never> => {
      if (name !== op || used) return real(...args) as Promise<never>;
      used = true;
      return behaviour.make().call(args[0]) as Promise<never>;
    };
  return {
    get: once('get', (k: number) => inner.get(k)),
    save: once('save', (r: Row) => inner.save(r)),
    delete: once('delete', (k: number) => inner.delete(k)),
    getBatch: once('getBatch', (after: number | null, limit: number) => inner.getBatch(ignoresAfterKey ? null : after, limit)),
  };
}

describe('backfill and verify under hostile stores and hooks', () => {
  prop(
    'settle within their bound, and an abort stops them',
    async () => {
      const arb = fc.record({
        side: fc.constantFrom('from' as const, 'to' as const),
        op: fc.constantFrom('get' as const, 'save' as const, 'getBatch' as const),
        behaviour: behaviourArb(),
        ignoresAfterKey: fc.boolean(),
        onProgress: voidHookArb,
        rows: fc.integer({ min: 0, max: 30 }),
        batchSize: fc.integer({ min: 1, max: 8 }),
      });
      await fc.assert(
        fc.asyncProperty(arb, async ({ side, op, behaviour, ignoresAfterKey, onProgress, rows, batchSize }) => {
          faults.take();
          const seed = Array.from({ length: rows }, (_, id) => ({ id }));
          const from = new InMemoryRepository<Row, number>({ keyOf: (r) => r.id, name: 'from', bulkInsert: false }).seed(seed);
          const to = new InMemoryRepository<Row, number>({ keyOf: (r) => r.id, name: 'to', bulkInsert: false }).seed(seed.slice(0, rows >> 1));
          const a = side === 'from' ? hostileStore(from, op, behaviour, ignoresAfterKey) : from;
          const b = side === 'to' ? hostileStore(to, op, behaviour, ignoresAfterKey) : to;
          const { logger } = recordingLogger();
          const abort = new AbortController();
          const timer = setTimeout(() => abort.abort(), 200);
          try {
            const copied = await within(
              backfill({ from: a, to: b, keyOf: (r) => r.id, batchSize, signal: abort.signal, logger, onProgress: onProgress.make() as never }),
              'backfill',
            );
            if (copied.kind === 'value' && (copied.value as { copied: number }).copied > rows) throw new Error(`backfill counted ${show(copied)} of ${rows} rows`);
            await within(verify({ old: a, new: b, keyOf: (r) => r.id, batchSize, signal: abort.signal, logger, recheck: false }), 'verify');
          } finally {
            clearTimeout(timer);
          }
          await flush();
          const seen = faults.take();
          if (seen.length > 0) throw new Error(seen.join('; '));
        }),
        params(20),
      );
    },
    propertyTimeoutMs,
  );
});
