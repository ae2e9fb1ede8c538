import type { ConfigProvider } from '../config/config-provider.js';
import { isConfigProvider, isConfigStore } from '../config/config-provider.js';
import { InMemoryConfigStore } from '../config/in-memory-config-store.js';
import type { MigrationConfig } from '../config/migration-config.js';
import { isRolledBack } from '../config/migration-config.js';
import { phases } from '../config/phases.js';
import { InvalidOptionError, MigrationGlueError, describeValue } from '../errors.js';
import type { RoutingKey } from '../hashing/hasher.js';
import { timerMs } from '../options.js';
import type { Logger } from '../observe/logger.js';
import { safeLogger } from '../observe/logger.js';
import { defaultNotifierTimeoutMs, toNotify } from '../observe/notifier.js';
import type { NotifyFn } from '../observe/notifier.js';
import type { Arm } from './events.js';
import type { MigrationGlueOptions } from './migration-glue.js';
import type { MigrationStats } from './stats.js';
import { MigrationGlue, followRollback } from './migration-glue.js';
import { defaultStoreTimeoutMs, saveRollback } from './rollback-save.js';
import { defaultRoutingKey } from './routing-key.js';
import { callAsPromise } from './service.js';

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
 *   primary first (old, or new in full); the caller gets exactly the
 *   primary's outcome: its error (and the secondary is then not called), or
 *   its value once the secondary settled or `secondaryTimeoutMs` passed. A
 *   secondary that fails or times out is logged and handed to
 *   `onSecondaryFailure`, never to the caller.
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
  /**
   * Called when the secondary side of a `dualWrite` fails or times out. Record
   * it: that write must be repaired. What it throws or rejects with is logged.
   */
  readonly onSecondaryFailure?: (failure: SecondaryFailure) => void | Promise<void>;
  /**
   * How long a `dualWrite` call waits for the secondary write before
   * answering with the primary's value; the secondary then counts as failed
   * (an ERR_TIMEOUT error goes to `onSecondaryFailure`), in ms of real time.
   * @default 5000
   */
  readonly secondaryTimeoutMs?: number;
}

