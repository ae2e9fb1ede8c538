import type { Settled } from '../bounded.js';
import { settleWithin } from '../bounded.js';
import type { MigrationConfig } from '../config/migration-config.js';
import type { PhaseName } from '../core/routing.js';
import { phaseOf } from '../core/routing.js';
import type { Clock } from '../observe/clock.js';
import type { Emitter } from '../observe/emitter.js';
import type { LogLimiter } from '../observe/log-limiter.js';
import type { Logger } from '../observe/logger.js';
import { errorText, loggableError, timeoutError } from './bounded.js';
import type { DualWriteEvents } from './dual-write-events.js';
import { keyId } from './keys.js';
import type { Side } from './repair-log.js';
import type { AckedWrite, RepairTracker } from './repair-replay.js';
import type { RepairRunner } from './repair-runner.js';
import type { Repository } from './repository.js';
import type { TombstoneStore } from './tombstone-store.js';

/** What the write path of a DualWriteRepository works with. */
export interface DualWritesInit<E, K> {
  readonly name: string;
  readonly old: Repository<E, K>;
  readonly new: Repository<E, K>;
  readonly timeoutMs: number;
  readonly secondaryTimeoutMs: number;
  readonly tombstones: TombstoneStore<K>;
  readonly runner: RepairRunner<E, K>;
  readonly tracker: RepairTracker<K>;
  readonly emitter: Emitter<DualWriteEvents<E, K>>;
  readonly logger: Logger;
  readonly log: LogLimiter;
  readonly clock: Clock;
}

interface Sides<E, K> {
  readonly primary: Repository<E, K>;
  readonly secondary: Repository<E, K>;
  readonly secondarySide: Side;
}

type Op = 'save' | 'delete';

/**
 * The write path of a DualWriteRepository: the primary first (its error
 * reaches the caller), a tombstone for a delete, then the secondary, each
 * bounded; a secondary that fails or hangs is recorded in the repair log.
 * Counted in `counts`. The caller serialises writes of one key.
 */
export class DualWrites<E, K> {
  readonly counts = {
    acknowledged: 0,
    primaryFailures: 0,
    primaryTimeouts: 0,
    lateWrites: 0,
    secondaryFailures: 0,
    secondaryTimeouts: 0,
  };
  readonly #init: DualWritesInit<E, K>;

  constructor(init: DualWritesInit<E, K>) {
    this.#init = init;
  }

  #sides(phase: PhaseName): Sides<E, K> | undefined {
    if (phase === 'preparation') return undefined;
    if (phase === 'full') return { primary: this.#init.new, secondary: this.#init.old, secondarySide: 'old' };
    return { primary: this.#init.old, secondary: this.#init.new, secondarySide: 'new' };
  }

  /**
   * Writes the primary, then the secondary, as `config`'s phase says; a
   * secondary that fails or does not answer goes to the repair log.
   * Rejects with the primary's error or ERR_TIMEOUT.
   */
  async write(key: K, write: AckedWrite, config: MigrationConfig, apply: (store: Repository<E, K>) => Promise<void>): Promise<void> {
    const op = write.op;
    const id = keyId(key);
    const phase = phaseOf(config);
    const sides = this.#sides(phase);
    if (sides === undefined) {
      // Known before the write: once old alone holds it, an older entry of this key must not win a replay.
      await this.#init.runner.loadTracked();
      await this.#primary(key, op, () => apply(this.#init.old));
      if (this.#init.tracker.get(id) !== undefined) {
        this.#init.tracker.acked(id, write);
        await this.#init.runner.record(key, write, 'new', 'written to old only (preparation) after an earlier entry of this key', this.#now());
      }
      return;
    }
    await this.#primary(key, op, () => apply(sides.primary));
    this.#init.tracker.acked(id, write);
    await this.#tombstone(key, op);
    const side = sides.secondarySide;
    const ms = this.#init.secondaryTimeoutMs;
    const outcome = await settleWithin(() => apply(sides.secondary), ms, (late) => this.#secondaryLate(id, key, write, side, late));
    if (outcome.status === 'ok') return;
    if (outcome.status === 'timeout') {
      this.counts.secondaryTimeouts += 1;
      this.#init.tracker.hang(id);
    }
    const error = outcome.status === 'error' ? outcome.error : timeoutError(`${op} of ${side} in "${this.#init.name}"`, ms);
    this.counts.secondaryFailures += 1;
    const recorded = await this.#init.runner.record(key, write, side, errorText(error), this.#now());
    if (recorded) {
      this.#init.log.log('warn', `secondary-${side}`, { migration: this.#init.name, key, op, side, err: loggableError(error) }, `${side} failed a ${op}; recorded in the repair log`);
    }
    this.#init.emitter.emit('secondaryFailure', { migration: this.#init.name, key, op, side, phase, error });
  }

  async #primary(key: K, op: Op, write: () => Promise<void>): Promise<void> {
    const ms = this.#init.timeoutMs;
    const outcome = await settleWithin(write, ms, (late) => this.#primaryLate(key, op, late));
    if (outcome.status === 'ok') {
      this.counts.acknowledged += 1;
      return;
    }
    this.counts.primaryFailures += 1;
    if (outcome.status === 'timeout') this.counts.primaryTimeouts += 1;
    throw outcome.status === 'error' ? outcome.error : timeoutError(`${op} of the primary in "${this.#init.name}"`, ms);
  }

  #primaryLate(key: K, op: Op, late: Settled<void>): void {
    if (late.status !== 'ok') return;
    this.counts.lateWrites += 1;
    this.#init.log.log(
      'error',
      'late-primary',
      { migration: this.#init.name, key, op },
      `a ${op} that timed out landed in the primary later; the caller was told it failed, so the stores may differ on this key: run verify`,
    );
  }

  #secondaryLate(id: string, key: K, write: AckedWrite, side: Side, late: Settled<void>): void {
    this.#init.tracker.land(id, write);
    this.#init.logger.debug({ migration: this.#init.name, key, op: write.op, side, ok: late.status === 'ok' }, 'a timed-out secondary write answered; its key can be repaired now');
  }

  async #tombstone(key: K, op: Op): Promise<void> {
    // Saved again after a delete: a tombstone left in place would make backfill undo this row.
    // A delete leaves one before its secondary delete: a backfill insert landing after that delete then sees it.
    const at = this.#now();
    const outcome = await settleWithin(() => (op === 'save' ? this.#init.tombstones.remove(key) : this.#init.tombstones.add(key, at)), this.#init.secondaryTimeoutMs);
    if (outcome.status === 'ok') return;
    const err = outcome.status === 'error' ? loggableError(outcome.error) : { message: 'timed out' };
    const message =
      op === 'save'
        ? 'tombstone could not be removed; a running backfill may skip this row (verify will report it as missing)'
        : 'tombstone could not be recorded; a running backfill may copy this row back (verify will report it as extra)';
    this.#init.log.log('error', `tombstone-${op}`, { err, migration: this.#init.name, key }, message);
  }

  #now(): number {
    try {
      const now = this.#init.clock.now();
      if (typeof now === 'number' && Number.isFinite(now)) return now;
    } catch {
      // a broken clock must not lose a repair entry
    }
    return Date.now();
  }
}
