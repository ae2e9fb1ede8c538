import fsp from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';
import { option, parseOptions } from '../option-schema.js';
import { readIfExists, writeFileAtomic } from '../atomic-file.js';
import type { CheckpointStore } from './checkpoint-store.js';

const schema = z.strictObject({ path: option.string() });

/** Options of FileCheckpointStore. */
export interface FileCheckpointStoreOptions {
  /** The JSON file holding the state; relative paths resolve against the working directory. Required. */
  readonly path: string;
}

/**
 * A CheckpointStore in a JSON file, replaced atomically on every save (temp
 * file, fsync, rename), so a crash leaves either the previous state or the
 * new one, never half of one. One job per file.
 */
export class FileCheckpointStore implements CheckpointStore {
  readonly #file: string;

  /** @throws InvalidOptionError when `path` is not a non-empty string. */
  constructor(options: FileCheckpointStoreOptions) {
    this.#file = path.resolve(parseOptions(schema, options, 'FileCheckpointStore').path);
  }

  /** The absolute path of the checkpoint file. */
  get path(): string {
    return this.#file;
  }

  /** @throws SyntaxError when the file exists but does not hold JSON. */
  async load(): Promise<unknown> {
    const text = await readIfExists(this.#file);
    return text === undefined ? undefined : (JSON.parse(text) as unknown);
  }

  async save(state: unknown): Promise<void> {
    await writeFileAtomic(this.#file, `${JSON.stringify(state)}\n`);
  }

  async clear(): Promise<void> {
    await fsp.rm(this.#file, { force: true });
  }
}
