import type { Comparison, DiffKind } from './comparator.js';
import { formatPath, parsePath } from './path.js';
import type { PathSegment } from './path.js';

/** At most this many `path:kind` parts in a fingerprint; more end it with `|…`. */
const MAX_PARTS = 10;
/** A path longer than this (after folding) is cut and ends with `…`. */
const MAX_PATH_LENGTH = 200;
/** At most this many diff entries are read to build a fingerprint. */
const MAX_ENTRIES = 100;
const KINDS = new Set(['changed', 'missing', 'extra', 'type', 'error']);

/**
 * A stable string for the kind of mismatch a comparison shows: its differing
 * paths and kinds, array indices and id-like keys replaced by `[*]`,
 * deduplicated and sorted, joined by `|`, e.g.
 * `items[*].sku:missing|total:changed|users[*].name:changed`. Two mismatches
 * with the same cause share a fingerprint, so they can be counted and grouped.
 * `''` when the comparison is equal. A difference without entries (`maxDiffs: 0`)
 * fingerprints as its root: `:changed` or `:error`.
 *
 * A key is id-like, and folded, when it is all digits, a UUID, a hex string
 * of 8 or more characters with a digit, a token of 16 or more characters
 * with two digits or more, holds an `@`, or is longer than 64 characters:
 * so `users.12345.name` and `users.8f3a….name` give one fingerprint, not one
 * per user. At most 10 parts (then `|…`); bounded work whatever the diff.
 */
export function fingerprintOf(comparison: Comparison): string {
  if (comparison.equal) return '';
  const parts = new Set<string>();
  const diff = comparison.diff;
  const count = Math.min(diff.length, MAX_ENTRIES);
  for (let at = 0; at < count; at++) {
    const entry = diff[at];
    if (typeof entry !== 'object' || entry === null) continue;
    const kind = typeof entry.kind === 'string' && KINDS.has(entry.kind) ? entry.kind : 'changed';
    parts.add(`${typeof entry.path === 'string' ? generalize(entry.path) : '[*]'}:${kind}`);
  }
  if (parts.size === 0) parts.add(`:${comparison.kind === 'error' ? 'error' : 'changed'}`);
  const sorted = [...parts].sort();
  if (sorted.length > MAX_PARTS) return `${sorted.slice(0, MAX_PARTS).join('|')}|…`;
  return sorted.join('|');
}

function generalize(path: string): string {
  let folded: string;
  try {
    folded = formatPath(parsePath(path).map(foldSegment));
  } catch {
    // A path from a foreign comparator: still collapse what looks like an index or a number.
    folded = path.replace(/\[\d+\]/g, '[*]').replace(/\.\d+(?=\.|\[|$)/g, '[*]');
  }
  return folded.length > MAX_PATH_LENGTH ? `${folded.slice(0, MAX_PATH_LENGTH - 1)}…` : folded;
}

function foldSegment(segment: PathSegment): PathSegment {
  if (segment.type === 'index') return ANY;
  if (segment.type === 'key' && isIdLike(segment.key)) return ANY;
  return segment;
}

const ANY: PathSegment = Object.freeze({ type: 'any' });
const DIGITS = /^\d+$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const HEX = /^(?=[^\d]*\d)[0-9a-f]{8,}$/i;
const TOKEN = /^(?=(?:\D*\d){2})\S{16,}$/;

/** True for a key that names one record rather than a field: an id, a token, an email. */
export function isIdLike(key: string): boolean {
  return key.length > 64 || DIGITS.test(key) || UUID.test(key) || HEX.test(key) || TOKEN.test(key) || key.includes('@');
}

const PHRASES: Readonly<Record<DiffKind, string>> = {
  changed: 'changed',
  missing: 'missing in new',
  extra: 'extra in new',
  type: 'type changed',
  error: 'outcomes differ (error)',
};

/**
 * A fingerprint as text for people, e.g.
 * "`items[*].sku`: missing in new; `total`: changed"; the root shows as
 * `(root)`, and `''` as "no differences".
 */
export function describeFingerprint(fingerprint: string): string {
  if (fingerprint === '') return 'no differences';
  return splitParts(fingerprint)
    .map((part) => {
      const colon = part.lastIndexOf(':');
      const path = colon < 0 ? part : part.slice(0, colon);
      const kind = colon < 0 ? '' : part.slice(colon + 1);
      const phrase = Object.prototype.hasOwnProperty.call(PHRASES, kind) ? PHRASES[kind as DiffKind] : kind;
      return `\`${path === '' ? '(root)' : path}\`: ${phrase}`;
    })
    .join('; ');
}

/** Splits on `|` outside the quoted keys of paths (`a["x|y"]`). */
function splitParts(fingerprint: string): string[] {
  const parts: string[] = [];
  let start = 0;
  let quoted = false;
  for (let at = 0; at < fingerprint.length; at++) {
    const char = fingerprint[at];
    if (quoted && char === '\\') at += 1;
    else if (char === '"') quoted = !quoted;
    else if (char === '|' && !quoted) {
      parts.push(fingerprint.slice(start, at));
      start = at + 1;
    }
  }
  parts.push(fingerprint.slice(start));
  return parts;
}
