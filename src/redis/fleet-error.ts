import { MigrationGlueError } from '../errors.js';
/**
 * Codes of the errors the fleet integration throws:
 * - `ERR_CONFLICT`: another instance saved the config first (compare-and-set lost);
 * - `ERR_LEASE_LOST`: a save fenced by a lease found the lease held by someone else, or by no one.
 */
export type FleetErrorCode = 'ERR_CONFLICT' | 'ERR_LEASE_LOST';

/**
 * Thrown by RedisConfigStore and the lease. Its message starts with
 * `[migration-glue]` and its `code` with `ERR_`, so `MigrationGlueError.is()`
 * recognises it; match on `code`, not `instanceof`.
 */
export class FleetError extends MigrationGlueError {
  declare readonly code: FleetErrorCode;

  constructor(code: FleetErrorCode, message: string, options?: ErrorOptions) {
    super(code, message, options);
  }

  /** True when `value` is a FleetError (from any bundled copy), optionally with the given code. */
  static override is(value: unknown, code?: FleetErrorCode): value is FleetError {
    return MigrationGlueError.is(value) && (value.code === 'ERR_CONFLICT' || value.code === 'ERR_LEASE_LOST') && (code === undefined || value.code === code);
  }
}
