import { describe, expect, it } from 'vitest';
import { InMemoryConfigStore, RampController, phases } from '../../src/index.js';
import type { RampState } from '../../src/config/ramp-state.js';
import { maxApprovals } from '../../src/config/ramp-state.js';
import { ManualClock } from '../../src/testing/index.js';
import { recordingLogger } from '../helpers.js';

const plan = [
  { percentage: 5, holdMs: 0 },
  { percentage: 50, holdMs: 0 },
  { percentage: 100, holdMs: 0 },
];

/** What `migration-glue approve` writes: an approval of `percentage` at the next revision. */
function approveInStore(store: InMemoryConfigStore, percentage: number, by = 'owner'): Promise<RampState> {
  return store.updateRamp((ramp) => ({
    ramp: { ...ramp, approvals: [...ramp.approvals, { percentage, by, at: Date.now(), revision: ramp.revision + 1 }].slice(-maxApprovals) },
  }));
}

function setup(options: { approve?: () => boolean | Promise<boolean>; requireApproval?: boolean } = {}) {
  const store = new InMemoryConfigStore(phases.shadow());
  const clock = new ManualClock({ start: Date.UTC(2026, 0, 5) });
  const ramp = new RampController({ store, plan, clock, logger: recordingLogger(), name: 'pricing', ...options });
  return { store, clock, ramp };
}

describe('a ramp whose steps are approved through the store', () => {
  it('asks in the store, waits, and steps once an approval for that step is recorded', async () => {
    const { store, ramp } = setup({ requireApproval: true });
    expect(await ramp.tick()).toMatchObject({ blockedBy: 'approval' });
    expect(store.rampState()).toMatchObject({ blockedBy: 'approval', pendingApproval: { step: 0, percentage: 5 }, step: -1, plan });
    expect(store.current()).toEqual(phases.shadow());

    await approveInStore(store, 50); // not the step waited for
    expect(await ramp.tick()).toMatchObject({ blockedBy: 'approval' });
    await approveInStore(store, 5);
    expect(await ramp.tick()).toMatchObject({ step: 0, percentage: 5 });
    expect(store.current()).toEqual(phases.canary(5));
    expect(store.rampState().pendingApproval).toBeUndefined();
    expect(store.rampState()).toMatchObject({ step: 0 });
  });

  it('does not count an approval given before the step in force was taken for a later step', async () => {
    const { store, ramp } = setup({ requireApproval: true });
    await approveInStore(store, 5);
    await approveInStore(store, 100);
    expect(await ramp.tick()).toMatchObject({ step: 0 });
    // 50 was never approved: blocked; then an old approval of 100 does not carry 50 → 100 later either.
    expect(await ramp.tick()).toMatchObject({ blockedBy: 'approval' });
    await approveInStore(store, 50);
    expect(await ramp.tick()).toMatchObject({ step: 1, percentage: 50 });
    expect(await ramp.tick()).toMatchObject({ step: 1, blockedBy: 'approval' });
  });

  it('an approval in the store answers a callback that is still thinking', async () => {
    let asked = 0;
    const { store, ramp } = setup({ approve: () => (asked++, new Promise<boolean>(() => {})) });
    const ticking = ramp.tick();
    // The callback hangs; the operator approves from outside meanwhile.
    await new Promise<void>((resolve) => {
      const stop = store.subscribeRamp((state) => {
        if (state.pendingApproval?.percentage === 5) {
          stop();
          resolve();
        }
      });
    });
    await approveInStore(store, 5);
    expect(await ticking).toMatchObject({ step: 0, percentage: 5 });
    expect(asked).toBe(1);
  });

  it('the approve callback alone still works as before', async () => {
    const { store, ramp } = setup({ approve: () => true });
    expect(await ramp.tick()).toMatchObject({ step: 0 });
    expect(store.current()).toEqual(phases.canary(5));
  });
});

describe('pause and resume from outside', () => {
  it('a pause in the store holds the ramp; lifting it lets the next tick step', async () => {
    const { store, ramp } = setup();
    await store.updateRamp((state) => ({ ramp: { ...state, paused: { by: 'ops', at: Date.now() } } }));
    expect(await ramp.tick()).toMatchObject({ blockedBy: 'paused' });
    expect(ramp.status().blockedBy).toBe('paused');
    expect(store.current()).toEqual(phases.shadow());
    await store.updateRamp(({ paused: _paused, ...state }) => ({ ramp: state }));
    expect(await ramp.tick()).toMatchObject({ step: 0 });
  });

  it('after a rollback, a resume written to the store (shadow, a new step revision) lets the ramp start again', async () => {
    const { store, ramp } = setup({ approve: () => true });
    await ramp.tick();
    await store.save(phases.rolledBack());
    expect(await ramp.tick()).toMatchObject({ blockedBy: 'rolledBack' });
    expect(store.rampState().lastRollback).toMatchObject({ percentage: 5 });
    // A plain save of shadow is not a resume: the ramp stays put.
    await store.save(phases.shadow());
    expect(await ramp.tick()).toMatchObject({ blockedBy: 'rolledBack' });
    await store.save(phases.rolledBack());
    await store.updateRamp((state) => ({ config: phases.shadow(), ramp: { ...state, stepRevision: state.revision + 1, blockedBy: null } }));
    expect(ramp.status().blockedBy).not.toBe('rolledBack');
    expect(await ramp.tick()).toMatchObject({ step: 0, percentage: 5 });
  });

  it('records an operator rollback once, and a later tick does not hide it', async () => {
    const { store, ramp } = setup({ approve: () => true });
    await ramp.tick();
    await store.updateRamp((state) => ({
      config: phases.rolledBack(),
      ramp: { ...state, blockedBy: 'rolledBack', stepRevision: state.revision + 1, lastRollback: { at: 1, by: 'on-call', reason: 'p95', percentage: 5, revision: state.revision + 1 } },
    }));
    await ramp.tick();
    expect(store.rampState()).toMatchObject({ blockedBy: 'rolledBack', lastRollback: { by: 'on-call', reason: 'p95' } });
    expect(store.current()).toEqual(phases.rolledBack());
  });
});
