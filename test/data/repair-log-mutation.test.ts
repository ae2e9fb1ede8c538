import { describe, expect, it } from 'vitest';
import type { LoggedRepair, RepairEntry } from '../../src/data/repair-log.js';
import { InMemoryRepairLog, pageOf } from '../../src/data/repair-log.js';

// src/data/repair-log.ts: the in-memory repair log (the default) and the
// paging every log shares.

function entry(key: string): RepairEntry<string> {
  return { key, op: 'save', side: 'new', at: 1, error: 'x' };
}

function logged(id: number): LoggedRepair<string> {
  return { ...entry(`k${id}`), id };
}

describe('InMemoryRepairLog', () => {
  it('gives ids from 1 upwards in append order and lists a frozen copy of each entry', async () => {
    const log = new InMemoryRepairLog<string>();
    const first = entry('a');
    await log.append(first);
    await log.append({ key: 'b', op: 'delete', side: 'old', at: 7, error: 'y' });
    const listed = await log.list(null, 10);
    expect(listed).toEqual([
      { key: 'a', op: 'save', side: 'new', at: 1, error: 'x', id: 1 },
      { key: 'b', op: 'delete', side: 'old', at: 7, error: 'y', id: 2 },
    ]);
    expect(listed[0]).not.toBe(first);
    expect(Object.isFrozen(listed[0])).toBe(true);
    expect(await log.size()).toBe(2);
  });

  it('removes the entries with the given ids, ignores unknown ones, and never reuses an id', async () => {
    const log = new InMemoryRepairLog<string>();
    for (const key of ['a', 'b', 'c']) await log.append(entry(key));
    await log.remove([1, 3, 99]);
    expect((await log.list(null, 10)).map((e) => [e.id, e.key])).toEqual([[2, 'b']]);
    expect(await log.size()).toBe(1);
    await log.append(entry('d'));
    expect((await log.list(null, 10)).map((e) => e.id)).toEqual([2, 4]);
  });

  it('pages by id', async () => {
    const log = new InMemoryRepairLog<string>();
    for (const key of ['a', 'b', 'c', 'd']) await log.append(entry(key));
    expect((await log.list(null, 2)).map((e) => e.id)).toEqual([1, 2]);
    expect((await log.list(2, 2)).map((e) => e.id)).toEqual([3, 4]);
    expect(await log.list(4, 2)).toEqual([]);
  });
});

describe('pageOf', () => {
  const entries = [logged(1), logged(2), logged(3), logged(5)];

  it('starts at the first entry when afterId is null', () => {
    expect(pageOf(entries, null, 10).map((e) => e.id)).toEqual([1, 2, 3, 5]);
  });

  it('takes only ids above afterId, which need not be one of them', () => {
    expect(pageOf(entries, 2, 10).map((e) => e.id)).toEqual([3, 5]);
    expect(pageOf(entries, 4, 10).map((e) => e.id)).toEqual([5]);
    expect(pageOf(entries, 0, 10).map((e) => e.id)).toEqual([1, 2, 3, 5]);
    expect(pageOf(entries, 5, 10)).toEqual([]);
  });

  it('stops at limit entries', () => {
    expect(pageOf(entries, null, 1).map((e) => e.id)).toEqual([1]);
    expect(pageOf(entries, 1, 2).map((e) => e.id)).toEqual([2, 3]);
  });

  it('reads no further than it needs', () => {
    let read = 0;
    function* counted() {
      for (const e of entries) {
        read += 1;
        yield e;
      }
    }
    pageOf(counted(), null, 2);
    expect(read).toBe(2);
  });
});
