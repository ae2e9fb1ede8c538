import type { Logger } from '../src/index.js';

/** A logger that keeps what it was given, for assertions. */
export function recordingLogger(): Logger & { lines: { level: string; context: object; message?: string }[] } {
  const lines: { level: string; context: object; message?: string }[] = [];
  const at = (level: string) => (context: object, message?: string) => {
    lines.push({ level, context, message });
  };
  return { lines, debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
}

