import { afterEach, describe, expect, it, vi } from 'vitest';
import type { RepairEntry } from '../../src/data/repair-log.js';
import type { AckedWrite } from '../../src/data/repair-replay.js';
import { maxTrackedKeys, RepairTracker, replayAcked, replayEntry, storesOf } from '../../src/data/repair-replay.js';
import { InMemoryRepository } from '../../src/testing/index.js';
import type { Item } from './repository-conformance.js';
import { item, itemKey } from './repository-conformance.js';

// src/data/repair-replay.ts: what a process remembers of keys with repair
// entries, and how one key is replayed.

function entry(key: string, side: 'old' | 'new' = 'new', op: 'save' | 'delete' = 'save'): RepairEntry<string> {
  return Object.freeze({ key, op, side, at: 0, error: 'x' });
}

function stores() {
  const old = new InMemoryRepository<Item, string>({ keyOf: itemKey, name: 'old' });
  const fresh = new InMemoryRepository<Item, string>({ keyOf: itemKey, name: 'new' });
  return { old, fresh };
}

afterEach(() => {
  vi.useRealTimers();
});

describe('RepairTracker.note', () => {
  it('tracks a key with its entry, whether it is recorded, and its last acknowledged write', () => {
    const tracker = new RepairTracker<string>();
    const first = entry('a');
    const write: AckedWrite = { op: 'save', row: item(1) };
    expect(tracker.note('a', first, false, write)).toBe(true);
    expect(tracker.get('a')).toEqual({ entry: first, recorded: false, last: write, suspect: false });
    expect(tracker.get('b')).toBeUndefined();
  });

  it('makes a later entry the latest, and keeps the last write when none is given', () => {
    const tracker = new RepairTracker<string>();
    const write: AckedWrite = { op: 'save', row: item(1) };
    tracker.note('a', entry('a'), false, write);
    const second = entry('a', 'old', 'delete');
    expect(tracker.note('a', second, true)).toBe(true);
    expect(tracker.get('a')).toEqual({ entry: second, recorded: true, last: write, suspect: false });
    const deleted: AckedWrite = { op: 'delete' };
    tracker.note('a', second, false, deleted);
    expect(tracker.get('a')?.last).toBe(deleted);
    expect(tracker.get('a')?.recorded).toBe(false);
  });

  it(`tracks at most ${maxTrackedKeys} keys; a key already tracked still takes a new entry`, () => {
    const tracker = new RepairTracker<string>();
    for (let i = 0; i < maxTrackedKeys - 1; i++) expect(tracker.note(`k${i}`, entry(`k${i}`), true)).toBe(true);
    expect(tracker.note('last', entry('last'), true)).toBe(true);
    expect(tracker.note('over', entry('over'), false)).toBe(false);
    expect(tracker.get('over')).toBeUndefined();
    expect(tracker.pending).toBe(0);
    const newer = entry('k0', 'old');
    expect(tracker.note('k0', newer, false)).toBe(true);
    expect(tracker.get('k0')?.entry).toBe(newer);
    expect(tracker.pending).toBe(1);
  });
});

describe('RepairTracker.acked', () => {
  it('notes the last write of a tracked key and ignores an untracked one', () => {
    const tracker = new RepairTracker<string>();
    tracker.note('a', entry('a'), true);
    const write: AckedWrite = { op: 'delete' };
    tracker.acked('a', write);
    tracker.acked('b', write);
    expect(tracker.get('a')?.last).toBe(write);
    expect(tracker.get('b')).toBeUndefined();
  });
});

