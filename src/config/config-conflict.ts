import { MigrationGlueError } from '../errors.js';
import type { MigrationConfig } from './migration-config.js';
import { isRolledBack } from './migration-config.js';

/**
 * Thrown (code `ERR_CONFLICT`) by a store's `save` that would have undone a
 * rollback the saver had not seen. The store then serves the rollback;
 * decide again from it. Match on `code`, not `instanceof`.
 */
export class ConfigConflictError extends MigrationGlueError {
  declare readonly code: 'ERR_CONFLICT';

  constructor(message: string, options?: ErrorOptions) {
    super('ERR_CONFLICT', message, options);
  }
}

/**
 * The rule every store applies to a save: a rollback is never refused; any
 * other config is refused when the store holds a rollback written after the
 * saver's view (the store's config when `save` was called). A save decided
 * from a rolled-back view moves forward deliberately and goes through.
 * @param storedIsNewer true when the stored config was written after the saver's view.
 */
export function undoesUnseenRollback(incoming: MigrationConfig, stored: MigrationConfig, storedIsNewer: boolean): boolean {
  return storedIsNewer && !isRolledBack(incoming) && isRolledBack(stored);
}
