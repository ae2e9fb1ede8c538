import type { Comparison, DiffKind } from './comparator.js';
import { formatPath, parsePath } from './diff.js';
import type { PathSegment } from './diff.js';

/**
 * A stable string for the kind of mismatch a comparison shows: its differing
 * paths and kinds, array indices replaced by `[*]`, deduplicated and sorted,
 * joined by `|`, e.g. `items[*].sku:missing|total:changed`. Two mismatches
 * with the same cause share a fingerprint, so they can be counted and grouped.
 * `''` when the comparison is equal. A difference without entries (`maxDiffs: 0`)
 * fingerprints as its root: `:changed` or `:error`.
 */
export function fingerprintOf(comparison: Comparison): string {
  if (comparison.equal) return '';
  const parts = new Set<string>();
  for (const entry of comparison.diff) parts.add(`${generalize(entry.path)}:${entry.kind}`);
  if (parts.size === 0) parts.add(`:${comparison.kind === 'error' ? 'error' : 'changed'}`);
  return [...parts].sort().join('|');
}

function generalize(path: string): string {
  try {
    return formatPath(parsePath(path).map(withoutIndex));
  } catch {
    // A path from a foreign comparator: still collapse what looks like an index.
    return path.replace(/\[\d+\]/g, '[*]');
  }
}

function withoutIndex(segment: PathSegment): PathSegment {
  return segment.type === 'index' ? { type: 'any' } : segment;
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
