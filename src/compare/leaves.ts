import type { PathSegment } from './path.js';

// What the walker needs to know of one value: its type name, whether it is a leaf, its items.

/** The type name the walker compares: `typeof`, or `null`, `array`, `date`, `regexp`, `map`, `set`, `object`, a typed array's name, `DataView`, `ArrayBuffer`. */
export function typeNameOf(value: unknown): string {
  if (value === null) return 'null';
  if (typeof value !== 'object') return typeof value;
  if (Array.isArray(value)) return 'array';
  if (Object.getPrototypeOf(value) === Object.prototype) return 'object';
  if (value instanceof Date) return 'date';
  if (value instanceof RegExp) return 'regexp';
  if (value instanceof Map) return 'map';
  if (value instanceof Set) return 'set';
  if (value instanceof DataView) return 'DataView';
  if (ArrayBuffer.isView(value)) return Object.prototype.toString.call(value).slice(8, -1);
  if (value instanceof ArrayBuffer || value instanceof SharedArrayBuffer) return 'ArrayBuffer';
  return 'object';
}

export const LEAVES = new Set(['undefined', 'null', 'boolean', 'number', 'bigint', 'string', 'symbol', 'function', 'date', 'regexp']);

export function sameLeaf(type: string, a: unknown, b: unknown): boolean {
  if (type === 'number') return a === b || Object.is(a, b);
  if (type === 'date') return Object.is((a as Date).getTime(), (b as Date).getTime());
  if (type === 'regexp') return String(a) === String(b);
  return a === b;
}

/** A Date's ISO string; `Invalid Date` for an invalid one (toISOString would throw). */
export function isoOf(date: Date): string {
  return Number.isNaN(date.getTime()) ? 'Invalid Date' : date.toISOString();
}

export function round(value: number, digits: number): number {
  if (!Number.isFinite(value)) return value;
  const factor = 10 ** digits;
  const rounded = Math.round(value * factor) / factor;
  // value * factor overflows for huge values: those keep their own value.
  return Number.isFinite(rounded) ? rounded : value;
}

export function isStructural(value: object): boolean {
  return (
    Array.isArray(value) ||
    value instanceof Date ||
    value instanceof RegExp ||
    value instanceof Map ||
    value instanceof Set ||
    ArrayBuffer.isView(value) ||
    value instanceof ArrayBuffer ||
    value instanceof SharedArrayBuffer
  );
}

export const NO_PRIMITIVE = Symbol('no primitive');

/**
 * The primitive an object stands for through its own `valueOf` or `toString`
 * (boxed primitives, Decimal, ObjectId, URL, errors nested in a value). This
 * mirrors fast-deep-equal, which compares such objects by that alone, so the
 * fast path and the walk agree.
 */
export function primitiveOf(value: object): unknown {
  const { valueOf, toString } = value as { valueOf?: unknown; toString?: unknown };
  if (typeof valueOf === 'function' && valueOf !== Object.prototype.valueOf) {
    const primitive = tryCall(valueOf, value);
    if (primitive !== NO_PRIMITIVE && (primitive === null || typeof primitive !== 'object')) return primitive;
  }
  if (typeof toString === 'function' && toString !== Object.prototype.toString) {
    const text = tryCall(toString, value);
    if (typeof text === 'string') return text;
  }
  return NO_PRIMITIVE;
}

function tryCall(method: unknown, self: object): unknown {
  try {
    return Reflect.apply(method as () => unknown, self, []);
  } catch {
    return NO_PRIMITIVE;
  }
}

export function isObject(value: unknown): value is object {
  return (typeof value === 'object' && value !== null) || typeof value === 'function';
}

/** The items an ordered binary container is compared by: a typed array's elements, a buffer's or DataView's bytes. */
export function itemsOf(value: unknown): ArrayLike<unknown> {
  if (value instanceof DataView) return new Uint8Array(value.buffer, value.byteOffset, value.byteLength);
  if (ArrayBuffer.isView(value)) return value as unknown as ArrayLike<unknown>;
  return new Uint8Array(value as ArrayBuffer);
}

export function mapKeySegment(key: unknown): PathSegment {
  if (typeof key === 'string') return { type: 'key', key };
  if (typeof key === 'number' && Number.isSafeInteger(key) && key >= 0) return { type: 'index', index: key };
  // String() throws on null-prototype objects; an object key is named by its type.
  return { type: 'key', key: isObject(key) ? `<${typeNameOf(key)}>` : String(key) };
}

/** A thrown value in a few words, without trusting it (its getters may throw too). */
export function describeThrown(err: unknown): string {
  try {
    if (err instanceof Error) return `${err.name}: ${err.message}`.slice(0, 200);
  } catch {
    // fall through
  }
  return 'a non-Error value';
}
