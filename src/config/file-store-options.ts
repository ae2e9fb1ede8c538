import { z } from 'zod';
import type { Logger } from '../observe/logger.js';
import { field, option } from '../option-schema.js';
import type { MigrationConfig } from './migration-config.js';

/** Options of FileConfigStore. */
export interface FileConfigStoreOptions {
  /**
   * The JSON file holding the config. Relative paths resolve against the
   * working directory. It may be a symlink (a Kubernetes ConfigMap mount):
   * reads follow it, saves replace the file it points to and keep the link. Required.
   */
  readonly path: string;
  /**
   * Written (atomically) when the file does not exist yet; ignored otherwise.
   * @default phases.preparation()
   */
  readonly initial?: MigrationConfig;
  /**
   * Receives config changes picked up from the file, refused edits and a deleted file.
   * @default silentLogger
   */
  readonly logger?: Logger;
  /**
   * Watch the file, so that a change saved by another process (or by hand) is picked up.
   * @default true
   */
  readonly watch?: boolean;
  /**
   * How long the file must stay quiet before it is re-read, in milliseconds; at least 0.
   * @default 20
   */
  readonly debounceMs?: number;
  /**
   * How often the file is also checked with a stat, in milliseconds, at least 1: the
   * fallback for fs events that never come (network filesystems, a directory
   * deleted and recreated). Only while watching.
   * @default 1000
   */
  readonly pollIntervalMs?: number;
  /**
   * How long a save waits for another process's save to the same file to finish, in
   * milliseconds, at least 1; then it rejects with `ERR_TIMEOUT`. A lock left by a
   * process that died is broken after 5 s (at once when that process ran on this host).
   * @default 10000
   */
  readonly lockTimeoutMs?: number;
}

/** Options of one FileConfigStore `save`. */
export interface FileSaveOptions {
  /**
   * Replace the file even when it holds no valid config (a botched hand edit). Without it,
   * only a rollback replaces an invalid file; any other save rejects with `ERR_INVALID_CONFIG`.
   * @default false
   */
  readonly overwriteInvalid?: boolean;
}

const ms = (min: number) =>
  field<number>(
    (value) => typeof value === 'number' && Number.isFinite(value) && value >= min,
    `a finite number of milliseconds, at least ${min}`,
  );

/** The schema FileConfigStore parses its options with. */
export const fileStoreOptionsSchema = z.strictObject({
  path: field<string>((value) => typeof value === 'string' && value.length > 0 && !value.includes('\0'), 'a non-empty string (the config file)'),
  initial: z.unknown().optional(),
  logger: z.unknown().optional(),
  watch: option.boolean().default(true),
  debounceMs: ms(0).default(20),
  pollIntervalMs: ms(1).default(1000),
  lockTimeoutMs: ms(1).default(10_000),
});

export const fileSaveSchema = z.strictObject({
  overwriteInvalid: option.boolean().optional(),
});
