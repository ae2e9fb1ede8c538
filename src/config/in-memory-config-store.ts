import type { Logger } from '../observe/logger.js';
import { silentLogger } from '../observe/logger.js';
import type { ConfigStore } from './config-provider.js';
import type { MigrationConfig } from './migration-config.js';
import { parseMigrationConfig } from './migration-config.js';
import { phases } from './phases.js';

/** Calls each listener with `config`; a listener that throws is logged and skipped. */
export function notifyListeners(
  listeners: Iterable<(config: MigrationConfig) => void>,
  config: MigrationConfig,
  logger: Logger,
): void {
  for (const listener of listeners) {
    try {
      listener(config);
    } catch (err) {
      logger.warn({ err }, 'config listener threw');
    }
  }
}

/** A ConfigStore in process memory (tests, single-instance apps). */
export class InMemoryConfigStore implements ConfigStore {
  #config: MigrationConfig;
  readonly #listeners = new Set<(config: MigrationConfig) => void>();
  readonly #logger: Logger;

  /**
   * @param initial the first config; default `phases.preparation()`.
   * @throws MigrationConfigError on a bad initial config.
   */
  constructor(initial: MigrationConfig = phases.preparation(), options: { logger?: Logger } = {}) {
    this.#config = parseMigrationConfig(initial);
    this.#logger = options.logger ?? silentLogger;
  }

  current(): MigrationConfig {
    return this.#config;
  }

  subscribe(listener: (config: MigrationConfig) => void): () => void {
    this.#listeners.add(listener);
    return () => {
      this.#listeners.delete(listener);
    };
  }

  async save(config: MigrationConfig): Promise<void> {
    this.#config = parseMigrationConfig(config);
    notifyListeners([...this.#listeners], this.#config, this.#logger);
  }
}
