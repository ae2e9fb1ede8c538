import type { ConfigProvider } from '../config/config-provider.js';
import type { MigrationConfig } from '../config/migration-config.js';
import { isRolledBack } from '../config/migration-config.js';
import { phases } from '../config/phases.js';

const rolledBack = phases.rolledBack();

/**
 * What the `dualWrite` and `oldOnly` methods of a glued service read: the
 * store's config, or the rollback while one is being saved (and after, while
 * the store does not show it). A store that throws or answers garbage reads
 * as new disabled.
 */
export class RollbackHold {
  readonly #store: ConfigProvider;
  #held = false;
  #releasing = false;

  constructor(store: ConfigProvider) {
    this.#store = store;
  }

  current(): MigrationConfig {
    if (this.#held) return rolledBack;
    try {
      const config = this.#store.current();
      if (typeof config === 'object' && config !== null) return config;
    } catch {
      // a broken provider: old serves
    }
    return rolledBack;
  }

  /** Holds the rollback while `saving` runs; keeps holding after it when the store does not show a rollback. */
  async during<R>(saving: Promise<R>): Promise<R> {
    this.#held = true;
    try {
      return await saving;
    } finally {
      this.#held = false;
      if (!isRolledBack(this.current())) this.#held = true;
      if (this.#held) this.#releaseOnChange();
    }
  }

  /** After a failed rollback, a later change in the store (someone moved it on deliberately) ends the hold. */
  #releaseOnChange(): void {
    if (this.#releasing) return;
    this.#releasing = true;
    let unsubscribe: (() => void) | undefined;
    let released = false;
    const release = () => {
      released = true;
      this.#held = false;
      this.#releasing = false;
      unsubscribe?.();
    };
    try {
      unsubscribe = this.#store.subscribe(release);
      if (released) unsubscribe();
    } catch {
      this.#releasing = false;
    }
  }
}
