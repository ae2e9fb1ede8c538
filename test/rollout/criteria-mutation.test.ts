import { describe, expect, it } from 'vitest';
import { defaultRollbackCriteria, percent, resolveCriteria } from '../../src/rollout/criteria.js';
import type { RollbackCriteria } from '../../src/rollout/criteria.js';

// src/rollout/criteria.ts: every criterion accepted exactly up to its bounds.

const refused = (criteria: Record<string, unknown>, name: string) => {
  expect(() => resolveCriteria(criteria as Partial<RollbackCriteria>)).toThrow(expect.objectContaining({ code: 'ERR_INVALID_OPTION', message: expect.stringContaining(`\`criteria.${name}\``) }));
};

describe('resolveCriteria', () => {
  it('gives the defaults, frozen, when nothing is set', () => {
    const resolved = resolveCriteria();
    expect(resolved).toEqual(defaultRollbackCriteria);
    expect(Object.isFrozen(resolved)).toBe(true);
    expect(resolveCriteria({})).toEqual({
      maxErrorRate: 0.01,
      maxErrorRateOverBaseline: 0.005,
      maxP95Ratio: 2,
      maxMismatchRate: 0.001,
      minSamples: 100,
      windowMs: 300_000,
      falseRollbackRate: 0.01,
      rampSteps: 8,
      maxInconclusiveMs: 259_200_000,
      onInconclusive: 'hold',
    });
    expect(Object.isFrozen(defaultRollbackCriteria)).toBe(true);
  });

  it('keeps what is set over the defaults', () => {
    expect(resolveCriteria({ maxErrorRate: 0.2, onInconclusive: 'rollback' })).toMatchObject({ maxErrorRate: 0.2, onInconclusive: 'rollback', minSamples: 100 });
  });

  describe.each(['maxErrorRate', 'maxErrorRateOverBaseline', 'maxMismatchRate'])('%s, a rate', (name) => {
    it('accepts 0 and 1', () => {
      expect(resolveCriteria({ [name]: 0 })[name as keyof RollbackCriteria]).toBe(0);
      expect(resolveCriteria({ [name]: 1 })[name as keyof RollbackCriteria]).toBe(1);
    });
    it.each([-0.0001, 1.0001, Number.NaN, '0.1'])('refuses %s', (value) => refused({ [name]: value }, name));
  });

  it('maxP95Ratio: at least 1, finite', () => {
    expect(resolveCriteria({ maxP95Ratio: 1 }).maxP95Ratio).toBe(1);
    for (const value of [0.999, Number.POSITIVE_INFINITY, Number.NaN, '2']) refused({ maxP95Ratio: value }, 'maxP95Ratio');
    expect(() => resolveCriteria({ maxP95Ratio: 0.5 })).toThrow(/a finite number of at least 1/);
  });

  it('minSamples: an integer of at least 1', () => {
    expect(resolveCriteria({ minSamples: 1 }).minSamples).toBe(1);
    for (const value of [0, 1.5, -1]) refused({ minSamples: value }, 'minSamples');
  });

  it.each(['windowMs', 'maxInconclusiveMs'])('%s: a positive number', (name) => {
    expect(resolveCriteria({ [name]: 0.5 })[name as keyof RollbackCriteria]).toBe(0.5);
    for (const value of [0, -1, Number.POSITIVE_INFINITY]) refused({ [name]: value }, name);
  });

  it('falseRollbackRate: above 0 and below 1', () => {
    for (const value of [1e-9, 0.5, 0.999]) expect(resolveCriteria({ falseRollbackRate: value }).falseRollbackRate).toBe(value);
    for (const value of [0, 1, Number.NaN, Number.POSITIVE_INFINITY, '0.1']) refused({ falseRollbackRate: value }, 'falseRollbackRate');
    expect(() => resolveCriteria({ falseRollbackRate: 1 })).toThrow(/a number above 0 and below 1/);
  });

  it('rampSteps: an integer from 1 to 1000', () => {
    expect(resolveCriteria({ rampSteps: 1 }).rampSteps).toBe(1);
    expect(resolveCriteria({ rampSteps: 1_000 }).rampSteps).toBe(1_000);
    for (const value of [0, 1_001, 2.5]) refused({ rampSteps: value }, 'rampSteps');
  });

  it("onInconclusive: 'hold' or 'rollback'", () => {
    expect(resolveCriteria({ onInconclusive: 'hold' }).onInconclusive).toBe('hold');
    expect(resolveCriteria({ onInconclusive: 'rollback' }).onInconclusive).toBe('rollback');
    for (const value of ['Hold', '', 'roll back', 1]) refused({ onInconclusive: value }, 'onInconclusive');
    expect(() => resolveCriteria({ onInconclusive: 'x' as 'hold' })).toThrow(/'hold' or 'rollback'/);
  });

  it('refuses an unknown criterion with the nearest name, naming the owner', () => {
    expect(() => resolveCriteria({ maxErrorRat: 0.1 } as Partial<RollbackCriteria>, 'TheOwner')).toThrow(/`criteria\.maxErrorRat` is not an option of TheOwner; did you mean `criteria\.maxErrorRate`\?/);
    expect(() => resolveCriteria({ maxErrorRat: 0.1 } as Partial<RollbackCriteria>)).toThrow(/of RollbackGuard/);
  });
});

describe('percent', () => {
  it.each([
    [0, '0 %'],
    [0.01, '1 %'],
    [0.0125, '1.25 %'],
    [0.123, '12.3 %'],
    [0.123456, '12.35 %'],
    [1, '100 %'],
  ])('shows %f as %s', (rate, shown) => {
    expect(percent(rate)).toBe(shown);
  });
});
