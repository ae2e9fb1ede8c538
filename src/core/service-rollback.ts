import type { ConfigProvider } from '../config/config-provider.js';
import { isConfigStore } from '../config/config-provider.js';
import type { MigrationConfig } from '../config/migration-config.js';
import { isRolledBack } from '../config/migration-config.js';
import { phases } from '../config/phases.js';
import { MigrationGlueError } from '../errors.js';
import type { Logger } from '../observe/logger.js';
import type { NotifyFn } from '../observe/notifier.js';
import type { MigrationGlue } from './migration-glue.js';
import { followRollback } from './migration-glue.js';
import type { RollbackHold } from './rollback-hold.js';
import { saveRollback } from './rollback-save.js';

/**
 * The rollback of a glued service: every method at once, one save, one
 * notification. The first glue not yet rolled back leads (saves, notifies);
 * the others follow it; `dualWrite` and `oldOnly` methods read the hold.
 * Without a shadow glue the service saves the rollback itself.
 */
export function serviceRollback(init: {
  service: string;
  store: ConfigProvider;
  glues: readonly MigrationGlue<unknown[], unknown>[];
  hold: RollbackHold;
  logger: Logger;
  notify: NotifyFn;
  storeTimeoutMs: number;
}): (reason: string) => Promise<boolean> {
  const { service, store, glues, hold, logger, notify, storeTimeoutMs } = init;
  const rollBackStore = async (reason: string): Promise<boolean> => {
    if (!isConfigStore(store)) {
      throw new MigrationGlueError('ERR_INVALID_OPTION', `cannot roll back "${service}": its config provider has no save() and no method is a shadow glue`);
    }
    const before = hold.current();
    const why = typeof reason === 'string' && reason !== '' ? reason.slice(0, 1_000) : 'no reason given';
    logger.warn({ migration: service, reason: why, before }, 'migration rolled back');
    const notified = notifyRollback(notify, service, why, before);
    try {
      await hold.during(saveRollback(store, { migration: service, logger, timeoutMs: storeTimeoutMs }));
    } catch (err) {
      logger.error({ err, migration: service }, 'rollback could not be saved to the config store; this instance serves old');
      throw err;
    } finally {
      await notified;
    }
    return true;
  };
  const rollBack = async (reason: string): Promise<boolean> => {
    const lead = glues.find((glue) => !isRolledBack(glue.stats().config));
    if (lead === undefined) {
      if (glues.length > 0 || isRolledBack(hold.current())) return false;
      return rollBackStore(reason);
    }
    // The lead saves and notifies; every other method serves old from now on, and follows the store once the save settled.
    const saved = lead.rollback(reason);
    const following = glues.filter((glue) => glue !== lead).map((glue) => followRollback(glue, saved));
    try {
      return await hold.during(saved);
    } finally {
      await Promise.all(following);
    }
  };
  let rolling: Promise<boolean> | undefined;
  return async (reason) => {
    if (rolling !== undefined) {
      await rolling.catch(() => {});
      return false;
    }
    const current = rollBack(reason);
    rolling = current;
    try {
      return await current;
    } finally {
      rolling = undefined;
    }
  };
}

function notifyRollback(notify: NotifyFn, migration: string, reason: string, before: MigrationConfig): Promise<void> {
  return notify({
    kind: 'rollback',
    migration,
    message: `${migration}: rolled back (${reason})`,
    at: Date.now(),
    details: { reason, before, after: phases.rolledBack() },
  });
}
