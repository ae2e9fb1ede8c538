import type { ConfigProvider } from '../config/config-provider.js';
import { isConfigProvider, isConfigStore } from '../config/config-provider.js';
import { InMemoryConfigStore } from '../config/in-memory-config-store.js';
import type { MigrationConfig } from '../config/migration-config.js';
import { isRolledBack } from '../config/migration-config.js';
import { phases } from '../config/phases.js';
import { InvalidOptionError, MigrationGlueError, describeValue } from '../errors.js';
import type { RoutingKey } from '../hashing/hasher.js';
import type { Logger } from '../observe/logger.js';
import { safeLogger } from '../observe/logger.js';
import type { Arm } from './events.js';
import type { MigrationGlueOptions } from './migration-glue.js';
import { MigrationGlue } from './migration-glue.js';
import { defaultRoutingKey } from './routing-key.js';
import type { MigrationStats } from './stats.js';

/** Any async method. */
type AsyncMethod = (...args: never[]) => Promise<unknown>;

/** The names of T's async methods. */
export type AsyncMethodKeys<T> = {
  [K in keyof T]-?: T[K] extends AsyncMethod ? K : never;
}[keyof T] &
  string;

/**
 * How one method of a glued service migrates.
 * - `shadow`: a read. Routed like a MigrationGlue: compared in shadow mode, canary by key.
 * - `dualWrite`: a write. From shadow on, both sides are written, the
 *   primary first (old, or new in full); the primary's error reaches the
 *   caller and the secondary is then not called; a secondary failure is
 *   logged and handed to `onSecondaryFailure`, never to the caller.
 * - `oldOnly`: a side effect that must never run twice (sending an email):
 *   old until the config is full, then new. Never shadowed.
 */
export type MethodPolicy = 'shadow' | 'dualWrite' | 'oldOnly';

/** A secondary write that failed: enough to replay or repair it. */
export interface SecondaryFailure {
  readonly service: string;
  readonly method: string;
  readonly args: readonly unknown[];
  /** The side that failed (the secondary). */
  readonly side: Arm;
  readonly error: unknown;
}

/** Options of glueService. The glue options apply to every `shadow` method. */
export interface GlueServiceOptions<T extends object>
  extends Omit<MigrationGlueOptions<unknown[], unknown>, 'oldService' | 'newService' | 'routingKey' | 'salt'> {
  readonly oldService: T;
  readonly newService: T;
  /** A policy for every async method: required, so a write is never shadowed by accident. */
  readonly policies: { readonly [K in AsyncMethodKeys<T>]: MethodPolicy };
  /** The routing key of a call. @default defaultRoutingKey(args[0]) (`userId ?? requestId`) */
  readonly routingKey?: (method: AsyncMethodKeys<T>, args: readonly unknown[]) => RoutingKey | null | undefined;
  /** Called when the secondary side of a `dualWrite` fails. Record it: that write must be repaired. */
  readonly onSecondaryFailure?: (failure: SecondaryFailure) => void;
}

/** Control over a glued service: its per-method glues, rollback, stats. */
export interface GlueServiceControl<T> {
  /** The MigrationGlue behind each `shadow` method. */
  readonly glues: { readonly [K in AsyncMethodKeys<T>]?: MigrationGlue<unknown[], unknown> };
  /** The provider every method reads (a static config is wrapped in an InMemoryConfigStore, so rollback reaches every method). */
  readonly config: ConfigProvider;
  /** Rolls every method back at once (one save, one notification). Resolves false when already rolled back. */
  rollback(reason: string): Promise<boolean>;
  /** Stats of each `shadow` method's glue. */
  stats(): { readonly [method: string]: MigrationStats };
  drain(): Promise<void>;
  close(): Promise<void>;
}

/** A glued service: T's async methods, each routed by its policy, plus `migration` to control it. */
export type GluedService<T> = Pick<T, AsyncMethodKeys<T>> & { readonly migration: GlueServiceControl<T> };

/**
 * Glues a whole service interface at once: old and new implement the same
 * interface T (checked at compile time), each async method gets a policy,
 * and all methods share one config, so a user sits on the same side for
 * every method (the service's name is every method's hashing salt).
 * @throws InvalidOptionError when a policy is missing or unknown, or a method is not a function on either side.
 */
