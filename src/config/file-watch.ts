import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import type { Logger } from '../observe/logger.js';
import { resolveWriteTarget, signatureOf } from './config-file.js';

/** Options of FileWatch. */
export interface FileWatchOptions {
  readonly file: string;
  /** Milliseconds between two stats of the file (the fallback when fs events are lost). */
  readonly pollIntervalMs: number;
  readonly logger: Logger;
  /** The signature of the file as its owner last read it: the poll's baseline. */
  readonly signature: string | undefined;
  /** Called when the file may have changed: the caller re-reads and compares. */
  readonly onChange: () => void;
}

interface DirWatch {
  readonly watcher: fs.FSWatcher;
  readonly ino: number;
}

/**
 * Notices changes to one file, however it is replaced: fs.watch on its
 * directory and on the directory of the file its symlinks lead to (so a
 * Kubernetes ConfigMap's `..data` swap is seen), plus a stat every
 * `pollIntervalMs`, which also re-creates a watch whose directory was
 * deleted and recreated. Timers are unref'd; `close()` stops everything.
 */
export class FileWatch {
  readonly #options: FileWatchOptions;
  readonly #base: string;
  readonly #dirs = new Map<string, DirWatch>();
  readonly #timer: NodeJS.Timeout;
  #lastSeen: string;
  #polling = false;
  #closed = false;
  #warned = false;

  constructor(options: FileWatchOptions) {
    this.#options = options;
    this.#base = path.basename(options.file);
    this.#lastSeen = options.signature ?? 'error:ENOENT';
    this.#rewatch();
    this.#timer = setInterval(() => void this.#poll(), options.pollIntervalMs);
    this.#timer.unref();
  }

  /** Stops watching and polling. Idempotent. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    clearInterval(this.#timer);
    for (const { watcher } of this.#dirs.values()) watcher.close();
    this.#dirs.clear();
  }

  #changed(): void {
    if (!this.#closed) this.#options.onChange();
  }

  async #poll(): Promise<void> {
    if (this.#polling || this.#closed) return;
    this.#polling = true;
    try {
      let seen: string;
      try {
        seen = signatureOf(await fsp.stat(this.#options.file, { bigint: true }));
      } catch (err) {
        seen = `error:${String((err as NodeJS.ErrnoException).code)}`;
      }
      if (seen !== this.#lastSeen) this.#changed();
      this.#lastSeen = seen;
      this.#rewatch();
    } finally {
      this.#polling = false;
    }
  }

  /** Watches the directories that lead to the file now; drops watches of directories gone or replaced. */
  #rewatch(): void {
    if (this.#closed) return;
    const wanted = new Set([path.dirname(this.#options.file), path.dirname(resolveWriteTarget(this.#options.file))]);
    for (const [dir, watch] of this.#dirs) {
      if (!wanted.has(dir) || inodeOf(dir) !== watch.ino) {
        watch.watcher.close();
        this.#dirs.delete(dir);
        // A replaced directory may hold a new file already.
        if (wanted.has(dir)) this.#changed();
      }
    }
    for (const dir of wanted) {
      if (this.#dirs.has(dir)) continue;
      const ino = inodeOf(dir);
      if (ino === undefined) continue;
      try {
        const watcher = fs.watch(dir, { persistent: false }, (_event, name) => {
          if (name !== null && this.#ignored(name.toString())) return;
          this.#changed();
        });
        watcher.on('error', (err) => {
          this.#options.logger.debug({ err, path: dir }, 'config directory watch failed; polling until it can be watched again');
          watcher.close();
          if (this.#dirs.get(dir)?.watcher === watcher) this.#dirs.delete(dir);
        });
        this.#dirs.set(dir, { watcher, ino });
      } catch (err) {
        if (!this.#warned) {
          this.#warned = true;
          this.#options.logger.warn({ err, path: dir }, `config directory cannot be watched; changes are picked up by polling every ${this.#options.pollIntervalMs} ms`);
        }
      }
    }
  }

  // Our own temp and lock files: never the config.
  #ignored(name: string): boolean {
    return name !== this.#base && name.startsWith(`${this.#base}.`) && (name.endsWith('.tmp') || name.endsWith('.lock') || name.endsWith('.stale'));
  }
}

function inodeOf(dir: string): number | undefined {
  try {
    return fs.statSync(dir).ino;
  } catch {
    return undefined;
  }
}
