import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { FileConfigStore } from '../../src/config/file-config-store.js';
import type { MigrationConfig } from '../../src/config/migration-config.js';
import { phases } from '../../src/config/phases.js';
import type { RampState } from '../../src/config/ramp-state.js';
import { emptyRampState } from '../../src/config/ramp-state.js';
import { serializeConfigFile } from '../../src/config/config-file.js';
import { recordingLogger, tempDirFixture, waitUntil } from './file-store-helpers.js';

// FileConfigStore rule by rule. Changes made by another store are picked up
// here through a ramp change that writes nothing (it re-reads the file under
// the lock), so most cases need no watcher and no timer; the few that are
// about the watcher wait for a condition, never for a time.

const fixture = tempDirFixture();
const file = () => path.join(fixture.dir(), 'config.json');
const readJson = (target: string): Record<string, unknown> => JSON.parse(fs.readFileSync(target, 'utf8')) as Record<string, unknown>;
const ramp = (extra: Partial<RampState> = {}): RampState => ({ ...emptyRampState(), revision: 2, step: 1, blockedBy: 'hold', ...extra });

/** Re-reads the file under the lock and writes nothing: what the store then serves is what it found. */
const refresh = (store: FileConfigStore) => store.updateRamp(() => undefined);

afterEach(() => {
  vi.restoreAllMocks();
});

describe('FileConfigStore opening a file', () => {
  it('serves the config and ramp state the file holds', () => {
    fs.writeFileSync(file(), serializeConfigFile(phases.canary(5), ramp({ rolledBack: true })));
    const store = fixture.open({ path: file(), watch: false });
    expect(store.current()).toEqual(phases.canary(5));
    expect(store.rampState()).toEqual(ramp({ rolledBack: true }));
    expect(store.rolledBack()).toBe(true);
    expect(store.path).toBe(file());
  });

  it('serves the empty ramp state and no rollback while the file holds none', () => {
    const store = fixture.open({ path: file(), initial: phases.rolledBack(), watch: false });
    expect(store.rampState()).toEqual(emptyRampState());
    expect(store.rolledBack()).toBe(false);
    fs.writeFileSync(file(), serializeConfigFile(phases.canary(5), ramp()));
    expect(fixture.open({ path: file(), watch: false }).rolledBack()).toBe(false);
  });

  it('resolves a relative path against the working directory', () => {
    const store = fixture.open({ path: path.relative(process.cwd(), file()), watch: false });
    expect(store.path).toBe(file());
    expect(fs.existsSync(file())).toBe(true);
  });

  it('knows which version of the file it read: a step saved over its own rollback goes through', async () => {
    fs.writeFileSync(file(), serializeConfigFile(phases.rolledBack(), undefined));
    const opened = fixture.open({ path: file(), watch: false });
    await opened.save(phases.canary(1));
    expect(readJson(file())).toEqual(phases.canary(1));
    const created = fixture.open({ path: path.join(fixture.dir(), 'created.json'), initial: phases.rolledBack(), watch: false });
    await created.save(phases.canary(2));
    expect(created.current()).toEqual(phases.canary(2));
  });

  it('watches the directory only when asked to', () => {
    const watch = vi.spyOn(fs, 'watch');
    fixture.open({ path: file(), watch: false });
    expect(watch).not.toHaveBeenCalled();
    fixture.open({ path: file() });
    expect(watch).toHaveBeenCalled();
  });
});

