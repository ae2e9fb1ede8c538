import type { ConfigFileRead } from './config-file.js';
import { ConfigConflictError, undoesUnseenRollback } from './config-conflict.js';
import type { MigrationConfig } from './migration-config.js';
import { MigrationConfigError, isRolledBack, parseMigrationConfig } from './migration-config.js';
import type { RampChange, RampState } from './ramp-state.js';
import { emptyRampState, nextRevision, parseRampState, rollbackFlag } from './ramp-state.js';

/** A save of a config (`config`), or a change of the ramp state and maybe the config (`change`). */
export type WriteRequest =
  | { readonly config: MigrationConfig; readonly seen: string | undefined; readonly overwriteInvalid: boolean }
  | { readonly change: (ramp: RampState, config: MigrationConfig) => RampChange | undefined };

/** What a FileConfigStore writes, decided from the file as it found it under the lock. */
export type WritePlan =
  | { readonly kind: 'write'; readonly config: MigrationConfig; readonly ramp: RampState | undefined }
  /** The change wanted nothing written. */
  | { readonly kind: 'unchanged' }
  /** The file holds a rollback this save had not seen: it is refused. */
  | { readonly kind: 'conflict'; readonly error: ConfigConflictError };

/**
 * Decides what replaces the file `found` (read under the lock), with
 * `inForce` the config served when the file holds none. A save that would
 * undo a rollback written since it was decided is a conflict; a file that
 * holds no valid config is replaced only by a rollback or `overwriteInvalid`.
 * @throws MigrationConfigError when the file is invalid and may not be replaced, or the change returns a bad config.
 * @throws TypeError when the change returns an invalid ramp state.
 */
export function planWrite(file: string, found: ConfigFileRead, inForce: MigrationConfig, request: WriteRequest): WritePlan {
  const base = found.kind === 'ok' ? found.config : inForce;
  const foundRamp = found.kind === 'ok' ? found.ramp : undefined;
  let config: MigrationConfig;
  let ramp: RampState | undefined;
  if ('config' in request) {
    config = request.config;
    ramp = foundRamp === undefined ? undefined : { ...foundRamp, rolledBack: rollbackFlag(config, base, foundRamp.rolledBack === true) };
  } else {
    const result = request.change(foundRamp ?? emptyRampState(), base);
    if (result === undefined) return { kind: 'unchanged' };
    config = result.config === undefined ? base : parseMigrationConfig(result.config);
    const next = parseRampState(nextRevision(result.ramp, foundRamp ?? emptyRampState()));
    if (next === undefined) throw new TypeError('[migration-glue] updateRamp: the change returned an invalid ramp state');
    const keepFlag = result.config === undefined || result.ramp.rolledBack !== undefined;
    ramp = { ...next, rolledBack: keepFlag ? next.rolledBack : rollbackFlag(config, base, foundRamp?.rolledBack === true) };
  }
  const unseen = 'config' in request && found.kind === 'ok' && found.signature !== request.seen;
  if (found.kind === 'ok' && undoesUnseenRollback(config, found.config, unseen)) {
    return {
      kind: 'conflict',
      error: new ConfigConflictError(
        `config not saved to ${file}: it was rolled back after this save was decided, and stays rolled back; this store now serves the rollback, decide again from it`,
      ),
    };
  }
  if (found.kind === 'invalid' && !isRolledBack(config) && !('config' in request && request.overwriteInvalid)) {
    const error = new MigrationConfigError(found.error.issues);
    error.message = `${found.error.message}; not replaced by a save that is not a rollback: fix the file, roll back, or save with { overwriteInvalid: true }`;
    throw error;
  }
  return { kind: 'write', config, ramp };
}
