import fc from 'fast-check';
import { describe, expect } from 'vitest';
import type { MigrationGlueOptions, ShadowOrder } from '../../src/index.js';
import { MigrationGlue } from '../../src/index.js';
import type { Behaviour, Expected, HookBehaviour, Named } from './arbitraries.js';
import { prop } from './known-failures.js';
import { answerHookArb, behaviourArb, clockArb, params, propertyTimeoutMs, secretError, voidHookArb } from './arbitraries.js';
import type { Oracle, Phase } from './glue-oracle.js';
import { defaultKeyOf, expectedOf, glueInputArb, orderArb, phaseArb } from './glue-oracle.js';
import type { Settled } from './harness.js';
import { codeOf, flush, leaksOf, observe, recordingLogger, sameOutcome, show, trackProcessFaults, within } from './harness.js';

// DESIGN: "The caller of `process` gets exactly what the serving system
// gave", in every phase and shadow order; every wait settles; hooks that
// throw, hang or return garbage never reach the caller.

const faults = trackProcessFaults();
const name = 'hostile';
const eventNames = ['route', 'settled', 'mismatch', 'shadowError', 'shadowSkipped', 'fallback', 'rollback', 'configChange'] as const;

/** Which hook of the glue is hostile in a case (at most one, so a failure names it). */
type HookName = 'none' | 'logger' | 'listener' | 'comparator' | 'clean' | 'routingKey' | 'clock' | 'notifier';

interface GlueCase {
  readonly phase: Phase;
  readonly order: ShadowOrder;
  readonly input: Named<unknown>;
  readonly old: Behaviour;
  readonly neu: Behaviour;
  readonly hook: HookName;
  readonly behaviour: HookBehaviour | Named<{ now(): number }> | undefined;
}

function matches(actual: Settled, expected: Oracle): boolean {
  if (expected.kind === 'timeout') return actual.kind === 'error' && codeOf(actual.error) === 'ERR_TIMEOUT';
  return sameOutcome(actual, expected);
}

function optionsFor(c: GlueCase, old: (i: unknown) => unknown, neu: (i: unknown) => unknown): MigrationGlueOptions<unknown, unknown> {
  const { logger } = recordingLogger();
  const base: MigrationGlueOptions<unknown, unknown> = {
    name,
    oldService: old as (i: unknown) => Promise<unknown>,
    newService: neu as (i: unknown) => Promise<unknown>,
    config: c.phase.config,
    logger,
    newTimeoutMs: 100,
    // The default bound on a notifier (10 s) is far above the harness's bound on rollback().
    notifierTimeoutMs: 50,
    shadow: { timeoutMs: 20, order: c.order },
  };
  const hook = c.behaviour?.make();
  switch (c.hook) {
    case 'logger': {
      const method = hook as (...a: unknown[]) => unknown;
      return { ...base, logger: { debug: method, info: method, warn: method, error: method } as never };
    }
    case 'comparator':
      return { ...base, comparator: hook as (a: unknown, b: unknown) => boolean };
    case 'clean':
      return { ...base, shadow: { ...base.shadow, clean: { input: hook as (i: unknown) => unknown, output: hook as (o: unknown) => unknown } } };
    case 'routingKey':
      return { ...base, routingKey: hook as never };
    case 'clock':
      return { ...base, clock: hook as { now(): number } };
    case 'notifier':
      return { ...base, notifier: hook as never };
    default:
      return base;
  }
}

/** The key the glue must route by: the default, or what the hostile routingKey answers. */
function keyFor(c: GlueCase, input: unknown): ReturnType<typeof defaultKeyOf> {
  if (c.hook !== 'routingKey') return defaultKeyOf(input);
  const label = c.behaviour?.label;
  if (label === 'well-behaved') return defaultKeyOf(input);
  if (label === 'returns a string') return 'yes';
  return undefined;
}

