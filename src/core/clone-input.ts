/** Thrown inside `copyPlain` when a value is not plain data; never escapes `cloneInput`. */
const notPlain = new Error('not plain data');
const maxDepth = 64;

function copyPlain(value: unknown, depth: number): unknown {
  if (typeof value !== 'object' || value === null) {
    if (typeof value === 'function' || typeof value === 'symbol') throw notPlain;
    return value;
  }
  if (depth > maxDepth) throw notPlain;
  if (Array.isArray(value)) {
    const out = new Array<unknown>(value.length);
    for (let i = 0; i < value.length; i++) out[i] = copyPlain(value[i], depth + 1);
    return out;
  }
  const proto: unknown = Object.getPrototypeOf(value);
  if (proto !== Object.prototype && proto !== null) throw notPlain;
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(value)) out[key] = copyPlain((value as Record<string, unknown>)[key], depth + 1);
  return out;
}

/**
 * A deep copy of a shadow call's input, so new can never change what old
 * sees. Plain data (objects, arrays, primitives: what most inputs are) is
 * copied in JavaScript, several times faster than `structuredClone`;
 * anything else (dates, maps, class instances, cycles, deep nesting) goes to
 * `structuredClone`, which throws a DataCloneError for what it cannot copy.
 */
export function cloneInput<T>(value: T): T {
  try {
    return copyPlain(value, 0) as T;
  } catch (err) {
    if (err !== notPlain) throw err;
    return structuredClone(value);
  }
}
