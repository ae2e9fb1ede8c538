import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { MigrationConfigError, parseMigrationConfig, phaseOf, phases } from '../../src/index.js';

const validConfig = fc.record({
  shadowMode: fc.boolean(),
  newSystemEnabled: fc.boolean(),
  newSystemPercentage: fc.integer({ min: 0, max: 10_000 }).map((n) => n / 100),
  fallbackEnabled: fc.boolean(),
});

function issuesOf(value: unknown): readonly { path: string; message: string }[] {
  try {
    parseMigrationConfig(value);
  } catch (err) {
    expect(err).toBeInstanceOf(MigrationConfigError);
    return (err as MigrationConfigError).issues;
  }
  throw new Error('expected parseMigrationConfig to throw');
}

describe('parseMigrationConfig', () => {
  it('round-trips every config the schema accepts', () => {
    fc.assert(
      fc.property(validConfig, (config) => {
        const parsed = parseMigrationConfig(config);
        expect(parsed).toEqual(config);
        expect(parseMigrationConfig(JSON.parse(JSON.stringify(parsed)))).toEqual(config);
        expect(Object.isFrozen(parsed)).toBe(true);
      }),
    );
  });

  it('names the field for every invalid value of each field', () => {
    const badPercentage = fc.oneof(
      fc.double({ min: 100.01, max: 1e9, noNaN: true }),
      fc.double({ min: -1e9, max: -0.01, noNaN: true }),
      fc.constant(Number.NaN),
      fc.constant(Number.POSITIVE_INFINITY),
      fc.integer({ min: 0, max: 9_999 }).map((n) => n / 100 + 0.001),
      fc.string(),
      fc.constant(null),
      fc.constant(undefined),
      fc.boolean(),
    );
    const badFlag = fc.oneof(fc.string(), fc.integer(), fc.constant(null), fc.constant(undefined), fc.constant('true'));
    const field = fc.constantFrom('shadowMode', 'newSystemEnabled', 'fallbackEnabled');
    fc.assert(
      fc.property(validConfig, badPercentage, (config, value) => {
        const issues = issuesOf({ ...config, newSystemPercentage: value });
        expect(issues.map((i) => i.path)).toEqual(['newSystemPercentage']);
      }),
    );
    fc.assert(
      fc.property(validConfig, field, badFlag, (config, name, value) => {
        const issues = issuesOf({ ...config, [name]: value });
        expect(issues.map((i) => i.path)).toEqual([name]);
      }),
    );
  });

  it('names every bad field at once, in the message too', () => {
    const err = (() => {
      try {
        parseMigrationConfig({ shadowMode: 'yes', newSystemPercentage: 150 });
      } catch (e) {
        return e as MigrationConfigError;
      }
      throw new Error('no error');
    })();
    expect(err.code).toBe('ERR_INVALID_CONFIG');
    expect(err.issues.map((i) => i.path).sort()).toEqual(['fallbackEnabled', 'newSystemEnabled', 'newSystemPercentage', 'shadowMode']);
    expect(err.message).toContain('`newSystemPercentage` must be at most 100, got 150');
    expect(err.message).toContain('`shadowMode` must be true or false, got string');
    expect(err.message).toContain('`fallbackEnabled` is required');
  });

  it('explains NaN, infinities and extra decimals', () => {
    expect(issuesOf({ ...phases.full(), newSystemPercentage: Number.NaN })[0]?.message).toContain('NaN');
    expect(issuesOf({ ...phases.full(), newSystemPercentage: Number.POSITIVE_INFINITY })[0]?.message).toContain('Infinity');
    expect(issuesOf({ ...phases.full(), newSystemPercentage: 12.345 })[0]?.message).toContain('two decimals');
  });

  it('refuses a value that is not an object', () => {
    for (const value of [null, undefined, 42, 'full', [1, 2]]) {
      expect(issuesOf(value)[0]?.path).toBe('(root)');
    }
  });

  it('accepts shadow mode with a percentage below 100 (shadows only that share of keys)', () => {
    expect(parseMigrationConfig({ ...phases.shadow(), newSystemPercentage: 10 }).newSystemPercentage).toBe(10);
  });

  it('drops unknown fields', () => {
    expect(parseMigrationConfig({ ...phases.full(), note: 'x' })).toEqual(phases.full());
  });
});

describe('phases', () => {
  it('returns the configs of the phase table', () => {
    expect(phases.preparation()).toEqual({ shadowMode: false, newSystemEnabled: false, newSystemPercentage: 0, fallbackEnabled: false });
    expect(phases.shadow()).toEqual({ shadowMode: true, newSystemEnabled: true, newSystemPercentage: 100, fallbackEnabled: false });
    expect(phases.canary(5)).toEqual({ shadowMode: false, newSystemEnabled: true, newSystemPercentage: 5, fallbackEnabled: true });
    expect(phases.full()).toEqual({ shadowMode: false, newSystemEnabled: true, newSystemPercentage: 100, fallbackEnabled: false });
  });

  it('refuses a canary percentage out of range', () => {
    expect(() => phases.canary(101)).toThrow(MigrationConfigError);
    expect(() => phases.canary(-1)).toThrow(/newSystemPercentage/);
  });

  it('names the phase of a config', () => {
    expect(phaseOf(phases.preparation())).toBe('preparation');
    expect(phaseOf(phases.shadow())).toBe('shadow');
    expect(phaseOf(phases.canary(25))).toBe('canary');
    expect(phaseOf(phases.full())).toBe('full');
  });
});
