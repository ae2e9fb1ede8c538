import { metrics } from '@opentelemetry/api';
import { describe, expect, it } from 'vitest';
import { MigrationGlue, phases, silentLogger } from '../../src/index.js';
import { instrumentGlue } from '../../src/otel/index.js';

describe('instrumentGlue options, strict', () => {
  const glue = new MigrationGlue({ name: 'otel', oldService: async () => 1, newService: async () => 2, config: phases.preparation(), logger: silentLogger });
  const meter = metrics.getMeter('noop');

  it('refuses an unknown option and suggests the nearest name', () => {
    expect(() => instrumentGlue(glue, { meter, prefx: 'shop' } as never)).toThrow(
      expect.objectContaining({ code: 'ERR_INVALID_OPTION', option: 'prefx', message: expect.stringMatching(/did you mean `prefix`\?/) }),
    );
  });

  it('names missing options as not an object', () => {
    expect(() => instrumentGlue(glue, undefined as never)).toThrow(/option `options` must be an object/);
  });
});
