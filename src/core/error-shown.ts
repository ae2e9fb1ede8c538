import { readProperty, serializeError } from '../observe/logger.js';

// How an error from user code (a service, a comparator, a routing key) is
// shown in events and logs once a `shadow.clean` hook is set: a
// `{ name, message, code? }` copy, never the error itself (whose other
// properties may hold anything), with every value the `clean.input` hook
// masked in the input masked in the message too ("card 4111... declined").

/** An error as `clean.error` gets it and as events show it once a clean hook is set. */
export interface ErrorSummary {
  readonly name: string;
  readonly message: string;
  readonly code?: string | number;
}

const masked = '[redacted]';
const maxDepth = 8;
const maxSecrets = 100;
const maxNodes = 1_000;
/** Shorter values are not masked: "1" would blank every digit of a message. */
const minSecretLength = 4;

/**
 * Name, message (at most 1,000 characters) and code of a thrown value, as
 * serializeError reads them (every read guarded); never its stack or cause,
 * which repeat or hold messages. Never throws.
 */
export function summarizeError(err: unknown): ErrorSummary {
  const { name, message, code } = serializeError(err);
  return code === undefined ? { name, message } : { name, message, code };
}

/**
 * The values of `raw` (strings and numbers of at least 4 characters, at any
 * depth up to 8) that `cleaned` does not hold at the same place: what the
 * clean hook masked. Longest first. Never throws.
 */
export function maskedValues(raw: unknown, cleaned: unknown): string[] {
  const found = new Set<string>();
  let nodes = 0;
  const walk = (value: unknown, clean: unknown, depth: number): void => {
    if (found.size >= maxSecrets || (nodes += 1) > maxNodes) return;
    if (typeof value === 'string' || typeof value === 'number' || typeof value === 'bigint') {
      const text = String(value);
      if (text.length >= minSecretLength && (typeof clean !== typeof value || String(clean) !== text)) found.add(text);
      return;
    }
    if (typeof value !== 'object' || value === null || depth >= maxDepth) return;
    const inner = typeof clean === 'object' && clean !== null ? clean : undefined;
    let keys: string[];
    try {
      keys = Object.keys(value);
    } catch {
      return; // a revoked Proxy, or a trap that throws: nothing to read here
    }
    for (const key of keys) walk(readProperty(value, key), inner === undefined ? undefined : readProperty(inner, key), depth + 1);
  };
  walk(raw, cleaned, 0);
  return [...found].sort((a, b) => b.length - a.length);
}

/** `text` with every occurrence of each value replaced by `[redacted]`. */
export function maskText(text: string, values: readonly string[]): string {
  let out = text;
  for (const value of values) if (out.includes(value)) out = out.split(value).join(masked);
  return out;
}
