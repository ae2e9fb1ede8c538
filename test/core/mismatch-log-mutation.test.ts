import { describe, expect, it } from 'vitest';
import { MismatchLog } from '../../src/core/mismatch-log.js';
import { recordingLogger } from '../helpers.js';

// src/core/mismatch-log.ts: at most `perFingerprint` mismatch lines per
// fingerprint and `total` over all per minute; the lines left out are
// counted and reported with the next line written.

function logWith(perFingerprint: number, total: number) {
  const logger = recordingLogger();
  const log = new MismatchLog(logger, perFingerprint, total);
  let built = 0;
  const write = (now: number, fingerprint: string) =>
    log.log(
      now,
      fingerprint,
      () => {
        built += 1;
        return { fingerprint };
      },
      `mismatch ${fingerprint}`,
    );
  return { write, logger, built: () => built };
}

describe('MismatchLog', () => {
  it('writes a warn line with the context built and the message given', () => {
    const { write, logger } = logWith(2, 10);
    expect(write(0, 'a')).toBe(true);
    expect(logger.lines).toEqual([{ level: 'warn', context: { fingerprint: 'a' }, message: 'mismatch a' }]);
  });

  it('writes at most perFingerprint lines of a fingerprint per minute, building no context for the rest', () => {
    const { write, logger, built } = logWith(2, 10);
    expect([write(0, 'a'), write(1, 'a'), write(2, 'a'), write(3, 'b')]).toEqual([true, true, false, true]);
    expect(logger.lines.map((l) => l.message)).toEqual(['mismatch a', 'mismatch a', 'mismatch b']);
    expect(built()).toBe(3);
  });

  it('writes at most total lines over all fingerprints per minute', () => {
    const { write, logger } = logWith(5, 2);
    expect([write(0, 'a'), write(0, 'b'), write(0, 'c'), write(0, 'a')]).toEqual([true, true, false, false]);
    expect(logger.lines).toHaveLength(2);
  });

  it('reports the lines left out with the next line written, once', () => {
    const { write, logger } = logWith(1, 10);
    write(0, 'a');
    write(1, 'a');
    write(2, 'a');
    write(3, 'b');
    write(4, 'c');
    expect(logger.lines.map((l) => l.context)).toEqual([{ fingerprint: 'a' }, { fingerprint: 'b', suppressedSinceLastLine: 2 }, { fingerprint: 'c' }]);
  });

  it('starts a new minute 60,000 ms after the first line of the last one', () => {
    const { write, logger } = logWith(1, 1);
    expect(write(1_000, 'a')).toBe(true);
    expect(write(60_999, 'a')).toBe(false);
    expect(write(61_000, 'a')).toBe(true);
    expect(logger.lines[1]?.context).toEqual({ fingerprint: 'a', suppressedSinceLastLine: 1 });
    expect(write(61_000, 'b')).toBe(false);
  });

  it('a clock that steps back starts a new minute', () => {
    const { write } = logWith(1, 1);
    expect(write(10_000, 'a')).toBe(true);
    expect(write(9_999, 'a')).toBe(true);
    expect(write(10_000, 'a')).toBe(false);
  });

  it('forgets the fingerprints of the last minute', () => {
    const { write } = logWith(1, 10);
    write(0, 'a');
    write(0, 'b');
    expect(write(60_000, 'b')).toBe(true);
    expect(write(60_000, 'a')).toBe(true);
  });
});
