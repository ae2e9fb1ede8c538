/** Thrown inside `copyPlain` when a value is not plain data or too big for it; never escapes this module. */
const notPlain = new Error('not plain data');
const maxDepth = 64;
/**
 * Nodes copied in JavaScript before handing over to `structuredClone`. Below
 * it, an object shared by two places is copied once per place (the copy is a
 * tree); `structuredClone` keeps such an object shared.
 */
const maxNodes = 10_000;

interface Count {
  left: number;
}

function copyPlain(value: unknown, depth: number, count: Count): unknown {
  if (typeof value !== 'object' || value === null) {
    if (typeof value === 'function' || typeof value === 'symbol') throw notPlain;
    return value;
  }
  // A DAG copied as a tree can grow exponentially: past the budget, structuredClone (linear) takes over.
  if (depth > maxDepth || --count.left < 0) throw notPlain;
  if (Array.isArray(value)) {
    const out = new Array<unknown>(value.length);
    for (let i = 0; i < value.length; i++) out[i] = copyPlain(value[i], depth + 1, count);
    return out;
  }
  const proto: unknown = Object.getPrototypeOf(value);
  if (proto !== Object.prototype && proto !== null) throw notPlain;
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(value)) {
    const copy = copyPlain((value as Record<string, unknown>)[key], depth + 1, count);
    // An own `__proto__` key (JSON.parse makes them) must stay a key, not become the copy's prototype.
    if (key === '__proto__') Object.defineProperty(out, key, { value: copy, enumerable: true, writable: true, configurable: true });
    else out[key] = copy;
  }
  return out;
}

/**
 * A deep copy of a shadow call's input, so new can never change what old
 * sees. Plain data (objects, arrays, primitives: what most inputs are) is
 * copied in JavaScript, several times faster than `structuredClone`;
 * anything else (dates, maps, class instances, cycles, deep nesting, more
 * than 10,000 nodes) goes to `structuredClone`, which throws a
 * DataCloneError for what it cannot copy. Plain data that refers to one
 * object from two places comes back with two equal copies of it (new sees
 * the same values, not the same identity); a cycle is not plain data. A
 * getter that throws or a revoked Proxy throws its own error.
 */
export function cloneInput<T>(value: T): T {
  try {
    return copyPlain(value, 0, { left: maxNodes }) as T;
  } catch (err) {
    if (err !== notPlain) throw err;
    return structuredClone(value);
  }
}

/**
 * A copy of `value` when it is small plain data (objects, arrays,
 * primitives), for a hook that should not touch the original; `value` itself
 * otherwise (class instances keep their prototype). Never throws.
 */
export function plainCopyOrSame<T>(value: T): T {
  try {
    return copyPlain(value, 0, { left: maxNodes }) as T;
  } catch {
    return value;
  }
}
