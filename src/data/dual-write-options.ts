import { z } from 'zod';
import type { ComparatorLike } from '../compare/to-comparator.js';
import type { ConfigProvider } from '../config/config-provider.js';
import { isConfigProvider, staticConfig } from '../config/config-provider.js';
import type { MigrationConfig } from '../config/migration-config.js';
import { InvalidOptionError } from '../errors.js';
import type { Clock } from '../observe/clock.js';
import type { Logger } from '../observe/logger.js';
import { loggerOption } from '../observe/logger.js';
import { field, option, parseOptions } from '../option-schema.js';
import { dataOption } from './options.js';
import type { RepairLog } from './repair-log.js';
import { InMemoryRepairLog } from './repair-log.js';
import type { Repository } from './repository.js';
import type { TombstoneStore } from './tombstone-store.js';
import { InMemoryTombstoneStore } from './tombstone-store.js';

/** Options of a DualWriteRepository. Resolved and validated once, in the constructor. */
export interface DualWriteRepositoryOptions<E, K> {
  /** The migration's name: in every log line and event, and the hashing salt of canary reads. */
  readonly name: string;
  /** The store being retired. */
  readonly old: Repository<E, K>;
  /** The store replacing it. */
  readonly new: Repository<E, K>;
  /** The key of an entity: a string or a number (it is bucketed as `String(key)`). */
  readonly keyOf: (entity: E) => K;
  /** A MigrationConfig (static) or a ConfigProvider / ConfigStore, read once per call. */
  readonly config: MigrationConfig | ConfigProvider;
  /** Compares old's and new's row in shadow reads (undefined stands for "no row"). A function `(old, new) => boolean` is accepted. @default deepEqualComparator() */
  readonly comparator?: ComparatorLike<E | undefined>;
  /** Where failed secondary writes are recorded until `repair()`. @default new InMemoryRepairLog() */
  readonly repairLog?: RepairLog<K>;
  /** Where dual-written deletes leave a tombstone; give the same store to `backfill`. @default new InMemoryTombstoneStore() */
  readonly tombstones?: TombstoneStore<K>;
  /** @default pino at `info` */
  readonly logger?: Logger;
  /** @default systemClock */
  readonly clock?: Clock;
  /**
   * Longest wait, in ms of real time, for a store call the caller waits on:
   * the primary write, a read that serves the caller, `getBatch`, and each
   * call of `repair()`. On expiry the call rejects with ERR_TIMEOUT (a canary
   * or full read with `fallbackEnabled` is served by old instead) and later
   * writes of the key go ahead. A timed-out write may still land in its store.
   * @default 30000
   */
  readonly timeoutMs?: number;
  /**
   * Longest wait, in ms of real time, for each call made after the primary
   * committed: the secondary write, the tombstone and the repair-log append.
   * A secondary write that does not answer in time counts as failed: it goes
   * to the repair log and the caller gets the primary's outcome.
   * @default 5000
   */
  readonly secondaryTimeoutMs?: number;
  /**
   * Shadow reads: `timeoutMs` bounds each read of new (and the re-reads of a
   * difference), @default 5000; `maxInFlight` caps comparisons at once, @default 1000;
   * beyond it a read is not shadowed and counts in `stats().shadow.skipped`.
   */
  readonly shadow?: { readonly timeoutMs?: number; readonly maxInFlight?: number };
}

const schema = z.strictObject({
  name: field<string>((value) => typeof value === 'string' && value.trim() !== '', 'a non-empty string'),
  old: dataOption.repository<unknown, unknown>(),
  new: dataOption.repository<unknown, unknown>(),
  keyOf: option.fn<(entity: unknown) => unknown>(),
  config: field<MigrationConfig | ConfigProvider>((value) => typeof value === 'object' && value !== null, 'a MigrationConfig or a ConfigProvider'),
  comparator: z.custom<ComparatorLike<unknown>>().optional(),
  repairLog: option.withMethods<RepairLog<unknown>>('append', 'list', 'remove', 'size').optional(),
  tombstones: option.withMethods<TombstoneStore<unknown>>('add', 'remove', 'has', 'clear').optional(),
  logger: loggerOption('pino'),
  clock: option.clock(),
  timeoutMs: option.timerMs().default(30_000),
  secondaryTimeoutMs: option.timerMs().default(5_000),
  shadow: z
    .strictObject({ timeoutMs: option.timerMs().default(5_000), maxInFlight: option.positiveInteger().default(1_000) })
    .default({ timeoutMs: 5_000, maxInFlight: 1_000 }),
});

/** DualWriteRepositoryOptions with every default resolved. */
export interface ResolvedDualWriteOptions<E, K> {
  readonly name: string;
  readonly old: Repository<E, K>;
  readonly new: Repository<E, K>;
  readonly keyOf: (entity: E) => K;
  readonly provider: ConfigProvider;
  readonly comparator: ComparatorLike<E | undefined> | undefined;
  readonly repairLog: RepairLog<K>;
  readonly tombstones: TombstoneStore<K>;
  readonly logger: Logger;
  readonly clock: Clock;
  readonly timeoutMs: number;
  readonly secondaryTimeoutMs: number;
  readonly shadow: { readonly timeoutMs: number; readonly maxInFlight: number };
}

/** Checks a DualWriteRepository's options once and resolves their defaults. @throws InvalidOptionError naming the bad or unknown option; MigrationConfigError for a bad static config. */
export function resolveDualWriteOptions<E, K>(options: DualWriteRepositoryOptions<E, K>): ResolvedDualWriteOptions<E, K> {
  const parsed = parseOptions(schema, options, 'DualWriteRepository');
  if (parsed.old === parsed.new) throw new InvalidOptionError('new', 'must be a different store from `old`');
  const config = parsed.config;
  return {
    ...(parsed as unknown as Omit<ResolvedDualWriteOptions<E, K>, 'provider' | 'repairLog' | 'tombstones'>),
    provider: isConfigProvider(config) ? config : staticConfig(config as MigrationConfig),
    repairLog: (parsed.repairLog as RepairLog<K> | undefined) ?? new InMemoryRepairLog<K>(),
    tombstones: (parsed.tombstones as TombstoneStore<K> | undefined) ?? new InMemoryTombstoneStore<K>(),
  };
}