describe('FileConfigStore save', () => {
  it('names itself in the message refusing an unknown option, of the store or of a save', async () => {
    expect(() => fixture.open({ path: file(), watch: false, debounce: 5 } as never)).toThrow(/`debounce` is not an option of FileConfigStore;/);
    const store = fixture.open({ path: file(), watch: false });
    await expect(store.save(phases.shadow(), { force: true } as never)).rejects.toThrow(/`force` is not an option of FileConfigStore\.save/);
  });

  it('says what it replaced when the file held no valid config', async () => {
    const logger = recordingLogger();
    const store = fixture.open({ path: file(), watch: false, logger });
    fs.writeFileSync(file(), '{"shadowMode": 1}');
    await store.save(phases.rolledBack());
    expect(logger.at('warn')).toHaveLength(1);
    expect(logger.at('warn')[0]?.context).toEqual({
      path: file(),
      issues: expect.arrayContaining([expect.objectContaining({ path: 'shadowMode' })]) as unknown,
      config: phases.rolledBack(),
    });
  });

  it('tells no ramp listener anything while the file holds no ramp state', async () => {
    const store = fixture.open({ path: file(), watch: false });
    const peer = fixture.open({ path: file(), watch: false });
    const ramps = vi.fn();
    store.subscribeRamp(ramps);
    await store.save(phases.shadow());
    await peer.save(phases.canary(1));
    await refresh(store);
    expect(store.current()).toEqual(phases.canary(1));
    expect(ramps).not.toHaveBeenCalled();
  });

  it('rejects a bad config or option without throwing, and without touching the file', async () => {
    const store = fixture.open({ path: file(), initial: phases.shadow(), watch: false });
    const before = fs.readFileSync(file(), 'utf8');
    const bad = store.save({ ...phases.full(), newSystemPercentage: 101 });
    const badOption = store.save(phases.full(), { overwriteInvalid: 1 } as never);
    await expect(bad).rejects.toMatchObject({ code: 'ERR_INVALID_CONFIG' });
    await expect(badOption).rejects.toMatchObject({ code: 'ERR_INVALID_OPTION' });
    expect(fs.readFileSync(file(), 'utf8')).toBe(before);
  });

  it('notifies a save of the config already in force, once', async () => {
    const store = fixture.open({ path: file(), initial: phases.canary(5), watch: false });
    const seen: MigrationConfig[] = [];
    store.subscribe((config) => seen.push(config));
    await store.save(phases.canary(5));
    expect(seen).toEqual([phases.canary(5)]);
  });

  it('takes the lock beside the file it replaces, and leaves none behind', async () => {
    const store = fixture.open({ path: file(), watch: false });
    const open = vi.spyOn(fsp, 'open');
    await store.save(phases.shadow());
    expect(open.mock.calls.some(([target, flags]) => target === `${file()}.lock` && flags === 'wx')).toBe(true);
    expect(fs.readdirSync(fixture.dir())).toEqual(['config.json']);
  });

  it('waits lockTimeoutMs for the lock, then gives up', async () => {
    const store = fixture.open({ path: file(), watch: false, lockTimeoutMs: 40 });
    fs.writeFileSync(`${file()}.lock`, `${process.pid} this-host\n`);
    await expect(store.save(phases.shadow())).rejects.toThrow(/still held after 40 ms/);
  });

  it('recreates a deleted file with the default permissions and a file holding a ramp state keeps it', async () => {
    const store = fixture.open({ path: file(), watch: false });
    fs.rmSync(file());
    await store.save(phases.canary(3));
    expect(readJson(file())).toEqual(phases.canary(3));
    fs.writeFileSync(file(), serializeConfigFile(phases.canary(3), ramp()));
    await store.save(phases.canary(4));
    expect(readJson(file())).toEqual({ ...phases.canary(4), ramp: { ...ramp(), rolledBack: false } });
  });

  it('saves the rollback flag beside the config, and notifies the ramp listeners only when it changes', async () => {
    fs.writeFileSync(file(), serializeConfigFile(phases.canary(20), ramp()));
    const store = fixture.open({ path: file(), watch: false });
    const ramps: RampState[] = [];
    store.subscribeRamp((state) => ramps.push(state));
    await store.save(phases.rolledBack());
    expect(store.rolledBack()).toBe(true);
    expect(ramps).toEqual([{ ...ramp(), rolledBack: true }]);
    await store.save(phases.rolledBack());
    expect(ramps).toHaveLength(1);
    await store.save(phases.canary(1));
    expect(store.rolledBack()).toBe(false);
    expect(ramps).toEqual([{ ...ramp(), rolledBack: true }, { ...ramp(), rolledBack: false }]);
  });

  it('refuses a stale step, then serves the rollback it found, notifying once, and takes a step decided from it', async () => {
    const store = fixture.open({ path: file(), initial: phases.canary(25), watch: false });
    const peer = fixture.open({ path: file(), watch: false });
    const seen: MigrationConfig[] = [];
    store.subscribe((config) => seen.push(config));
    await peer.save(phases.rolledBack());
    await expect(store.save(phases.canary(50))).rejects.toMatchObject({ code: 'ERR_CONFLICT' });
    expect(store.current()).toEqual(phases.rolledBack());
    expect(seen).toEqual([phases.rolledBack()]);
    await store.save(phases.canary(2));
    expect(readJson(file())).toEqual(phases.canary(2));
  });

  it('keeps its config and signature when the write fails', async () => {
    const store = fixture.open({ path: file(), initial: phases.rolledBack(), watch: false });
    vi.spyOn(fsp, 'rename').mockRejectedValueOnce(Object.assign(new Error('EIO'), { code: 'EIO' }));
    await expect(store.save(phases.canary(9))).rejects.toMatchObject({ code: 'EIO' });
    expect(store.current()).toEqual(phases.rolledBack());
    await store.save(phases.canary(9));
    expect(readJson(file())).toEqual(phases.canary(9));
  });
});

