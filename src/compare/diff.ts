import type { DiffEntry, DiffKind } from './comparator.js';
import { Budget, CompareLimitError } from './limits.js';
import type { ParsedPath, PathSegment } from './path.js';
import { Path } from './path.js';
import type { Scope } from './scope.js';
import { EMPTY_SCOPE, enter, rootScope } from './scope.js';
import { LEAVES, NO_PRIMITIVE, describeThrown, isObject, isStructural, isoOf, itemsOf, mapKeySegment, primitiveOf, round, sameLeaf, typeNameOf } from './leaves.js';
import { PairStack } from './pair-stack.js';
import type { Element } from './unordered.js';
import { addTo, canSign, findLastIndex, leafSignature, sizeOf } from './unordered.js';

/** What the walker applies. Built once per comparator from its options. */
export interface DiffRules {
  /** Paths whose differences, at or under them, are not reported. */
  readonly ignore: readonly ParsedPath[];
  /** Paths whose arrays compare as multisets. */
  readonly unorderedArrays: readonly ParsedPath[];
  /** Dates compare as ISO strings (a Date equals its ISO string); otherwise as Dates, by time. */
  readonly dates: boolean;
  /** How many decimals numbers are rounded to before comparing; undefined leaves them exact. */
  readonly precision: number | undefined;
  /** Applied to every node where the two sides are not the same value, before the built-in normalisations. */
  readonly custom: ((value: unknown, path: string) => unknown) | undefined;
}

/** The rules of a comparator built without options. */
export const defaultDiffRules: DiffRules = Object.freeze({
  ignore: [],
  unorderedArrays: [],
  dates: true,
  precision: undefined,
  custom: undefined,
});

/** The differences found, at most `maxDiffs` of them. */
export interface DiffResult {
  readonly diff: readonly DiffEntry[];
  /** True when there were more differences than `diff` holds. */
  readonly truncated: boolean;
}

/**
 * Walks both values side by side and lists how they differ, after
 * normalisation, skipping ignored paths. Stops after `maxDiffs + 1`
 * differences, so a large mismatch costs little. Never mutates its inputs.
 * A pair of objects met again while still being compared (a cycle) counts as equal.
 * Entries carry the values as compared: normalised (dates as ISO strings,
 * numbers rounded, the custom hook applied), a RegExp as its source text.
 * @throws CompareLimitError (code `ERR_COMPARE_LIMIT`) when the values are too
 * large or deep to compare within `MAX_NODES` / `MAX_DEPTH`, or reading them
 * throws (a getter, a revoked Proxy, the custom hook); the cause is attached.
 */
export function diffValues(oldValue: unknown, newValue: unknown, rules: DiffRules = defaultDiffRules, maxDiffs = Infinity, budget = new Budget()): DiffResult {
  const root = rootScope(rules);
  if (root === undefined) return { diff: [], truncated: false };
  const walker = new Walker(rules, maxDiffs, new PairStack(), budget);
  try {
    walker.walk(oldValue, newValue, Path.root, root);
  } catch (err) {
    if (err instanceof CompareLimitError) throw err;
    throw new CompareLimitError(`reading them threw (${describeThrown(err)})`, { cause: err });
  }
  return { diff: walker.entries, truncated: walker.count > walker.entries.length };
}


class Walker {
  readonly entries: DiffEntry[] = [];
  count = 0;

  constructor(
    readonly rules: DiffRules,
    readonly max: number,
    readonly inProgress: PairStack,
    readonly budget: Budget,
  ) {}

  get full(): boolean {
    return this.count > this.max;
  }

  walk(rawOld: unknown, rawNew: unknown, path: Path, scope: Scope): void {
    if (this.full || rawOld === rawNew) return;
    this.budget.spend(path.depth);
    this.compare(this.normalize(rawOld, path), this.normalize(rawNew, path), rawOld, rawNew, path, scope);
  }

  normalize(raw: unknown, path: Path): unknown {
    const { custom, precision } = this.rules;
    let value = custom === undefined ? raw : custom(raw, path.text);
    if (typeof value === 'object' && value !== null && !isStructural(value)) {
      const primitive = primitiveOf(value);
      if (primitive !== NO_PRIMITIVE) value = primitive;
    }
    if (precision !== undefined && typeof value === 'number') return round(value, precision);
    return value;
  }

  /** With `dates`, a Date stands for its ISO string. */
  settle(value: unknown): unknown {
    return this.rules.dates && value instanceof Date ? isoOf(value) : value;
  }

