import { afterEach, describe, expect, it, vi } from 'vitest';
import type { MigrationConfig } from '../../src/config/migration-config.js';
import type { GlueEvents, ShadowSkippedEvent } from '../../src/core/events.js';
import { ShadowAdmission } from '../../src/core/shadow-admission.js';
import type { Hasher } from '../../src/hashing/hasher.js';
import { Emitter } from '../../src/observe/emitter.js';
import { LogLimiter } from '../../src/observe/log-limiter.js';
import { phases } from '../../src/index.js';
import { recordingLogger } from '../helpers.js';

// src/core/shadow-admission.ts: which shadow calls are also sent to new. A
// hasher that reads the bucket from the key places each key exactly: the
// key `b1234` is in bucket 1234 under the routing salt, and `s1234` is in
// bucket 1234 under the sampling salt (`<salt>:sample`); any other
// combination lands in bucket 9999.

const placing: Hasher = {
  hash32(bytes) {
    const text = new TextDecoder().decode(bytes);
    const routing = /^glue-salt:b(\d+)$/.exec(text);
    if (routing) return Number(routing[1]);
    const sampling = /^glue-salt:sample:s(\d+)$/.exec(text);
    if (sampling) return Number(sampling[1]);
    return 9_999;
  },
};

const shadowAt = (percentage: number): MigrationConfig => ({ shadowMode: true, newSystemEnabled: true, newSystemPercentage: percentage, fallbackEnabled: false });

function admission(options: { sampleRate?: number; maxInFlight?: number; hasher?: Hasher; listen?: boolean } = {}) {
  const logger = recordingLogger();
  const emitter = new Emitter<GlueEvents<unknown, unknown>>(logger);
  const skipped: ShadowSkippedEvent[] = [];
  if (options.listen !== false) emitter.on('shadowSkipped', (event) => void skipped.push(event));
  const admit = new ShadowAdmission<unknown, unknown>({
    name: 'pricing',
    salt: 'glue-salt',
    hasher: options.hasher ?? placing,
    sampleRate: options.sampleRate ?? 1,
    maxInFlight: options.maxInFlight ?? 10,
    emitter,
    log: new LogLimiter(logger, { now: () => 0 }),
  });
  return { admit, skipped, logger };
}

const none = { sampledOut: 0, overCapacity: 0, missingKey: 0, outsidePercentage: 0 };

afterEach(() => {
  vi.restoreAllMocks();
});

describe('ShadowAdmission: the compared share', () => {
  it('at 100 % admits every call, with or without a key, and counts nothing', () => {
    const { admit, skipped } = admission();
    expect(admit.admit(undefined, phases.shadow(), 0)).toBe(true);
    expect(admit.admit('b9999', phases.shadow(), 0)).toBe(true);
    expect(admit.skipped()).toEqual(none);
    expect(skipped).toEqual([]);
  });

  it('below 100 % admits keys whose bucket is below the share and skips the bucket on its edge', () => {
    const { admit, skipped } = admission();
    expect(admit.admit('b2499', shadowAt(25), 0)).toBe(true);
    expect(admit.admit('b2500', shadowAt(25), 0)).toBe(false);
    expect(admit.admit('b0', shadowAt(0.01), 0)).toBe(true);
    expect(admit.admit('b1', shadowAt(0.01), 0)).toBe(false);
    expect(admit.skipped()).toEqual({ ...none, outsidePercentage: 2 });
    expect(skipped).toEqual([
      { migration: 'pricing', key: 'b2500', reason: 'outside-percentage' },
      { migration: 'pricing', key: 'b1', reason: 'outside-percentage' },
    ]);
  });

  it('at 99.99 % still needs a key', () => {
    const { admit, skipped } = admission();
    expect(admit.admit('b9998', shadowAt(99.99), 0)).toBe(true);
    expect(admit.admit(undefined, shadowAt(99.99), 0)).toBe(false);
    expect(admit.skipped()).toEqual({ ...none, missingKey: 1 });
    expect(skipped).toEqual([{ migration: 'pricing', key: undefined, reason: 'missing-key' }]);
  });

  it('skips every call outside the shadow phase (its compared share is 0)', () => {
    const { admit } = admission();
    expect(admit.admit('b0', phases.canary(50), 0)).toBe(false);
    expect(admit.skipped()).toEqual({ ...none, outsidePercentage: 1 });
  });
});