describe('RepairTracker.forget', () => {
  it('forgets a key replayed with its latest entry', () => {
    const tracker = new RepairTracker<string>();
    const latest = entry('a');
    tracker.note('a', latest, true);
    tracker.forget('a', latest);
    expect(tracker.get('a')).toBeUndefined();
  });

  it('does nothing for a key it does not track', () => {
    const tracker = new RepairTracker<string>();
    expect(() => tracker.forget('a', entry('a'))).not.toThrow();
    expect(tracker.get('a')).toBeUndefined();
  });

  it('keeps a key whose entry changed while it was replayed', () => {
    const tracker = new RepairTracker<string>();
    const replayed = entry('a');
    tracker.note('a', replayed, true);
    tracker.note('a', entry('a'), true);
    tracker.forget('a', replayed);
    expect(tracker.get('a')).toBeDefined();
  });

  it('keeps a key while a timed-out write of it may still land, and forgets it after', () => {
    const tracker = new RepairTracker<string>();
    const latest = entry('a');
    const write: AckedWrite = { op: 'save', row: item(1) };
    tracker.note('a', latest, true, write);
    tracker.hang('a');
    tracker.forget('a', latest);
    expect(tracker.get('a')).toBeDefined();
    tracker.land('a', write);
    tracker.forget('a', latest);
    expect(tracker.get('a')).toBeUndefined();
  });
});

describe('RepairTracker: writes in doubt', () => {
  it('counts each hung write of a key until it lands', () => {
    const tracker = new RepairTracker<string>();
    const write: AckedWrite = { op: 'delete' };
    expect(tracker.inDoubt('a')).toBe(false);
    tracker.hang('a');
    tracker.hang('a');
    expect(tracker.inDoubt('a')).toBe(true);
    expect(tracker.inDoubt('b')).toBe(false);
    tracker.land('a', write);
    expect(tracker.inDoubt('a')).toBe(true);
    tracker.land('a', write);
    expect(tracker.inDoubt('a')).toBe(false);
  });

  it('is not in doubt when the write landed before its timeout was noted', () => {
    const tracker = new RepairTracker<string>();
    tracker.land('a', { op: 'delete' });
    expect(tracker.inDoubt('a')).toBe(false);
    tracker.hang('a');
    expect(tracker.inDoubt('a')).toBe(false);
    tracker.hang('a');
    expect(tracker.inDoubt('a')).toBe(true);
  });

  it('marks a key suspect when a write other than its last acknowledged one lands', () => {
    const tracker = new RepairTracker<string>();
    const older: AckedWrite = { op: 'save', row: item(1) };
    const newer: AckedWrite = { op: 'save', row: item(2) };
    tracker.note('a', entry('a'), true, older);
    tracker.hang('a');
    tracker.land('a', older);
    expect(tracker.get('a')?.suspect).toBe(false);
    tracker.acked('a', newer);
    tracker.hang('a');
    tracker.land('a', older);
    expect(tracker.get('a')?.suspect).toBe(true);
  });

  it('lands a write of an untracked key without tracking it', () => {
    const tracker = new RepairTracker<string>();
    tracker.hang('a');
    tracker.land('a', { op: 'delete' });
    expect(tracker.get('a')).toBeUndefined();
    expect(tracker.inDoubt('a')).toBe(false);
  });
});

describe('RepairTracker: unrecorded entries', () => {
  it('lists and counts the entries only memory holds', () => {
    const tracker = new RepairTracker<string>();
    const a = entry('a');
    tracker.note('a', a, false);
    tracker.note('b', entry('b'), true);
    tracker.note('c', entry('c'), false);
    expect(tracker.pending).toBe(2);
    expect(tracker.unrecorded().map(([id, known]) => [id, known.entry])).toEqual([
      ['a', a],
      ['c', tracker.get('c')?.entry],
    ]);
    tracker.note('a', a, true);
    expect(tracker.pending).toBe(1);
    expect(tracker.unrecorded().map(([id]) => id)).toEqual(['c']);
  });
});

describe('storesOf', () => {
  it('names the side that missed the write and the other as the holder', () => {
    const { old, fresh } = stores();
    expect(storesOf('new', old, fresh)).toEqual({ missed: fresh, holder: old });
    expect(storesOf('old', old, fresh)).toEqual({ missed: old, holder: fresh });
  });
});

