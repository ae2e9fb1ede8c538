import type { MigrationConfig } from '../config/migration-config.js';
import type { Hasher, RoutingKey } from '../hashing/hasher.js';
import { BUCKETS, bucketOf } from '../hashing/hasher.js';
import type { Emitter } from '../observe/emitter.js';
import type { LogLimiter } from '../observe/log-limiter.js';
import type { GlueEvents, ShadowSkippedEvent } from './events.js';
import { shadowThreshold } from './routing.js';
import type { ShadowStats } from './stats.js';

/**
 * Which calls in shadow mode are shadowed: keys within the config's share
 * (a key is needed below 100 %), within `sampleRate` (by key, so a sampled
 * user stays sampled), while fewer than `maxInFlight` are in flight. Counts
 * and emits (`shadowSkipped`) the others.
 */
export class ShadowAdmission<I, O> {
  readonly #name: string;
  readonly #salt: string;
  readonly #sampleSalt: string;
  readonly #hasher: Hasher;
  readonly #sampleThreshold: number;
  readonly #maxInFlight: number;
  readonly #emitter: Emitter<GlueEvents<I, O>>;
  readonly #log: LogLimiter;
  readonly #skipped = { sampledOut: 0, overCapacity: 0, missingKey: 0, outsidePercentage: 0 };

  constructor(init: {
    name: string;
    salt: string;
    hasher: Hasher;
    sampleRate: number;
    maxInFlight: number;
    emitter: Emitter<GlueEvents<I, O>>;
    log: LogLimiter;
  }) {
    this.#name = init.name;
    this.#salt = init.salt;
    this.#sampleSalt = `${init.salt}:sample`;
    this.#hasher = init.hasher;
    this.#sampleThreshold = Math.round(init.sampleRate * BUCKETS);
    this.#maxInFlight = init.maxInFlight;
    this.#emitter = init.emitter;
    this.#log = init.log;
  }

  /** Decides whether this call is shadowed, `inFlight` being the shadow calls in flight; never throws. */
  admit(key: RoutingKey | undefined, config: MigrationConfig, inFlight: number): boolean {
    try {
      return this.#admit(key, config, inFlight);
    } catch (err) {
      // A hasher that throws: the call is served by old, unshadowed.
      this.#log.log('warn', 'shadow-admit', { err, migration: this.#name }, 'shadow admission failed (the hasher threw); old serves unshadowed');
      return false;
    }
  }

  /** The calls skipped so far, by reason. */
  skipped(): ShadowStats['skippedBy'] {
    const skipped = this.#skipped;
    return { sampledOut: skipped.sampledOut, overCapacity: skipped.overCapacity, missingKey: skipped.missingKey, outsidePercentage: skipped.outsidePercentage };
  }

  #admit(key: RoutingKey | undefined, config: MigrationConfig, inFlight: number): boolean {
    const threshold = shadowThreshold(config);
    if (threshold < BUCKETS) {
      if (key === undefined) return this.#skip(key, 'missing-key');
      if (bucketOf(key, this.#salt, this.#hasher) >= threshold) return this.#skip(key, 'outside-percentage');
    }
    if (this.#sampleThreshold < BUCKETS) {
      // Sampling by key keeps a sampled user in the sample; without a key, chance decides.
      const draw = key === undefined ? Math.floor(Math.random() * BUCKETS) : bucketOf(key, this.#sampleSalt, this.#hasher);
      if (!(draw < this.#sampleThreshold)) return this.#skip(key, 'sampled-out');
    }
    if (inFlight >= this.#maxInFlight) return this.#skip(key, 'over-capacity');
    return true;
  }

  #skip(key: RoutingKey | undefined, reason: ShadowSkippedEvent['reason']): false {
    if (reason === 'sampled-out') this.#skipped.sampledOut += 1;
    else if (reason === 'over-capacity') this.#skipped.overCapacity += 1;
    else if (reason === 'missing-key') this.#skipped.missingKey += 1;
    else this.#skipped.outsidePercentage += 1;
    if (this.#emitter.has('shadowSkipped')) this.#emitter.emit('shadowSkipped', { migration: this.#name, key, reason });
    return false;
  }
}
