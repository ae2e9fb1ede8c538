import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { InMemoryConfigStore } from '../../src/config/in-memory-config-store.js';
import type { MigrationConfig } from '../../src/config/migration-config.js';
import type { PhaseName } from '../../src/core/routing.js';
import { phases } from '../../src/config/phases.js';
import { phaseOf } from '../../src/core/routing.js';
import { silentLogger } from '../../src/observe/logger.js';
import { DualWriteRepository } from '../../src/data/dual-write-repository.js';
import { InMemoryRepository } from '../../src/testing/index.js';
import type { Item } from './repository-conformance.js';
import { itemKey } from './repository-conformance.js';

const keys = ['a', 'b', 'c'] as const;

type Command =
  | { readonly kind: 'save'; readonly key: string; readonly qty: number; readonly secondary: 'ok' | 'fail' | 'hang' }
  | { readonly kind: 'delete'; readonly key: string; readonly secondary: 'ok' | 'fail' | 'hang' }
  | { readonly kind: 'primaryFails'; readonly key: string; readonly qty: number }
  | { readonly kind: 'phase'; readonly to: 'preparation' | 'shadow' | 'canary' | 'full' }
  | { readonly kind: 'repair' }
  | { readonly kind: 'land' };

const key = fc.constantFrom(...keys);
const secondary = fc.constantFrom<'ok' | 'fail' | 'hang'>('ok', 'ok', 'fail', 'hang');
const command: fc.Arbitrary<Command> = fc.oneof(
  { weight: 4, arbitrary: fc.record({ kind: fc.constant('save' as const), key, qty: fc.nat(1000), secondary }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('delete' as const), key, secondary }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('primaryFails' as const), key, qty: fc.nat(1000) }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('phase' as const), to: fc.constantFrom('preparation' as const, 'shadow' as const, 'canary' as const, 'full' as const) }) },
  { weight: 1, arbitrary: fc.constant({ kind: 'repair' as const }) },
  { weight: 1, arbitrary: fc.constant({ kind: 'land' as const }) },
);

function configOf(phase: 'preparation' | 'shadow' | 'canary' | 'full'): MigrationConfig {
  return phase === 'canary' ? phases.canary(50) : phases[phase]();
}

/** A store whose next write can be held (it lands when released) or failed. */
class Store extends InMemoryRepository<Item, string> {
  readonly held: (() => void)[] = [];
  #hangNext = false;

  hangNextWrite(): void {
    this.#hangNext = true;
  }

  override save(entity: Item): Promise<void> {
    return this.#maybeHold(() => super.save(entity));
  }

  override delete(id: string): Promise<void> {
    return this.#maybeHold(() => super.delete(id));
  }

  #maybeHold(write: () => Promise<void>): Promise<void> {
    if (!this.#hangNext) return write();
    this.#hangNext = false;
    return new Promise<void>((resolve, reject) => {
      this.held.push(() => void write().then(resolve, reject));
    });
  }

  land(): void {
    for (const release of this.held.splice(0)) release();
  }
}

/** Last acknowledged state of a key: its row (undefined after a delete) and the phase it was written in. */
interface Acked {
  readonly row: Item | undefined;
  readonly phase: PhaseName;
}

async function run(commands: readonly Command[]): Promise<void> {
  const config = new InMemoryConfigStore(phases.shadow());
  const old = new Store({ keyOf: itemKey, name: 'old' });
  const fresh = new Store({ keyOf: itemKey, name: 'new' });
  const dual = new DualWriteRepository<Item, string>({
    name: 'prop',
    old,
    new: fresh,
    keyOf: itemKey,
    config,
    logger: silentLogger,
    secondaryTimeoutMs: 5,
    timeoutMs: 10_000,
  });
  const acked = new Map<string, Acked>();
  const stores = () => {
    const phase = phaseOf(config.current());
    if (phase === 'preparation') return { primary: old, secondary: undefined };
    return phase === 'full' ? { primary: fresh, secondary: old } : { primary: old, secondary: fresh };
  };
  for (const step of commands) {
    const phase = phaseOf(config.current());
    switch (step.kind) {
      case 'save':
      case 'delete': {
        const { secondary } = stores();
        if (step.secondary === 'fail') secondary?.failNext(step.kind);
        if (step.secondary === 'hang') secondary?.hangNextWrite();
        const row = step.kind === 'save' ? { id: step.key, name: 'x', qty: step.qty } : undefined;
        await (row === undefined ? dual.delete(step.key) : dual.save(row));
        acked.set(step.key, { row, phase });
        break;
      }
      case 'primaryFails': {
        stores().primary.failNext('save');
        await expect(dual.save({ id: step.key, name: 'x', qty: step.qty })).rejects.toThrow();
        break;
      }
      case 'phase':
        await config.save(configOf(step.to));
        break;
      case 'repair':
        await dual.repair();
        break;
      case 'land':
        old.land();
        fresh.land();
        await new Promise((resolve) => setImmediate(resolve));
        break;
    }
  }
  old.land();
  fresh.land();
  old.heal();
  fresh.heal();
  await new Promise((resolve) => setImmediate(resolve));
  const result = await dual.repair();
  expect(result).toMatchObject({ failed: 0, remaining: 0 });
  for (const [id, { row, phase }] of acked) {
    expect(await old.get(id)).toEqual(row);
    // A write in preparation reaches old only, by design; every other acknowledged write must be in both.
    if (phase !== 'preparation') expect(await fresh.get(id)).toEqual(row);
  }
}

describe('DualWriteRepository over random interleavings', () => {
  it('after repair, both stores hold the last acknowledged value of every key', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(command, { minLength: 1, maxLength: 40 }), (commands) => run(commands)),
      { numRuns: 150 },
    );
  }, 60_000);

  it('rollback from full: the write new acknowledged survives a repair after the rollback', async () => {
    await run([
      { kind: 'phase', to: 'full' },
      { kind: 'save', key: 'a', qty: 250, secondary: 'fail' },
      { kind: 'phase', to: 'preparation' },
      { kind: 'repair' },
    ]);
  });

  it('a timed-out delete that lands after a later save in full: the save survives', async () => {
    await run([
      { kind: 'delete', key: 'a', secondary: 'hang' },
      { kind: 'phase', to: 'full' },
      { kind: 'save', key: 'a', qty: 0, secondary: 'fail' },
    ]);
  });
});
