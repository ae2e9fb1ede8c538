import fc from 'fast-check';
import { describe } from 'vitest';
import type { Repository } from '../../src/index.js';
import { DualWriteRepository, InMemoryConfigStore, phaseOf, phases } from '../../src/index.js';
import { InMemoryRepository } from '../../src/testing/index.js';
import { lateMs, params, propertyTimeoutMs, revokedProxy } from './arbitraries.js';
import { prop } from './known-failures.js';
import { flush, recordingLogger, show, trackProcessFaults, within } from './harness.js';

// DESIGN: "No acknowledged write is lost. A store that could not be written
// is recorded so it can be repaired", whatever the order of phase changes,
// failures, rollback and repair; every repository call settles.

const faults = trackProcessFaults();

interface Row {
  readonly id: number;
  readonly v: number;
}

type Fault = 'throws' | 'rejects odd' | 'writes then rejects' | 'late' | 'hangs' | 'non-promise';

type Op =
  | { readonly t: 'save'; readonly key: number; readonly v: number }
  | { readonly t: 'delete'; readonly key: number }
  | { readonly t: 'get'; readonly key: number }
  | { readonly t: 'phase'; readonly to: 'shadow' | 'canary' | 'full' }
  | { readonly t: 'rollback' }
  | { readonly t: 'fault'; readonly side: 'old' | 'new'; readonly fault: Fault }
  | { readonly t: 'repair' };

const allFaults: readonly Fault[] = ['throws', 'rejects odd', 'writes then rejects', 'late', 'hangs', 'non-promise'];
const opArb = (faultList: readonly Fault[]): fc.Arbitrary<Op> => fc.oneof(
  { weight: 4, arbitrary: fc.record({ t: fc.constant('save' as const), key: fc.integer({ min: 0, max: 4 }), v: fc.integer({ min: 0, max: 999 }) }) },
  { weight: 1, arbitrary: fc.record({ t: fc.constant('delete' as const), key: fc.integer({ min: 0, max: 4 }) }) },
  { weight: 1, arbitrary: fc.record({ t: fc.constant('get' as const), key: fc.integer({ min: 0, max: 4 }) }) },
  { weight: 1, arbitrary: fc.record({ t: fc.constant('phase' as const), to: fc.constantFrom('shadow' as const, 'canary' as const, 'full' as const) }) },
  { weight: 1, arbitrary: fc.constant({ t: 'rollback' as const }) },
  { weight: 3, arbitrary: fc.record({ t: fc.constant('fault' as const), side: fc.constantFrom('old' as const, 'new' as const), fault: fc.constantFrom(...faultList) }) },
  { weight: 1, arbitrary: fc.constant({ t: 'repair' as const }) },
);

/**
 * A store over an InMemoryRepository that misbehaves once per queued fault.
 * A fault never hangs the primary (a caller waiting on its own primary is
 * what it asked for); on the primary a `hangs` fault rejects instead.
 */
function faulty(inner: InMemoryRepository<Row, number>, isPrimary: () => boolean): Repository<Row, number> & { queue: Fault[] } {
  const queue: Fault[] = [];
  /** `sync`: what a synchronous store answers (a non-promise); it must be the true answer, not a lie. */
  const wrap =
    <A extends unknown[]>(write: boolean, op: (...args: A) => Promise<unknown>, sync: (...args: A) => unknown = () => undefined) =>
    (...args: A): Promise<never> => {
      const fault = queue.shift();
      if (fault === undefined) return op(...args) as Promise<never>;
      switch (fault) {
        case 'throws':
          throw new Error('sync failure');
        case 'rejects odd':
          return Promise.reject(revokedProxy());
        case 'writes then rejects':
          return op(...args).then(() => Promise.reject(undefined));
        case 'late':
          return new Promise((resolve, reject) => setTimeout(() => op(...args).then(resolve as never, reject), lateMs));
        case 'hangs':
          if (write && isPrimary()) return Promise.reject(new Error('primary refused'));
          return new Promise(() => {});
        case 'non-promise':
          if (!write) return sync(...args) as never;
          void op(...args);
          return undefined as never;
      }
    };
  return {
    queue,
    get: wrap(
      false,
      (key: number) => inner.get(key),
      (key: number) => inner.snapshot().find((r) => r.id === key),
    ),
    save: wrap(true, (row: Row) => inner.save(row)),
    delete: wrap(true, (key: number) => inner.delete(key)),
    getBatch: (after: number | null, limit: number) => inner.getBatch(after, limit),
  };
}

