import os from 'node:os';
import { z } from 'zod';
import type { MigrationConfig } from '../config/migration-config.js';
import { isRolledBack } from '../config/migration-config.js';
import { phases } from '../config/phases.js';
import type { RampState } from '../config/ramp-state.js';
import { maxApprovals } from '../config/ramp-state.js';
import { newShare, phaseOf } from '../core/routing.js';
import { InvalidOptionError, describeValue } from '../errors.js';
import { option, parseOptions } from '../option-schema.js';
import { readFleetFigures } from './fleet-figures.js';
import type { Operator, OperatorOptions, OperatorPhase, OperatorStatus, OperatorTarget } from './operator-types.js';
import type { OpenedStore } from './store-url.js';
import { describeLocation, openStore, parseStoreUrl } from './store-url.js';

export type {
  Operator,
  OperatorArmFigures,
  OperatorFleet,
  OperatorOptions,
  OperatorPhase,
  OperatorStatus,
  OperatorTarget,
} from './operator-types.js';

/** Thrown when an operator's action cannot be done (nothing to approve): the command line's exit 1. */
export class OperatorError extends Error {
  override readonly name = 'OperatorError';
}

const optionsSchema = z.strictObject({
  by: option.string().optional(),
  connectTimeoutMs: option.timerMs().default(5_000),
  fleetKey: option.string().optional(),
  cwd: option.string().optional(),
});

/**
 * Opens the migration whose config lives at `url` (`file:PATH`, or
 * `redis://host:port?key=KEY`) for an operator: the command line and the
 * dashboard both steer a migration through this.
 * @throws StoreUrlError on a URL that names no store; Error when the file or key is missing or Redis is unreachable.
 */
export async function openOperator(url: string, options: OperatorOptions & { readonly cwd?: string } = {}): Promise<Operator> {
  const parsed = parseOptions(optionsSchema, options, 'openOperator');
  const location = parseStoreUrl(url, parsed.cwd ?? process.cwd());
  const opened = await openStore(location, parsed.connectTimeoutMs);
  const fleetKey = parsed.fleetKey ?? (location.kind === 'redis' ? (location.fleetKey ?? `${location.key}:fleet`) : undefined);
  return new StoreOperator(opened, describeLocation(location), parsed.by ?? defaultActor(), fleetKey);
}

function defaultActor(): string {
  let user = process.env.USER ?? process.env.USERNAME;
  try {
    user ??= os.userInfo().username;
  } catch {
    // no user database (a bare container)
  }
  return `${user ?? 'operator'}@${os.hostname()}`;
}

/** The phase as an operator sees it: a config that came from a rollback is `rolled-back`, not preparation. */
export function operatorPhase(config: MigrationConfig, rolledBack: boolean): OperatorPhase {
  return rolledBack && isRolledBack(config) ? 'rolled-back' : phaseOf(config);
}

/** The config a manual move saves. @throws InvalidOptionError on a bad target. */
export function targetConfig(target: OperatorTarget): MigrationConfig {
  switch (target?.phase) {
    case 'preparation':
      return phases.preparation();
    case 'shadow':
      return phases.shadow();
    case 'full':
      return phases.full();
    case 'canary': {
      const p = target.percentage;
      if (typeof p !== 'number' || !Number.isFinite(p) || p <= 0 || p >= 100 || Math.abs(p * 100 - Math.round(p * 100)) > 1e-7) {
        throw new InvalidOptionError('percentage', `of a canary must be a number above 0 and below 100 in steps of 0.01 (100 is full), got ${describeValue(p)}`);
      }
      return phases.canary(Math.round(p * 100) / 100);
    }
    default:
      throw new InvalidOptionError('target', `must be preparation, shadow, canary N or full, got ${describeValue(target)}`);
  }
}

/** The plan step index whose percentage `config` serves, or -1. */
function stepOf(ramp: RampState, config: MigrationConfig): number {
  const phase = phaseOf(config);
  if (phase !== 'canary' && phase !== 'full') return -1;
  return ramp.plan?.findIndex((step) => step.percentage === newShare(config)) ?? -1;
}

class StoreOperator implements Operator {
  readonly #opened: OpenedStore;
  readonly #url: string;
  readonly #by: string;
  readonly #fleetKey: string | undefined;
  #closed: Promise<void> | undefined;

  constructor(opened: OpenedStore, url: string, by: string, fleetKey: string | undefined) {
    this.#opened = opened;
    this.#url = url;
    this.#by = by;
    this.#fleetKey = fleetKey;
  }

