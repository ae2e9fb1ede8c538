import type { Clock } from '../observe/clock.js';
import type { CliIo } from './cli-args.js';

/** Reports how far a data command is: rows done so far, the rate when the job knows it, the time left when it knows it. */
export type ProgressReport = (done: number, rate: number | undefined, etaMs: number | undefined, note?: string) => void;

const barWidth = 24;
// Up one line and clear it: the bar redraws itself in place on a terminal.
const redraw = '\x1b[1A\x1b[2K';

/**
 * Progress on stderr for `total` rows (0 when unknown). On a terminal
 * (`io.isTTY`), a bar redrawn in place at most 4 times a second:
 * `name [#####-----] 41.0 % 1,025 / 2,500 rows, 5,120 rows/s, ETA 3s`.
 * Otherwise plain lines (no control characters), at most once a second,
 * as logs want them. The last report (everything done) is always printed.
 */
export function progressReporter(name: string, total: number, clock: Clock, io: CliIo): ProgressReport {
  const tty = io.isTTY === true;
  const started = clock.now();
  let printed = -Infinity;
  let drawn = false;
  return (done, rate, etaMs, note) => {
    const now = clock.now();
    const end = total > 0 && done >= total;
    if (now - printed < (tty ? 250 : 1_000) && !end) return;
    printed = now;
    const seconds = (now - started) / 1000;
    const perSecond = rate ?? (seconds > 0 ? done / seconds : 0);
    const eta = etaMs ?? (perSecond > 0 && total > done ? ((total - done) / perSecond) * 1000 : undefined);
    const share = total > 0 ? Math.min(done, total) / total : undefined;
    const figures = `${fmt(done)}${total > 0 ? ` / ${fmt(total)}` : ''} rows`;
    const tail = `${fmt(Math.round(perSecond))} rows/s${eta === undefined ? '' : `, ETA ${duration(eta)}`}${note === undefined ? '' : `, ${note}`}`;
    if (!tty) {
      io.err(`${name}: ${figures}${share === undefined ? '' : ` (${(share * 100).toFixed(1)} %)`}, ${tail}`);
      return;
    }
    const filled = share === undefined ? 0 : Math.round(share * barWidth);
    const bar = share === undefined ? '' : ` [${'#'.repeat(filled)}${'-'.repeat(barWidth - filled)}] ${(share * 100).toFixed(1).padStart(5)} %`;
    io.err(`${drawn ? redraw : ''}${name}${bar} ${figures}, ${tail}`);
    drawn = true;
  };
}

/** A count with thousands separators: `1,234,567`. */
export function fmt(n: number): string {
  return n.toLocaleString('en-US');
}

/** Seconds with one decimal. */
export function round(n: number): number {
  return Math.round(n * 10) / 10;
}

/** `42s`, `3m05s`, `2h07m`. */
export function duration(ms: number): string {
  const s = Math.round(ms / 1000);
  return s >= 3600 ? `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m` : s >= 60 ? `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s` : `${s}s`;
}