async function runGlueCase(c: GlueCase): Promise<void> {
  faults.take();
  const input = c.input.make();
  const old = c.old.make();
  const neu = c.neu.make();
  const glue = new MigrationGlue<unknown, unknown>(optionsFor(c, old.call, neu.call));
  if (c.hook === 'listener') {
    for (const event of eventNames) glue.on(event, (c.behaviour as HookBehaviour).make() as never);
  }
  const expected = expectedOf(c.phase.config, keyFor(c, input), name, old.expected, neu.expected);

  let promise: Promise<unknown>;
  try {
    promise = glue.process(input);
  } catch (err) {
    throw new Error(`process threw synchronously: ${show({ kind: 'error', error: err })}`, { cause: err });
  }
  const caller = observe(promise);
  if (expected.kind !== 'pending') {
    const actual = await within(promise, 'process');
    if (!matches(actual, expected)) throw new Error(`caller got ${show(actual)}, expected ${show(expected as Expected)}`);
  }
  await within(glue.drain(), 'drain');
  const stats = glue.stats();
  if (old.expected.kind !== 'pending' && stats.shadow.inFlight !== 0) throw new Error(`shadow.inFlight is ${stats.shadow.inFlight} after drain`);

  // Rollback settles whatever the notifier does, and the very next call is old's.
  await within(glue.rollback('hostile harness'), 'rollback');
  if (old.expected.kind !== 'pending') {
    const after = await within(glue.process(input), 'process after rollback');
    if (!sameOutcome(after, old.expected)) throw new Error(`after rollback the caller got ${show(after)}, expected old's ${show(old.expected)}`);
  }
  await within(glue.close(), 'close');
  if (expected.kind === 'pending' && caller.outcome() !== undefined) {
    throw new Error(`the serving side never answered, yet the caller got ${show(caller.outcome())}`);
  }
  await flush();
  const seen = faults.take();
  if (seen.length > 0) throw new Error(seen.join('; '));
}

function caseArb(hook: HookName, behaviour: fc.Arbitrary<GlueCase['behaviour']>): fc.Arbitrary<GlueCase> {
  return fc.record({
    phase: phaseArb,
    order: orderArb,
    input: glueInputArb,
    old: behaviourArb(),
    neu: behaviourArb(),
    hook: fc.constant(hook),
    behaviour,
  });
}

const goodComparator = () => (a: unknown, b: unknown) => Object.is(a, b);
const identity = () => (x: unknown) => x;
const goodKey = () => (input: unknown) => defaultKeyOf(input);

describe('MigrationGlue under hostile services', () => {
  prop(
    'gives the caller exactly the serving side outcome in every phase and order; every wait settles',
    async () => {
      await fc.assert(fc.asyncProperty(caseArb('none', fc.constant(undefined)), runGlueCase), params(50));
      expect(faults.take()).toEqual([]);
    },
    propertyTimeoutMs,
  );
});

describe('MigrationGlue under hostile hooks (one at a time)', () => {
  const hooks: readonly [HookName, fc.Arbitrary<GlueCase['behaviour']>][] = [
    ['logger', voidHookArb],
    ['listener', voidHookArb],
    ['notifier', voidHookArb],
    ['comparator', answerHookArb(goodComparator)],
    ['clean', answerHookArb(identity)],
    ['routingKey', answerHookArb(goodKey)],
    ['clock', clockArb],
  ];
  prop.each(hooks)(
    'a hostile %s never changes what the caller gets, and every wait settles',
    async (hook, behaviour) => {
      await fc.assert(fc.asyncProperty(caseArb(hook, behaviour), runGlueCase), params(20));
    },
    propertyTimeoutMs,
  );
});

// DESIGN: "What a `clean` hook hides is hidden everywhere the library
// writes: logs, events, fingerprints, reports."

interface SecretCase {
  readonly phase: Phase;
  readonly order: ShadowOrder;
  readonly userId: string;
  readonly oldFails: boolean;
  readonly newOutcome: 'differs' | 'rejects' | 'hangs' | 'same';
  readonly rerun: boolean;
}

/** Drops the raw `error` fields of an event: the service's own errors are handed to listeners as given. */
function withoutRawErrors(value: unknown): unknown {
  if (typeof value !== 'object' || value === null) return value;
  return Object.fromEntries(Object.entries(value).filter(([key]) => key !== 'error').map(([key, v]) => [key, key === 'old' || key === 'new' ? withoutRawErrors(v) : v]));
}

