import { z } from 'zod';
import type { Comparator } from '../compare/comparator.js';
import type { ConfigProvider } from '../config/config-provider.js';
import { isConfigProvider, staticConfig } from '../config/config-provider.js';
import type { MigrationConfig } from '../config/migration-config.js';
import { InvalidOptionError, ignoreRejection } from '../errors.js';
import type { Hasher } from '../hashing/hasher.js';
import { murmur3Hasher } from '../hashing/hasher.js';
import type { Clock } from '../observe/clock.js';
import type { Logger } from '../observe/logger.js';
import { loggerOption } from '../observe/logger.js';
import type { Notifier } from '../observe/notifier.js';
import { defaultNotifierTimeoutMs, notifierOption } from '../observe/notifier.js';
import { field, option, parseOptions } from '../option-schema.js';
import { defaultStoreTimeoutMs } from './rollback-save.js';
import type { RoutingKeyFn } from './routing-key.js';
import type { ServiceLike } from './service.js';
import type { ResolvedShadowOptions, ShadowOptions } from './shadow-options.js';
import { defaultShadowOptions, shadowSchema } from './shadow-options.js';

/** Options of a MigrationGlue. Resolved and validated once, in the constructor. */
export interface MigrationGlueOptions<I, O> {
  /** The migration's name: in every log line and event, and the hashing salt (two migrations bucket independently). */
  readonly name: string;
  /**
   * The hashing salt, when it must differ from `name`: glues that share a salt
   * send a user to the same side (glueService gives all methods of one service
   * the service's name). @default name
   */
  readonly salt?: string;
  /** The system being retired. */
  readonly oldService: ServiceLike<I, O>;
  /** The system replacing it. */
  readonly newService: ServiceLike<I, O>;
  /** A MigrationConfig (static) or a ConfigProvider / ConfigStore (changes apply on the next call). */
  readonly config: MigrationConfig | ConfigProvider;
  /**
   * The routing key of an input: calls with the same key always take the same
   * side. Must be synchronous. A call without a usable key (undefined, null,
   * '', NaN, an object, a promise, a throw) goes to old, is counted in
   * `stats().missingKeys` and logged (rate-limited) with the input's field names.
   * @default input.userId ?? input.requestId (a string or number input is its own key)
   */
  readonly routingKey?: RoutingKeyFn<I>;
  /** A hasher that throws or returns anything but a 32-bit unsigned integer sends the call to old (logged). @default murmur3Hasher */
  readonly hasher?: Hasher;
  /** Compares old's and new's outcome in shadow mode. A function `(old, new) => boolean` is accepted. @default deepEqualComparator() */
  readonly comparator?: Comparator<O> | ((oldValue: O, newValue: O) => boolean);
  /** Where the glue logs; each write is guarded, and errors are logged as a bounded summary. @default pino at `info` */
  readonly logger?: Logger;
  /** Told about rollbacks. @default none */
  readonly notifier?: Notifier;
  /** How long `rollback()` waits for the notifier before carrying on (logged), in ms of real time. @default 10000 */
  readonly notifierTimeoutMs?: number;
  /**
   * How long `rollback()` waits for the config store's `save`, in ms of real
   * time; past it, `rollback()` rejects with ERR_TIMEOUT and this glue keeps
   * serving old. @default 30000
   */
  readonly storeTimeoutMs?: number;
  /** A clock that throws or returns a non-finite number is replaced by its last good reading. @default systemClock */
  readonly clock?: Clock;
  /** Shadow mode settings: timeout, concurrency cap, sampling, order, redaction, noise control. */
  readonly shadow?: ShadowOptions<I, O>;
  /**
   * In canary and full, a new call taking longer than this fails (and falls
   * back to old when `fallbackEnabled`). Milliseconds of real time. Without
   * it, a new service that never answers leaves its caller waiting: set it
   * whenever new may hang. @default none
   */
  readonly newTimeoutMs?: number;
  /** Length of the sliding window of `stats()`, in ms. @default 300000 (5 minutes) */
  readonly windowMs?: number;
}

/** Reads `value[name]`; undefined when a getter throws or the value is a revoked Proxy. Never throws. */
function read(value: unknown, name: string): unknown {
  if ((typeof value !== 'object' && typeof value !== 'function') || value === null) return undefined;
  try {
    return (value as Record<string, unknown>)[name];
  } catch {
    return undefined;
  }
}

const isServiceLike = (value: unknown) => typeof value === 'function' || typeof read(value, 'process') === 'function';
const isObject = (value: unknown) => typeof value === 'object' && value !== null;
const isComparatorLike = (value: unknown) => typeof value === 'function' || typeof read(value, 'compare') === 'function';
const service = () => field<ServiceLike<unknown, unknown>>(isServiceLike, 'a Service ({ process(input) }) or an async function');

