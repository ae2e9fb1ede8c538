import { describe, expect, it } from 'vitest';
import { ArmRecorder } from '../../src/core/arm-recorder.js';
import type { GlueEvents, SettledEvent } from '../../src/index.js';
import { Emitter } from '../../src/observe/emitter.js';
import { ManualClock } from '../../src/testing/index.js';
import { recordingLogger } from '../helpers.js';

// src/core/arm-recorder.ts: every served call goes to its arm's figures,
// then to the `settled` event.

type Input = { userId?: string };

function recorder(windowMs = 60_000) {
  const clock = new ManualClock({ start: 0 });
  const emitter = new Emitter<GlueEvents<Input, string>>(recordingLogger());
  let keyReads = 0;
  const arms = new ArmRecorder<Input, string>({
    name: 'pricing',
    clock,
    windowMs,
    emitter,
    keyOf: (input) => {
      keyReads += 1;
      return input.userId;
    },
  });
  return { arms, emitter, clock, keyReads: () => keyReads };
}

describe('ArmRecorder', () => {
  it('records each call on its own arm, failures counted as errors', () => {
    const { arms } = recorder();
    arms.settled('old', {}, true, 'v', 10, 0);
    arms.settled('new', {}, false, new Error('x'), 20, 0);
    arms.settled('new', {}, true, 'v', 20, 0);
    const { old, new: fresh } = arms.stats(0);
    expect(old).toMatchObject({ calls: 1, errors: 0, window: { calls: 1, errors: 0 } });
    expect(fresh).toMatchObject({ calls: 2, errors: 1, errorRate: 0.5, window: { calls: 2, errors: 1 } });
  });

  it('counts a negative duration (a clock that stepped back) as 0, and keeps a positive one', () => {
    const { arms, emitter } = recorder();
    const settled: SettledEvent[] = [];
    emitter.on('settled', (event) => settled.push(event));
    arms.settled('old', { userId: 'a' }, true, 'v', -50, 0);
    arms.settled('old', { userId: 'b' }, true, 'v', 0, 0);
    arms.settled('new', { userId: 'c' }, true, 'v', 40, 0);
    expect(settled.map((event) => event.durationMs)).toEqual([0, 0, 40]);
    expect(arms.stats(0).old.p99).toBe(0);
    expect(arms.stats(0).new.p50).toBeGreaterThanOrEqual(40);
  });

  it('emits settled with the name, key, arm and outcome, reading the key only when someone listens', () => {
    const { arms, emitter, keyReads } = recorder();
    arms.settled('new', { userId: 'u0' }, true, 'v', 5, 0);
    expect(keyReads()).toBe(0);
    const settled: SettledEvent[] = [];
    emitter.on('settled', (event) => settled.push(event));
    arms.settled('new', { userId: 'u1' }, false, new Error('x'), 5, 0);
    expect(settled).toEqual([{ migration: 'pricing', key: 'u1', arm: 'new', ok: false, durationMs: 5 }]);
    expect(keyReads()).toBe(1);
  });

  it('moves both windows to the reading it is given', () => {
    const { arms } = recorder(10_000);
    arms.settled('old', {}, true, 'v', 1, 0);
    arms.settled('new', {}, true, 'v', 1, 0);
    expect(arms.stats(5_000).old.window.calls).toBe(1);
    expect(arms.stats(5_000).new.window.calls).toBe(1);
    const later = arms.stats(60_000);
    expect(later.old).toMatchObject({ calls: 1, window: { calls: 0 } });
    expect(later.new).toMatchObject({ calls: 1, window: { calls: 0 } });
  });
});
