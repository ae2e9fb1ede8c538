import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { MigrationConfig } from '../../src/config/migration-config.js';
import { describeShare, inNewShare, newShare, newThreshold, phaseOf, shadowShare, shadowThreshold } from '../../src/core/routing.js';
import type { PhaseName } from '../../src/core/routing.js';
import { BUCKETS, bucketOf } from '../../src/hashing/hasher.js';

// The phase rule in one place: every combination of the four fields, the
// share new serves, the bucket threshold (rounded, so 0.07 % is 7 buckets,
// not 8) and the properties routing relies on: a key's answer depends only
// on its bucket and the config, and raising the percentage never moves a key
// back to old.

function config(
  newSystemEnabled: boolean,
  shadowMode: boolean,
  newSystemPercentage: number,
  fallbackEnabled = false,
): MigrationConfig {
  return { newSystemEnabled, shadowMode, newSystemPercentage, fallbackEnabled };
}

/** The rule as documented, written independently of the code under test. */
function expectedPhase(c: MigrationConfig): PhaseName {
  if (!c.newSystemEnabled) return 'preparation';
  if (c.newSystemPercentage === 0) return 'preparation';
  if (c.shadowMode) return 'shadow';
  return c.newSystemPercentage === 100 ? 'full' : 'canary';
}

const percentages = [0, 0.01, 0.07, 1, 25, 50, 99.99, 100] as const;
const booleans = [false, true] as const;

/** A percentage in steps of 0.01, as parseMigrationConfig accepts. */
const percentage = fc.integer({ min: 0, max: 10_000 }).map((hundredths) => hundredths / 100);
const bucket = fc.integer({ min: 0, max: BUCKETS - 1 });
const anyConfig = fc.record({
  newSystemEnabled: fc.boolean(),
  shadowMode: fc.boolean(),
  newSystemPercentage: percentage,
  fallbackEnabled: fc.boolean(),
});

describe('phaseOf', () => {
  const combinations = booleans.flatMap((enabled) =>
    booleans.flatMap((shadow) => booleans.flatMap((fallback) => percentages.map((pct) => config(enabled, shadow, pct, fallback)))),
  );

  it.each(combinations)('names the phase of %o', (c) => {
    expect(phaseOf(c)).toBe(expectedPhase(c));
  });

  it('is preparation whenever the kill switch is off, whatever the other fields say', () => {
    for (const shadow of booleans) {
      for (const pct of percentages) expect(phaseOf(config(false, shadow, pct))).toBe('preparation');
    }
  });

  it('is preparation at 0 %, even with new enabled and in shadow mode', () => {
    expect(phaseOf(config(true, false, 0))).toBe('preparation');
    expect(phaseOf(config(true, true, 0))).toBe('preparation');
  });

  it('is shadow in shadow mode at any share above 0, 100 % included', () => {
    expect(phaseOf(config(true, true, 0.01))).toBe('shadow');
    expect(phaseOf(config(true, true, 50))).toBe('shadow');
    expect(phaseOf(config(true, true, 100))).toBe('shadow');
  });

  it('is full only at exactly 100 %, canary just below', () => {
    expect(phaseOf(config(true, false, 100))).toBe('full');
    expect(phaseOf(config(true, false, 99.99))).toBe('canary');
    expect(phaseOf(config(true, false, 0.01))).toBe('canary');
  });

  it('ignores fallbackEnabled', () => {
    fc.assert(
      fc.property(anyConfig, (c) => {
        expect(phaseOf({ ...c, fallbackEnabled: !c.fallbackEnabled })).toBe(phaseOf(c));
        expect(phaseOf(c)).toBe(expectedPhase(c));
      }),
    );
  });
});

describe('newShare', () => {
  it('is 0 in preparation and shadow (old answers every call)', () => {
    expect(newShare(config(false, false, 50))).toBe(0);
    expect(newShare(config(false, false, 100))).toBe(0);
    expect(newShare(config(true, false, 0))).toBe(0);
    expect(newShare(config(true, true, 50))).toBe(0);
    expect(newShare(config(true, true, 100))).toBe(0);
  });

  it('is the percentage in canary and 100 in full', () => {
    expect(newShare(config(true, false, 0.01))).toBe(0.01);
    expect(newShare(config(true, false, 25))).toBe(25);
    expect(newShare(config(true, false, 99.99))).toBe(99.99);
    expect(newShare(config(true, false, 100))).toBe(100);
  });

  it('is the percentage exactly when the phase is canary or full', () => {
    fc.assert(
      fc.property(anyConfig, (c) => {
        const phase = phaseOf(c);
        expect(newShare(c)).toBe(phase === 'canary' || phase === 'full' ? c.newSystemPercentage : 0);
      }),
    );
  });
});

describe('newThreshold', () => {
  it('rounds the share to whole buckets: 0.07 % is 7 buckets, not 8', () => {
    // 0.07 * 100 is 7.000000000000001 in floating point.
    expect(0.07 * 100).not.toBe(7);
    expect(newThreshold(config(true, false, 0.07))).toBe(7);
    expect(newThreshold(config(true, false, 0.29))).toBe(29); // 28.999999999999996
    expect(newThreshold(config(true, false, 0.57))).toBe(57); // 56.99999999999999
  });

  it('is 0 in preparation and shadow, 10000 in full', () => {
    expect(newThreshold(config(false, false, 50))).toBe(0);
    expect(newThreshold(config(true, true, 50))).toBe(0);
    expect(newThreshold(config(true, false, 0))).toBe(0);
    expect(newThreshold(config(true, false, 100))).toBe(BUCKETS);
    expect(newThreshold(config(true, false, 0.01))).toBe(1);
    expect(newThreshold(config(true, false, 31.33))).toBe(3133);
  });

  it('is the integer number of hundredths for every canary percentage', () => {
    for (let hundredths = 1; hundredths < 10_000; hundredths++) {
      const threshold = newThreshold(config(true, false, hundredths / 100));
      if (threshold !== hundredths) expect.fail(`${hundredths / 100} % gave ${threshold}`);
    }
  });
});

