import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { MigrationGlueError } from '../../src/errors.js';
import type { FileConfigStoreOptions } from '../../src/config/file-config-store.js';
import { FileConfigStore } from '../../src/config/file-config-store.js';
import { InMemoryConfigStore } from '../../src/config/in-memory-config-store.js';
import { MigrationConfigError } from '../../src/config/migration-config.js';
import { phases } from '../../src/config/phases.js';
import { recordingLogger, tempDirFixture, waitUntil } from './file-store-helpers.js';

const fixture = tempDirFixture();
const file = () => path.join(fixture.dir(), 'config.json');
const readJson = (target: string): unknown => JSON.parse(fs.readFileSync(target, 'utf8'));

function thrown(fn: () => unknown): unknown {
  try {
    fn();
  } catch (err) {
    return err;
  }
  return undefined;
}

describe('FileConfigStore given hostile files', () => {
  it('refuses a file over 1 MiB at start-up without parsing it, naming the size', () => {
    fs.writeFileSync(file(), `${JSON.stringify(phases.full())}${' '.repeat(2 * 1024 * 1024)}`);
    const error = thrown(() => fixture.open({ path: file() }));
    expect(MigrationGlueError.is(error, 'ERR_INVALID_CONFIG')).toBe(true);
    expect((error as Error).message).toMatch(/bytes/);
    expect((error as Error).message).toContain(file());
  });

  it('refuses a huge edit while running, logs it once, keeps serving the last good config', async () => {
    const logger = recordingLogger();
    const store = fixture.open({ path: file(), initial: phases.canary(5), logger, debounceMs: 5, pollIntervalMs: 20 });
    fs.writeFileSync(`${file()}.new`, `${JSON.stringify(phases.full())}${' '.repeat(2 * 1024 * 1024)}`);
    fs.renameSync(`${file()}.new`, file());
    await waitUntil(() => logger.at('error').length >= 1, 'refusal logged');
    await new Promise((resolve) => setTimeout(resolve, 60));
    expect(logger.at('error')).toHaveLength(1);
    expect(logger.at('error')[0]?.message).toMatch(/bytes/);
    expect(store.current()).toEqual(phases.canary(5));
  });

  it('refuses a FIFO in place of the file instead of hanging', () => {
    execFileSync('mkfifo', [file()]);
    const error = thrown(() => fixture.open({ path: file() }));
    expect(MigrationGlueError.is(error, 'ERR_INVALID_CONFIG')).toBe(true);
    expect((error as Error).message).toMatch(/not a regular file/);
  });

  it('refuses a directory in place of the file with ERR_INVALID_CONFIG', () => {
    fs.mkdirSync(file());
    const error = thrown(() => fixture.open({ path: file() }));
    expect(MigrationGlueError.is(error, 'ERR_INVALID_CONFIG')).toBe(true);
  });

  describe('when the file holds garbage and a save arrives', () => {
    it('a step is refused with ERR_INVALID_CONFIG naming the file and the way out; the garbage stays', async () => {
      const store = fixture.open({ path: file(), initial: phases.canary(5), watch: false });
      fs.writeFileSync(file(), '{"newSystemEnabled": fal');
      const error = await store.save(phases.canary(10)).catch((err: unknown) => err);
      expect(error).toBeInstanceOf(MigrationConfigError);
      expect((error as Error).message).toContain(file());
      expect((error as Error).message).toMatch(/overwriteInvalid/);
      expect(fs.readFileSync(file(), 'utf8')).toBe('{"newSystemEnabled": fal');
      expect(store.current()).toEqual(phases.canary(5));
    });

    it('a rollback replaces it (and says so); overwriteInvalid lets a step replace it', async () => {
      const logger = recordingLogger();
      const store = fixture.open({ path: file(), initial: phases.canary(5), watch: false, logger });
      fs.writeFileSync(file(), 'garbage');
      await store.save(phases.rolledBack());
      expect(readJson(file())).toEqual(phases.rolledBack());
      expect(logger.at('warn').some((line) => /no valid config/.test(line.message ?? ''))).toBe(true);
      fs.writeFileSync(file(), '[]');
      await store.save(phases.canary(1), { overwriteInvalid: true });
      expect(readJson(file())).toEqual(phases.canary(1));
    });
  });

  it('keeps the permissions of the file it replaces', async () => {
    const store = fixture.open({ path: file(), watch: false });
    fs.chmodSync(file(), 0o640);
    await store.save(phases.shadow());
    expect(fs.statSync(file()).mode & 0o777).toBe(0o640);
  });

  it('close() during a save: the save completes and is written, no listener runs', async () => {
    const store = fixture.open({ path: file(), initial: phases.canary(5), debounceMs: 1, pollIntervalMs: 5 });
    const listener = vi.fn();
    store.subscribe(listener);
    const saving = store.save(phases.rolledBack());
    store.close();
    await saving;
    expect(readJson(file())).toEqual(phases.rolledBack());
    expect(store.current()).toEqual(phases.rolledBack());
    expect(listener).not.toHaveBeenCalled();
  });
});

describe('stores given garbage options', () => {
  const revoked = Proxy.revocable({}, {});
  revoked.revoke();

  it.each([
    ['debounceMs', { debounceMs: 'soon' }],
    ['pollIntervalMs', { pollIntervalMs: 0 }],
    ['pollIntervalMs', { pollIntervalMs: Number.NaN }],
    ['lockTimeoutMs', { lockTimeoutMs: -1 }],
    ['watch', { watch: 'yes' }],
    ['logger', { logger: 'x' }],
    ['logger', { logger: null }],
    ['logger', { logger: { info: () => {} } }],
    ['logger', { logger: revoked.proxy }],
    ['path', { path: 'a\0b' }],
  ])('FileConfigStore names `%s` with ERR_INVALID_OPTION', (option, extra) => {
    const error = thrown(() => fixture.open({ path: file(), ...extra } as unknown as FileConfigStoreOptions));
    expect(MigrationGlueError.is(error, 'ERR_INVALID_OPTION')).toBe(true);
    expect((error as Error).message).toContain(`\`${option}\``);
    expect(fs.existsSync(file())).toBe(false);
  });

  it('FileConfigStore refuses options that cannot be read (a revoked Proxy) with ERR_INVALID_OPTION', () => {
    const error = thrown(() => new FileConfigStore(revoked.proxy as unknown as FileConfigStoreOptions));
    expect(MigrationGlueError.is(error, 'ERR_INVALID_OPTION')).toBe(true);
  });

  it('InMemoryConfigStore names a bad logger and unreadable options', () => {
    expect(MigrationGlueError.is(thrown(() => new InMemoryConfigStore(phases.shadow(), { logger: null as never })), 'ERR_INVALID_OPTION')).toBe(true);
    expect(MigrationGlueError.is(thrown(() => new InMemoryConfigStore(phases.shadow(), revoked.proxy as never)), 'ERR_INVALID_OPTION')).toBe(true);
  });
});
