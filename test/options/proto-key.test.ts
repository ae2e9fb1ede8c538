import { z } from 'zod';
import { describe, expect, it } from 'vitest';
import { option, parseOptions } from '../../src/option-schema.js';

// JSON.parse makes an own `__proto__` key; zod's strict check lets it through, parseOptions must not.
const schema = z.strictObject({ limit: option.positiveInteger().optional(), nested: option.object({ depth: option.positiveInteger().optional() }).optional() });

function refusal(value: unknown): { code?: string; option?: string } {
  try {
    parseOptions(schema, value, 'the test');
  } catch (err) {
    return err as { code?: string; option?: string };
  }
  return {};
}

describe('parseOptions and an own __proto__ key', () => {
  it('refuses it at the top level, naming it', () => {
    expect(refusal(JSON.parse('{"__proto__": {"limit": 1}}'))).toMatchObject({ code: 'ERR_INVALID_OPTION', option: '__proto__' });
  });

  it('refuses it in a nested options object, naming its path', () => {
    expect(refusal(JSON.parse('{"nested": {"__proto__": {"depth": 1}}}'))).toMatchObject({ code: 'ERR_INVALID_OPTION', option: 'nested.__proto__' });
  });

  it('accepts the same options without it', () => {
    expect(parseOptions(schema, JSON.parse('{"nested": {"depth": 2}}'), 'the test')).toEqual({ nested: { depth: 2 } });
  });
});

describe('parseOptions and a misspelt required option', () => {
  it('names the misspelling and suggests the real name, rather than calling it missing', () => {
    const required = z.strictObject({ name: option.string(), limit: option.positiveInteger().optional() });
    let thrown: { option?: string; message?: string } = {};
    try {
      parseOptions(required, { nme: 'x' }, 'the test');
    } catch (err) {
      thrown = err as typeof thrown;
    }
    expect(thrown.option).toBe('nme');
    expect(thrown.message).toContain('did you mean `name`?');
  });
});
