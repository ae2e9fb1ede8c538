import type { GlueEventName, GlueEvents } from '../core/events.js';
import type { MigrationGlue } from '../core/migration-glue.js';
import { InvalidOptionError, describeValue } from '../errors.js';

/** One recorded event: its name and payload, typed together. */
export type RecordedEvent<I, O> = {
  readonly [E in keyof GlueEvents<I, O>]: { readonly name: E; readonly payload: GlueEvents<I, O>[E] };
}[keyof GlueEvents<I, O>];

/** The payloads seen so far, one array per event name, in order of emission. */
export type RecordedEventsByName<I, O> = {
  readonly [E in keyof GlueEvents<I, O>]: readonly GlueEvents<I, O>[E][];
};

/** What recordEvents returns. */
export interface EventRecorder<I, O> {
  /** Payloads by event name. The arrays are live: they keep filling until `stop()`. */
  readonly events: RecordedEventsByName<I, O>;
  /** Every event in order of emission, across names. */
  readonly all: readonly RecordedEvent<I, O>[];
  /** Events seen with that name, or of all names without one. */
  count(name?: GlueEventName): number;
  /** Forgets what was recorded (the arrays are emptied in place); keeps recording. */
  clear(): void;
  /** Unsubscribes from the glue; what was recorded stays. Calling it twice does nothing. */
  stop(): void;
}

/** Every event name of a MigrationGlue. */
export const glueEventNames: readonly GlueEventName[] = Object.freeze([
  'route',
  'settled',
  'fallback',
  'mismatch',
  'shadowError',
  'shadowSkipped',
  'rollback',
  'configChange',
]);

/**
 * Subscribes to every event of `glue` and keeps the payloads, by name and in
 * one ordered list. Listening to `route` and `settled` costs the glue a
 * payload per call, which is fine in tests.
 * @example
 * const seen = recordEvents(glue);
 * await glue.process({ userId: 'u1' });
 * expect(seen.events.route[0]?.arm).toBe('old');
 * seen.stop();
 * @throws InvalidOptionError when `glue` has no `on` method.
 */
export function recordEvents<I, O>(glue: MigrationGlue<I, O>): EventRecorder<I, O> {
  if (typeof glue !== 'object' || glue === null || typeof glue.on !== 'function') {
    throw new InvalidOptionError('glue', `must be a MigrationGlue, got ${describeValue(glue)}`);
  }
  const events = {
    route: [],
    settled: [],
    fallback: [],
    mismatch: [],
    shadowError: [],
    shadowSkipped: [],
    rollback: [],
    configChange: [],
  } satisfies { [E in keyof GlueEvents<I, O>]: GlueEvents<I, O>[E][] } as { [E in keyof GlueEvents<I, O>]: GlueEvents<I, O>[E][] };
  const all: RecordedEvent<I, O>[] = [];
  const subscribe = <E extends keyof GlueEvents<I, O>>(name: E) =>
    glue.on(name, (payload) => {
      events[name].push(payload);
      all.push({ name, payload } as RecordedEvent<I, O>);
    });
  let unsubscribers: (() => void)[] = glueEventNames.map((name) => subscribe(name));
  return {
    events,
    all,
    count(name?: GlueEventName): number {
      return name === undefined ? all.length : events[name].length;
    },
    clear(): void {
      for (const name of glueEventNames) events[name].length = 0;
      all.length = 0;
    },
    stop(): void {
      for (const unsubscribe of unsubscribers) unsubscribe();
      unsubscribers = [];
    },
  };
}
