import { MigrationGlueError } from '../errors.js';
import type { Logger } from '../observe/logger.js';
import type { Cleaner } from './cleaner.js';
import type { Arm } from './events.js';
import type { RollbackHold } from './rollback-hold.js';
import { phaseOf } from './routing.js';
import { callAsPromise } from './service.js';

/** A secondary write that failed: enough to replay or repair it. */
export interface SecondaryFailure {
  readonly service: string;
  readonly method: string;
  readonly args: readonly unknown[];
  /** The side that failed (the secondary). */
  readonly side: Arm;
  readonly error: unknown;
}

type Method = (...args: unknown[]) => Promise<unknown>;

/**
 * A `dualWrite` method of a glued service: old alone before shadow; from
 * shadow on, the primary (old, or new in full) then the secondary. The
 * caller gets the primary's outcome exactly; a secondary failure (or
 * timeout) is logged and handed to `onSecondaryFailure`.
 */
export function dualWrite(init: {
  service: string;
  method: string;
  hold: RollbackHold;
  oldMethod: Method;
  newMethod: Method;
  logger: Logger;
  onSecondaryFailure: ((failure: SecondaryFailure) => void | Promise<void>) | undefined;
  timeoutMs: number;
  /** How the log line may show the error (the service's `shadow.clean` rules). */
  cleaner: Cleaner<unknown[], unknown>;
}): Method {
  const { service, method, hold, oldMethod, newMethod, logger, onSecondaryFailure, timeoutMs, cleaner } = init;
  const report = (args: unknown[], side: Arm, error: unknown): void => {
    // onSecondaryFailure gets the error itself (it replays the write); the log only what clean allows.
    logger.error({ err: cleaner.error(error, args), migration: service, method, side }, 'secondary write failed; it needs repair');
    if (onSecondaryFailure === undefined) return;
    callAsPromise(onSecondaryFailure, { service, method, args, side, error }).catch((err: unknown) => {
      logger.error({ err, migration: service, method }, 'onSecondaryFailure threw');
    });
  };
  return (...args) => {
    const phase = phaseOf(hold.current());
    if (phase === 'preparation') return callAsPromise(oldMethod, ...args);
    const primaryIsNew = phase === 'full';
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
function secondaryWrite(write: Method, args: unknown[], timeoutMs: number, what: string): Promise<{ error: unknown } | undefined> {
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
