import type { ConfigStore } from '../config/config-provider.js';
import type { MigrationConfig } from '../config/migration-config.js';
import { isRolledBack } from '../config/migration-config.js';
import { phases } from '../config/phases.js';
import { MigrationGlueError } from '../errors.js';
import type { Logger } from '../observe/logger.js';
import { callAsPromise } from './service.js';

/** How many times a rollback is saved before giving up on a store that keeps showing another config. */
export const maxRollbackSaves = 3;

/** How long a rollback waits for the config store's `save`, in ms of real time. */
export const defaultStoreTimeoutMs = 30_000;

/**
 * Saves a rollback to `store`, then reads the store back: a save issued
 * before the rollback may have landed after it. While the store shows a
 * config that is not rolled back, logs an error and saves the rollback
 * again, at most `maxRollbackSaves` times in all.
 * @returns the rolled-back config the store holds.
 * @throws the store's error; ERR_TIMEOUT when a save did not settle within
 * `timeoutMs`; ERR_CONFLICT when the store still shows another config after
 * the last save.
 */
export async function saveRollback(store: ConfigStore, init: { migration: string; logger: Logger; timeoutMs: number }): Promise<MigrationConfig> {
  const { migration, logger, timeoutMs } = init;
  const rolledBack = phases.rolledBack();
  for (let attempt = 1; ; attempt++) {
    await boundedSave(store, rolledBack, timeoutMs, migration);
    const stored = readStore(store);
    if (stored !== undefined) return stored;
    if (attempt >= maxRollbackSaves) {
      logger.error({ migration, saves: attempt }, 'the config store still does not show the rollback; this instance keeps serving old');
      throw new MigrationGlueError(
        'ERR_CONFLICT',
        `the config store of "${migration}" does not keep the rollback: after ${attempt} saves it still shows another config (does something keep writing a config that uses new?)`,
      );
    }
    logger.error(
      { migration, saves: attempt },
      'the config store does not show the rollback just saved (a save issued before it landed after it); saving the rollback again',
    );
  }
}

function boundedSave(store: ConfigStore, config: MigrationConfig, timeoutMs: number, migration: string): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => {
      reject(new MigrationGlueError('ERR_TIMEOUT', `the config store did not finish saving the rollback of "${migration}" within ${timeoutMs} ms (option \`storeTimeoutMs\`)`));
    }, timeoutMs);
    callAsPromise((value: MigrationConfig) => store.save(value), config).then(
      () => {
        clearTimeout(timer);
        resolve();
      },
      (err: unknown) => {
        clearTimeout(timer);
        reject(err);
      },
    );
  });
}

/** The store's config when it is rolled back; undefined when it is not, or reading it throws. */
function readStore(store: ConfigStore): MigrationConfig | undefined {
  try {
    const config = store.current();
    return typeof config === 'object' && config !== null && isRolledBack(config) ? config : undefined;
  } catch {
    return undefined;
  }
}
