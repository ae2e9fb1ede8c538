import { afterEach, describe, expect, it, vi } from 'vitest';
import { phases } from '../../src/config/phases.js';
import type { RampState } from '../../src/config/ramp-state.js';
import {
  canonicalJson,
  emptyRampState,
  isRampStateStore,
  maxApprovals,
  nextRevision,
  parseRampState,
  rollbackFlag,
  sameRampState,
} from '../../src/config/ramp-state.js';

// The ramp state as stored beside the config: every limit of its schema and
// every rule of the helpers, each one a mutant of src/config/ramp-state.ts
// would otherwise pass.

const base: RampState = { revision: 3, stepRevision: 2, step: 0, blockedBy: null, approvals: [], updatedAt: 1000 };
const long = (n: number) => 'x'.repeat(n);
const approval = { percentage: 5, by: 'ops', at: 1, revision: 0 };
const rollback = { at: 1, by: 'guard', reason: 'errors', percentage: 5 };
const verdict = { verdict: 'pass', reasons: [], at: 1 };

afterEach(() => {
  vi.useRealTimers();
});

describe('parseRampState at every limit', () => {
  const cases: readonly [field: string, accepted: readonly unknown[], refused: readonly unknown[]][] = [
    ['revision', [0, 5, 1e6], [-1, 1.5, '1', undefined]],
    ['stepRevision', [0, 5, 1e6], [-1, 1.5, '1', undefined]],
    [
      'plan',
      [undefined, [], [{ percentage: 0, holdMs: 0 }, { percentage: 50, holdMs: 1e9 }, { percentage: 100, holdMs: 5 }], Array(1000).fill({ percentage: 5, holdMs: 5 })],
      [[{ percentage: -1, holdMs: 0 }], [{ percentage: 101, holdMs: 0 }], [{ percentage: 5, holdMs: -1 }], [{ percentage: 5 }], [{ holdMs: 5 }], Array(1001).fill({ percentage: 5, holdMs: 5 }), 'plan'],
    ],
    ['step', [-1, 0, 7], [-2, 0.5, undefined]],
    ['since', [undefined, 0, -5, 1e12], [Number.POSITIVE_INFINITY, Number.NaN, '1']],
    ['nextAt', [undefined, 0, -5, 1e12], [Number.NEGATIVE_INFINITY, Number.NaN, '1']],
    ['blockedBy', [null, 'hold', 'approval', 'guard', 'samples', 'paused', 'rolledBack', 'done'], ['other', '', undefined]],
    ['reasons', [undefined, [], [long(2000)], Array(50).fill('r')], [[long(2001)], Array(51).fill('r'), [1]]],
    [
      'pendingApproval',
      [undefined, { step: 1, percentage: 5, requestedAt: 0 }, { step: -3, percentage: 250, requestedAt: -1 }],
      [{ step: 1.5, percentage: 5, requestedAt: 0 }, { step: 1, percentage: '5', requestedAt: 0 }, { step: 1, percentage: 5, requestedAt: Number.POSITIVE_INFINITY }, { step: 1, percentage: 5 }, {}],
    ],
    [
      'approvals',
      [[], [approval], [{ ...approval, comment: long(2000), by: long(2000), percentage: -7 }], Array(1000).fill(approval)],
      [
        undefined,
        Array(1001).fill(approval),
        [{ ...approval, revision: -1 }],
        [{ ...approval, revision: 0.5 }],
        [{ ...approval, by: long(2001) }],
        [{ ...approval, comment: long(2001) }],
        [{ ...approval, at: Number.POSITIVE_INFINITY }],
        [{ ...approval, percentage: '5' }],
        [{ by: 'ops', at: 1, revision: 0 }],
      ],
    ],
    [
      'paused',
      [undefined, { by: 'ops', at: 1 }, { by: long(2000), at: 1, reason: long(2000) }],
      [{ by: 'ops' }, { at: 1 }, { by: long(2001), at: 1 }, { by: 'ops', at: 1, reason: long(2001) }, { by: 'ops', at: Number.NaN }],
    ],
    [
      'lastRollback',
      [undefined, rollback, { ...rollback, revision: 0 }, { ...rollback, by: long(2000), reason: long(2000), percentage: 300 }],
      [
        { ...rollback, revision: -1 },
        { ...rollback, revision: 1.5 },
        { at: 1, by: 'guard', percentage: 5 },
        { at: 1, reason: 'errors', percentage: 5 },
        { at: 1, by: 'guard', reason: 'errors' },
        { ...rollback, at: Number.POSITIVE_INFINITY },
        { ...rollback, by: long(2001) },
        { ...rollback, reason: long(2001) },
      ],
    ],
    ['rolledBack', [undefined, true, false], ['yes', 1]],
    [
      'verdict',
      [undefined, verdict, { ...verdict, verdict: 'fail' }, { ...verdict, verdict: 'inconclusive', reasons: Array(50).fill(long(2000)) }],
      [
        { ...verdict, verdict: 'maybe' },
        { ...verdict, reasons: Array(51).fill('r') },
        { ...verdict, reasons: [long(2001)] },
        { ...verdict, at: Number.POSITIVE_INFINITY },
        { verdict: 'pass', at: 1 },
        { verdict: 'pass', reasons: [] },
      ],
    ],
    ['updatedAt', [0, -1, 1e12], [undefined, Number.POSITIVE_INFINITY, '0']],
  ];

  describe.each(cases)('%s', (field, accepted, refused) => {
    it.each(accepted.map((value) => [value]))('accepts %j', (value) => {
      const parsed = parseRampState({ ...base, [field]: value });
      expect(parsed).toBeDefined();
      expect((parsed as unknown as Record<string, unknown>)[field]).toEqual(value);
    });

    it.each(refused.map((value) => [value]))('refuses %j', (value) => {
      expect(parseRampState({ ...base, [field]: value })).toBeUndefined();
    });
  });

  it('accepts every field at once and returns it as given, dropping unknown fields', () => {
    const full: RampState = {
      ...base,
      plan: [{ percentage: 5, holdMs: 10 }],
      since: 1,
      nextAt: 2,
      blockedBy: 'approval',
      reasons: ['slow'],
      pendingApproval: { step: 0, percentage: 5, requestedAt: 3 },
      approvals: [{ ...approval, comment: 'ok' }],
      paused: { by: 'ops', at: 4, reason: 'lunch' },
      lastRollback: { ...rollback, revision: 1 },
      rolledBack: true,
      verdict: { verdict: 'fail', reasons: ['errors'], at: 5 },
    };
    expect(parseRampState({ ...full, newerField: 1 })).toEqual(full);
  });

  it('refuses what is not an object', () => {
    for (const value of [null, undefined, 'ramp', 5, []]) expect(parseRampState(value)).toBeUndefined();
  });
});

