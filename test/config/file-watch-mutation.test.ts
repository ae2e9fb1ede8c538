import { EventEmitter } from 'node:events';
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { signatureOf } from '../../src/config/config-file.js';
import { FileWatch } from '../../src/config/file-watch.js';
import { recordingLogger, waitUntil } from './file-store-helpers.js';

// FileWatch rule by rule: each case is one a mutant of src/config/file-watch.ts
// would otherwise pass. fs.watch is replaced by a watcher the test drives
// (its callback is called by hand), and the poll's interval is a fake timer
// advanced by hand: no case waits for an fs event or a real timer.

type WatchListener = (event: string, name: string | Buffer | null) => void;

interface FakeWatcher extends EventEmitter {
  readonly dir: string;
  readonly options: unknown;
  readonly listener: WatchListener;
  closed: boolean;
  close(): void;
}

let dir: string;
let file: string;
let watchers: FakeWatcher[];
const opened: FileWatch[] = [];

function fakeWatch(): void {
  vi.spyOn(fs, 'watch').mockImplementation(((target: string, options: unknown, listener: WatchListener) => {
    const watcher = Object.assign(new EventEmitter(), {
      dir: target,
      options,
      listener,
      closed: false,
      close() {
        watcher.closed = true;
      },
    });
    watchers.push(watcher);
    return watcher as unknown as fs.FSWatcher;
  }) as unknown as typeof fs.watch);
}

const signatureNow = (target: string) => signatureOf(fs.statSync(target, { bigint: true }));

/** `seen` 'now': the file's signature as it is now; 'none': its owner read no file. */
function open(seen = 'now', pollIntervalMs = 1000, target = file) {
  const signature = seen === 'none' ? undefined : seen === 'now' ? signatureNow(target) : seen;
  const onChange = vi.fn();
  const logger = recordingLogger();
  const watch = new FileWatch({ file: target, pollIntervalMs, logger, signature, onChange });
  opened.push(watch);
  return { watch, onChange, logger };
}

/** Fires the poll's interval once and resolves when that poll is over. */
async function poll(pollIntervalMs = 1000): Promise<void> {
  const stat = vi.spyOn(fsp, 'stat');
  const before = stat.mock.results.length;
  vi.advanceTimersByTime(pollIntervalMs);
  const result = stat.mock.results[before];
  if (result !== undefined) await Promise.resolve(result.value).catch(() => undefined);
  await new Promise((resolve) => setImmediate(resolve));
}

const live = () => watchers.filter((watcher) => !watcher.closed);

beforeEach(() => {
  dir = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'mg-file-watch-')));
  file = path.join(dir, 'config.json');
  fs.writeFileSync(file, '{}');
  watchers = [];
  fakeWatch();
  vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval'] });
});

afterEach(() => {
  for (const watch of opened.splice(0)) watch.close();
  vi.useRealTimers();
  vi.restoreAllMocks();
  fs.rmSync(dir, { recursive: true, force: true });
});

