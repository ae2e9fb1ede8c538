import { OpenFeature } from '@openfeature/server-sdk';
import { describe, expect, it } from 'vitest';
import { openFeatureConfigProvider } from '../../src/openfeature/index.js';

describe('openFeatureConfigProvider options, strict', () => {
  it('refuses an unknown option and suggests the nearest name', () => {
    expect(() => openFeatureConfigProvider({ client: OpenFeature.getClient(), flagKey: 'f', flagkey: 'g' } as never)).toThrow(
      expect.objectContaining({ code: 'ERR_INVALID_OPTION', option: 'flagkey', message: expect.stringMatching(/did you mean `flagKey`\?/) }),
    );
  });

  it('names a bad context or logger', () => {
    expect(() => openFeatureConfigProvider({ client: OpenFeature.getClient(), flagKey: 'f', context: 'x' as never })).toThrow(/option `context`/);
    expect(() => openFeatureConfigProvider({ client: OpenFeature.getClient(), flagKey: 'f', logger: {} as never })).toThrow(/option `logger`/);
  });
});