/** The options a glue shares with glueService (everything but the services, key and salt). */
export const glueFields = {
  name: field<string>((value) => typeof value === 'string' && value.trim() !== '', 'a non-empty string'),
  config: field<MigrationConfig | ConfigProvider>(isObject, 'a MigrationConfig or a ConfigProvider'),
  hasher: field<Hasher>((value) => typeof read(value, 'hash32') === 'function', 'an object with a hash32(bytes) method').optional(),
  comparator: field<Comparator<unknown> | ((oldValue: unknown, newValue: unknown) => boolean)>(
    isComparatorLike,
    'a Comparator ({ compare(old, new) }) or a function (old, new) => boolean',
  ).optional(),
  logger: loggerOption('pino'),
  notifier: notifierOption(),
  notifierTimeoutMs: option.timerMs().default(defaultNotifierTimeoutMs),
  storeTimeoutMs: option.timerMs().default(defaultStoreTimeoutMs),
  clock: option.clock(),
  shadow: shadowSchema.nullable().optional(),
  newTimeoutMs: option.timerMs().optional(),
  windowMs: option.positiveNumber().default(300_000),
};

const glueSchema = z.strictObject({
  ...glueFields,
  salt: field<string>((value) => typeof value === 'string', 'a string').optional(),
  oldService: service(),
  newService: service(),
  routingKey: option.fn<RoutingKeyFn<unknown>>().optional(),
});

/** MigrationGlueOptions with defaults resolved: a guarded logger and clock, the shadow settings complete. */
export type ResolvedGlueOptions<I, O> = Omit<
  MigrationGlueOptions<I, O>,
  'logger' | 'clock' | 'shadow' | 'notifierTimeoutMs' | 'storeTimeoutMs' | 'windowMs' | 'salt'
> & {
  readonly salt: string;
  readonly logger: Logger;
  readonly clock: Clock;
  readonly shadow: ResolvedShadowOptions<I, O>;
  readonly notifierTimeoutMs: number;
  readonly storeTimeoutMs: number;
  readonly windowMs: number;
};

/**
 * Checks a glue's options once and resolves their defaults.
 * @throws InvalidOptionError naming the bad or unknown option (with the nearest known name).
 */
export function resolveGlueOptions<I, O>(options: MigrationGlueOptions<I, O>): ResolvedGlueOptions<I, O> {
  const parsed = parseOptions(glueSchema, withShadowRead(options), 'MigrationGlue');
  const shadow = parsed.shadow ?? defaultShadowOptions;
  return {
    ...parsed,
    salt: parsed.salt ?? parsed.name,
    shadow: { ...shadow, clean: shadow.clean ?? {} },
  } as unknown as ResolvedGlueOptions<I, O>;
}

/**
 * `options` with `shadow` and `shadow.clean` copied field by field, each read
 * once: one that cannot be read (a getter or a Proxy trap throws, a revoked
 * Proxy) is refused under its own name rather than as the whole options.
 * Anything else is left for the schema to judge.
 */
function withShadowRead(options: unknown): unknown {
  const shadow = read(options, 'shadow');
  if (!isObject(shadow)) return options;
  const copy = readFields(shadow as object, 'shadow');
  if (isObject(copy['clean'])) copy['clean'] = readFields(copy['clean'] as object, 'shadow.clean');
  try {
    // for...in, as the schema reads: inherited options count too.
    const all: Record<string, unknown> = Object.create(null) as Record<string, unknown>;
    for (const key in options as object) all[key] = (options as Record<string, unknown>)[key];
    all['shadow'] = copy;
    return all;
  } catch {
    return options; // unreadable options: parseOptions says so
  }
}

function readFields(value: object, name: string): Record<string, unknown> {
  try {
    // No prototype: an own `__proto__` key stays a key (and is refused), not a prototype.
    const copy = Object.create(null) as Record<string, unknown>;
    for (const key of Object.keys(value)) copy[key] = (value as Record<string, unknown>)[key];
    return copy;
  } catch {
    throw new InvalidOptionError(name, 'cannot be read (a getter or a Proxy trap threw, or the Proxy is revoked)');
  }
}

/** The provider behind the `config` option: a provider as is, a plain config validated once. @throws MigrationConfigError for a bad config. */
export function resolveProvider(config: MigrationConfig | ConfigProvider): ConfigProvider {
  return isConfigProvider(config) ? config : staticConfig(config);
}

/** The hasher to bucket with: murmur3 by default; a user's one whose answer is not a number answers NaN (refused as a bucket). */
export function resolveHasher(hasher: Hasher | undefined): Hasher {
  if (hasher === undefined) return murmur3Hasher;
  const hash32 = read(hasher, 'hash32') as Hasher['hash32'];
  return {
    hash32(bytes) {
      const hash: unknown = hash32.call(hasher, bytes);
      if (typeof hash === 'number') return hash;
      // A promise's rejection must not go unhandled.
      ignoreRejection(hash);
      return Number.NaN;
    },
  };
}
