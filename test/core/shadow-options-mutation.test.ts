import { describe, expect, it } from 'vitest';
import { defaultShadowOptions, shadowSchema } from '../../src/core/shadow-options.js';
import { MigrationGlueError } from '../../src/index.js';
import { maxTimerMs } from '../../src/options.js';
import { parseOptions } from '../../src/option-schema.js';
import { z } from 'zod';

// src/core/shadow-options.ts: the `shadow` option's schema, its bounds,
// defaults and messages.

const schema = z.strictObject({ shadow: shadowSchema.nullable().optional() });

const parse = (shadow: unknown) => parseOptions(schema, { shadow }, 'MigrationGlue').shadow;

/** The message of the ERR_INVALID_OPTION that `shadow` is refused with, checking the option named. */
function refusal(shadow: unknown, option: string): string {
  let caught: unknown;
  try {
    parse(shadow);
  } catch (err) {
    caught = err;
  }
  expect(MigrationGlueError.is(caught, 'ERR_INVALID_OPTION')).toBe(true);
  expect(caught).toMatchObject({ option });
  return (caught as Error).message;
}

describe('shadow option defaults', () => {
  it('resolves every default', () => {
    expect(parse({})).toEqual({
      timeoutMs: 5_000,
      maxInFlight: 1_000,
      sampleRate: 1,
      order: 'parallel',
      isolateInput: 'clone',
      aa: false,
      rerunOldOnMismatch: false,
      logPerMinute: 10,
      logTotalPerMinute: 100,
    });
  });

  it('the defaults for a glue without the option are the same, with no clean hooks, frozen', () => {
    expect(defaultShadowOptions).toEqual({ ...parse({}), clean: {} });
    expect(Object.isFrozen(defaultShadowOptions)).toBe(true);
  });

  it('keeps what is given', () => {
    const given = {
      timeoutMs: 1,
      maxInFlight: 1,
      sampleRate: 0,
      order: 'random',
      isolateInput: 'none',
      aa: true,
      rerunOldOnMismatch: true,
      clean: null,
      logPerMinute: 0,
      logTotalPerMinute: 0,
    };
    expect(parse(given)).toEqual(given);
    for (const order of ['parallel', 'old-first', 'new-first', 'random']) expect(parse({ order })?.order).toBe(order);
    expect(parse({ isolateInput: 'clone' })?.isolateInput).toBe('clone');
    expect(parse({ timeoutMs: maxTimerMs, sampleRate: 1 })).toMatchObject({ timeoutMs: maxTimerMs, sampleRate: 1 });
    expect(parse({ maxInFlight: Number.MAX_SAFE_INTEGER, logPerMinute: Number.MAX_SAFE_INTEGER, logTotalPerMinute: Number.MAX_SAFE_INTEGER })).toMatchObject({
      maxInFlight: Number.MAX_SAFE_INTEGER,
    });
  });

  it('keeps the clean hooks given', () => {
    const input = (value: unknown) => value;
    const output = (value: unknown) => value;
    const error = (value: unknown) => value;
    expect(parse({ clean: { input, output, error } })?.clean).toEqual({ input, output, error });
    expect(parse({ clean: {} })?.clean).toEqual({});
  });
});

describe('shadow option bounds and messages', () => {
  it('timeoutMs: a number from 1 to the largest timer', () => {
    expect(refusal({ timeoutMs: 0.5 }, 'shadow.timeoutMs')).toBe(`[migration-glue] option \`shadow.timeoutMs\` must be a number from 1 to ${maxTimerMs}, got 0.5`);
    refusal({ timeoutMs: maxTimerMs + 1 }, 'shadow.timeoutMs');
    expect(parse({ timeoutMs: 1.5 })?.timeoutMs).toBe(1.5);
  });

  it('maxInFlight: an integer of at least 1', () => {
    expect(refusal({ maxInFlight: 0 }, 'shadow.maxInFlight')).toBe(
      `[migration-glue] option \`shadow.maxInFlight\` must be an integer from 1 to ${Number.MAX_SAFE_INTEGER}, got 0`,
    );
    refusal({ maxInFlight: 2.5 }, 'shadow.maxInFlight');
  });

  it('sampleRate: a number from 0 to 1', () => {
    expect(refusal({ sampleRate: 1.01 }, 'shadow.sampleRate')).toBe('[migration-glue] option `shadow.sampleRate` must be a number from 0 to 1, got 1.01');
    refusal({ sampleRate: -0.01 }, 'shadow.sampleRate');
    expect(parse({ sampleRate: 0.25 })?.sampleRate).toBe(0.25);
  });

  it('order and isolateInput: one of their names', () => {
    expect(refusal({ order: 'sideways' }, 'shadow.order')).toBe(
      '[migration-glue] option `shadow.order` must be \'parallel\', \'old-first\', \'new-first\' or \'random\', got "sideways"',
    );
    refusal({ order: '' }, 'shadow.order');
    expect(refusal({ isolateInput: 'deep' }, 'shadow.isolateInput')).toBe('[migration-glue] option `shadow.isolateInput` must be \'clone\' or \'none\', got "deep"');
  });

  it('aa and rerunOldOnMismatch: booleans', () => {
    refusal({ aa: 'yes' }, 'shadow.aa');
    refusal({ rerunOldOnMismatch: 1 }, 'shadow.rerunOldOnMismatch');
  });

  it('logPerMinute and logTotalPerMinute: integers of at least 0', () => {
    expect(refusal({ logPerMinute: -1 }, 'shadow.logPerMinute')).toBe(
      `[migration-glue] option \`shadow.logPerMinute\` must be an integer from 0 to ${Number.MAX_SAFE_INTEGER}, got -1`,
    );
    refusal({ logTotalPerMinute: 0.5 }, 'shadow.logTotalPerMinute');
  });

  it('clean: an object of functions', () => {
    expect(refusal({ clean: 'mask' }, 'shadow.clean')).toBe('[migration-glue] option `shadow.clean` must be an object { input?, output? }, got "mask"');
    for (const hook of ['input', 'output', 'error']) {
      expect(refusal({ clean: { [hook]: 'mask' } }, `shadow.clean.${hook}`)).toBe(`[migration-glue] option \`shadow.clean.${hook}\` must be a function, got "mask"`);
    }
  });

  it('the option itself: an object', () => {
    expect(refusal('fast', 'shadow')).toBe('[migration-glue] option `shadow` must be an object, got "fast"');
    expect(parse(null)).toBeNull();
  });

  it('an unknown name is refused with the nearest known one', () => {
    expect(refusal({ sampleRatio: 1 }, 'shadow.sampleRatio')).toMatch(/did you mean `shadow.sampleRate`\?/);
    expect(refusal({ clean: { inputs: () => 1 } }, 'shadow.clean.inputs')).toMatch(/did you mean `shadow.clean.input`\?/);
  });
});
