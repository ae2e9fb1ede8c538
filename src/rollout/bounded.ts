import { describeValue } from '../errors.js';

/** A finite reading of `clock.now()`, or undefined when it throws or returns anything else. */
export function readClock(clock: { now(): number }): number | undefined {
  try {
    const now: unknown = clock.now();
    return typeof now === 'number' && Number.isFinite(now) ? now : undefined;
  } catch {
    return undefined;
  }
}

/** A short, never-throwing description of an error for logs and reasons. */
export function errorText(err: unknown): string {
  try {
    if (err instanceof Error) return String(err.message).slice(0, 300);
    if (typeof err === 'string') return err.slice(0, 300);
    return describeValue(err);
  } catch {
    return 'an unreadable error';
  }
}
