import { describe, expect, it } from 'vitest';
import { LogLimiter } from '../../src/observe/log-limiter.js';
import { ManualClock } from '../../src/testing/index.js';
import { recordingLogger } from '../helpers.js';

describe('LogLimiter', () => {
  it('lines of ever new kinds (an id in the kind) stay within the overall budget, and the dropped ones are counted', () => {
    const clock = new ManualClock();
    const logger = recordingLogger();
    const limiter = new LogLimiter(logger, clock, 10, 60_000);
    for (let i = 0; i < 20_000; i++) limiter.log('warn', `mismatch:${i}`, { i }, 'mismatch');
    expect(logger.lines).toHaveLength(50);
    clock.advance(60_000);
    limiter.log('warn', 'mismatch:x', {}, 'mismatch');
    expect(logger.lines.at(-1)?.context).toMatchObject({ suppressedOverall: 19_950 });
  });

  it('reports what one kind dropped on its next written line, even when that line came after a quiet interval', () => {
    const clock = new ManualClock();
    const logger = recordingLogger();
    const limiter = new LogLimiter(logger, clock, 2, 1_000);
    for (let i = 0; i < 5; i++) limiter.log('warn', 'fallback', {}, 'fallback');
    clock.advance(5_000);
    limiter.log('warn', 'fallback', {}, 'fallback');
    expect(logger.lines).toHaveLength(3);
    expect(logger.lines[2]?.context).toMatchObject({ suppressedSinceLastLine: 3 });
  });

  it('builds a lazy context only for lines it writes, and survives one that throws or a broken clock', () => {
    let built = 0;
    const logger = recordingLogger();
    const broken = {
      now: () => {
        throw new Error('clock');
      },
    };
    const limiter = new LogLimiter(logger, broken, 1, 60_000);
    for (let i = 0; i < 3; i++) limiter.log('warn', 'k', () => ({ built: ++built }), 'line');
    expect(built).toBe(1);
    expect(() =>
      limiter.log(
        'warn',
        'other',
        () => {
          throw new Error('context');
        },
        'line',
      ),
    ).not.toThrow();
    expect(logger.lines).toHaveLength(2);
  });
});