describe('FileConfigStore picking up another store\'s change under the lock', () => {
  it('serves the config and ramp found, notifies both kinds of listener and logs the change once', async () => {
    const logger = recordingLogger();
    const store = fixture.open({ path: file(), initial: phases.canary(5), watch: false, logger });
    const peer = fixture.open({ path: file(), watch: false });
    const configs: MigrationConfig[] = [];
    const ramps: RampState[] = [];
    store.subscribe((config) => configs.push(config));
    store.subscribeRamp((state) => ramps.push(state));

    await peer.updateRamp((state) => ({ ramp: { ...state, step: 3 }, config: phases.canary(10) }));
    const written = peer.rampState();
    expect(await refresh(store)).toEqual(written);
    expect(store.current()).toEqual(phases.canary(10));
    expect(configs).toEqual([phases.canary(10)]);
    expect(ramps).toEqual([written]);
    expect(logger.at('info')).toHaveLength(1);
    expect(logger.at('info')[0]?.context).toMatchObject({ path: file(), before: phases.canary(5), after: phases.canary(10) });

    // Nothing new: nobody is notified again.
    await refresh(store);
    expect(configs).toHaveLength(1);
    expect(ramps).toHaveLength(1);
    expect(logger.at('info')).toHaveLength(1);
  });

  it('notifies the ramp listeners alone when only the ramp state changed, and not for a new revision of the same state', async () => {
    fs.writeFileSync(file(), serializeConfigFile(phases.canary(5), ramp()));
    const store = fixture.open({ path: file(), watch: false });
    const peer = fixture.open({ path: file(), watch: false });
    const configs = vi.fn();
    const ramps: RampState[] = [];
    store.subscribe(configs);
    store.subscribeRamp((state) => ramps.push(state));
    await peer.updateRamp((state) => ({ ramp: state }));
    await refresh(store);
    expect(ramps).toEqual([]);
    await peer.updateRamp((state) => ({ ramp: { ...state, paused: { by: 'ops', at: 1 } } }));
    await refresh(store);
    expect(ramps.map((state) => state.paused?.by)).toEqual(['ops']);
    expect(configs).not.toHaveBeenCalled();
  });

  it('takes the version it found as the one its next save was decided from', async () => {
    const store = fixture.open({ path: file(), initial: phases.canary(5), watch: false });
    const peer = fixture.open({ path: file(), watch: false });
    await peer.save(phases.rolledBack());
    await refresh(store);
    expect(store.current()).toEqual(phases.rolledBack());
    await store.save(phases.canary(1));
    expect(readJson(file())).toEqual(phases.canary(1));
  });
});

