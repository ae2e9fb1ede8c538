import { describe, expect, it } from 'vitest';
import { MigrationConfigError } from '../../src/config/migration-config.js';
import { phases } from '../../src/config/phases.js';

// The phase table, field by field: each case is one a mutant of
// src/config/phases.ts would otherwise pass.

describe('phases', () => {
  it.each([
    ['preparation', phases.preparation(), { shadowMode: false, newSystemEnabled: false, newSystemPercentage: 0, fallbackEnabled: false }],
    ['shadow', phases.shadow(), { shadowMode: true, newSystemEnabled: true, newSystemPercentage: 100, fallbackEnabled: false }],
    ['canary(12.5)', phases.canary(12.5), { shadowMode: false, newSystemEnabled: true, newSystemPercentage: 12.5, fallbackEnabled: true }],
    ['full', phases.full(), { shadowMode: false, newSystemEnabled: true, newSystemPercentage: 100, fallbackEnabled: false }],
    ['rolledBack', phases.rolledBack(), { shadowMode: false, newSystemEnabled: false, newSystemPercentage: 0, fallbackEnabled: false }],
  ])('%s is exactly the four fields of the table, frozen', (_name, config, expected) => {
    expect(config).toStrictEqual(expected);
    expect(Object.isFrozen(config)).toBe(true);
  });

  it('refuses a canary outside 0..100 or with more than two decimals', () => {
    for (const bad of [-1, 100.01, 1.234, Number.NaN]) expect(() => phases.canary(bad)).toThrow(MigrationConfigError);
  });
});