async function runOps(ops: readonly Op[]): Promise<void> {
  faults.take();
  const oldRows = new InMemoryRepository<Row, number>({ keyOf: (r) => r.id, name: 'old' });
  const newRows = new InMemoryRepository<Row, number>({ keyOf: (r) => r.id, name: 'new' });
  const store = new InMemoryConfigStore(phases.shadow());
  const primaryIsNew = () => phaseOf(store.current()) === 'full';
  const old = faulty(oldRows, () => !primaryIsNew());
  const neu = faulty(newRows, primaryIsNew);
  const { logger } = recordingLogger();
  // Bounds far below the harness's own (the defaults, 5 s and 30 s, are above it).
  const dual = new DualWriteRepository<Row, number>({
    name: 'hostile',
    old,
    new: neu,
    keyOf: (r) => r.id,
    config: store,
    logger,
    timeoutMs: 200,
    secondaryTimeoutMs: 50,
    shadow: { timeoutMs: 50 },
  });
  /** The last acknowledged state of each key: a row, 'deleted', or 'unknown' after a failed write. */
  const acked = new Map<number, Row | 'deleted' | 'unknown'>();
  let rolledBack = false;
  const rank = { shadow: 0, canary: 1, full: 2 } as const;
  let at: keyof typeof rank = 'shadow';

  for (const op of ops) {
    switch (op.t) {
      case 'save': {
        const row = { id: op.key, v: op.v };
        const outcome = await within(dual.save(row), `save ${op.key}`);
        acked.set(op.key, outcome.kind === 'value' ? row : 'unknown');
        break;
      }
      case 'delete': {
        const outcome = await within(dual.delete(op.key), `delete ${op.key}`);
        acked.set(op.key, outcome.kind === 'value' ? 'deleted' : 'unknown');
        break;
      }
      case 'get':
        await within(dual.get(op.key), `get ${op.key}`);
        break;
      case 'phase':
        // Forward only until a rollback, which is final here (moving on again needs a backfill).
        if (rolledBack || rank[op.to] < rank[at]) break;
        at = op.to;
        await store.save(op.to === 'shadow' ? phases.shadow() : op.to === 'canary' ? phases.canary(50) : phases.full());
        break;
      case 'rollback':
        rolledBack = true;
        await store.save(phases.rolledBack());
        break;
      case 'fault':
        (op.side === 'old' ? old : neu).queue.push(op.fault);
        break;
      case 'repair':
        await within(dual.repair(), 'repair');
        break;
    }
  }
  old.queue.length = 0;
  neu.queue.length = 0;
  await within(dual.drain(), 'drain');
  await within(dual.repair(), 'final repair');
  await within(dual.drain(), 'drain after repair');
  // Every acknowledged write is where reads will look: old after a rollback, both stores while dual writing;
  // or, in a store whose write to that key never answered, still in the repair log: repair does not replay
  // a key while a timed-out write to it may land, so the entry waits there (recorded, not lost).
  const holders = rolledBack ? [oldRows] : [oldRows, newRows];
  const listed = await within(dual.repairLog.list(null, 10_000), 'repair log list');
  if (listed.kind === 'error') throw new Error(`repair log list failed: ${show(listed)}`);
  const recorded = new Set((listed.value as readonly { key: number; side: string }[]).map((e) => `${e.side}:${e.key}`));
  for (const [key, state] of acked) {
    if (state === 'unknown') continue;
    for (const rows of holders) {
      const found = rows.snapshot().find((r) => r.id === key);
      const want = state === 'deleted' ? undefined : state;
      if (JSON.stringify(found) !== JSON.stringify(want) && !recorded.has(`${rows.name}:${key}`)) {
        throw new Error(`key ${key}: ${rows.name} holds ${JSON.stringify(found)}, the acknowledged write was ${JSON.stringify(want)}`);
      }
    }
  }
  const readBack = await within(Promise.all([...acked.keys()].map((k) => dual.get(k))), 'get after repair');
  if (readBack.kind === 'error') throw new Error(`get after repair failed: ${show(readBack)}`);
  await flush();
  const seen = faults.take();
  if (seen.length > 0) throw new Error(seen.join('; '));
}

describe('DualWriteRepository under hostile stores', () => {
  // Two properties: with hanging stores (every call settles) and without (the data rule alone), so one failure never hides the other.
  const rows: readonly (readonly [string, readonly Fault[]])[] = [
    ['stores that may hang', allFaults],
    ['stores that fail but never hang', allFaults.filter((f) => f !== 'hangs')],
  ];
  prop.each(rows)(
    'loses no acknowledged write through phase changes, faults, rollback and repair; every call settles (%s)',
    async (_label, faultList) => {
      await fc.assert(fc.asyncProperty(fc.array(opArb(faultList), { minLength: 1, maxLength: 30 }), runOps), params(30));
    },
    propertyTimeoutMs,
  );
});