describe('FileConfigStore updateRamp', () => {
  it('writing nothing over a deleted or invalid file, resolves with the state it had and keeps its config', async () => {
    fs.writeFileSync(file(), serializeConfigFile(phases.canary(5), ramp()));
    const store = fixture.open({ path: file(), watch: false });
    fs.rmSync(file());
    expect(await refresh(store)).toEqual(ramp());
    fs.writeFileSync(file(), 'garbage');
    expect(await refresh(store)).toEqual(ramp());
    expect(store.current()).toEqual(phases.canary(5));
    expect(fs.readFileSync(file(), 'utf8')).toBe('garbage');
  });

  it('writes the ramp state beside the config and resolves with it, notifying the ramp listeners once per change', async () => {
    const store = fixture.open({ path: file(), initial: phases.canary(5), watch: false });
    const configs = vi.fn();
    const ramps: RampState[] = [];
    store.subscribe(configs);
    store.subscribeRamp((state) => ramps.push(state));
    const first = await store.updateRamp((state) => ({ ramp: { ...state, step: 0 } }));
    expect(first).toMatchObject({ revision: 1, step: 0 });
    expect(store.rampState()).toEqual(first);
    expect(readJson(file())).toEqual({ ...phases.canary(5), ramp: first });
    expect(ramps).toEqual([first]);
    // The same state again: a new revision is written, nobody is told.
    const again = await store.updateRamp((state) => ({ ramp: state }));
    expect(again.revision).toBe(2);
    expect(ramps).toHaveLength(1);
    expect(configs).not.toHaveBeenCalled();
  });

  it('notifies the config listeners when the change writes a different config, not the same one', async () => {
    const store = fixture.open({ path: file(), initial: phases.canary(5), watch: false });
    const configs: MigrationConfig[] = [];
    store.subscribe((config) => configs.push(config));
    await store.updateRamp((state) => ({ ramp: state, config: phases.canary(5) }));
    expect(configs).toEqual([]);
    await store.updateRamp((state) => ({ ramp: state, config: phases.rolledBack() }));
    expect(configs).toEqual([phases.rolledBack()]);
    expect(store.current()).toEqual(phases.rolledBack());
  });

  it('rejects a bad change and keeps going with the next one', async () => {
    const store = fixture.open({ path: file(), watch: false });
    const results = await Promise.allSettled([
      store.updateRamp((state) => ({ ramp: { ...state, step: -9 } })),
      store.updateRamp((state) => ({ ramp: { ...state, step: 4 } })),
    ]);
    expect(results.map((result) => result.status)).toEqual(['rejected', 'fulfilled']);
    expect(store.rampState().step).toBe(4);
  });
});

describe('FileConfigStore listeners', () => {
  it('logs a config or ramp listener that throws as such, and calls the next', async () => {
    const logger = recordingLogger();
    const store = fixture.open({ path: file(), watch: false, logger });
    const boom = () => {
      throw new Error('listener down');
    };
    const ramps = vi.fn();
    store.subscribe(boom);
    store.subscribeRamp(boom);
    store.subscribeRamp(ramps);
    await store.updateRamp((state) => ({ ramp: { ...state, step: 0 }, config: phases.shadow() }));
    expect(ramps).toHaveBeenCalledTimes(1);
    expect(logger.at('warn').map((line) => line.message).sort()).toEqual(['config listener threw', 'ramp listener threw']);
  });
});

describe('FileConfigStore close', () => {
  it('drops every listener and is idempotent; saves keep working', async () => {
    const store = fixture.open({ path: file(), watch: false });
    const configs = vi.fn();
    const ramps = vi.fn();
    store.subscribe(configs);
    store.subscribeRamp(ramps);
    store.close();
    store.close();
    await store.updateRamp((state) => ({ ramp: { ...state, step: 2 }, config: phases.shadow() }));
    expect(store.current()).toEqual(phases.shadow());
    expect(configs).not.toHaveBeenCalled();
    expect(ramps).not.toHaveBeenCalled();
  });

  it('stops the watches it started', () => {
    const closed = vi.fn();
    const realWatch = fs.watch.bind(fs);
    vi.spyOn(fs, 'watch').mockImplementation(((...args: Parameters<typeof fs.watch>) => {
      const watcher = realWatch(...args);
      const realClose = watcher.close.bind(watcher);
      watcher.close = () => {
        closed();
        realClose();
      };
      return watcher;
    }) as typeof fs.watch);
    const store = fixture.open({ path: file(), pollIntervalMs: 3_600_000 });
    store.close();
    expect(closed).toHaveBeenCalled();
  });
});

