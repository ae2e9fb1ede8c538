import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach } from 'vitest';
import type { FileConfigStoreOptions } from '../../src/config/file-config-store.js';
import { FileConfigStore } from '../../src/config/file-config-store.js';
import type { Logger } from '../../src/observe/logger.js';

/** Polls `check` every 5 ms until it holds; throws after `timeoutMs` (a bound, never a wait for a timer under load). */
export async function waitUntil(check: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
  const start = Date.now();
  while (!check()) {
    if (Date.now() - start > timeoutMs) throw new Error(`${what}: not within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

export interface LogLine {
  readonly level: keyof Logger;
  readonly context: Record<string, unknown>;
  readonly message: string | undefined;
}

export function recordingLogger(): Logger & { readonly lines: LogLine[]; at(level: keyof Logger): LogLine[] } {
  const lines: LogLine[] = [];
  const method = (level: keyof Logger) => (context: object, message?: string) => {
    lines.push({ level, context: context as Record<string, unknown>, message });
  };
  return {
    lines,
    at: (level) => lines.filter((line) => line.level === level),
    debug: method('debug'),
    info: method('info'),
    warn: method('warn'),
    error: method('error'),
  };
}

/** A fresh temp directory per test, and the stores opened in it, closed after. */
export function tempDirFixture(): { dir: () => string; open: (options: FileConfigStoreOptions) => FileConfigStore } {
  let dir = '';
  const stores: FileConfigStore[] = [];
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mg-file-store-'));
  });
  afterEach(() => {
    for (const store of stores.splice(0)) store.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });
  return {
    dir: () => dir,
    open: (options) => {
      const store = new FileConfigStore(options);
      stores.push(store);
      return store;
    },
  };
}
