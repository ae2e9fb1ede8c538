import { MigrationGlueError } from '../errors.js';

/** Most nodes (values visited, pairs of them when comparing) one comparison may walk. */
export const MAX_NODES = 1_000_000;

/** Deepest nesting a comparison follows; deeper values are not compared (the stack stays small). */
export const MAX_DEPTH = 1_000;

/**
 * The work one comparison may still do. Shared by every walker of that
 * comparison, so values with heavy sharing (a DAG whose size doubles per
 * level), huge collections or unordered arrays cannot make it run for ever.
 */
export class Budget {
  #left: number;

  constructor(nodes = MAX_NODES) {
    this.#left = nodes;
  }

  /** Spends one node; throws a `CompareLimitError` once the budget is gone. */
  spend(depth: number): void {
    if (--this.#left < 0) throw new CompareLimitError(`more than ${MAX_NODES} nodes`);
    if (depth > MAX_DEPTH) throw new CompareLimitError(`nested deeper than ${MAX_DEPTH} levels`);
  }
}

/**
 * Thrown by a comparison that hit its work limit (`MAX_NODES`, `MAX_DEPTH`)
 * or met a value it cannot read (a revoked Proxy, a throwing getter). The
 * shadow runner counts it as a comparator error (a `shadowError` with reason
 * `comparator`), never as a match or a mismatch.
 */
export class CompareLimitError extends MigrationGlueError {
  constructor(what: string, options?: ErrorOptions) {
    super('ERR_COMPARE_LIMIT', `cannot compare these values: ${what}`, options);
  }
}
