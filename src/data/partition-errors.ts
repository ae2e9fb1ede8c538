import { MigrationGlueError } from '../errors.js';

/**
 * Thrown inside a partitioned backfill (code `ERR_LEASE_LOST`) when a
 * worker finds, after a batch, that it no longer holds its range's lease:
 * it stops that range there, without saving the checkpoint of that batch
 * (the holder that took it over redoes it). backfillPartitioned catches it
 * and moves on; it reaches the caller only from a range run by hand.
 */
export class LeaseLostError extends MigrationGlueError {
  constructor(message: string, options?: ErrorOptions) {
    super('ERR_LEASE_LOST', message, options);
  }
}
