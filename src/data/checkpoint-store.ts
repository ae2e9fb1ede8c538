/**
 * Where backfill and verify keep their progress, so a crash or an abort
 * resumes from the last batch fully written. The state is a JSON value
 * (keys must be strings or numbers); one store holds one job's state.
 */
export interface CheckpointStore {
  /** The last state saved, or undefined when there is none. Called once, when the job starts. */
  load(): Promise<unknown>;
  /** Replaces the state, durably: once it resolves, a crash must not lose it. Called after each batch. */
  save(state: unknown): Promise<void>;
  /** Forgets the state, so that the next job starts from the beginning. */
  clear(): Promise<void>;
}

/** A CheckpointStore in process memory: resumes after an abort, not after a crash. */
export class InMemoryCheckpointStore implements CheckpointStore {
  #state: string | undefined;

  async load(): Promise<unknown> {
    return this.#state === undefined ? undefined : (JSON.parse(this.#state) as unknown);
  }

  async save(state: unknown): Promise<void> {
    // Stored as JSON so that a durable store and this one behave the same.
    this.#state = JSON.stringify(state);
  }

  async clear(): Promise<void> {
    this.#state = undefined;
  }
}