export function glueService<T extends object>(options: GlueServiceOptions<T>): GluedService<T> {
  if (typeof options !== 'object' || options === null) {
    throw new InvalidOptionError('options', `must be an object, got ${describeValue(options)}`);
  }
  const { oldService, newService, policies, routingKey, onSecondaryFailure, config, ...glueOptions } = options;
  if (typeof policies !== 'object' || policies === null) {
    throw new InvalidOptionError('policies', `must map each method to 'shadow', 'dualWrite' or 'oldOnly', got ${describeValue(policies)}`);
  }
  const store = toStore(config);
  const logger = safeLogger(glueOptions.logger);
  const glues: Record<string, MigrationGlue<unknown[], unknown>> = {};
  const methods: Record<string, (...args: unknown[]) => Promise<unknown>> = {};

  for (const [method, policy] of Object.entries(policies as Record<string, unknown>)) {
    const oldMethod = methodOf(oldService, method, 'oldService');
    const newMethod = methodOf(newService, method, 'newService');
    if (policy === 'shadow') {
      const glue = new MigrationGlue<unknown[], unknown>({
        ...glueOptions,
        logger,
        name: `${options.name}.${method}`,
        salt: options.name,
        config: store,
        oldService: (args) => oldMethod(...args),
        newService: (args) => newMethod(...args),
        routingKey: (args) => (routingKey ? routingKey(method as AsyncMethodKeys<T>, args) : defaultRoutingKey(args[0])),
      });
      glues[method] = glue;
      methods[method] = (...args) => glue.process(args);
    } else if (policy === 'dualWrite') {
      methods[method] = dualWrite({ service: options.name, method, store, oldMethod, newMethod, logger, onSecondaryFailure });
    } else if (policy === 'oldOnly') {
      methods[method] = (...args) => (isFull(store.current()) ? newMethod(...args) : oldMethod(...args));
    } else {
      throw new InvalidOptionError(`policies.${method}`, `must be 'shadow', 'dualWrite' or 'oldOnly', got ${describeValue(policy)}`);
    }
  }

  const control: GlueServiceControl<T> = {
    glues: glues as GlueServiceControl<T>['glues'],
    config: store,
    async rollback(reason) {
      const all = Object.values(glues);
      if (all.length === 0) {
        if (isRolledBack(store.current())) return false;
        if (!isConfigStore(store)) {
          throw new MigrationGlueError('ERR_INVALID_OPTION', `cannot roll back "${options.name}": its config provider has no save() and no method is a shadow glue`);
        }
        logger.warn({ migration: options.name, reason }, 'migration rolled back');
        await store.save(phases.rolledBack());
        return true;
      }
      // The first glue saves to the shared store; the others then find it rolled back.
      let rolledBack = false;
      for (const glue of all) rolledBack = (await glue.rollback(reason)) || rolledBack;
      return rolledBack;
    },
    stats() {
      return Object.fromEntries(Object.entries(glues).map(([method, glue]) => [method, glue.stats()]));
    },
    async drain() {
      await Promise.all(Object.values(glues).map((glue) => glue.drain()));
    },
    async close() {
      await Promise.all(Object.values(glues).map((glue) => glue.close()));
    },
  };
  return Object.freeze({ ...methods, migration: control }) as unknown as GluedService<T>;
}

function toStore(config: MigrationConfig | ConfigProvider): ConfigProvider {
  if (isConfigProvider(config)) return config;
  if (typeof config !== 'object' || config === null) {
    throw new InvalidOptionError('config', `must be a MigrationConfig or a ConfigProvider, got ${describeValue(config)}`);
  }
  return new InMemoryConfigStore(config);
}

function methodOf(service: object, method: string, option: string): (...args: unknown[]) => Promise<unknown> {
  const fn = (service as Record<string, unknown>)[method];
  if (typeof fn !== 'function') {
    throw new InvalidOptionError(`${option}.${method}`, `must be a function (policies names it), got ${describeValue(fn)}`);
  }
  return (...args) => fn.apply(service, args) as Promise<unknown>;
}

function isFull(config: MigrationConfig): boolean {
  return config.newSystemEnabled && !config.shadowMode && config.newSystemPercentage === 100;
}

function dualWrite(init: {
  service: string;
  method: string;
  store: ConfigProvider;
  oldMethod: (...args: unknown[]) => Promise<unknown>;
  newMethod: (...args: unknown[]) => Promise<unknown>;
  logger: Logger;
  onSecondaryFailure: ((failure: SecondaryFailure) => void) | undefined;
}): (...args: unknown[]) => Promise<unknown> {
  const { service, method, store, oldMethod, newMethod, logger, onSecondaryFailure } = init;
  return async (...args) => {
    const config = store.current();
    if (!config.newSystemEnabled || config.newSystemPercentage === 0) return oldMethod(...args);
    const primaryIsNew = isFull(config);
    const value = await (primaryIsNew ? newMethod(...args) : oldMethod(...args));
    try {
      await (primaryIsNew ? oldMethod(...args) : newMethod(...args));
    } catch (error) {
      const side: Arm = primaryIsNew ? 'old' : 'new';
      logger.error({ err: error, migration: service, method, side }, 'secondary write failed; it needs repair');
      try {
        onSecondaryFailure?.({ service, method, args, side, error });
      } catch (err) {
        logger.error({ err, migration: service, method }, 'onSecondaryFailure threw');
      }
    }
    return value;
  };
}
