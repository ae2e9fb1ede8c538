import { describe, expect, it } from 'vitest';
import type { CliIo } from '../../src/cli/cli-args.js';
import { duration, progressReporter } from '../../src/cli/data-progress.js';
import { ManualClock } from '../../src/testing/index.js';

function io(isTTY: boolean): CliIo & { readonly lines: string[] } {
  const lines: string[] = [];
  return { lines, out: () => {}, err: (text) => lines.push(text), cwd: '.', isTTY };
}

describe('the progress of a data command', () => {
  it('on a terminal, draws a bar with percentage, rate and ETA, redrawn in place at most 4 times a second', () => {
    const clock = new ManualClock({ start: 0 });
    const tty = io(true);
    const report = progressReporter('backfill', 2_000, clock, tty);
    clock.advance(1_000);
    report(500, 500, undefined, '2 workers');
    clock.advance(100);
    report(550, 500, undefined); // too soon: not drawn
    clock.advance(150);
    report(1_000, 800, undefined);
    clock.advance(1);
    report(2_000, 800, 0); // the end is always drawn
    expect(tty.lines).toEqual([
      'backfill [######------------------]  25.0 % 500 / 2,000 rows, 500 rows/s, ETA 3s, 2 workers',
      '\x1b[1A\x1b[2Kbackfill [############------------]  50.0 % 1,000 / 2,000 rows, 800 rows/s, ETA 1s',
      '\x1b[1A\x1b[2Kbackfill [########################] 100.0 % 2,000 / 2,000 rows, 800 rows/s, ETA 0s',
    ]);
  });

  it('elsewhere, prints plain lines without control characters, at most once a second', () => {
    const clock = new ManualClock({ start: 0 });
    const plain = io(false);
    const report = progressReporter('verify', 0, clock, plain);
    clock.advance(2_000);
    report(100, undefined, undefined);
    clock.advance(500);
    report(150, undefined, undefined);
    clock.advance(500);
    report(300, undefined, undefined);
    expect(plain.lines).toEqual(['verify: 100 rows, 50 rows/s', 'verify: 300 rows, 100 rows/s']);
    expect(plain.lines.join('')).not.toContain('\x1b');
  });

  it('writes durations as seconds, minutes or hours', () => {
    expect(duration(4_400)).toBe('4s');
    expect(duration(185_000)).toBe('3m05s');
    expect(duration(7_620_000)).toBe('2h07m');
  });
});