describe('replayEntry', () => {
  it("copies the holder's row to the store that missed the write", async () => {
    const { old, fresh } = stores();
    old.seed([item(1, 'held')]);
    fresh.seed([item(1, 'stale')]);
    expect(await replayEntry(entry(item(1).id, 'new'), old, fresh, 1000)).toEqual({ status: 'ok', value: undefined });
    expect(fresh.snapshot()).toEqual([item(1, 'held')]);
    expect(old.counts.save).toBe(0);
  });

  it('copies from new to old for an entry whose missed side is old', async () => {
    const { old, fresh } = stores();
    fresh.seed([item(1, 'held')]);
    await replayEntry(entry(item(1).id, 'old'), old, fresh, 1000);
    expect(old.snapshot()).toEqual([item(1, 'held')]);
  });

  it('deletes the row from the store that missed the write when the holder has none', async () => {
    const { old, fresh } = stores();
    fresh.seed([item(1)]);
    await replayEntry(entry(item(1).id, 'new'), old, fresh, 1000);
    expect(fresh.size).toBe(0);
    expect(fresh.counts.save).toBe(0);
  });

  it("answers the holder's read error and writes nothing", async () => {
    const { old, fresh } = stores();
    const error = new Error('old is down');
    old.failNext('get', 1, () => error);
    fresh.seed([item(1)]);
    expect(await replayEntry(entry(item(1).id, 'new'), old, fresh, 1000)).toEqual({ status: 'error', error });
    expect(fresh.counts).toMatchObject({ save: 0, delete: 0 });
  });

  it("answers the missed store's write error", async () => {
    const { old, fresh } = stores();
    old.seed([item(1)]);
    const error = new Error('new is down');
    fresh.failNext('save', 1, () => error);
    expect(await replayEntry(entry(item(1).id, 'new'), old, fresh, 1000)).toEqual({ status: 'error', error });
  });

  it('bounds the read and the write by timeoutMs', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    const { old, fresh } = stores();
    old.get = () => new Promise(() => {});
    const read = replayEntry(entry(item(1).id, 'new'), old, fresh, 70);
    await vi.advanceTimersByTimeAsync(70);
    expect(await read).toEqual({ status: 'timeout' });
    const other = stores();
    other.old.seed([item(1)]);
    other.fresh.save = () => new Promise(() => {});
    const write = replayEntry(entry(item(1).id, 'new'), other.old, other.fresh, 70);
    await vi.advanceTimersByTimeAsync(70);
    expect(await write).toEqual({ status: 'timeout' });
  });
});

describe('replayAcked', () => {
  it('saves the acknowledged row in both stores, old first', async () => {
    const { old, fresh } = stores();
    const order: string[] = [];
    old.beforeOp = (op) => void order.push(`old.${op}`);
    fresh.beforeOp = (op) => void order.push(`new.${op}`);
    old.seed([item(1, 'late')]);
    fresh.seed([item(1, 'late')]);
    expect(await replayAcked(item(1).id, { op: 'save', row: item(1, 'acked') }, old, fresh, 1000)).toEqual({ status: 'ok', value: undefined });
    expect(old.snapshot()).toEqual([item(1, 'acked')]);
    expect(fresh.snapshot()).toEqual([item(1, 'acked')]);
    expect(order).toEqual(['old.save', 'new.save']);
  });

  it('deletes the key from both stores for an acknowledged delete', async () => {
    const { old, fresh } = stores();
    old.seed([item(1)]);
    fresh.seed([item(1)]);
    await replayAcked(item(1).id, { op: 'delete' }, old, fresh, 1000);
    expect(old.size).toBe(0);
    expect(fresh.size).toBe(0);
    expect(old.counts.save + fresh.counts.save).toBe(0);
  });

  it('stops at the first store that fails and answers its error', async () => {
    const { old, fresh } = stores();
    const error = new Error('old is down');
    old.failNext('save', 1, () => error);
    expect(await replayAcked(item(1).id, { op: 'save', row: item(1) }, old, fresh, 1000)).toEqual({ status: 'error', error });
    expect(fresh.counts.save).toBe(0);
  });

  it('bounds each write by timeoutMs', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    const { old, fresh } = stores();
    fresh.delete = () => new Promise(() => {});
    const replay = replayAcked(item(1).id, { op: 'delete' }, old, fresh, 70);
    await vi.advanceTimersByTimeAsync(70);
    expect(await replay).toEqual({ status: 'timeout' });
    expect(old.counts.delete).toBe(1);
  });
});
