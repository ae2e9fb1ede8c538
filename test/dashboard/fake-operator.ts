import type { OperatorStatus } from '../../src/cli/operator-types.js';
import type { DashboardOperator } from '../../src/dashboard/live-state.js';

/** An Operator in memory: records every command and notifies like a store would. */
export class FakeOperator implements DashboardOperator {
  readonly calls: { readonly name: string; readonly args: readonly unknown[] }[] = [];
  readonly #listeners = new Set<() => void>();
  value: OperatorStatus;
  failWith: Error | undefined;

  constructor(value: Partial<OperatorStatus> = {}) {
    this.value = {
      store: 'file:/tmp/migration.json',
      phase: 'canary',
      percentage: 5,
      config: { shadowMode: false, newSystemEnabled: true, newSystemPercentage: 5, fallbackEnabled: true },
      ramp: {
        revision: 3,
        stepRevision: 3,
        step: 1,
        since: 1_700_000_000_000,
        nextAt: 1_700_100_000_000,
        blockedBy: 'approval',
        pendingApproval: { step: 2, percentage: 10, requestedAt: 1_700_100_000_000 },
        approvals: [],
        updatedAt: 1_700_100_000_000,
      },
      ...value,
    };
  }

  get listeners(): number {
    return this.#listeners.size;
  }

  /** Changes the status as another process would, and tells the listeners. */
  change(update: (status: OperatorStatus) => OperatorStatus): void {
    this.value = update(this.value);
    for (const listener of [...this.#listeners]) listener();
  }

  async status(): Promise<OperatorStatus> {
    if (this.failWith !== undefined) throw this.failWith;
    return structuredClone(this.value);
  }

  async approve(options: { by?: string; comment?: string } = {}): Promise<void> {
    this.calls.push({ name: 'approve', args: [options] });
    const pending = this.value.ramp.pendingApproval;
    if (pending === undefined) throw Object.assign(new Error('nothing to approve'), { code: 'ERR_NOTHING_TO_APPROVE' });
    this.change((s) => ({
      ...s,
      ramp: {
        ...s.ramp,
        pendingApproval: undefined,
        blockedBy: 'hold',
        approvals: [...s.ramp.approvals, { percentage: pending.percentage, by: options.by ?? 'someone', at: 1_700_200_000_000, comment: options.comment, revision: s.ramp.revision }],
      },
    }));
  }

  async pause(options: { by?: string; reason?: string } = {}): Promise<void> {
    this.calls.push({ name: 'pause', args: [options] });
    this.change((s) => ({ ...s, ramp: { ...s.ramp, paused: { by: options.by ?? 'someone', at: 1_700_200_000_000, reason: options.reason } } }));
  }

  async resume(options: { by?: string } = {}): Promise<void> {
    this.calls.push({ name: 'resume', args: [options] });
    this.change((s) => ({ ...s, ramp: { ...s.ramp, paused: undefined } }));
  }

  async rollback(reason: string, by?: string): Promise<{ storedMs: number }> {
    this.calls.push({ name: 'rollback', args: [reason, by] });
    this.change((s) => ({
      ...s,
      phase: 'rolled-back',
      percentage: 0,
      config: { shadowMode: false, newSystemEnabled: false, newSystemPercentage: 0, fallbackEnabled: false },
      ramp: { ...s.ramp, blockedBy: 'rolledBack', lastRollback: { at: 1_700_300_000_000, by: by ?? 'someone', reason, percentage: s.percentage } },
    }));
    return { storedMs: 1.5 };
  }

  subscribe(listener: () => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }
}