  async status(): Promise<OperatorStatus> {
    const store = this.#opened.store;
    const config = store.current();
    const ramp = store.rampState();
    const plan = ramp.plan;
    const taken = plan === undefined ? 0 : plan.filter((step) => step.percentage <= newShare(config)).length;
    const fleet = this.#opened.redis !== undefined && this.#fleetKey !== undefined ? await readFleetFigures(this.#opened.redis, this.#fleetKey).catch(() => undefined) : undefined;
    return {
      store: this.#url,
      phase: operatorPhase(config, store.rolledBack()),
      percentage: newShare(config),
      config,
      ramp,
      ...(plan === undefined ? {} : { progress: { taken, steps: plan.length, ...(plan[taken] === undefined ? {} : { next: plan[taken].percentage }) } }),
      ...(ramp.verdict === undefined ? {} : { verdict: ramp.verdict }),
      ...(fleet === undefined ? {} : { fleet }),
    };
  }

  async set(target: OperatorTarget, by = this.#by): Promise<void> {
    const config = targetConfig(target);
    await this.#opened.store.updateRamp((ramp) => ({
      config,
      ramp: {
        ...withoutPending(ramp),
        step: stepOf(ramp, config),
        stepRevision: ramp.revision + 1,
        blockedBy: null,
        rolledBack: false,
        reasons: [`set to ${target.phase === 'canary' ? `canary ${config.newSystemPercentage} %` : target.phase} by ${by}`],
      },
    }));
  }

  async approve(options: { readonly by?: string; readonly comment?: string } = {}): Promise<void> {
    const by = options.by ?? this.#by;
    await this.#opened.store.updateRamp((ramp, config) => {
      const percentage = ramp.pendingApproval?.percentage ?? ramp.plan?.find((step) => step.percentage > newShare(config))?.percentage;
      if (percentage === undefined) {
        throw new OperatorError('nothing to approve: no ramp waits for an approval, and no plan is known (is a RampController running?)');
      }
      const approval = { percentage, by, at: Date.now(), revision: ramp.revision + 1, ...(options.comment === undefined ? {} : { comment: options.comment }) };
      return { ramp: { ...ramp, approvals: [...ramp.approvals, approval].slice(-maxApprovals) } };
    });
  }

  async pause(options: { readonly by?: string; readonly reason?: string } = {}): Promise<void> {
    const by = options.by ?? this.#by;
    await this.#opened.store.updateRamp((ramp) =>
      ramp.paused !== undefined
        ? undefined
        : { ramp: { ...ramp, blockedBy: 'paused', paused: { by, at: Date.now(), ...(options.reason === undefined ? {} : { reason: options.reason }) } } },
    );
  }

  async resume(options: { readonly by?: string } = {}): Promise<void> {
    const by = options.by ?? this.#by;
    const rolledBack = this.#opened.store.rolledBack();
    await this.#opened.store.updateRamp((ramp, config) => {
      const { paused: _paused, ...rest } = ramp;
      if (rolledBack && isRolledBack(config)) {
        return { config: phases.shadow(), ramp: { ...withoutPending(rest), step: -1, stepRevision: ramp.revision + 1, blockedBy: null, rolledBack: false, reasons: [`resumed in shadow mode by ${by}`] } };
      }
      if (ramp.paused === undefined) return undefined;
      return { ramp: { ...rest, blockedBy: null } };
    });
  }

  async rollback(reason: string, by = this.#by): Promise<{ readonly storedMs: number }> {
    if (typeof reason !== 'string' || reason.trim() === '') throw new InvalidOptionError('reason', `must say why (a non-empty string), got ${describeValue(reason)}`);
    const started = performance.now();
    await this.#opened.store.updateRamp((ramp, config) => ({
      config: phases.rolledBack(),
      ramp: {
        ...withoutPending(ramp),
        stepRevision: ramp.revision + 1,
        blockedBy: 'rolledBack',
        rolledBack: true,
        reasons: [`rolled back by ${by}: ${reason}`],
        lastRollback: { at: Date.now(), by, reason, percentage: newShare(config), revision: ramp.revision + 1 },
      },
    }));
    return { storedMs: performance.now() - started };
  }

  subscribe(listener: () => void): () => void {
    const call = () => {
      try {
        listener();
      } catch {
        // a listener's failure is its own
      }
    };
    const stops = [this.#opened.store.subscribe(call), this.#opened.store.subscribeRamp(call)];
    return () => {
      for (const stop of stops) stop();
    };
  }

  close(): Promise<void> {
    this.#closed ??= this.#opened.close();
    return this.#closed;
  }
}

function withoutPending<T extends RampState>(ramp: T): T {
  const { pendingApproval: _pending, ...rest } = ramp;
  return rest as T;
}
