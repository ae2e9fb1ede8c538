import { MigrationGlueError } from '../errors.js';

/**
 * Thrown by backfill and verify when their `signal` aborts (code
 * `ERR_ABORTED`); `cause` is the signal's reason. The checkpoint holds the
 * last batch that was fully written, so the same call resumes from there.
 */
export class AbortedError extends MigrationGlueError {
  constructor(message: string, options?: ErrorOptions) {
    super('ERR_ABORTED', message, options);
  }
}

/**
 * Thrown by a DualWriteRepository write (code `ERR_REPAIR_LOG`) when the
 * secondary store failed AND the repair log could not record it. The primary
 * holds the write; `cause` is the repair log's error. Retrying the write is
 * safe (saves and deletes are idempotent) and the only way to avoid losing
 * the secondary's copy silently.
 */
export class RepairLogError extends MigrationGlueError {
  constructor(message: string, options?: ErrorOptions) {
    super('ERR_REPAIR_LOG', message, options);
  }
}
