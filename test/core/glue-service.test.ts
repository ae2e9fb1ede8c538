import { describe, expect, expectTypeOf, it, vi } from 'vitest';
import { glueService, phases } from '../../src/index.js';
import type { MigrationConfig, SecondaryFailure , InMemoryConfigStore} from '../../src/index.js';
import { recordingLogger } from '../helpers.js';

interface Accounts {
  getBalance(input: { userId: string }): Promise<number>;
  deposit(input: { userId: string; amount: number }): Promise<number>;
  sendStatement(input: { userId: string }): Promise<string>;
}

function sides() {
  const calls: string[] = [];
  const make = (side: 'old' | 'new', balance: number): Accounts => ({
    async getBalance() {
      calls.push(`${side}.getBalance`);
      return balance;
    },
    async deposit({ amount }) {
      calls.push(`${side}.deposit`);
      return balance + amount;
    },
    async sendStatement() {
      calls.push(`${side}.sendStatement`);
      return `${side} mail`;
    },
  });
  return { calls, oldSide: make('old', 100), newSide: make('new', 100) };
}

function glued(config: MigrationConfig | InMemoryConfigStore, extra: { onSecondaryFailure?: (f: SecondaryFailure) => void; newSide?: Accounts } = {}) {
  const { calls, oldSide, newSide } = sides();
  const service = glueService<Accounts>({
    name: 'accounts',
    oldService: oldSide,
    newService: extra.newSide ?? newSide,
    config,
    logger: recordingLogger(),
    policies: { getBalance: 'shadow', deposit: 'dualWrite', sendStatement: 'oldOnly' },
    onSecondaryFailure: extra.onSecondaryFailure,
  });
  return { service, calls };
}

describe('glueService', () => {
  it('in preparation calls old only, for every policy', async () => {
    const { service, calls } = glued(phases.preparation());
    await service.getBalance({ userId: 'a' });
    await service.deposit({ userId: 'a', amount: 5 });
    await service.sendStatement({ userId: 'a' });
    expect(calls).toEqual(['old.getBalance', 'old.deposit', 'old.sendStatement']);
  });

  it('in shadow compares reads, writes both (old first), and never runs a side effect twice', async () => {
    const { service, calls } = glued(phases.shadow());
    expect(await service.getBalance({ userId: 'a' })).toBe(100);
    await service.migration.drain();
    expect(await service.deposit({ userId: 'a', amount: 5 })).toBe(105);
    expect(await service.sendStatement({ userId: 'a' })).toBe('old mail');
    expect(calls.filter((c) => c.endsWith('deposit'))).toEqual(['old.deposit', 'new.deposit']);
    expect(calls.filter((c) => c.endsWith('sendStatement'))).toEqual(['old.sendStatement']);
    expect(service.migration.stats().getBalance?.shadow.compared).toBe(1);
  });

  it('in full writes new first and keeps old current, and switches side effects to new', async () => {
    const { service, calls } = glued(phases.full());
    await service.deposit({ userId: 'a', amount: 5 });
    expect(await service.sendStatement({ userId: 'a' })).toBe('new mail');
    expect(calls).toEqual(['new.deposit', 'old.deposit', 'new.sendStatement']);
  });

  it('a failing primary write reaches the caller and the secondary is not written', async () => {
    const { oldSide } = sides();
    const failure = new Error('old db down');
    const secondary = vi.fn(async () => 1);
    const service = glueService<Accounts>({
      name: 'accounts',
      oldService: { ...oldSide, deposit: () => Promise.reject(failure) },
      newService: { ...oldSide, deposit: secondary },
      config: phases.shadow(),
      logger: recordingLogger(),
      policies: { getBalance: 'shadow', deposit: 'dualWrite', sendStatement: 'oldOnly' },
    });
    await expect(service.deposit({ userId: 'a', amount: 1 })).rejects.toBe(failure);
    expect(secondary).not.toHaveBeenCalled();
  });

  it('a failing secondary write is handed to onSecondaryFailure, never to the caller', async () => {
    const failures: SecondaryFailure[] = [];
    const { newSide } = sides();
    const broken: Accounts = { ...newSide, deposit: () => Promise.reject(new Error('new db down')) };
    const { service } = glued(phases.canary(50), { onSecondaryFailure: (f) => failures.push(f), newSide: broken });
    expect(await service.deposit({ userId: 'a', amount: 5 })).toBe(105);
    expect(failures).toEqual([expect.objectContaining({ service: 'accounts', method: 'deposit', side: 'new', args: [{ userId: 'a', amount: 5 }] })]);
  });

  it('routes a user to the same side for every shadow method (one salt)', async () => {
    interface Two {
      a(input: { userId: string }): Promise<string>;
      b(input: { userId: string }): Promise<string>;
    }
    const make = (side: string): Two => ({ a: async () => side, b: async () => side });
    const service = glueService<Two>({
      name: 'two',
      oldService: make('old'),
      newService: make('new'),
      config: phases.canary(50),
      logger: recordingLogger(),
      policies: { a: 'shadow', b: 'shadow' },
    });
    for (let i = 0; i < 200; i++) {
      const input = { userId: `u${i}` };
      expect(await service.a(input)).toBe(await service.b(input));
    }
  });

  it('rolls every method back at once, also with a static config', async () => {
    const { service, calls } = glued(phases.full());
    expect(await service.migration.rollback('bad deploy')).toBe(true);
    expect(await service.migration.rollback('again')).toBe(false);
    await service.getBalance({ userId: 'a' });
    await service.deposit({ userId: 'a', amount: 1 });
    await service.sendStatement({ userId: 'a' });
    expect(calls).toEqual(['old.getBalance', 'old.deposit', 'old.sendStatement']);
    expect(service.migration.config.current()).toEqual(phases.rolledBack());
  });

  it('refuses a missing method or an unknown policy', () => {
    const { oldSide, newSide } = sides();
    const base = { name: 'x', oldService: oldSide, newService: newSide, config: phases.preparation() };
    expect(() => glueService<Accounts>({ ...base, policies: { getBalance: 'shadow', deposit: 'read' as never, sendStatement: 'oldOnly' } })).toThrow(
      /`policies.deposit` must be 'shadow', 'dualWrite' or 'oldOnly', got "read"/,
    );
    expect(() =>
      glueService<Accounts>({ ...base, newService: { ...newSide, deposit: undefined as never }, policies: { getBalance: 'shadow', deposit: 'dualWrite', sendStatement: 'oldOnly' } }),
    ).toThrow(/`newService.deposit` must be a function/);
  });

  it('is typed from the interface: a policy for every method, the same methods out', () => {
    const { service } = glued(phases.preparation());
    expectTypeOf(service.getBalance).toEqualTypeOf<Accounts['getBalance']>();
    expectTypeOf(service.deposit).parameter(0).toEqualTypeOf<{ userId: string; amount: number }>();
    const _missingPolicy = () =>
      glueService<Accounts>({
        name: 'x',
        oldService: sides().oldSide,
        newService: sides().newSide,
        config: phases.preparation(),
        // @ts-expect-error every async method needs a policy, so a write is never shadowed by accident
        policies: { getBalance: 'shadow', deposit: 'dualWrite' },
      });
    type Policies = Parameters<typeof glueService<Accounts>>[0]['policies'];
    expectTypeOf<Policies>().toEqualTypeOf<{ readonly getBalance: 'shadow' | 'dualWrite' | 'oldOnly'; readonly deposit: 'shadow' | 'dualWrite' | 'oldOnly'; readonly sendStatement: 'shadow' | 'dualWrite' | 'oldOnly' }>();
  });
});
