/** Most nodes the mutation check visits; past it the input counts as unchecked. */
const maxNodes = 1_000_000;

/** What the input-mutation check found. */
export type InputCheck = 'same' | 'mutated' | 'unchecked';

/**
 * Compares the copy of the input new received with the pristine snapshot
 * taken beside it: `mutated` when new changed it, `unchecked` when that
 * cannot be told within the budget or the copy can no longer be read (new
 * put a throwing getter or a revoked Proxy in it). Never throws, never
 * recurses (a 100,000-level list is fine), follows cycles and shared
 * references once per pair (linear in the size of the copies).
 */
export function checkInput(snapshot: unknown, current: unknown): InputCheck {
  try {
    return walk(snapshot, current) ? 'same' : 'mutated';
  } catch {
    return 'unchecked';
  }
}

/** Thrown when the budget is spent; caught by checkInput. */
class Unchecked extends Error {}

function walk(snapshot: unknown, current: unknown): boolean {
  const pending: unknown[] = [snapshot, current];
  const seen = new Map<object, object>();
  let left = maxNodes;
  while (pending.length > 0) {
    const b = pending.pop();
    const a = pending.pop();
    if (Object.is(a, b)) continue;
    if (typeof a !== 'object' || a === null || typeof b !== 'object' || b === null) return false;
    if (seen.get(a) === b) continue;
    seen.set(a, b);
    if (--left < 0) throw new Unchecked();
    if (Object.getPrototypeOf(a) !== Object.getPrototypeOf(b)) return false;
    const tag = Object.prototype.toString.call(a);
    if (tag !== Object.prototype.toString.call(b)) return false;
    const children = childrenOf(a, b, tag);
    if (children === false) return false;
    for (const child of children) pending.push(child);
    left -= children.length >> 1;
  }
  return true;
}

/** The pairs of children to compare next, flattened (old, new, old, new…); false when a and b differ already. */
function childrenOf(a: object, b: object, tag: string): unknown[] | false {
  const pairs: unknown[] = [];
  if (Array.isArray(a)) {
    const other = b as unknown[];
    if (a.length !== other.length) return false;
    for (let i = 0; i < a.length; i++) pairs.push(a[i], other[i]);
    return pairs;
  }
  if (ArrayBuffer.isView(a) || a instanceof ArrayBuffer) return sameBytes(a, b as ArrayBufferView | ArrayBuffer) ? pairs : false;
  if (a instanceof Map) {
    const other = b as Map<unknown, unknown>;
    if (a.size !== other.size) return false;
    // Both sides are copies of one value: same insertion order unless new changed it.
    const theirs = other.entries();
    for (const [key, value] of a) {
      const step = theirs.next();
      if (step.done === true) return false;
      pairs.push(key, step.value[0], value, step.value[1]);
    }
  } else if (a instanceof Set) {
    const other = b as Set<unknown>;
    if (a.size !== other.size) return false;
    const theirs = other.values();
    for (const item of a) pairs.push(item, theirs.next().value);
  } else if (tag === '[object Date]' || tag === '[object Number]' || tag === '[object String]' || tag === '[object Boolean]') {
    if (!Object.is((a as Date).valueOf(), (b as Date).valueOf())) return false;
  } else if (a instanceof RegExp) {
    if (a.source !== (b as RegExp).source || a.flags !== (b as RegExp).flags) return false;
  }
  // Own enumerable keys (a plain object's data, an error's fields, extra keys of a Map).
  const keys = Object.keys(a);
  const otherKeys = Object.keys(b);
  if (keys.length !== otherKeys.length) return false;
  for (const key of keys) {
    if (!Object.prototype.hasOwnProperty.call(b, key)) return false;
    pairs.push((a as Record<string, unknown>)[key], (b as Record<string, unknown>)[key]);
  }
  if (a instanceof Error) pairs.push(a.message, (b as Error).message, a.name, (b as Error).name);
  return pairs;
}

function sameBytes(a: ArrayBufferView | ArrayBuffer, b: ArrayBufferView | ArrayBuffer): boolean {
  const x = a instanceof ArrayBuffer ? new Uint8Array(a) : new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
  const y = b instanceof ArrayBuffer ? new Uint8Array(b) : new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
  if (x.length !== y.length) return false;
  for (let i = 0; i < x.length; i++) if (x[i] !== y[i]) return false;
  return true;
}