describe('the ramp state helpers', () => {
  it('starts from revision 0, step -1, nothing blocking, no approvals', () => {
    expect(emptyRampState()).toEqual({ revision: 0, stepRevision: 0, step: -1, blockedBy: null, approvals: [], updatedAt: 0 });
    expect(emptyRampState()).not.toBe(emptyRampState());
    expect(parseRampState(emptyRampState())).toEqual(emptyRampState());
  });

  it('keeps the latest 50 approvals', () => {
    expect(maxApprovals).toBe(50);
  });

  it('numbers the next revision after the stored one, stamped now', () => {
    const after = { ...base, revision: 41 };
    expect(nextRevision({ ...base, revision: 2, step: 4 }, after, 777)).toEqual({ ...base, revision: 42, step: 4, updatedAt: 777 });
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(123_456);
    expect(nextRevision(base, after).updatedAt).toBe(123_456);
  });

  it('calls two states the same when only revision and updatedAt differ, whatever the key order', () => {
    expect(sameRampState(base, { ...base, revision: 99, updatedAt: 5 })).toBe(true);
    const reordered = { updatedAt: 1, approvals: [], blockedBy: null, step: 0, stepRevision: 2, revision: 3 } as RampState;
    expect(sameRampState(base, reordered)).toBe(true);
    expect(sameRampState(base, { ...base, paused: undefined })).toBe(true);
    expect(sameRampState(base, { ...base, step: 1 })).toBe(false);
    expect(sameRampState(base, { ...base, stepRevision: 3 })).toBe(false);
    expect(sameRampState(base, { ...base, paused: { by: 'ops', at: 1 } })).toBe(false);
    expect(sameRampState({ ...base, reasons: ['a', 'b'] }, { ...base, reasons: ['b', 'a'] })).toBe(false);
  });

  it('writes canonical JSON: keys sorted at every depth, undefined members left out, arrays and null kept', () => {
    expect(canonicalJson({ b: 1, a: { d: 2, c: 3 }, e: undefined })).toBe('{"a":{"c":3,"d":2},"b":1}');
    expect(canonicalJson({ c: 1, a: 2, b: 3 })).toBe('{"a":2,"b":3,"c":1}');
    expect(canonicalJson({ z: [3, 1, { y: 1, x: 2 }], n: null })).toBe('{"n":null,"z":[3,1,{"x":2,"y":1}]}');
    expect(canonicalJson([2, 1])).toBe('[2,1]');
    expect(canonicalJson('text')).toBe('"text"');
  });

  it('flags a rollback saved over a config that used new, or over a rollback already flagged', () => {
    const off = phases.rolledBack();
    expect(rollbackFlag(off, phases.canary(5), false)).toBe(true);
    expect(rollbackFlag(off, phases.shadow(), false)).toBe(true);
    // Enabled at 0 %, or disabled at a percentage: either way new was in the config.
    expect(rollbackFlag(off, { ...phases.canary(5), newSystemPercentage: 0 }, false)).toBe(true);
    expect(rollbackFlag(off, { ...off, newSystemPercentage: 10 }, false)).toBe(true);
    expect(rollbackFlag(off, phases.preparation(), false)).toBe(false);
    expect(rollbackFlag(off, phases.preparation(), true)).toBe(true);
    // What is saved must itself send nothing to new.
    expect(rollbackFlag(phases.canary(5), phases.full(), true)).toBe(false);
    expect(rollbackFlag({ ...off, newSystemEnabled: true }, phases.full(), true)).toBe(false);
    expect(rollbackFlag({ ...off, newSystemPercentage: 10 }, phases.full(), true)).toBe(false);
  });
});

describe('isRampStateStore', () => {
  const methods = { current: () => phases.shadow(), subscribe: () => () => {}, save: async () => {}, rampState: () => base, rolledBack: () => false, updateRamp: async () => base, subscribeRamp: () => () => {} };

  it('is true only for an object with rampState, rolledBack, updateRamp and subscribeRamp', () => {
    expect(isRampStateStore(methods)).toBe(true);
    for (const name of ['rampState', 'rolledBack', 'updateRamp', 'subscribeRamp'] as const) {
      expect(isRampStateStore({ ...methods, [name]: undefined })).toBe(false);
      expect(isRampStateStore({ ...methods, [name]: 'yes' })).toBe(false);
    }
  });

  it('is false for null, a primitive, a function and an object whose getters throw', () => {
    expect(isRampStateStore(null)).toBe(false);
    expect(isRampStateStore(undefined)).toBe(false);
    expect(isRampStateStore('store')).toBe(false);
    expect(isRampStateStore(Object.assign(() => {}, methods))).toBe(false);
    const trapped = new Proxy(methods, {
      get() {
        throw new Error('trap');
      },
    });
    expect(isRampStateStore(trapped)).toBe(false);
  });
});
