import { z } from 'zod';
import type { ConfigProvider } from '../config/config-provider.js';
import { isConfigProvider } from '../config/config-provider.js';
import { InMemoryConfigStore } from '../config/in-memory-config-store.js';
import { InvalidOptionError, describeValue } from '../errors.js';
import type { RoutingKey } from '../hashing/hasher.js';
import { LogLimiter } from '../observe/log-limiter.js';
import { toNotify } from '../observe/notifier.js';
import { Cleaner } from './cleaner.js';
import type { CleanHooks } from './shadow-options.js';
import { field, option, parseOptions } from '../option-schema.js';
import type { SecondaryFailure } from './dual-write.js';
import { dualWrite } from './dual-write.js';
import type { MigrationGlueOptions } from './glue-options.js';
import { glueFields } from './glue-options.js';
import { MigrationGlue } from './migration-glue.js';
import { RollbackHold } from './rollback-hold.js';
import { defaultRoutingKey } from './routing-key.js';
import { phaseOf } from './routing.js';
import { callAsPromise } from './service.js';
import { serviceRollback } from './service-rollback.js';
import type { MigrationStats } from './stats.js';

export type { SecondaryFailure } from './dual-write.js';

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

const policyNames = "'shadow', 'dualWrite' or 'oldOnly'";
const isObjectOrFunction = (value: unknown) => (typeof value === 'object' && value !== null) || typeof value === 'function';
const implementation = () => field<object>(isObjectOrFunction, 'an object with the methods `policies` names');

const schema = z.strictObject({
  ...glueFields,
  oldService: implementation(),
  newService: implementation(),
  policies: z.record(z.string(), field<MethodPolicy>((value) => value === 'shadow' || value === 'dualWrite' || value === 'oldOnly', policyNames), {
    error: (issue) => (issue.code === 'invalid_type' ? `must map each method to ${policyNames}, got ${describeValue(issue.input)}` : undefined),
  }),
  routingKey: option.fn<(method: string, args: readonly unknown[]) => RoutingKey | null | undefined>().optional(),
  onSecondaryFailure: option.fn<(failure: SecondaryFailure) => void | Promise<void>>().optional(),
  secondaryTimeoutMs: option.timerMs().default(5_000),
});

/**
 * Glues a whole service interface at once: old and new implement the same
 * interface T (checked at compile time), each async method gets a policy,
 * and all methods share one config, so a user sits on the same side for
 * every method (the service's name is every method's hashing salt). Every
 * method returns a promise, whatever the implementations do (a synchronous
 * throw becomes a rejection with that error).
 * @throws InvalidOptionError naming a bad or unknown option, a missing or unknown policy, or a method that is not a function on either side.
 */
export function glueService<T extends object>(options: GlueServiceOptions<T>): GluedService<T> {
  const parsed = parseOptions(schema, options, 'glueService');
  const { oldService, newService, policies, routingKey, onSecondaryFailure, secondaryTimeoutMs, config, name, logger, ...glueOptions } = parsed;
  const store = isConfigProvider(config) ? config : new InMemoryConfigStore(config);
  const hold = new RollbackHold(store);
  const glues: Record<string, MigrationGlue<unknown[], unknown>> = {};
  const methods: Record<string, (...args: unknown[]) => Promise<unknown>> = {};
  // A failed secondary write is logged by the same clean rules as the shadowed methods' errors (its message may quote the args).
  const clean = (glueOptions.shadow?.clean ?? {}) as CleanHooks<unknown[], unknown>;
  const cleaner = new Cleaner<unknown[], unknown>(name, clean, new LogLimiter(logger, glueOptions.clock));
  const write = { service: name, hold, logger, onSecondaryFailure, timeoutMs: secondaryTimeoutMs, cleaner };

  for (const [method, policy] of Object.entries(policies)) {
    const oldMethod = methodOf(oldService, method, 'oldService');
    const newMethod = methodOf(newService, method, 'newService');
    if (policy === 'shadow') {
      const glue = new MigrationGlue<unknown[], unknown>({
        ...glueOptions,
        shadow: (glueOptions.shadow ?? undefined) as MigrationGlueOptions<unknown[], unknown>['shadow'],
        logger,
        name: `${name}.${method}`,
        salt: name,
        config: store,
        oldService: (args) => oldMethod(...args),
        newService: (args) => newMethod(...args),
        routingKey: (args) => (routingKey ? routingKey(method, args) : defaultRoutingKey(args[0])),
      });
      glues[method] = glue;
      methods[method] = (...args) => glue.process(args);
    } else if (policy === 'dualWrite') {
      methods[method] = dualWrite({ ...write, method, oldMethod, newMethod });
    } else {
      methods[method] = (...args) => callAsPromise(phaseOf(hold.current()) === 'full' ? newMethod : oldMethod, ...args);
    }
  }

  const all = Object.values(glues);
  const notify = toNotify(parsed.notifier, logger, parsed.notifierTimeoutMs);
  const rollback = serviceRollback({ service: name, store, glues: all, hold, logger, notify, storeTimeoutMs: parsed.storeTimeoutMs });
  const control: GlueServiceControl<T> = {
    glues: glues as GlueServiceControl<T>['glues'],
    config: store,
    rollback,
    stats() {
      return Object.fromEntries(Object.entries(glues).map(([method, glue]) => [method, glue.stats()]));
    },
    async drain() {
      await Promise.all(all.map((glue) => glue.drain()));
    },
    async close() {
      await Promise.all(all.map((glue) => glue.close()));
    },
  };
  return Object.freeze({ ...methods, migration: control }) as unknown as GluedService<T>;
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
