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
  | 'ERR_LEASE_LOST';

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
    const candidate = value as { code?: unknown; message?: unknown };
    if (typeof candidate.code !== 'string' || !candidate.code.startsWith('ERR_')) return false;
    if (typeof candidate.message !== 'string' || !candidate.message.startsWith('[migration-glue]')) return false;
    return code === undefined || candidate.code === code;
  }
}

/** Thrown where an option is missing or out of range; names the option and the value received. */
export class InvalidOptionError extends MigrationGlueError {
  constructor(readonly option: string, message: string) {
    super('ERR_INVALID_OPTION', `option \`${option}\` ${message}`);
  }
}

/** Describes a received value for an error message, briefly. */
export function describeValue(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value);
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint') return String(value);
  if (value === null) return 'null';
  if (value === undefined) return 'undefined';
  if (typeof value === 'function') return 'a function';
  if (typeof value === 'symbol') return 'a symbol';
  if (Array.isArray(value)) return 'an array';
  return `an object`;
}