async function runSecretCase(c: SecretCase): Promise<void> {
  faults.take();
  const secret = `sk_live_${Math.random().toString(36).slice(2)}`;
  const input = { userId: c.userId, card: secret, apiKeys: { [secret]: 'x' } };
  const { logger, calls } = recordingLogger();
  const events: unknown[] = [];
  const notes: unknown[] = [];
  const output = (balance: number) => ({ balance, token: secret, keys: { [secret]: balance }, [`row-${secret}`]: balance });
  const glue = new MigrationGlue<typeof input, unknown>({
    name,
    config: c.phase.config,
    logger,
    notifier: (n) => {
      notes.push(n);
    },
    newTimeoutMs: 100,
    oldService: async () => {
      if (c.oldFails) throw secretError(secret);
      return output(100);
    },
    newService: async () => {
      if (c.newOutcome === 'rejects') throw secretError(secret);
      if (c.newOutcome === 'hangs') return new Promise(() => {});
      return output(c.newOutcome === 'same' ? 100 : 250);
    },
    shadow: {
      timeoutMs: 20,
      order: c.order,
      rerunOldOnMismatch: c.rerun,
      clean: {
        input: (i) => ({ userId: i.userId, card: '[redacted]', apiKeys: {} }),
        output: (o) => ({ balance: (o as { balance?: unknown }).balance }),
      },
    },
  });
  for (const event of eventNames) glue.on(event, (payload: unknown) => void events.push(withoutRawErrors(payload)));
  await within(glue.process(input), 'process');
  await within(glue.drain(), 'drain');
  await within(glue.rollback('secret check'), 'rollback');
  const stats = glue.stats();
  await within(glue.close(), 'close');
  await flush();
  const where: string[] = [];
  for (const call of calls) if (leaksOf([call.context, call.message], secret).length > 0) where.push(`log line "${String(call.message)}"`);
  for (const event of events) if (leaksOf(event, secret).length > 0) where.push(`event ${JSON.stringify(Object.keys(event as object))}`);
  if (leaksOf(stats, secret).length > 0) where.push('stats()');
  if (leaksOf(notes, secret).length > 0) where.push('notifier');
  if (where.length > 0) throw new Error(`the secret reached: ${where.join(', ')}`);
  const seen = faults.take();
  if (seen.length > 0) throw new Error(seen.join('; '));
}

describe('MigrationGlue with a clean hook', () => {
  prop(
    'never writes what clean hides: not in a log line, an event, a fingerprint, stats or a notification',
    async () => {
      const arb = fc.record({
        phase: phaseArb,
        order: orderArb,
        userId: fc.string({ minLength: 1, maxLength: 4 }),
        oldFails: fc.boolean(),
        newOutcome: fc.constantFrom('differs', 'rejects', 'hangs', 'same'),
        rerun: fc.boolean(),
      });
      await fc.assert(fc.asyncProperty(arb, runSecretCase), params(25));
    },
    propertyTimeoutMs,
  );
});

// DESIGN: shadow work "never grows memory without bound"; the log limit holds
// even when every mismatch has a different path (an id in a key).

describe('MigrationGlue under a flood of distinct mismatches', () => {
  prop(
    'keeps fingerprints, warn lines and in-flight work bounded',
    async () => {
      const arb = fc.record({ calls: fc.integer({ min: 200, max: 400 }), order: orderArb, hang: fc.boolean(), logTotalPerMinute: fc.integer({ min: 1, max: 60 }) });
      await fc.assert(
        fc.asyncProperty(arb, async ({ calls, order, hang, logTotalPerMinute }) => {
          faults.take();
          const { logger, calls: lines } = recordingLogger();
          const clock = { now: () => 1_000_000 };
          let n = 0;
          const glue = new MigrationGlue<{ userId: string }, unknown>({
            name,
            config: { shadowMode: true, newSystemEnabled: true, newSystemPercentage: 100, fallbackEnabled: false },
            logger,
            clock,
            oldService: async () => ({ rows: { [`id-${(n += 1)}`]: 1 } }),
            newService: async () => (hang && n % 2 === 0 ? new Promise(() => {}) : { rows: { [`id-${n}`]: 2, [`other-${n}`]: 3 } }),
            shadow: { timeoutMs: 20, order, logPerMinute: 10, logTotalPerMinute },
          });
          for (let i = 0; i < calls; i += 1) await within(glue.process({ userId: `u${i}` }), 'process');
          await within(glue.drain(), 'drain');
          const stats = glue.stats();
          await within(glue.close(), 'close');
          const warns = lines.filter((l) => l.level === 'warn');
          const mismatchLines = warns.filter((l) => String(l.message).startsWith('shadow mismatch')).length;
          if (stats.shadow.inFlight !== 0) throw new Error(`inFlight ${stats.shadow.inFlight} after drain`);
          if (stats.shadow.fingerprints.length > 20) throw new Error(`${stats.shadow.fingerprints.length} fingerprints shown`);
          // Every fingerprint is new (an id in the path): the total budget per minute is what holds.
          if (mismatchLines > logTotalPerMinute) throw new Error(`${mismatchLines} mismatch lines for ${calls} calls within one minute (limit ${logTotalPerMinute})`);
          // Other warn lines (timeouts) have a budget of their own: 10 per kind, 50 in all, per minute.
          if (warns.length - mismatchLines > 50) throw new Error(`${warns.length - mismatchLines} other warn lines for ${calls} calls within one minute`);
          await flush();
          const seen = faults.take();
          if (seen.length > 0) throw new Error(seen.join('; '));
        }),
        params(3, 0.1),
      );
    },
    propertyTimeoutMs,
  );
});
