import type { Settled } from '../bounded.js';
import { settleWithin } from '../bounded.js';
import type { MigrationConfig } from '../config/migration-config.js';
import { inNewShare, phaseOf } from '../core/routing.js';
import { bucketOf } from '../hashing/hasher.js';
import type { Emitter } from '../observe/emitter.js';
import type { LogLimiter } from '../observe/log-limiter.js';
import { loggableError, timeoutError, unwrap } from './bounded.js';
import type { DualWriteEvents } from './dual-write-events.js';
import type { Side } from './repair-log.js';
import type { Repository } from './repository.js';
import type { ShadowReads } from './shadow-reads.js';

/** What the read path of a DualWriteRepository works with. */
export interface DualReadsInit<E, K> {
  readonly name: string;
  readonly old: Repository<E, K>;
  readonly new: Repository<E, K>;
  readonly timeoutMs: number;
  readonly shadow: ShadowReads<E, K>;
  readonly emitter: Emitter<DualWriteEvents<E, K>>;
  readonly log: LogLimiter;
}

/**
 * The read path of a DualWriteRepository: which store serves a key in each
 * phase (old; old with a shadow read of new for the compared share; new for
 * the canary's share, with fallback to old; new in full), each read
 * bounded by `timeoutMs`, counted in `counts`.
 */
export class DualReads<E, K> {
  readonly counts = { old: 0, new: 0, fallbacks: 0 };
  readonly #init: DualReadsInit<E, K>;

  constructor(init: DualReadsInit<E, K>) {
    this.#init = init;
  }

  /** Reads `key` from the store `config`'s phase names for it. */
  get(key: K, config: MigrationConfig): Promise<E | undefined> {
    switch (phaseOf(config)) {
      case 'preparation':
        return this.#readOld(key);
      case 'shadow':
        return this.#shadowed(key, config) ? this.#readShadow(key) : this.#readOld(key);
      case 'canary':
        return inNewShare(this.#bucket(key), config) ? this.#readNew(key, config) : this.#readOld(key);
      case 'full':
        return this.#readNew(key, config);
    }
  }

  #bucket(key: K): number {
    return bucketOf(String(key), this.#init.name);
  }

  /**
   * In shadow the percentage is the share of keys compared, not served
   * (routing.ts's newShare is 0 then), so the compared buckets are those
   * below it, rounded as newThreshold rounds.
   */
  #shadowed(key: K, config: MigrationConfig): boolean {
    return this.#bucket(key) < Math.round(config.newSystemPercentage * 100);
  }

  #read(side: Side, key: K): Promise<Settled<E | undefined>> {
    const store = side === 'old' ? this.#init.old : this.#init.new;
    return settleWithin(() => store.get(key), this.#init.timeoutMs);
  }

  #served(side: Side, outcome: Settled<E | undefined>): E | undefined {
    return unwrap(outcome, () => timeoutError(`get of ${side} in "${this.#init.name}"`, this.#init.timeoutMs));
  }

  async #readOld(key: K): Promise<E | undefined> {
    this.counts.old += 1;
    return this.#served('old', await this.#read('old', key));
  }

  async #readNew(key: K, config: MigrationConfig): Promise<E | undefined> {
    this.counts.new += 1;
    const outcome = await this.#read('new', key);
    if (outcome.status === 'ok' || !config.fallbackEnabled) return this.#served('new', outcome);
    const { name, timeoutMs, log, emitter } = this.#init;
    const error = outcome.status === 'error' ? outcome.error : timeoutError(`get of new in "${name}"`, timeoutMs);
    this.counts.fallbacks += 1;
    log.log('warn', 'fallback', { migration: name, key, err: loggableError(error) }, 'read from new failed, old served it (fallback)');
    emitter.emit('fallback', { migration: name, key, error });
    return this.#readOld(key);
  }

  async #readShadow(key: K): Promise<E | undefined> {
    this.counts.old += 1;
    // Both reads start together, so the shadow read adds no latency; the caller waits for old only.
    const oldRead = this.#read('old', key);
    this.#init.shadow.follow(key, oldRead);
    return this.#served('old', await oldRead);
  }
}