  /** A value as entries show it: settled, a RegExp as its text. */
  shown(value: unknown): unknown {
    return value instanceof RegExp ? String(value) : this.settle(value);
  }

  compare(oldValue: unknown, newValue: unknown, rawOld: unknown, rawNew: unknown, path: Path, scope: Scope): void {
    let [a, b] = [oldValue, newValue];
    let type = typeNameOf(a);
    // Two Dates compare by time, which is the same as by ISO string and much cheaper.
    if (type !== typeNameOf(b) && this.rules.dates) {
      [a, b] = [this.settle(a), this.settle(b)];
      type = typeNameOf(a);
    }
    if (type !== typeNameOf(b)) return this.record(path, 'type', this.shown(a), this.shown(b));
    if (LEAVES.has(type)) {
      if (!sameLeaf(type, a, b)) this.record(path, 'changed', this.shown(a), this.shown(b));
      return;
    }
    // Cycles recur through the caller's objects, even when a custom hook returns fresh copies.
    const keyOld = isObject(rawOld) ? rawOld : (a as object);
    const keyNew = isObject(rawNew) ? rawNew : (b as object);
    if (this.inProgress.has(keyOld, keyNew)) return;
    this.inProgress.push(keyOld, keyNew);
    try {
      this.compareContainers(type, a as object, b as object, path, scope);
    } finally {
      this.inProgress.pop();
    }
  }

  compareContainers(type: string, a: object, b: object, path: Path, scope: Scope): void {
    if (type === 'object') return this.compareObjects(a as Record<string, unknown>, b as Record<string, unknown>, path, scope);
    if (type === 'map') return this.compareMaps(a as Map<unknown, unknown>, b as Map<unknown, unknown>, path, scope);
    if (type === 'set') return this.compareUnordered(Array.from(a as Set<unknown>), Array.from(b as Set<unknown>), path, scope);
    if (type === 'array' && scope.isUnordered) return this.compareUnordered(a as unknown[], b as unknown[], path, scope);
    return this.compareOrdered(type === 'array' ? (a as unknown[]) : itemsOf(a), type === 'array' ? (b as unknown[]) : itemsOf(b), path, scope);
  }

  compareOrdered(a: ArrayLike<unknown>, b: ArrayLike<unknown>, path: Path, scope: Scope): void {
    const common = Math.min(a.length, b.length);
    for (let index = 0; index < common && !this.full; index++) {
      const segment: PathSegment = { type: 'index', index };
      const child = enter(scope, segment);
      if (child !== undefined) this.walk(a[index], b[index], path.child(segment), child);
    }
    for (let index = common; index < a.length && !this.full; index++) this.recordOneSided('missing', a[index], path, scope, { type: 'index', index });
    for (let index = common; index < b.length && !this.full; index++) this.recordOneSided('extra', b[index], path, scope, { type: 'index', index });
  }

  compareObjects(a: Record<string, unknown>, b: Record<string, unknown>, path: Path, scope: Scope): void {
    for (const key of Object.keys(a)) {
      if (this.full) return;
      const segment: PathSegment = { type: 'key', key };
      if (!Object.prototype.hasOwnProperty.call(b, key)) {
        this.recordOneSided('missing', a[key], path, scope, segment);
        continue;
      }
      const child = enter(scope, segment);
      if (child !== undefined) this.walk(a[key], b[key], path.child(segment), child);
    }
    for (const key of Object.keys(b)) {
      if (this.full) return;
      if (!Object.prototype.hasOwnProperty.call(a, key)) this.recordOneSided('extra', b[key], path, scope, { type: 'key', key });
    }
  }

  compareMaps(a: Map<unknown, unknown>, b: Map<unknown, unknown>, path: Path, scope: Scope): void {
    const unmatchedOld: [unknown, unknown][] = [];
    for (const [key, value] of a) {
      if (this.full) return;
      if (!b.has(key)) {
        unmatchedOld.push([key, value]);
        continue;
      }
      const segment = mapKeySegment(key);
      const child = enter(scope, segment);
      if (child !== undefined) this.walk(value, b.get(key), path.child(segment), child);
    }
    const unmatchedNew = [...b].filter(([key]) => !a.has(key));
    for (const [key, value] of unmatchedOld) {
      if (this.full) return;
      // An object key matches an equal object key of the other side, not only the same reference.
      const index = isObject(key) ? unmatchedNew.findIndex(([other]) => isObject(other) && this.equal(key, other, path)) : -1;
      const partner = index >= 0 ? unmatchedNew.splice(index, 1)[0] : undefined;
      const segment = mapKeySegment(key);
      if (partner === undefined) {
        this.recordOneSided('missing', value, path, scope, segment);
        continue;
      }
      const child = enter(scope, segment);
      if (child !== undefined) this.walk(value, partner[1], path.child(segment), child);
    }
    for (const [key, value] of unmatchedNew) {
      if (this.full) return;
      this.recordOneSided('extra', value, path, scope, mapKeySegment(key));
    }
  }

