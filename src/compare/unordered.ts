import type { DiffRules } from './diff.js';
import type { Path } from './path.js';
import { segmentText } from './path.js';
import type { Scope } from './scope.js';
import { itemsOf, typeNameOf } from './leaves.js';

// What comparing arrays as multisets needs: elements with their paths, buckets, signatures.

export interface Element {
  readonly raw: unknown;
  readonly value: unknown;
  readonly path: Path;
  readonly scope: Scope;
}

export function sizeOf(collection: object): number {
  if (Array.isArray(collection)) return collection.length;
  if (collection instanceof Map || collection instanceof Set) return collection.size;
  return itemsOf(collection).length;
}

export function addTo<K>(buckets: Map<K, Element[]>, key: K, element: Element): void {
  const bucket = buckets.get(key);
  if (bucket === undefined) buckets.set(key, [element]);
  else bucket.push(element);
}

export function findLastIndex<T>(items: readonly T[], predicate: (item: T) => boolean): number {
  for (let at = items.length - 1; at >= 0; at--) if (predicate(items[at] as T)) return at;
  return -1;
}

/**
 * Signatures are sound only when every element is judged alike: no custom
 * hook (it sees paths) and no ignore rule naming a particular index here.
 */
export function canSign(rules: DiffRules, scope: Scope): boolean {
  return (
    rules.custom === undefined &&
    scope.ignore.every((cursor) => {
      const next = cursor.path[cursor.at];
      return next === undefined || next.type === 'any' || !/^\d+$/.test(segmentText(next));
    })
  );
}

/** Equal leaves give equal text: -0 and 0, NaN and NaN, Dates of the same time. */
export function leafSignature(value: unknown): string {
  switch (typeof value) {
    case 'string':
      return JSON.stringify(value);
    case 'number':
      return String(value);
    case 'bigint':
      return `${value}n`;
    case 'symbol':
      return value.toString();
    case 'boolean':
    case 'undefined':
      return String(value);
  }
  if (value instanceof Date) return `date:${value.getTime()}`;
  if (value instanceof RegExp) return `regexp:${String(value)}`;
  return typeNameOf(value);
}

