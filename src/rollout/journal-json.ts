import { errorText } from './bounded.js';

// What `journal.record` keeps of the fields it is given: its own deep copy,
// made only of what a JSON line holds, so that the entry in memory is the
// entry a FileJournalStore reads back, and the caller's objects stay the
// caller's (neither frozen nor aliased).

/** Nesting deeper than this is refused: the copy recurses and must not overflow the stack. */
const maxDepth = 200;

/** Why a value cannot be recorded, and where (`data.incidents.1`). */
class NotJson extends Error {
  constructor(
    readonly path: string,
    readonly why: string,
  ) {
    super(why);
  }
}

/**
 * A deep, frozen copy of `value` equal to what `JSON.parse(JSON.stringify(value))`
 * gives back (`toJSON` is honoured, so a Date becomes its ISO text; a
 * property whose value is `undefined` is left out), or why it cannot be one:
 * undefined in an array, a function, a symbol, a bigint, a number that is
 * not finite, a cycle, an object that is not plain (a Map, a class
 * instance), a getter or a Proxy that throws, nesting deeper than 200
 * levels. Each property is read once. Never throws.
 */
export function jsonCopy(value: unknown): { readonly copy: unknown } | { readonly path: string; readonly problem: string } {
  try {
    return { copy: copyOf(value, [], new Set(), '') };
  } catch (err) {
    if (err instanceof NotJson) return { path: err.path, problem: err.why };
    return { path: '', problem: `cannot be read (${errorText(err)})` };
  }
}

function copyOf(value: unknown, path: readonly string[], stack: Set<object>, key: string, viaToJson = false): unknown {
  const fail = (why: string): never => {
    throw new NotJson(path.join('.'), why);
  };
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return value;
    case 'number':
      // JSON writes NaN and ±Infinity as null, and -0 as 0.
      return Number.isFinite(value) ? value + 0 : fail(`is ${value}, which JSON cannot hold (it would read back as null)`);
    case 'undefined':
      return fail('is undefined, which JSON cannot hold in an array (it would read back as null)');
    case 'function':
    case 'symbol':
    case 'bigint':
      return fail(`is a ${typeof value}, which JSON cannot hold`);
  }
  if (value === null) return null;
  const object = value as object;
  if (path.length > maxDepth) fail(`is nested deeper than ${maxDepth} levels`);
  if (stack.has(object)) fail('refers to an object that contains it (a cycle), which JSON cannot hold');
  let copy: unknown;
  stack.add(object);
  try {
    const toJson: unknown = viaToJson ? undefined : (object as { toJSON?: unknown }).toJSON;
    if (typeof toJson === 'function') {
      copy = copyOf(toJson.call(object, key), path, stack, key, true);
    } else if (Array.isArray(object)) {
      const list = object as readonly unknown[];
      const out: unknown[] = [];
      for (let i = 0; i < list.length; i++) out.push(copyOf(read(list, String(i), path), [...path, String(i)], stack, String(i)));
      copy = out;
    } else {
      const proto: unknown = Object.getPrototypeOf(object);
      // A plain object (of any realm) or one without a prototype: a Map or a class instance would lose its contents.
      if (proto !== null && Object.getPrototypeOf(proto) !== null) fail(`is ${kindOf(object)}, not a plain object, array or Date, which JSON cannot hold`);
      const out: Record<string, unknown> = {};
      for (const name of Object.keys(object)) {
        const field = read(object, name, path);
        if (field === undefined) continue; // as JSON.stringify does
        const fieldCopy = copyOf(field, [...path, name], stack, name);
        Object.defineProperty(out, name, { value: fieldCopy, enumerable: true, writable: true, configurable: true });
      }
      copy = out;
    }
  } catch (err) {
    if (err instanceof NotJson) throw err;
    fail(`cannot be read (${errorText(err)})`);
  } finally {
    stack.delete(object);
  }
  return typeof copy === 'object' && copy !== null ? Object.freeze(copy) : copy;
}

/** One property, read once; a getter or Proxy trap that throws is named by the property's path. */
function read(object: object, name: string, path: readonly string[]): unknown {
  try {
    return (object as Record<string, unknown>)[name];
  } catch (err) {
    throw new NotJson([...path, name].join('.'), `cannot be read (${errorText(err)})`);
  }
}

/** `a Map`, `a Foo` (a class instance): what an object that is not plain is. */
function kindOf(object: object): string {
  const tag = Object.prototype.toString.call(object).slice(8, -1);
  const name: unknown = tag === 'Object' ? (object as { constructor?: { name?: unknown } }).constructor?.name : tag;
  return typeof name === 'string' && name !== '' ? `a ${name}` : 'an object with a prototype';
}
