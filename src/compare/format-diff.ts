import type { DiffEntry } from './comparator.js';
import { isoOf, itemsOf, typeNameOf } from './leaves.js';

// One readable log line for a diff, bounded whatever the values hold.

const PREVIEW_LENGTH = 60;

/** Options of `formatDiff`. */
export interface FormatDiffOptions {
  /**
   * How many entries the line shows before `+N more`.
   * @default 5
   */
  readonly maxEntries?: number;
}

/**
 * One readable log line for a diff, e.g.
 * `total: 10.5 → 10.51; items[1].sku: missing in new; +3 more`.
 * Values are shown JSON-like and shortened to about 60 characters; the root
 * path shows as `(root)`. When `truncated`, the count of hidden entries is a
 * lower bound (`+ at least 4 more`). Never throws and does bounded work
 * whatever the values hold: a getter that throws or a revoked Proxy shows as
 * `[unreadable]`, a cycle as `[Circular]`, and huge strings, arrays, Maps and
 * buffers are only read as far as the line shows them.
 */
export function formatDiff(diff: readonly DiffEntry[], truncated: boolean, options: FormatDiffOptions = {}): string {
  const maxEntries = options.maxEntries ?? 5;
  try {
    if (diff.length === 0) return truncated ? 'different (no entries collected)' : 'no differences';
    const parts: string[] = [];
    for (let at = 0; at < diff.length && at < maxEntries; at++) parts.push(guarded(() => formatEntry(diff[at] as DiffEntry)));
    const hidden = diff.length - parts.length;
    if (truncated) parts.push(`+ at least ${hidden + 1} more`);
    else if (hidden > 0) parts.push(`+${hidden} more`);
    return parts.join('; ');
  } catch {
    return UNREADABLE;
  }
}

const UNREADABLE = '[unreadable]';

/** What `render` returns, or `[unreadable]` when reading the value threw. */
function guarded(render: () => string): string {
  try {
    return render();
  } catch {
    return UNREADABLE;
  }
}

function formatEntry(entry: DiffEntry): string {
  const path = typeof entry.path !== 'string' ? UNREADABLE : entry.path === '' ? '(root)' : shorten(entry.path, 200);
  switch (entry.kind) {
    case 'missing':
      return `${path}: missing in new`;
    case 'extra':
      return `${path}: extra in new`;
    case 'type':
      return `${path}: ${previewValue(entry.old)} → ${previewValue(entry.new)} (${typeOf(entry.old)} → ${typeOf(entry.new)})`;
    case 'error':
      return `${path}: ${outcomePreview(entry.old)} → ${outcomePreview(entry.new)}`;
    default:
      return `${path}: ${previewValue(entry.old)} → ${previewValue(entry.new)}`;
  }
}

function typeOf(value: unknown): string {
  return guarded(() => typeNameOf(value));
}

function outcomePreview(value: unknown): string {
  return guarded(() => {
    if (typeof value === 'object' && value !== null) {
      const { name, message } = value as { name?: unknown; message?: unknown };
      if (typeof name === 'string' && typeof message === 'string' && Object.keys(value).length === 2) {
        return shorten(`threw ${name}: ${message}`);
      }
    }
    return previewValue(value);
  });
}

/**
 * A short JSON-like rendering of any value (cycles, Maps, Sets, bigints
 * included), at most about `limit` characters. Never throws: what cannot be
 * read shows as `[unreadable]`.
 */
export function previewValue(value: unknown, limit = PREVIEW_LENGTH): string {
  return shorten(guarded(() => render(value, 0, new Set(), { left: limit + 1 })), limit);
}

function shorten(text: string, limit = PREVIEW_LENGTH): string {
  return text.length > limit ? `${text.slice(0, limit - 1)}…` : text;
}

const MAX_DEPTH = 3;
const MAX_ITEMS = 10;

/** Characters still wanted: rendering stops reading once the line is full. */
interface Room {
  left: number;
}

function render(value: unknown, depth: number, ancestors: Set<object>, room: Room): string {
  const before = room.left;
  const text = guarded(() => renderValue(value, depth, ancestors, room));
  // The text holds what nested renders counted already: count it once.
  room.left = before - text.length;
  return text;
}

function renderValue(value: unknown, depth: number, ancestors: Set<object>, room: Room): string {
  switch (typeof value) {
    case 'string':
      // Only as much of a huge string as the line can show.
      return JSON.stringify(value.length > room.left + 2 ? value.slice(0, Math.max(room.left, 0) + 2) : value);
    case 'number':
      return Object.is(value, -0) ? '-0' : String(value);
    case 'bigint':
      return `${value}n`;
    case 'function':
      return typeof value.name !== 'string' || value.name === '' ? '[Function]' : `[Function ${value.name.slice(0, PREVIEW_LENGTH)}]`;
    case 'symbol':
      return value.toString();
  }
  if (value === null || value === undefined || typeof value === 'boolean') return String(value);
  if (value instanceof Date) return isoOf(value);
  if (value instanceof RegExp) return shorten(String(value));
  if (value instanceof Error) return `${String(value.name)}: ${String(value.message)}`.slice(0, PREVIEW_LENGTH + 1);
  if (ancestors.has(value)) return '[Circular]';
  if (depth >= MAX_DEPTH || room.left <= 0) return Array.isArray(value) ? '[…]' : '{…}';
  ancestors.add(value);
  try {
    return renderContainer(value, depth + 1, ancestors, room);
  } finally {
    ancestors.delete(value);
  }
}

function renderContainer(value: object, depth: number, ancestors: Set<object>, room: Room): string {
  const item = (inner: unknown): string => render(inner, depth, ancestors, room);
  if (Array.isArray(value)) return `[${list(value.length, firstItems(value.values()), item, room)}]`;
  if (value instanceof Map) {
    return `Map(${value.size}) {${list(value.size, firstItems(value.entries()), ([k, v]) => `${item(k)} => ${item(v)}`, room)}}`;
  }
  if (value instanceof Set) return `Set(${value.size}) {${list(value.size, firstItems(value.values()), item, room)}}`;
  if (value instanceof ArrayBuffer) return `ArrayBuffer(${value.byteLength})`;
  if (ArrayBuffer.isView(value)) {
    const name = typeNameOf(value);
    const bytes = itemsOf(value);
    return `${name}(${bytes.length}) [${list(bytes.length, Array.prototype.slice.call(bytes, 0, MAX_ITEMS), item, room)}]`;
  }
  const record = value as Record<string, unknown>;
  const keys = Object.keys(record);
  return `{${list(keys.length, keys.slice(0, MAX_ITEMS), (key) => `${JSON.stringify(shorten(key))}:${guarded(() => item(record[key]))}`, room)}}`;
}

/** The first MAX_ITEMS items of an iterator, without walking the rest. */
function firstItems<T>(iterator: Iterator<T>): T[] {
  const items: T[] = [];
  for (let step = iterator.next(); !step.done && items.length < MAX_ITEMS; step = iterator.next()) items.push(step.value);
  return items;
}

function list<T>(size: number, items: readonly T[], renderItem: (item: T) => string, room: Room): string {
  const shownItems: string[] = [];
  for (const item of items) {
    if (room.left <= 0) break;
    shownItems.push(renderItem(item));
  }
  if (size > shownItems.length) shownItems.push('…');
  return shownItems.join(',');
}

