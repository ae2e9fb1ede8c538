import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { FileConfigStore, InMemoryConfigStore } from '../../src/index.js';
import { describeConfigStore } from '../config-store-conformance.js';

describeConfigStore('InMemoryConfigStore', (initial, logger) => ({ store: new InMemoryConfigStore(initial, { logger }) }), { shared: false });

describeConfigStore('FileConfigStore', (initial, logger) => {
  const dir = mkdtempSync(path.join(tmpdir(), 'mg-conformance-'));
  const file = path.join(dir, 'config.json');
  const store = new FileConfigStore({ path: file, initial, logger, debounceMs: 5 });
  const peer = new FileConfigStore({ path: file, logger, debounceMs: 5 });
  return {
    store,
    peer,
    hideChanges: () => store.close(),
    close: () => {
      store.close();
      peer.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
});