/** Control over a glued service: its per-method glues, rollback, stats. */
export interface GlueServiceControl<T> {
  /** The MigrationGlue behind each `shadow` method. */
  readonly glues: { readonly [K in AsyncMethodKeys<T>]?: MigrationGlue<unknown[], unknown> };
  /** The provider every method reads (a static config is wrapped in an InMemoryConfigStore, so rollback reaches every method). */
  readonly config: ConfigProvider;
  /**
   * Rolls every method back at once (one save, one notification): from the
   * call on, every method serves old, and stays there until someone moves the
   * migration forward after this resolved (as MigrationGlue.rollback). Resolves
   * false when already rolled back, or when another rollback was in progress
   * (after it settled).
   * @throws as MigrationGlue.rollback; every method still serves old.
   */
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
 * every method (the service's name is every method's hashing salt). Every
 * method returns a promise, whatever the implementations do (a synchronous
 * throw becomes a rejection with that error).
 * @throws InvalidOptionError when a policy is missing or unknown, or a method is not a function on either side.
 */
export function glueService<T extends object>(options: GlueServiceOptions<T>): GluedService<T> {
  if (typeof options !== 'object' || options === null) {
    throw new InvalidOptionError('options', `must be an object, got ${describeValue(options)}`);
  }
  const { oldService, newService, policies, routingKey, onSecondaryFailure, secondaryTimeoutMs, config, ...glueOptions } = options;
  if (typeof policies !== 'object' || policies === null) {
    throw new InvalidOptionError('policies', `must map each method to 'shadow', 'dualWrite' or 'oldOnly', got ${describeValue(policies)}`);
  }
  if (typeof options.name !== 'string' || options.name.trim() === '') {
    throw new InvalidOptionError('name', `must be a non-empty string, got ${describeValue(options.name)}`);
  }
  if (onSecondaryFailure !== undefined && typeof onSecondaryFailure !== 'function') {
    throw new InvalidOptionError('onSecondaryFailure', `must be a function, got ${describeValue(onSecondaryFailure)}`);
  }
  const store = toStore(config);
  const logger = safeLogger(glueOptions.logger);
  const notify = toNotify(glueOptions.notifier, logger, timerMs(glueOptions.notifierTimeoutMs, 'notifierTimeoutMs', defaultNotifierTimeoutMs));
  const storeTimeoutMs = timerMs(glueOptions.storeTimeoutMs, 'storeTimeoutMs', defaultStoreTimeoutMs);
  const hold = new RollbackHold(store);
  const glues: Record<string, MigrationGlue<unknown[], unknown>> = {};
  const methods: Record<string, (...args: unknown[]) => Promise<unknown>> = {};
  const write = {
    service: options.name,
    hold,
    logger,
    onSecondaryFailure,
    timeoutMs: timerMs(secondaryTimeoutMs, 'secondaryTimeoutMs', 5_000),
  };

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
      methods[method] = dualWrite({ ...write, method, oldMethod, newMethod });
    } else if (policy === 'oldOnly') {
      methods[method] = (...args) => callAsPromise(isFull(hold.current()) ? newMethod : oldMethod, ...args);
    } else {
      throw new InvalidOptionError(`policies.${method}`, `must be 'shadow', 'dualWrite' or 'oldOnly', got ${describeValue(policy)}`);
    }
  }

  let rolling: Promise<boolean> | undefined;
  const rollBack = async (reason: string): Promise<boolean> => {
    const all = Object.values(glues);
    const lead = all.find((glue) => !isRolledBack(glue.stats().config));
    if (lead === undefined) {
      if (all.length > 0 || isRolledBack(hold.current())) return false;
      return rollBackStore(reason);
    }
    // The lead saves and notifies; every other method serves old from now on, and follows the store once the save settled.
    const saved = lead.rollback(reason);
    const following = all.filter((glue) => glue !== lead).map((glue) => followRollback(glue, saved));
    try {
      return await hold.during(saved);
    } finally {
      await Promise.all(following);
    }
  };
  const rollBackStore = async (reason: string): Promise<boolean> => {
    if (!isConfigStore(store)) {
      throw new MigrationGlueError('ERR_INVALID_OPTION', `cannot roll back "${options.name}": its config provider has no save() and no method is a shadow glue`);
    }
    const before = hold.current();
    const why = typeof reason === 'string' && reason !== '' ? reason.slice(0, 1_000) : 'no reason given';
    logger.warn({ migration: options.name, reason: why, before }, 'migration rolled back');
    const notified = notifyRollback(notify, options.name, why, before);
    try {
      await hold.during(saveRollback(store, { migration: options.name, logger, timeoutMs: storeTimeoutMs }));
    } catch (err) {
      logger.error({ err, migration: options.name }, 'rollback could not be saved to the config store; this instance serves old');
      throw err;
    } finally {
      await notified;
    }
    return true;
  };

  const control: GlueServiceControl<T> = {
    glues: glues as GlueServiceControl<T>['glues'],
    config: store,
    async rollback(reason) {
      if (rolling !== undefined) {
        await rolling.catch(() => {});
        return false;
      }
      const current = rollBack(reason);
      rolling = current;
      try {
        return await current;
      } finally {
        rolling = undefined;
      }
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

/**
 * What the `dualWrite` and `oldOnly` methods read: the store's config, or
 * the rollback while one is being saved (and after, while the store does not
 * show it). A store that throws or answers garbage reads as new disabled.
 */
class RollbackHold {
  readonly #store: ConfigProvider;
  #held = false;
  #releasing = false;

  constructor(store: ConfigProvider) {
    this.#store = store;
  }

  current(): MigrationConfig {
    if (this.#held) return rolledBack;
    try {
      const config = this.#store.current();
      if (typeof config === 'object' && config !== null) return config;
    } catch {
      // a broken provider: old serves
    }
    return rolledBack;
  }

  /** Holds the rollback while `saving` runs; keeps holding after it when the store does not show a rollback. */
  async during<R>(saving: Promise<R>): Promise<R> {
    this.#held = true;
    try {
      return await saving;
    } finally {
      this.#held = false;
      if (!isRolledBack(this.current())) this.#held = true;
      if (this.#held) this.#releaseOnChange();
    }
  }

  /** After a failed rollback, a later change in the store (someone moved it on deliberately) ends the hold. */
  #releaseOnChange(): void {
    if (this.#releasing) return;
    this.#releasing = true;
    let unsubscribe: (() => void) | undefined;
    let released = false;
    const release = () => {
      released = true;
      this.#held = false;
      this.#releasing = false;
      unsubscribe?.();
    };
    try {
      unsubscribe = this.#store.subscribe(release);
      if (released) unsubscribe();
    } catch {
      this.#releasing = false;
    }
  }
}

const rolledBack = phases.rolledBack();

function notifyRollback(notify: NotifyFn, migration: string, reason: string, before: MigrationConfig): Promise<void> {
  return notify({
    kind: 'rollback',
    migration,
    message: `${migration}: rolled back (${reason})`,
    at: Date.now(),
    details: { reason, before, after: rolledBack },
  });
}

function toStore(config: MigrationConfig | ConfigProvider): ConfigProvider {
  if (isConfigProvider(config)) return config;
  if (typeof config !== 'object' || config === null) {
    throw new InvalidOptionError('config', `must be a MigrationConfig or a ConfigProvider, got ${describeValue(config)}`);
  }
  return new InMemoryConfigStore(config);
}

function methodOf(service: object, method: string, option: string): (...args: unknown[]) => Promise<unknown> {
  let fn: unknown;
  try {
    fn = (service as Record<string, unknown>)[method];
  } catch {
    // a getter that throws or a revoked Proxy: not a method
  }
  if (typeof fn !== 'function') {
    throw new InvalidOptionError(`${option}.${method}`, `must be a function (policies names it), got ${describeValue(fn)}`);
  }
  const call = fn as (...args: unknown[]) => unknown;
  return (...args) => call.apply(service, args) as Promise<unknown>;
}

function isFull(config: MigrationConfig): boolean {
  return config.newSystemEnabled && !config.shadowMode && config.newSystemPercentage === 100;
}

function dualWrite(init: {
  service: string;
  method: string;
  hold: RollbackHold;
  oldMethod: (...args: unknown[]) => Promise<unknown>;
  newMethod: (...args: unknown[]) => Promise<unknown>;
  logger: Logger;
  onSecondaryFailure: ((failure: SecondaryFailure) => void | Promise<void>) | undefined;
  timeoutMs: number;
}): (...args: unknown[]) => Promise<unknown> {
  const { service, method, hold, oldMethod, newMethod, logger, onSecondaryFailure, timeoutMs } = init;
  const report = (args: readonly unknown[], side: Arm, error: unknown): void => {
    logger.error({ err: error, migration: service, method, side }, 'secondary write failed; it needs repair');
    if (onSecondaryFailure === undefined) return;
    callAsPromise(onSecondaryFailure, { service, method, args, side, error }).catch((err: unknown) => {
      logger.error({ err, migration: service, method }, 'onSecondaryFailure threw');
    });
  };
  return (...args) => {
    const config = hold.current();
    if (!config.newSystemEnabled || config.newSystemPercentage === 0) return callAsPromise(oldMethod, ...args);
    const primaryIsNew = isFull(config);
    const side: Arm = primaryIsNew ? 'old' : 'new';
    const primary = callAsPromise(primaryIsNew ? newMethod : oldMethod, ...args);
    // The primary's value (the very object) or its error (unchanged), once the secondary settled or timed out.
    return primary.then(async (value) => {
      const failure = await secondaryWrite(primaryIsNew ? oldMethod : newMethod, args, timeoutMs, `${service}.${method}`);
      if (failure !== undefined) report(args, side, failure.error);
      return value;
    });
  };
}

/** Runs the secondary write; resolves with its failure (an error, or ERR_TIMEOUT after `timeoutMs`), undefined when it succeeded. Never rejects. */
function secondaryWrite(
  write: (...args: unknown[]) => Promise<unknown>,
  args: unknown[],
  timeoutMs: number,
  what: string,
): Promise<{ error: unknown } | undefined> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      resolve({ error: new MigrationGlueError('ERR_TIMEOUT', `secondary write of ${what} did not settle within ${timeoutMs} ms (option \`secondaryTimeoutMs\`)`) });
    }, timeoutMs);
    callAsPromise(write, ...args).then(
      () => {
        clearTimeout(timer);
        resolve(undefined);
      },
      (error: unknown) => {
        clearTimeout(timer);
        resolve({ error });
      },
    );
  });
}