describe('FileWatch events', () => {
  it('watches the directory of the file, not persistently', () => {
    open();
    expect(watchers.map((watcher) => watcher.dir)).toEqual([dir]);
    expect(watchers[0]?.options).toEqual({ persistent: false });
  });

  it('also watches the directory a symlink leads to', () => {
    const other = path.join(dir, 'real');
    fs.mkdirSync(other);
    fs.writeFileSync(path.join(other, 'target.json'), '{}');
    const link = path.join(dir, 'link.json');
    fs.symlinkSync(path.join(other, 'target.json'), link);
    open(signatureNow(link), 1000, link);
    expect(watchers.map((watcher) => watcher.dir).sort()).toEqual([dir, other]);
  });

  it('reports any event in the directory but those of its own temp, lock and stale files', () => {
    const { onChange } = open();
    const fire = (name: string | Buffer | null) => watchers[0]?.listener('rename', name);
    for (const ignored of ['config.json.123.abc.tmp', 'config.json.lock', 'config.json.ab12.stale', 'config.json.tmp', Buffer.from('config.json.lock')]) fire(ignored);
    expect(onChange).not.toHaveBeenCalled();
    const reported = ['config.json', 'config.jsonx.tmp', 'other.json.tmp', 'config.json.bak', 'x.lock', null, Buffer.from('config.json')];
    for (const name of reported) fire(name);
    expect(onChange).toHaveBeenCalledTimes(reported.length);
  });

  it('reports nothing once closed, and closes its watches and its poll; close is idempotent', async () => {
    const { watch, onChange } = open();
    watch.close();
    watch.close();
    expect(live()).toEqual([]);
    watchers[0]?.listener('change', 'config.json');
    fs.writeFileSync(file, '{"changed": true}');
    const stat = vi.spyOn(fsp, 'stat');
    vi.advanceTimersByTime(5000);
    await new Promise((resolve) => setImmediate(resolve));
    expect(stat).not.toHaveBeenCalled();
    expect(onChange).not.toHaveBeenCalled();
  });

  it('drops a watch that fails, logging at debug, and watches again at the next poll', async () => {
    const { logger } = open();
    const failing = watchers[0] as FakeWatcher;
    const err = new Error('EMFILE');
    failing.emit('error', err);
    expect(failing.closed).toBe(true);
    expect(logger.at('debug')).toHaveLength(1);
    expect(logger.at('debug')[0]?.context).toEqual({ err, path: dir });
    await poll();
    expect(live().map((watcher) => watcher.dir)).toEqual([dir]);
    expect(watchers).toHaveLength(2);
  });

  it('takes a second error of a watch already dropped in its stride', () => {
    open();
    const failing = watchers[0] as FakeWatcher;
    failing.emit('error', new Error('first'));
    expect(() => failing.emit('error', new Error('again'))).not.toThrow();
  });

  it('starts no watch once closed during a poll', async () => {
    const { watch } = open();
    const stat = vi.spyOn(fsp, 'stat');
    vi.advanceTimersByTime(1000);
    watch.close();
    await Promise.resolve(stat.mock.results[0]?.value).catch(() => undefined);
    await new Promise((resolve) => setImmediate(resolve));
    expect(stat).toHaveBeenCalledTimes(1);
    expect(live()).toEqual([]);
    expect(watchers).toHaveLength(1);
  });

  it('ignores the error of a watch already replaced', async () => {
    open();
    const first = watchers[0] as FakeWatcher;
    first.emit('error', new Error('first'));
    await poll();
    const second = watchers[1] as FakeWatcher;
    first.emit('error', new Error('late'));
    expect(second.closed).toBe(false);
    await poll();
    expect(watchers).toHaveLength(2);
  });

  it('warns once when a directory cannot be watched, and keeps polling', async () => {
    vi.mocked(fs.watch).mockImplementation(() => {
      throw Object.assign(new Error('ENOSPC'), { code: 'ENOSPC' });
    });
    const { onChange, logger } = open();
    await poll();
    expect(logger.at('warn')).toHaveLength(1);
    expect(logger.at('warn')[0]?.context).toMatchObject({ path: dir });
    fs.writeFileSync(file, '{"changed": true}');
    await poll();
    expect(onChange).toHaveBeenCalledTimes(1);
    expect(logger.at('warn')).toHaveLength(1);
  });
});

