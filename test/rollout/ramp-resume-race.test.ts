import { describe, expect, it } from 'vitest';
import { InMemoryConfigStore, RampController, phases } from '../../src/index.js';
import type { RampStep } from '../../src/index.js';
import { ManualClock } from '../../src/testing/index.js';

const plan: readonly RampStep[] = [
  { percentage: 10, holdMs: 0 },
  { percentage: 50, holdMs: 0 },
  { percentage: 100, holdMs: 0 },
];

function deferred<T>(): { promise: Promise<T>; resolve: (value: T) => void } {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((r) => {
    resolve = r;
  });
  return { promise, resolve };
}

/** A guard that always passes, counting its checks. */
function passingGuard(): { readonly checks: () => number; readonly guard: never } {
  let checks = 0;
  const guard = {
    check: () => {
      checks += 1;
      return { verdict: 'pass', ok: true, enough: true, reasons: [] };
    },
  };
  return { checks: () => checks, guard: guard as never };
}

async function until(done: () => boolean): Promise<void> {
  for (let i = 0; i < 50 && !done(); i++) await new Promise<void>((r) => setImmediate(r));
}

describe('a tick whose gates were read before a rollback', () => {
  it('takes no step after the build was rolled back and resumed while its approval was pending: the resumed shadow is judged afresh', async () => {
    const store = new InMemoryConfigStore(phases.shadow());
    const { checks, guard } = passingGuard();
    const answers = [deferred<boolean>()];
    const ramp = new RampController({ store, plan, clock: new ManualClock(), guard, approve: () => (answers.at(-1) as { promise: Promise<boolean> }).promise });
    const ticking = ramp.tick();
    await until(() => checks() === 1);
    expect(checks()).toBe(1);

    // The bad shadow build is rolled back, fixed, and the ramp resumed in shadow mode.
    await store.save(phases.rolledBack());
    expect(ramp.status().blockedBy).toBe('rolledBack');
    await ramp.resume();
    expect(store.current()).toEqual(phases.shadow());

    // The approval asked before the rollback now says yes: it was for the build rolled back.
    (answers[0] as { resolve: (value: boolean) => void }).resolve(true);
    await ticking;
    expect(store.current()).toEqual(phases.shadow());
    expect(ramp.status().step).toBe(-1);

    // The next tick reads the guard and asks again, and only then steps.
    const again = deferred<boolean>();
    answers.push(again);
    const next = ramp.tick();
    await until(() => checks() === 2);
    expect(checks()).toBe(2);
    again.resolve(true);
    await next;
    expect(store.current()).toEqual(phases.canary(10));
    expect(ramp.status().step).toBe(0);
    ramp.close();
  });

  it('takes no step when the store was rolled back and moved on by hand while the approval was pending', async () => {
    const store = new InMemoryConfigStore(phases.canary(10));
    const { checks, guard } = passingGuard();
    const answer = deferred<boolean>();
    const ramp = new RampController({ store, plan, clock: new ManualClock(), guard, approve: () => answer.promise });
    await until(() => ramp.status().step === 0);
    const ticking = ramp.tick();
    await until(() => checks() === 1);
    await store.save(phases.rolledBack());
    await store.save(phases.canary(10));
    answer.resolve(true);
    await ticking;
    expect(store.current()).toEqual(phases.canary(10));
    ramp.close();
  });
});
