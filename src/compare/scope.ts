import type { DiffRules } from './diff.js';
import type { ParsedPath, PathSegment } from './path.js';
import { segmentText } from './path.js';

// Which ignore and unordered-array rules are still in play at a node of the walk.

interface Cursor {
  readonly path: ParsedPath;
  readonly at: number;
}

/** The rules still in play at one node of the walk. */
export interface Scope {
  readonly ignore: readonly Cursor[];
  readonly unordered: readonly Cursor[];
  readonly isUnordered: boolean;
}

export const EMPTY_SCOPE: Scope = Object.freeze({ ignore: [], unordered: [], isUnordered: false });

/** The root's scope, or undefined when the root itself is ignored. */
export function rootScope(rules: DiffRules): Scope | undefined {
  if (rules.ignore.length === 0 && rules.unorderedArrays.length === 0) return EMPTY_SCOPE;
  if (rules.ignore.some((path) => path.length === 0)) return undefined;
  return {
    ignore: rules.ignore.map((path) => ({ path, at: 0 })),
    unordered: rules.unorderedArrays.filter((path) => path.length > 0).map((path) => ({ path, at: 0 })),
    isUnordered: rules.unorderedArrays.some((path) => path.length === 0),
  };
}

/** The scope of a child, or undefined when an ignore rule ends there. */
export function enter(scope: Scope, segment: PathSegment): Scope | undefined {
  if (scope.ignore.length === 0 && scope.unordered.length === 0) return EMPTY_SCOPE;
  const text = segmentText(segment);
  const ignore = advance(scope.ignore, text);
  if (ignore.some(isComplete)) return undefined;
  const unordered = advance(scope.unordered, text);
  const isUnordered = unordered.some(isComplete);
  if (ignore.length === 0 && unordered.length === 0) return EMPTY_SCOPE;
  return { ignore, unordered: isUnordered ? unordered.filter((cursor) => !isComplete(cursor)) : unordered, isUnordered };
}

function advance(cursors: readonly Cursor[], text: string): readonly Cursor[] {
  if (cursors.length === 0) return cursors;
  const next: Cursor[] = [];
  for (const cursor of cursors) {
    const wanted = cursor.path[cursor.at];
    if (wanted !== undefined && (wanted.type === 'any' || segmentText(wanted) === text)) {
      next.push({ path: cursor.path, at: cursor.at + 1 });
    }
  }
  return next;
}

function isComplete(cursor: Cursor): boolean {
  return cursor.at === cursor.path.length;
}

