import pino from 'pino';

/** A structured log method, as pino's: a context object first, then a message. */
export type LogMethod = (context: object, message?: string) => void;

/**
 * The logger the library writes to: pino-compatible, so a pino instance (or
 * a child of one) fits as is. We log decisions worth a human's attention
 * (rollback, fallback, config change, mismatch), never one line per call.
 */
export interface Logger {
  debug: LogMethod;
  info: LogMethod;
  warn: LogMethod;
  error: LogMethod;
}

const noop: LogMethod = () => {};

/** A Logger that writes nothing. */
export const silentLogger: Logger = Object.freeze({ debug: noop, info: noop, warn: noop, error: noop });

/** The default logger: pino at `info`, named `migration-glue`, to stdout. */
export function defaultLogger(): Logger {
  return pino({ name: 'migration-glue', level: 'info' });
}

/**
 * Checks a user's logger once and returns one whose methods never throw.
 * A missing method is replaced by a no-op; a method that throws is swallowed,
 * since logging must never break the caller's request.
 */
export function safeLogger(logger: Logger | undefined): Logger {
  if (logger === undefined) return defaultLogger();
  const wrap = (level: keyof Logger): LogMethod => {
    const method = (logger as Partial<Logger>)[level];
    if (typeof method !== 'function') return noop;
    return (context, message) => {
      try {
        method.call(logger, context, message);
      } catch {
        // a broken logger must not break the request
      }
    };
  };
  return { debug: wrap('debug'), info: wrap('info'), warn: wrap('warn'), error: wrap('error') };
}
