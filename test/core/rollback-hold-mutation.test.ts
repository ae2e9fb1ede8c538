import { describe, expect, it } from 'vitest';
import { RollbackHold } from '../../src/core/rollback-hold.js';
import { phases } from '../../src/index.js';
import type { ConfigProvider, MigrationConfig } from '../../src/index.js';

// RollbackHold: what the dualWrite and oldOnly methods of a glued service
// read while a rollback is saved, and after it when the store does not show it.

/** A provider whose answer the test sets; counts its subscriptions. */
function store(initial: unknown, subscribe?: (listener: (config: MigrationConfig) => void) => () => void) {
  let config = initial;
  const listeners = new Set<(config: MigrationConfig) => void>();
  let subscriptions = 0;
  const provider: ConfigProvider = {
    current: () => config as MigrationConfig,
    subscribe:
      subscribe ??
      ((listener) => {
        subscriptions += 1;
        listeners.add(listener);
        return () => listeners.delete(listener);
      }),
  };
  return {
    provider,
    set(next: unknown) {
      config = next;
      for (const listener of [...listeners]) listener(next as MigrationConfig);
    },
    listeners: () => listeners.size,
    subscriptions: () => subscriptions,
  };
}

const rolledBack = phases.rolledBack();

describe('RollbackHold.current', () => {
  it("reads the store's config when nothing is held", () => {
    const full = phases.full();
    expect(new RollbackHold(store(full).provider).current()).toBe(full);
  });

  it.each([
    ['null', null],
    ['undefined', undefined],
    ['a string', 'full'],
    ['a number', 100],
  ])('reads new disabled when the store answers %s', (_, answer) => {
    expect(new RollbackHold(store(answer).provider).current()).toEqual(rolledBack);
  });

  it('reads new disabled when the store throws', () => {
    const provider: ConfigProvider = {
      current: () => {
        throw new Error('store down');
      },
      subscribe: () => () => {},
    };
    expect(new RollbackHold(provider).current()).toEqual(rolledBack);
  });
});

describe('RollbackHold.during', () => {
  it('holds the rollback while the save runs, and returns what it resolved', async () => {
    const s = store(phases.full());
    const hold = new RollbackHold(s.provider);
    let finish: ((value: string) => void) | undefined;
    const saving = hold.during(new Promise<string>((resolve) => (finish = resolve)));
    expect(hold.current()).toEqual(rolledBack);
    s.set(rolledBack);
    finish?.('saved');
    await expect(saving).resolves.toBe('saved');
    // the store shows the rollback: the hold ends and nothing is subscribed
    s.set(phases.canary(5));
    expect(hold.current()).toEqual(phases.canary(5));
    expect(s.subscriptions()).toBe(0);
  });

  it('keeps holding after a failed save, until the store changes, then lets go of its listener', async () => {
    const s = store(phases.full());
    const hold = new RollbackHold(s.provider);
    await expect(hold.during(Promise.reject(new Error('save failed')))).rejects.toThrow('save failed');
    expect(hold.current()).toEqual(rolledBack);
    expect(s.listeners()).toBe(1);
    s.set(phases.canary(10));
    expect(hold.current()).toEqual(phases.canary(10));
    expect(s.listeners()).toBe(0);
  });

  it('keeps holding after a save when the store still shows new', async () => {
    const s = store(phases.full());
    const hold = new RollbackHold(s.provider);
    await expect(hold.during(Promise.resolve(1))).resolves.toBe(1);
    expect(hold.current()).toEqual(rolledBack);
    s.set(phases.full());
    expect(hold.current()).toEqual(phases.full());
  });

  it('subscribes once however many saves fail, and again after a release', async () => {
    const s = store(phases.full());
    const hold = new RollbackHold(s.provider);
    await hold.during(Promise.resolve());
    await hold.during(Promise.resolve());
    expect(s.subscriptions()).toBe(1);
    s.set(phases.full());
    await hold.during(Promise.resolve());
    expect(s.subscriptions()).toBe(2);
    expect(hold.current()).toEqual(rolledBack);
  });

  it('releases at once, and unsubscribes, when the store calls the listener while subscribing', async () => {
    let unsubscribed = 0;
    const s = store(phases.full(), (listener) => {
      listener(phases.canary(1));
      return () => void (unsubscribed += 1);
    });
    const hold = new RollbackHold(s.provider);
    await hold.during(Promise.resolve());
    expect(unsubscribed).toBe(1);
    expect(hold.current()).toEqual(phases.full());
  });

  it('keeps holding when subscribing throws, and tries again on the next save', async () => {
    let attempts = 0;
    const s = store(phases.full(), () => {
      attempts += 1;
      throw new Error('cannot subscribe');
    });
    const hold = new RollbackHold(s.provider);
    await hold.during(Promise.resolve());
    expect(hold.current()).toEqual(rolledBack);
    await hold.during(Promise.resolve());
    expect(attempts).toBe(2);
  });
});
