import { InvalidOptionError } from '../errors.js';

/**
 * Throws InvalidOptionError naming the first key of `options` not in
 * `known`: a misspelt `maxRowsPerSecond` must not silently lift the cap.
 */
export function rejectUnknownOptions(options: object, known: readonly string[], what: string): void {
  for (const key of Object.keys(options)) {
    if (!known.includes(key)) {
      throw new InvalidOptionError(key, `is not an option of ${what} (known: ${known.join(', ')})`);
    }
  }
}