describe('FileConfigStore watching the file', () => {
  it('logs each different bad edit once, keeps serving the last good config, and serves a good edit', async () => {
    const logger = recordingLogger();
    const store = fixture.open({ path: file(), initial: phases.canary(5), logger, debounceMs: 1, pollIntervalMs: 10 });
    const replace = (text: string) => {
      fs.writeFileSync(`${file()}.edit`, text);
      fs.renameSync(`${file()}.edit`, file());
    };
    replace('not json');
    await waitUntil(() => logger.at('error').length === 1, 'first refusal');
    // The same text again (a new file, new events): still one refusal.
    replace('not json');
    replace(JSON.stringify({ ...phases.canary(5), newSystemPercentage: 101 }));
    await waitUntil(() => logger.at('error').length === 2, 'second refusal');
    expect(logger.at('error').map((line) => line.context.path)).toEqual([file(), file()]);
    expect(logger.at('error')[1]?.context).toMatchObject({ config: phases.canary(5) });
    expect(store.current()).toEqual(phases.canary(5));
    replace(JSON.stringify(phases.canary(6)));
    await waitUntil(() => store.current().newSystemPercentage === 6, 'good edit');
    // Once a good config was served, the first bad edit is news again.
    replace('not json');
    await waitUntil(() => logger.at('error').length === 3, 'refusal after a good edit');
    expect(logger.at('warn')).toEqual([]);
  });

  it('logs a deleted file once, and again after a save brought it back', async () => {
    const logger = recordingLogger();
    const store = fixture.open({ path: file(), initial: phases.canary(5), logger, debounceMs: 1, pollIntervalMs: 10 });
    fs.rmSync(file());
    await waitUntil(() => logger.at('warn').length === 1, 'deletion logged');
    expect(logger.at('warn')[0]?.context).toMatchObject({ path: file(), config: phases.canary(5) });
    await store.save(phases.canary(6));
    fs.rmSync(file());
    await waitUntil(() => logger.at('warn').length === 2, 'second deletion logged');
    expect(store.current()).toEqual(phases.canary(6));
  });

  it('logs a file it cannot read once per error, keeps the last good config, and serves the file once it reads again', async () => {
    const logger = recordingLogger();
    const store = fixture.open({ path: file(), initial: phases.canary(5), logger, debounceMs: 1, pollIntervalMs: 10 });
    const realOpen = fsp.open.bind(fsp);
    let failing: string | undefined = 'EIO';
    vi.spyOn(fsp, 'open').mockImplementation((async (...args: Parameters<typeof fsp.open>) => {
      if (failing !== undefined && args[0] === file()) throw Object.assign(new Error(`${failing}: cannot read`), { code: failing });
      return realOpen(...args);
    }) as typeof fsp.open);
    const replace = (percentage: number) => {
      fs.writeFileSync(`${file()}.edit`, JSON.stringify(phases.canary(percentage)));
      fs.renameSync(`${file()}.edit`, file());
    };
    replace(7);
    await waitUntil(() => logger.at('error').length === 1, 'unreadable file logged');
    expect(logger.at('error')[0]?.context).toMatchObject({ path: file() });
    failing = 'EACCES';
    replace(8);
    await waitUntil(() => logger.at('error').length === 2, 'another read error logged');
    expect(store.current()).toEqual(phases.canary(5));
    failing = undefined;
    replace(9);
    await waitUntil(() => store.current().newSystemPercentage === 9, 'readable again');
    expect(logger.at('error')).toHaveLength(2);
  });

  it('does not take up a file it was reading when close() came', async () => {
    const store = fixture.open({ path: file(), initial: phases.canary(5), debounceMs: 1, pollIntervalMs: 10 });
    const realOpen = fsp.open.bind(fsp);
    let reading = false;
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    let readDone!: () => void;
    const done = new Promise<void>((resolve) => (readDone = resolve));
    vi.spyOn(fsp, 'open').mockImplementation((async (...args: Parameters<typeof fsp.open>) => {
      if (args[0] !== file() || reading) return realOpen(...args);
      reading = true;
      await gate;
      const handle = await realOpen(...args);
      const realClose = handle.close.bind(handle);
      handle.close = async () => {
        await realClose();
        readDone();
      };
      return handle;
    }) as typeof fsp.open);
    fs.writeFileSync(`${file()}.edit`, JSON.stringify(phases.canary(7)));
    fs.renameSync(`${file()}.edit`, file());
    await waitUntil(() => reading, 'the re-read started');
    store.close();
    release();
    await done;
    // What is left of the re-read after the file is closed runs in promise callbacks: one macrotask later it is over.
    await new Promise((resolve) => setImmediate(resolve));
    expect(store.current()).toEqual(phases.canary(5));
  });
});