describe('inNewShare', () => {
  it('sends a bucket exactly on the threshold to old, the one below to new', () => {
    expect(inNewShare(6, config(true, false, 0.07))).toBe(true);
    expect(inNewShare(7, config(true, false, 0.07))).toBe(false);
    expect(inNewShare(0, config(true, false, 0.01))).toBe(true);
    expect(inNewShare(1, config(true, false, 0.01))).toBe(false);
    expect(inNewShare(9999, config(true, false, 99.99))).toBe(false);
    expect(inNewShare(9998, config(true, false, 99.99))).toBe(true);
    expect(inNewShare(9999, config(true, false, 100))).toBe(true);
    expect(inNewShare(0, config(true, false, 0))).toBe(false);
  });

  it('sends no bucket to new in preparation or shadow', () => {
    fc.assert(
      fc.property(bucket, percentage, fc.boolean(), (b, pct, shadow) => {
        expect(inNewShare(b, config(false, shadow, pct))).toBe(false);
        expect(inNewShare(b, config(true, true, pct))).toBe(false);
      }),
    );
  });

  it('admits exactly newThreshold buckets, the lowest ones', () => {
    fc.assert(
      fc.property(anyConfig, bucket, (c, b) => {
        expect(inNewShare(b, c)).toBe(b < newThreshold(c));
      }),
    );
  });

  it('is monotonic in the percentage: raising it never moves a bucket back to old', () => {
    fc.assert(
      fc.property(bucket, percentage, percentage, (b, p, q) => {
        const [low, high] = p <= q ? [p, q] : [q, p];
        if (inNewShare(b, config(true, false, low))) expect(inNewShare(b, config(true, false, high))).toBe(true);
        if (!inNewShare(b, config(true, false, high))) expect(inNewShare(b, config(true, false, low))).toBe(false);
      }),
    );
  });

  it('is sticky: a key gets the same answer every time, and keeps it as the share grows', () => {
    fc.assert(
      fc.property(fc.string({ minLength: 1 }), fc.string({ minLength: 1 }), percentage, percentage, (key, salt, p, q) => {
        const [low, high] = p <= q ? [p, q] : [q, p];
        const c = config(true, false, low);
        const first = inNewShare(bucketOf(key, salt), c);
        expect(inNewShare(bucketOf(key, salt), { ...c })).toBe(first);
        if (first) expect(inNewShare(bucketOf(key, salt), config(true, false, high))).toBe(true);
      }),
    );
  });

  it('serves the share it names: the number of buckets in new is the percentage of 10000', () => {
    for (const pct of [0.07, 12.5, 33.33, 99.99]) {
      const c = config(true, false, pct);
      let inNew = 0;
      for (let b = 0; b < BUCKETS; b++) if (inNewShare(b, c)) inNew++;
      expect(inNew).toBe(Math.round(pct * 100));
    }
  });
});

describe('describeShare', () => {
  it('says "shadow" in shadow mode and the served share otherwise', () => {
    expect(describeShare(config(true, true, 25))).toBe('shadow');
    expect(describeShare(config(true, true, 100))).toBe('shadow');
    expect(describeShare(config(true, false, 25))).toBe('25 %');
    expect(describeShare(config(true, false, 0.07))).toBe('0.07 %');
    expect(describeShare(config(true, false, 100))).toBe('100 %');
    expect(describeShare(config(true, false, 0))).toBe('0 %');
    // the kill switch wins over shadow mode: nothing is shadowed
    expect(describeShare(config(false, true, 25))).toBe('0 %');
    expect(describeShare(config(false, false, 25))).toBe('0 %');
  });
});

describe('shadowShare and shadowThreshold', () => {
  it('is the configured share in shadow and 0 in every other phase', () => {
    expect(shadowShare(config(true, true, 25))).toBe(25);
    expect(shadowShare(config(true, true, 100))).toBe(100);
    expect(shadowShare(config(true, true, 0))).toBe(0); // preparation
    expect(shadowShare(config(false, true, 25))).toBe(0); // the kill switch wins
    expect(shadowShare(config(true, false, 25))).toBe(0); // canary: served, not shadowed
    expect(shadowShare(config(true, false, 100))).toBe(0);
  });

  it('rounds the shadowed share to whole buckets as newThreshold does', () => {
    expect(shadowThreshold(config(true, true, 0.07))).toBe(7);
    expect(shadowThreshold(config(true, true, 0.29))).toBe(29);
    expect(shadowThreshold(config(true, true, 100))).toBe(BUCKETS);
    expect(shadowThreshold(config(true, false, 50))).toBe(0);
    fc.assert(
      fc.property(anyConfig, (c) => {
        expect(shadowThreshold(c)).toBe(Math.round(shadowShare(c) * 100));
        // a key is never both served by new and shadowed
        expect(newThreshold(c) === 0 || shadowThreshold(c) === 0).toBe(true);
      }),
    );
  });
});
