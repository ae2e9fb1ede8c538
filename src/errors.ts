/**
 * Codes of the errors migration-glue itself throws. Match on `code` rather
 * than `instanceof`: two bundled copies of the library (ESM and CJS) have two
 * different classes but the same codes.
 */
export type MigrationErrorCode =
  | 'ERR_INVALID_CONFIG'
  | 'ERR_INVALID_OPTION'
  | 'ERR_INVALID_KEY'
  | 'ERR_TIMEOUT'
  | 'ERR_CLOSED'
  | 'ERR_ABORTED'
  | 'ERR_REPAIR_LOG'
  | 'ERR_CONFLICT'
  | 'ERR_LEASE_LOST'
  | 'ERR_COMPARE_LIMIT';

/** Base of every error migration-glue itself throws. Users' service errors pass untouched. */
export class MigrationGlueError extends Error {
  readonly code: MigrationErrorCode;

  constructor(code: MigrationErrorCode, message: string, options?: ErrorOptions) {
    super(`[migration-glue] ${message}`, options);
    this.code = code;
    this.name = new.target.name;
  }

  /** True when `value` is an error of this library, optionally with the given code. */
  static is(value: unknown, code?: MigrationErrorCode): value is MigrationGlueError {
    if (typeof value !== 'object' || value === null) return false;
    try {
      const candidate = value as { code?: unknown; message?: unknown };
      const actual = candidate.code;
      const message = candidate.message;
      if (typeof actual !== 'string' || !actual.startsWith('ERR_')) return false;
      if (typeof message !== 'string' || !message.startsWith('[migration-glue]')) return false;
      return code === undefined || actual === code;
    } catch {
      // a throwing getter or a revoked Proxy is not one of ours
      return false;
    }
  }
}

/** Thrown where an option is missing or out of range; names the option and the value received. */
export class InvalidOptionError extends MigrationGlueError {
  constructor(readonly option: string, message: string) {
    super('ERR_INVALID_OPTION', `option \`${option}\` ${message}`);
  }
}

/**
 * When a hook that should answer synchronously returns a promise (or any
 * thenable), its rejection must not become an unhandled rejection that
 * kills the process: this attaches a handler that ignores it. Never throws.
 */
export function ignoreRejection(value: unknown): void {
  if ((typeof value !== 'object' && typeof value !== 'function') || value === null) return;
  try {
    const then = (value as { then?: unknown }).then;
    if (typeof then === 'function') then.call(value, undefined, () => {});
  } catch {
    // a then getter that throws, or a revoked Proxy: nothing can reject later
  }
}

/** Describes a received value for an error message, briefly. */
export function describeValue(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value);
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  // 10n, not 10: an option that wants a number must say it got a bigint.
  if (typeof value === 'bigint') return `${value}n`;
  if (value === null) return 'null';
  if (value === undefined) return 'undefined';
  if (typeof value === 'function') return 'a function';
  if (typeof value === 'symbol') return 'a symbol';
  try {
    if (Array.isArray(value)) return 'an array';
  } catch {
    return 'a revoked Proxy';
  }
  return 'an object';
}
