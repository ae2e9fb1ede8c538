import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { ArmMetrics } from '../../src/observe/arm-metrics.js';
import { loggerOption, silentLogger } from '../../src/observe/logger.js';
import { notifierOption } from '../../src/observe/notifier.js';
import { parseOptions } from '../../src/option-schema.js';

const schema = (fallback: 'pino' | 'silent') => z.strictObject({ logger: loggerOption(fallback), notifier: notifierOption() });

describe('loggerOption and notifierOption', () => {
  it('resolve an absent logger to silentLogger for stores and to a pino logger for glues', () => {
    expect(parseOptions(schema('silent'), {}, 'test').logger).toBe(silentLogger);
    const pino = parseOptions(schema('pino'), {}, 'test').logger;
    expect(pino).not.toBe(silentLogger);
    expect(typeof pino.info).toBe('function');
  });

  it('wrap a given logger so that a method that throws never reaches the caller', () => {
    const logger = { ...silentLogger, warn: () => {
      throw new Error('broken');
    } };
    const resolved = parseOptions(schema('silent'), { logger }, 'test').logger;
    expect(() => resolved.warn({}, 'x')).not.toThrow();
  });

  it('name a bad logger or notifier and the value received', () => {
    expect(() => parseOptions(schema('silent'), { logger: 7 }, 'test')).toThrow(/option `logger` must be a pino-compatible logger .*got 7/);
    expect(() => parseOptions(schema('silent'), { logger: {} }, 'test')).toThrow(/option `logger` .*debug, info, warn and error methods/);
    expect(() => parseOptions(schema('silent'), { notifier: { send() {} } }, 'test')).toThrow(/option `notifier` must be a function or an object with a notify/);
    expect(parseOptions(schema('silent'), { notifier: () => {} }, 'test').notifier).toBeTypeOf('function');
  });
});

describe('sliding window options', () => {
  it('refuse an unknown option with the nearest name', () => {
    expect(() => new ArmMetrics({ clock: { now: () => 0 }, windowMS: 10 } as never)).toThrow(
      expect.objectContaining({ code: 'ERR_INVALID_OPTION', option: 'windowMS', message: expect.stringMatching(/did you mean `windowMs`\?/) }),
    );
  });
});
