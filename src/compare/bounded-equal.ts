import { Budget } from './limits.js';

/**
 * fast-deep-equal (its ES6 flavour), rule for rule, with a work budget: true
 * only when fast-deep-equal would say true. Returns false when it cannot
 * answer within the budget, meets a cycle (it would recurse for ever), or
 * reading a value throws (a getter, a revoked Proxy): the structural walk then
 * decides. A cycle ends at `MAX_DEPTH`, long before the stack does.
 */
export function boundedEqual(a: unknown, b: unknown, budget = new Budget()): boolean {
  try {
    return equal(a, b, budget, 0);
  } catch {
    return false;
  }
}

function equal(a: unknown, b: unknown, budget: Budget, depth: number): boolean {
  if (a === b) return true;
  if (a && b && typeof a === 'object' && typeof b === 'object') {
    budget.spend(depth);
    if (a.constructor !== b.constructor) return false;
    const next = depth + 1;
    if (Array.isArray(a)) {
      const other = b as unknown[];
      if (a.length !== other.length) return false;
      for (let i = a.length; i-- !== 0; ) if (!equal(a[i], other[i], budget, next)) return false;
      return true;
    }
    if (a instanceof Map && b instanceof Map) {
      if (a.size !== b.size) return false;
      for (const [key] of a) if (!b.has(key)) return false;
      for (const [key, value] of a) if (!equal(value, b.get(key), budget, next)) return false;
      return true;
    }
    if (a instanceof Set && b instanceof Set) {
      if (a.size !== b.size) return false;
      for (const item of a) if (!b.has(item)) return false;
      return true;
    }
    if (ArrayBuffer.isView(a) && ArrayBuffer.isView(b)) {
      const x = a as unknown as ArrayLike<unknown>;
      const y = b as unknown as ArrayLike<unknown>;
      if (x.length !== y.length) return false;
      for (let i = x.length; i-- !== 0; ) {
        if (i % 1_024 === 0) budget.spend(next);
        if (x[i] !== y[i]) return false;
      }
      return true;
    }
    if (a.constructor === RegExp) return (a as RegExp).source === (b as RegExp).source && (a as RegExp).flags === (b as RegExp).flags;
    const x = a as Record<string, unknown>;
    const y = b as Record<string, unknown>;
    if (x.valueOf !== Object.prototype.valueOf) return (x.valueOf as () => unknown)() === (y.valueOf as () => unknown)();
    if (x.toString !== Object.prototype.toString) return (x.toString as () => unknown)() === (y.toString as () => unknown)();
    const keys = Object.keys(x);
    if (keys.length !== Object.keys(y).length) return false;
    for (let i = keys.length; i-- !== 0; ) if (!Object.prototype.hasOwnProperty.call(y, keys[i] as string)) return false;
    for (let i = keys.length; i-- !== 0; ) {
      const key = keys[i] as string;
      if (!equal(x[key], y[key], budget, next)) return false;
    }
    return true;
  }
  // true if both NaN, false otherwise
  return a !== a && b !== b;
}