  /**
   * Multiset comparison: each old element pairs with one equal new element;
   * the rest are missing or extra. Primitives pair by value; objects are only
   * tried against objects of the same signature, which keeps the common case
   * linear instead of quadratic.
   */
  compareUnordered(a: readonly unknown[], b: readonly unknown[], path: Path, scope: Scope): void {
    const olds = this.elements(a, path, scope);
    const news = this.elements(b, path, scope);
    const signs = canSign(this.rules, scope);
    const primitives = new Map<unknown, Element[]>();
    const objects = new Map<string, Element[]>();
    for (const element of [...news].reverse()) {
      if (isObject(element.value)) addTo(objects, signs ? this.signatureOf(element) : '', element);
      else addTo(primitives, element.value, element);
    }
    const unmatchedOld: Element[] = [];
    for (const element of olds) {
      if (!isObject(element.value)) {
        if (primitives.get(element.value)?.pop() === undefined) unmatchedOld.push(element);
        continue;
      }
      const bucket = objects.get(signs ? this.signatureOf(element) : '') ?? [];
      // Buckets are reversed: search from the end to pair with the first equal new element.
      const at = findLastIndex(bucket, (other) => this.equalElements(element, other));
      if (at < 0) unmatchedOld.push(element);
      else bucket.splice(at, 1);
    }
    const unmatchedNew = new Set([...primitives.values(), ...objects.values()].flat());
    for (const element of unmatchedOld) {
      if (this.full) return;
      this.record(element.path, 'missing', this.shown(element.value), undefined);
    }
    for (const element of news) {
      if (this.full) return;
      if (unmatchedNew.has(element)) this.record(element.path, 'extra', undefined, this.shown(element.value));
    }
  }

  /**
   * A string two elements share whenever they are equal under the rules (not
   * the converse): the type, and for an object its kept keys with the
   * primitive values under them; for a collection its size unless ignore rules reach inside.
   */
  signatureOf(element: Element): string {
    const value = element.value as object;
    const type = typeNameOf(value);
    if (type === 'object') {
      const record = value as Record<string, unknown>;
      const keys = Object.keys(record)
        .filter((key) => enter(element.scope, { type: 'key', key }) !== undefined)
        .sort();
      return `{${keys.map((key) => `${JSON.stringify(key)}:${leafSignature(this.settle(this.normalize(record[key], element.path)))}`).join(',')}}`;
    }
    if (LEAVES.has(type)) return leafSignature(value);
    if (element.scope.ignore.length > 0) return type;
    return `${type}(${sizeOf(value)})`;
  }

  elements(values: readonly unknown[], path: Path, scope: Scope): Element[] {
    const elements: Element[] = [];
    values.forEach((raw, index) => {
      this.budget.spend(path.depth + 1);
      const segment: PathSegment = { type: 'index', index };
      const child = enter(scope, segment);
      if (child === undefined) return;
      const elementPath = path.child(segment);
      elements.push({ raw, value: this.settle(this.normalize(raw, elementPath)), path: elementPath, scope: child });
    });
    return elements;
  }

  equalElements(old: Element, other: Element): boolean {
    this.budget.spend(old.path.depth);
    const trial = new Walker(this.rules, 0, this.inProgress, this.budget);
    trial.compare(old.value, other.value, old.raw, other.raw, old.path, old.scope);
    return trial.count === 0;
  }

  equal(a: unknown, b: unknown, path: Path): boolean {
    const trial = new Walker(this.rules, 0, this.inProgress, this.budget);
    trial.walk(a, b, path, EMPTY_SCOPE);
    return trial.count === 0;
  }

  recordOneSided(kind: 'missing' | 'extra', raw: unknown, path: Path, scope: Scope, segment: PathSegment): void {
    if (enter(scope, segment) === undefined) return;
    const childPath = path.child(segment);
    const value = this.shown(this.normalize(raw, childPath));
    this.record(childPath, kind, kind === 'missing' ? value : undefined, kind === 'extra' ? value : undefined);
  }

  record(path: Path, kind: DiffKind, oldValue: unknown, newValue: unknown): void {
    this.count += 1;
    if (this.entries.length < this.max) this.entries.push({ path: path.text, kind, old: oldValue, new: newValue });
  }
}