describe('ShadowAdmission: sampling', () => {
  it('admits keys whose sampling bucket is below sampleRate, by the sampling salt', () => {
    const { admit, skipped } = admission({ sampleRate: 0.25 });
    expect(admit.admit('s2499', phases.shadow(), 0)).toBe(true);
    expect(admit.admit('s2500', phases.shadow(), 0)).toBe(false);
    expect(admit.admit('s0', phases.shadow(), 0)).toBe(true);
    // b0 is in bucket 0 under the routing salt, but 9999 under the sampling one
    expect(admit.admit('b0', phases.shadow(), 0)).toBe(false);
    expect(admit.skipped()).toEqual({ ...none, sampledOut: 2 });
    expect(skipped.map((e) => [e.key, e.reason])).toEqual([
      ['s2500', 'sampled-out'],
      ['b0', 'sampled-out'],
    ]);
  });

  it('rounds sampleRate to whole buckets', () => {
    const { admit } = admission({ sampleRate: 0.00014 });
    expect(admit.admit('s0', phases.shadow(), 0)).toBe(true);
    expect(admit.admit('s1', phases.shadow(), 0)).toBe(false);
    const up = admission({ sampleRate: 0.00016 }).admit;
    expect(up.admit('s1', phases.shadow(), 0)).toBe(true);
    expect(up.admit('s2', phases.shadow(), 0)).toBe(false);
  });

  it('at a sampleRate of 1 never draws', () => {
    const random = vi.spyOn(Math, 'random');
    const { admit } = admission({ sampleRate: 1 });
    expect(admit.admit('s9999', phases.shadow(), 0)).toBe(true);
    expect(admit.admit(undefined, phases.shadow(), 0)).toBe(true);
    expect(random).not.toHaveBeenCalled();
  });

  it('without a key, a random draw decides against the sample threshold', () => {
    const { admit, skipped } = admission({ sampleRate: 0.5 });
    const random = vi.spyOn(Math, 'random');
    random.mockReturnValueOnce(0.49995);
    expect(admit.admit(undefined, phases.shadow(), 0)).toBe(true);
    random.mockReturnValueOnce(0.5);
    expect(admit.admit(undefined, phases.shadow(), 0)).toBe(false);
    expect(random).toHaveBeenCalledTimes(2);
    expect(skipped).toEqual([{ migration: 'pricing', key: undefined, reason: 'sampled-out' }]);
  });

  it('a key outside the compared share is skipped for that reason before sampling is asked', () => {
    const { admit } = admission({ sampleRate: 0.5 });
    expect(admit.admit('s0', shadowAt(50), 0)).toBe(false);
    expect(admit.skipped()).toEqual({ ...none, outsidePercentage: 1 });
  });
});

describe('ShadowAdmission: maxInFlight', () => {
  it('admits while fewer than maxInFlight are in flight', () => {
    const { admit, skipped } = admission({ maxInFlight: 2 });
    expect(admit.admit('k', phases.shadow(), 1)).toBe(true);
    expect(admit.admit('k', phases.shadow(), 2)).toBe(false);
    expect(admit.admit('k', phases.shadow(), 3)).toBe(false);
    expect(admit.skipped()).toEqual({ ...none, overCapacity: 2 });
    expect(skipped[0]).toEqual({ migration: 'pricing', key: 'k', reason: 'over-capacity' });
  });

  it('a sampled-out call is counted as sampled out, not over capacity', () => {
    const { admit } = admission({ maxInFlight: 1, sampleRate: 0.5 });
    expect(admit.admit('s9000', phases.shadow(), 5)).toBe(false);
    expect(admit.skipped()).toEqual({ ...none, sampledOut: 1 });
  });
});

describe('ShadowAdmission: counting and failures', () => {
  it('counts every reason apart and returns a copy', () => {
    const { admit } = admission({ maxInFlight: 1, sampleRate: 0.5 });
    admit.admit(undefined, shadowAt(50), 0);
    admit.admit('b6000', shadowAt(50), 0);
    admit.admit('b6000', shadowAt(50), 0);
    admit.admit('s9000', phases.shadow(), 0);
    admit.admit('s9000', phases.shadow(), 0);
    admit.admit('s9000', phases.shadow(), 0);
    for (let i = 0; i < 4; i++) admit.admit('s1', phases.shadow(), 1);
    const counted = admit.skipped();
    expect(counted).toEqual({ missingKey: 1, outsidePercentage: 2, sampledOut: 3, overCapacity: 4 });
    (counted as { overCapacity: number }).overCapacity = 100;
    expect(admit.skipped().overCapacity).toBe(4);
  });

  it('still counts skips when nobody listens to shadowSkipped', () => {
    const { admit } = admission({ listen: false, maxInFlight: 1 });
    expect(admit.admit('k', phases.shadow(), 1)).toBe(false);
    expect(admit.skipped()).toEqual({ ...none, overCapacity: 1 });
  });

  it('a hasher that throws: not admitted, a warning, never a throw', () => {
    const throwing: Hasher = {
      hash32() {
        throw new Error('hasher broke');
      },
    };
    const { admit, logger } = admission({ hasher: throwing });
    expect(admit.admit('b1', shadowAt(50), 0)).toBe(false);
    expect(logger.lines).toHaveLength(1);
    expect(logger.lines[0]).toMatchObject({ level: 'warn', message: 'shadow admission failed (the hasher threw); old serves unshadowed', context: { migration: 'pricing' } });
    expect((logger.lines[0]?.context as { err?: Error }).err?.message).toBe('hasher broke');
  });
});
