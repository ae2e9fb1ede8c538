import type { Logger } from '../src/index.js';

/** A logger that keeps what it was given, for assertions. */
export function recordingLogger(): Logger & { lines: { level: string; context: object; message?: string }[] } {
  const lines: { level: string; context: object; message?: string }[] = [];
  const at = (level: string) => (context: object, message?: string) => {
    lines.push({ level, context, message });
  };
  return { lines, debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
}

/** A clock moved by hand. */
export class TestClock {
  constructor(public time = 1_700_000_000_000) {}
  now(): number {
    return this.time;
  }
  advance(ms: number): void {
    this.time += ms;
  }
}