describe('FileWatch polling', () => {
  it('polls on an unref\'d interval of pollIntervalMs', async () => {
    vi.useRealTimers();
    const setInterval = vi.spyOn(globalThis, 'setInterval');
    const { watch } = open('none', 12_345);
    expect(setInterval).toHaveBeenCalledWith(expect.any(Function), 12_345);
    const timer = setInterval.mock.results[0]?.value as NodeJS.Timeout;
    expect(timer.hasRef()).toBe(false);
    watch.close();
  });

  it('reports nothing while the file is as its owner last read it', async () => {
    const { onChange } = open();
    await poll();
    await poll();
    expect(onChange).not.toHaveBeenCalled();
  });

  it('reports a change once, then takes it as the new baseline', async () => {
    const { onChange } = open();
    fs.writeFileSync(`${file}.new`, '{"changed": true}');
    fs.renameSync(`${file}.new`, file);
    await poll();
    expect(onChange).toHaveBeenCalledTimes(1);
    await poll();
    expect(onChange).toHaveBeenCalledTimes(1);
  });

  it('takes a missing file as the baseline when its owner read none, and reports the file once it appears', async () => {
    fs.rmSync(file);
    const { onChange } = open('none');
    await poll();
    expect(onChange).not.toHaveBeenCalled();
    fs.writeFileSync(file, '{}');
    await poll();
    expect(onChange).toHaveBeenCalledTimes(1);
  });

  it('reports a file present where its owner read none', async () => {
    const { onChange } = open('none');
    await poll();
    expect(onChange).toHaveBeenCalledTimes(1);
  });

  it('reports a deleted file, once', async () => {
    const { onChange } = open();
    fs.rmSync(file);
    await poll();
    await poll();
    expect(onChange).toHaveBeenCalledTimes(1);
  });

  it('runs one poll at a time, and polls again once it is over', async () => {
    open();
    const stat = vi.spyOn(fsp, 'stat');
    vi.advanceTimersByTime(1000);
    vi.advanceTimersByTime(1000);
    expect(stat).toHaveBeenCalledTimes(1);
    await Promise.resolve(stat.mock.results[0]?.value).catch(() => undefined);
    await new Promise((resolve) => setImmediate(resolve));
    vi.advanceTimersByTime(1000);
    expect(stat).toHaveBeenCalledTimes(2);
    await Promise.resolve(stat.mock.results[1]?.value).catch(() => undefined);
  });

  it('polls again after a poll that failed', async () => {
    open();
    const stat = vi.spyOn(fsp, 'stat');
    vi.mocked(fs.watch).mockImplementation(() => {
      throw new Error('cannot watch');
    });
    vi.spyOn(fs, 'statSync').mockImplementationOnce(() => {
      throw new Error('inode lookup broke');
    });
    vi.advanceTimersByTime(1000);
    await Promise.resolve(stat.mock.results[0]?.value).catch(() => undefined);
    await new Promise((resolve) => setImmediate(resolve));
    vi.advanceTimersByTime(1000);
    expect(stat).toHaveBeenCalledTimes(2);
  });

  it('watches a directory again once it was deleted and recreated, reporting the change', async () => {
    const sub = path.join(dir, 'conf');
    fs.mkdirSync(sub);
    const inner = path.join(sub, 'config.json');
    fs.writeFileSync(inner, '{}');
    const { onChange } = open(signatureNow(inner), 1000, inner);
    expect(live().map((watcher) => watcher.dir)).toEqual([sub]);
    fs.rmSync(sub, { recursive: true });
    await poll();
    expect(live()).toEqual([]);
    expect(onChange).toHaveBeenCalled();
    fs.mkdirSync(sub);
    await poll();
    expect(live().map((watcher) => watcher.dir)).toEqual([sub]);
  });

  it('reports a directory replaced between two polls even when the file in it looks the same', async () => {
    const sub = path.join(dir, 'conf');
    fs.mkdirSync(sub);
    const inner = path.join(sub, 'config.json');
    fs.writeFileSync(inner, '{}');
    const { onChange } = open(signatureNow(inner), 1000, inner);
    // Moved aside and a new directory put in its place, the file moved into it: same inode, size, mtime.
    fs.renameSync(sub, `${sub}.old`);
    fs.mkdirSync(sub);
    fs.renameSync(path.join(`${sub}.old`, 'config.json'), inner);
    await poll();
    expect(onChange).toHaveBeenCalledTimes(1);
    expect(live().map((watcher) => watcher.dir)).toEqual([sub]);
    expect(watchers).toHaveLength(2);
  });

  it('stops watching a directory the file no longer leads to', async () => {
    const a = path.join(dir, 'a');
    const b = path.join(dir, 'b');
    fs.mkdirSync(a);
    fs.mkdirSync(b);
    fs.writeFileSync(path.join(a, 'config.json'), '{}');
    fs.writeFileSync(path.join(b, 'config.json'), '{}');
    const link = path.join(dir, 'link.json');
    fs.symlinkSync(path.join(a, 'config.json'), link);
    const { onChange } = open(signatureNow(link), 1000, link);
    expect(live().map((watcher) => watcher.dir).sort()).toEqual([dir, a]);
    fs.rmSync(link);
    fs.symlinkSync(path.join(b, 'config.json'), link);
    await poll();
    expect(live().map((watcher) => watcher.dir).sort()).toEqual([dir, b]);
    // One change (another file behind the link), reported once.
    expect(onChange).toHaveBeenCalledTimes(1);
  });
});

describe('FileWatch with real events', () => {
  it('reports a file replaced in its directory', async () => {
    vi.useRealTimers();
    vi.mocked(fs.watch).mockRestore();
    const { onChange } = open(signatureNow(file), 3_600_000);
    fs.writeFileSync(`${file}.edit`, '{"changed": true}');
    fs.renameSync(`${file}.edit`, file);
    await waitUntil(() => onChange.mock.calls.length > 0, 'event for the replaced file');
  });
});
