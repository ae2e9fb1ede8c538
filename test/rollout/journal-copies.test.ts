import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { FileJournalStore, InvalidOptionError, MigrationJournal, phases, renderChecklist, renderReport } from '../../src/index.js';
import type { GlueLike } from '../../src/core/glue-like.js';
import type { ConfigChangeEvent, RollbackEvent } from '../../src/core/events.js';
import { ManualClock } from '../../src/testing/index.js';
import { recordingLogger } from '../helpers.js';

// journal.record keeps its own deep copy of what it is given, made of what a
// JSON line holds: the entry in memory is the entry the file reads back, and
// the caller's objects stay the caller's.

const dirs: string[] = [];
function tempFile(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'journal-copies-'));
  dirs.push(dir);
  return path.join(dir, 'journal.jsonl');
}
afterEach(() => {
  for (const dir of dirs.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
});

describe('MigrationJournal.record with data the caller keeps using', () => {
  it("does not freeze the caller's own objects passed in `data`", () => {
    const journal = new MigrationJournal({ clock: new ManualClock() });
    const incidents = ['db timeout'];
    journal.record('note', { message: 'incidents so far', data: { incidents } });
    expect(Object.isFrozen(incidents)).toBe(false);
    expect(() => incidents.push('cache miss')).not.toThrow();
  });

  it('an entry already recorded is not changed when the caller later mutates a nested object it passed', () => {
    const journal = new MigrationJournal({ clock: new ManualClock() });
    const detail = { outer: { count: 1 } };
    journal.record('note', { message: 'before', data: { detail } });
    detail.outer.count = 999;
    const [entry] = journal.entries();
    expect((entry?.data?.detail as { outer: { count: number } }).outer.count).toBe(1);
  });

  it('the entry it returns is frozen all the way down', () => {
    const journal = new MigrationJournal({ clock: new ManualClock() });
    const entry = journal.record('note', { data: { detail: { outer: { list: [{ n: 1 }] } } } });
    const detail = entry.data?.detail as { outer: { list: { n: number }[] } };
    expect(Object.isFrozen(detail.outer.list[0])).toBe(true);
    expect(() => {
      (detail.outer.list[0] as { n: number }).n = 2;
    }).toThrow(TypeError);
  });

  it('does not freeze the nested data of entries a caller hands to the renderers', () => {
    const nested = { by: ['ana'] };
    const entries = [{ at: 0, kind: 'note' as const, data: { nested } }];
    renderChecklist(entries);
    renderReport(entries);
    expect(Object.isFrozen(nested)).toBe(false);
    expect(Object.isFrozen(nested.by)).toBe(false);
  });

  it('records in memory what a FileJournalStore reads back: a Date as its ISO text, an undefined property left out, shared objects copied', () => {
    const file = tempFile();
    const journal = new MigrationJournal({ store: new FileJournalStore(file), clock: new ManualClock({ start: 1_000 }) });
    const shared = { n: 1 };
    const recorded = journal.record('note', { message: 'x', data: { when: new Date(0), gone: undefined, a: shared, b: shared, zero: -0, nested: { list: [1, 'two', null, true] } } });
    expect(recorded.data).toEqual({ when: '1970-01-01T00:00:00.000Z', a: { n: 1 }, b: { n: 1 }, zero: 0, nested: { list: [1, 'two', null, true] } });
    expect('gone' in (recorded.data as object)).toBe(false);
    expect(new MigrationJournal({ store: new FileJournalStore(file) }).entries()).toEqual([recorded]);
  });

  it('copies a live Proxy by reading each property once', () => {
    const journal = new MigrationJournal({ clock: new ManualClock() });
    let reads = 0;
    const data = new Proxy({ count: 1 }, { get: (target, key) => (key === 'count' ? ++reads : Reflect.get(target, key)) });
    const entry = journal.record('note', { data: { data } });
    expect(entry.data?.data).toEqual({ count: 1 });
    expect(reads).toBe(1);
    expect(journal.entries()[0]?.data?.data).toEqual({ count: 1 });
  });
});

describe('MigrationJournal.record stamps time and kind itself', () => {
  it('refuses fields that would forge them (plain JavaScript can pass them), appending nothing', () => {
    const journal = new MigrationJournal({ clock: new ManualClock({ start: 1_000 }) });
    for (const [fields, option] of [
      [{ message: 'hi', kind: 'rollback' }, 'fields.kind'],
      [{ message: 'hi', at: 0 }, 'fields.at'],
    ] as const) {
      let caught: unknown;
      try {
        journal.record('note', fields as never);
      } catch (err) {
        caught = err;
      }
      expect(caught).toBeInstanceOf(InvalidOptionError);
      expect((caught as InvalidOptionError).option).toBe(option);
    }
    expect(journal.entries()).toEqual([]);
    expect(journal.record('note', { message: 'hi' })).toMatchObject({ at: 1_000, kind: 'note', message: 'hi' });
  });
});

describe('MigrationJournal.record refuses what JSON cannot hold, naming it', () => {
  const cyclic: Record<string, unknown> = { name: 'loop' };
  cyclic.self = cyclic;
  const { proxy: revoked, revoke } = Proxy.revocable({}, {});
  revoke();
  class Figures {
    calls = 1;
  }
  const cases: [string, Record<string, unknown>, string, RegExp][] = [
    ['undefined in an array', { list: [1, undefined] }, 'data.list.1', /undefined/],
    ['a hole in an array', { list: [1, , 3] }, 'data.list.1', /undefined/], // eslint-disable-line no-sparse-arrays
    ['a function', { fn: () => 1 }, 'data.fn', /function/],
    ['a symbol', { s: Symbol('s') }, 'data.s', /symbol/],
    ['a bigint', { big: 10n }, 'data.big', /bigint/],
    ['NaN', { rate: Number.NaN }, 'data.rate', /NaN/],
    ['Infinity', { rate: Number.POSITIVE_INFINITY }, 'data.rate', /Infinity/],
    ['a cycle', { loop: cyclic }, 'data.loop.self', /cycle/],
    ['a getter that throws', { get boom() { throw new Error('no access'); } }, 'data.boom', /cannot be read \(no access\)/],
    ['a revoked Proxy', { p: revoked }, 'data.p', /cannot be read/],
    ['a Map', { m: new Map([[1, 2]]) }, 'data.m', /a Map/],
    ['a class instance', { f: new Figures() }, 'data.f', /a Figures/],
    ['a toJSON that throws', { t: { toJSON: () => { throw new Error('bad toJSON'); } } }, 'data.t', /bad toJSON/],
  ];

  for (const [what, data, option, why] of cases) {
    it(`${what}: InvalidOptionError for \`${option}\`, nothing appended`, () => {
      const file = tempFile();
      const journal = new MigrationJournal({ store: new FileJournalStore(file), clock: new ManualClock() });
      let error: unknown;
      try {
        journal.record('note', { message: what, data });
      } catch (err) {
        error = err;
      }
      expect(error).toBeInstanceOf(InvalidOptionError);
      expect((error as InvalidOptionError).option).toBe(option);
      expect((error as Error).message).toMatch(why);
      expect(journal.entries()).toEqual([]);
      expect(fs.existsSync(file)).toBe(false);
    });
  }

  it('nesting deeper than 200 levels', () => {
    let deep: Record<string, unknown> = {};
    for (let i = 0; i < 10_000; i++) deep = { deep };
    const journal = new MigrationJournal({ clock: new ManualClock() });
    expect(() => journal.record('note', { data: deep })).toThrow(/nested deeper than 200 levels/);
    expect(journal.entries()).toEqual([]);
  });

  it('fields that are not an object, a top-level getter that throws, a revoked Proxy as the fields', () => {
    const journal = new MigrationJournal({ clock: new ManualClock() });
    expect(() => journal.record('note', 'text' as never)).toThrow(InvalidOptionError);
    expect(() => journal.record('note', [1] as never)).toThrow(/`fields`/);
    expect(() => journal.record('note', revoked as never)).toThrow(/`fields` cannot be recorded/);
    const getter = { get message(): string { throw new Error('nope'); } };
    expect(() => journal.record('note', getter)).toThrow(/option `message` cannot be recorded .*nope/);
    expect(journal.entries()).toEqual([]);
  });
});

describe('MigrationJournal.record with a clock reading a Date cannot hold', () => {
  it('stamps the entry with the system time instead of refusing it, as for a non-finite reading', () => {
    const clock = new ManualClock({ start: 9e15 });
    const journal = new MigrationJournal({ clock });
    expect(() => journal.record('note', { message: 'x' })).not.toThrow();
    expect(journal.entries()).toHaveLength(1);
  });

  it('uses the reading up to ±8.64e15 and the system time beyond it', () => {
    for (const reading of [8.64e15, -8.64e15, 0]) {
      expect(new MigrationJournal({ clock: { now: () => reading } }).record('note').at).toBe(reading);
    }
    for (const reading of [8.64e15 + 1, -9e15, Number.MAX_VALUE, Number.NaN, Number.NEGATIVE_INFINITY]) {
      const at = new MigrationJournal({ clock: { now: () => reading } }).record('note').at;
      expect(Math.abs(at - Date.now())).toBeLessThan(60_000);
    }
  });
});

describe('MigrationJournal.attach never throws into the glue', () => {
  /** A GlueLike whose emission does not catch: a listener that throws would reach the caller. */
  function bareGlue() {
    const stats = { config: phases.shadow(), shadow: { compared: 4, mismatched: 1, mismatchRate: 0.25 } };
    const listeners = new Map<string, (event: never) => void>();
    const glue: GlueLike = {
      name: 'bare',
      stats: () => stats as never,
      rollback: async () => true,
      on: ((event: string, listener: (event: never) => void) => {
        listeners.set(event, listener);
        return () => listeners.delete(event);
      }) as GlueLike['on'],
    };
    const emit = (event: string, payload: unknown) => listeners.get(event)?.(payload as never);
    return { glue, emit };
  }
  const change: ConfigChangeEvent = { migration: 'bare', before: phases.shadow(), after: phases.canary(5), at: 0 };
  const rollback: RollbackEvent = { migration: 'bare', reason: 'too slow', before: phases.canary(5), after: phases.preparation(), at: 0 };

  for (const reading of [9e15, -9e15, Number.NaN, Number.POSITIVE_INFINITY, 1_700_000_000_000]) {
    it(`records every event with a clock reading ${reading}`, () => {
      const { glue, emit } = bareGlue();
      const journal = new MigrationJournal({ clock: { now: () => reading } });
      journal.attach(glue);
      expect(() => emit('configChange', change)).not.toThrow();
      expect(() => emit('rollback', rollback)).not.toThrow();
      expect(journal.entries().map((e) => e.kind)).toEqual(['phase', 'phase', 'rollback']);
      expect(journal.entries()[1]?.data).toEqual({ shadow: { compared: 4, mismatched: 1, mismatchRate: 0.25 } });
    });
  }

  it('with a clock that throws, or a store that throws, the listeners log and return', () => {
    const { glue, emit } = bareGlue();
    const logger = recordingLogger();
    let failing = false;
    const store = {
      entries: [] as unknown[],
      append(entry: unknown) {
        if (failing) throw new Error('disk full');
        this.entries.push(entry);
      },
      load() {
        return this.entries as never;
      },
    };
    const journal = new MigrationJournal({ store, logger, clock: { now: () => { throw new Error('no clock'); } } });
    journal.attach(glue);
    failing = true;
    expect(() => emit('configChange', change)).not.toThrow();
    expect(() => emit('rollback', rollback)).not.toThrow();
    expect(logger.lines.filter((l) => l.level === 'error').map((l) => (l.context as { kind: string }).kind)).toEqual(['phase', 'rollback']);
  });
});
