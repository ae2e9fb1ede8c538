import type { DiffEntry, DiffKind } from './comparator.js';
import { Budget, CompareLimitError } from './limits.js';

/** One step of a path: an object or Map key, an array index, or a wildcard (`*`, `[*]`) matching any one step. */
export type PathSegment =
  | { readonly type: 'key'; readonly key: string }
  | { readonly type: 'index'; readonly index: number }
  | { readonly type: 'any' };

/** A parsed path, root first; the empty path is the root. */
export type ParsedPath = readonly PathSegment[];

const ANY: PathSegment = Object.freeze({ type: 'any' });
const NAME = /[^.[\]]+/y;
const BRACKET = /\[(?:(\d+)|(\*)|("(?:[^"\\]|\\.)*"))\]/y;
const IDENTIFIER = /^[A-Za-z_$][\w$]*$/;

/**
 * Parses a path such as `items[*].price`, `meta.*`, `a["odd.key"]` or `''` (the root).
 * A key is any run of characters other than `.`, `[`, `]`; a bracket holds an
 * index, `*` or a JSON string.
 * @throws SyntaxError naming the position where the path stops making sense.
 */
export function parsePath(path: string): ParsedPath {
  const segments: PathSegment[] = [];
  let at = 0;
  while (at < path.length) {
    if (path[at] === '[') {
      BRACKET.lastIndex = at;
      const match = BRACKET.exec(path);
      if (match === null) throw new SyntaxError(`expected [index], [*] or ["key"] at position ${at}`);
      segments.push(bracketSegment(match));
      at = BRACKET.lastIndex;
      continue;
    }
    if (segments.length > 0) {
      if (path[at] !== '.') throw new SyntaxError(`expected "." or "[" at position ${at}`);
      at += 1;
    }
    NAME.lastIndex = at;
    const name = NAME.exec(path);
    if (name === null) throw new SyntaxError(`expected a key at position ${at}`);
    segments.push(name[0] === '*' ? ANY : { type: 'key', key: name[0] });
    at = NAME.lastIndex;
  }
  return segments;
}

function bracketSegment(match: RegExpExecArray): PathSegment {
  const [, digits, star, quoted] = match;
  if (digits !== undefined) return { type: 'index', index: Number(digits) };
  if (star !== undefined) return ANY;
  try {
    return { type: 'key', key: JSON.parse(quoted ?? '') as string };
  } catch {
    throw new SyntaxError(`bad escape in ${quoted ?? ''}`);
  }
}

/** Renders segments as a path string that `parsePath` reads back; a wildcard renders as `[*]`. */
export function formatPath(segments: ParsedPath): string {
  let text = '';
  for (const segment of segments) text = appendSegment(text, segment);
  return text;
}

function appendSegment(prefix: string, segment: PathSegment): string {
  switch (segment.type) {
    case 'index':
      return `${prefix}[${segment.index}]`;
    case 'any':
      return `${prefix}[*]`;
    case 'key':
      if (!IDENTIFIER.test(segment.key)) return `${prefix}[${JSON.stringify(segment.key)}]`;
      return prefix === '' ? segment.key : `${prefix}.${segment.key}`;
  }
}

function segmentText(segment: PathSegment): string {
  return segment.type === 'key' ? segment.key : segment.type === 'index' ? String(segment.index) : '*';
}

/** A path built while walking; its text is only computed when something needs it. */
class Path {
  static readonly root = new Path(undefined, undefined);
  #text: string | undefined;
  /** Steps from the root. */
  readonly depth: number;

  private constructor(
    readonly parent: Path | undefined,
    readonly segment: PathSegment | undefined,
  ) {
    this.depth = parent === undefined ? 0 : parent.depth + 1;
  }

  get text(): string {
    if (this.#text === undefined) {
      this.#text = this.parent === undefined || this.segment === undefined ? '' : appendSegment(this.parent.text, this.segment);
    }
    return this.#text;
  }

  child(segment: PathSegment): Path {
    return new Path(this, segment);
  }
}

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

/** A thrown value in a few words, without trusting it (its getters may throw too). */
function describeThrown(err: unknown): string {
  try {
    if (err instanceof Error) return `${err.name}: ${err.message}`.slice(0, 200);
  } catch {
    // fall through
  }
  return 'a non-Error value';
}

// ---------------------------------------------------------------- rule scopes

interface Cursor {
  readonly path: ParsedPath;
  readonly at: number;
}

/** The rules still in play at one node of the walk. */
interface Scope {
  readonly ignore: readonly Cursor[];
  readonly unordered: readonly Cursor[];
  readonly isUnordered: boolean;
}

const EMPTY_SCOPE: Scope = Object.freeze({ ignore: [], unordered: [], isUnordered: false });

/** The root's scope, or undefined when the root itself is ignored. */
function rootScope(rules: DiffRules): Scope | undefined {
  if (rules.ignore.length === 0 && rules.unorderedArrays.length === 0) return EMPTY_SCOPE;
  if (rules.ignore.some((path) => path.length === 0)) return undefined;
  return {
    ignore: rules.ignore.map((path) => ({ path, at: 0 })),
    unordered: rules.unorderedArrays.filter((path) => path.length > 0).map((path) => ({ path, at: 0 })),
    isUnordered: rules.unorderedArrays.some((path) => path.length === 0),
  };
}

/** The scope of a child, or undefined when an ignore rule ends there. */
function enter(scope: Scope, segment: PathSegment): Scope | undefined {
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

// ---------------------------------------------------------------- types and leaves

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

const LEAVES = new Set(['undefined', 'null', 'boolean', 'number', 'bigint', 'string', 'symbol', 'function', 'date', 'regexp']);

function sameLeaf(type: string, a: unknown, b: unknown): boolean {
  if (type === 'number') return a === b || Object.is(a, b);
  if (type === 'date') return Object.is((a as Date).getTime(), (b as Date).getTime());
  if (type === 'regexp') return String(a) === String(b);
  return a === b;
}

/** A Date's ISO string; `Invalid Date` for an invalid one (toISOString would throw). */
export function isoOf(date: Date): string {
  return Number.isNaN(date.getTime()) ? 'Invalid Date' : date.toISOString();
}

function round(value: number, digits: number): number {
  if (!Number.isFinite(value)) return value;
  const factor = 10 ** digits;
  const rounded = Math.round(value * factor) / factor;
  // value * factor overflows for huge values: those keep their own value.
  return Number.isFinite(rounded) ? rounded : value;
}

function isStructural(value: object): boolean {
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

const NO_PRIMITIVE = Symbol('no primitive');

/**
 * The primitive an object stands for through its own `valueOf` or `toString`
 * (boxed primitives, Decimal, ObjectId, URL, errors nested in a value). This
 * mirrors fast-deep-equal, which compares such objects by that alone, so the
 * fast path and the walk agree.
 */
function primitiveOf(value: object): unknown {
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

function isObject(value: unknown): value is object {
  return (typeof value === 'object' && value !== null) || typeof value === 'function';
}

/** The items an ordered binary container is compared by: a typed array's elements, a buffer's or DataView's bytes. */
function itemsOf(value: unknown): ArrayLike<unknown> {
  if (value instanceof DataView) return new Uint8Array(value.buffer, value.byteOffset, value.byteLength);
  if (ArrayBuffer.isView(value)) return value as unknown as ArrayLike<unknown>;
  return new Uint8Array(value as ArrayBuffer);
}

function mapKeySegment(key: unknown): PathSegment {
  if (typeof key === 'string') return { type: 'key', key };
  if (typeof key === 'number' && Number.isSafeInteger(key) && key >= 0) return { type: 'index', index: key };
  // String() throws on null-prototype objects; an object key is named by its type.
  return { type: 'key', key: isObject(key) ? `<${typeNameOf(key)}>` : String(key) };
}

// ---------------------------------------------------------------- the walk

/** Pairs below this depth are found by scanning; deeper ones through an index, so a deep walk stays linear. */
const SCANNED = 64;

/**
 * The pairs of objects being compared right now, outermost first: meeting one
 * again means a cycle. A stack scanned from the top beats a map of sets for
 * the shallow values services return; pairs deeper than `SCANNED` are also
 * indexed by their old side.
 */
class PairStack {
  readonly #olds: object[] = [];
  readonly #news: object[] = [];
  readonly #deep = new Map<object, object[]>();

  has(a: object, b: object): boolean {
    const scanned = Math.min(this.#olds.length, SCANNED);
    for (let at = scanned - 1; at >= 0; at--) {
      if (this.#olds[at] === a && this.#news[at] === b) return true;
    }
    return this.#olds.length > SCANNED && (this.#deep.get(a)?.includes(b) ?? false);
  }

  push(a: object, b: object): void {
    if (this.#olds.length >= SCANNED) {
      const news = this.#deep.get(a);
      if (news === undefined) this.#deep.set(a, [b]);
      else news.push(b);
    }
    this.#olds.push(a);
    this.#news.push(b);
  }

  pop(): void {
    const a = this.#olds.pop();
    this.#news.pop();
    if (a === undefined || this.#olds.length < SCANNED) return;
    const news = this.#deep.get(a);
    news?.pop();
    if (news?.length === 0) this.#deep.delete(a);
  }
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

interface Element {
  readonly raw: unknown;
  readonly value: unknown;
  readonly path: Path;
  readonly scope: Scope;
}

function sizeOf(collection: object): number {
  if (Array.isArray(collection)) return collection.length;
  if (collection instanceof Map || collection instanceof Set) return collection.size;
  return itemsOf(collection).length;
}

function addTo<K>(buckets: Map<K, Element[]>, key: K, element: Element): void {
  const bucket = buckets.get(key);
  if (bucket === undefined) buckets.set(key, [element]);
  else bucket.push(element);
}

function findLastIndex<T>(items: readonly T[], predicate: (item: T) => boolean): number {
  for (let at = items.length - 1; at >= 0; at--) if (predicate(items[at] as T)) return at;
  return -1;
}

/**
 * Signatures are sound only when every element is judged alike: no custom
 * hook (it sees paths) and no ignore rule naming a particular index here.
 */
function canSign(rules: DiffRules, scope: Scope): boolean {
  return (
    rules.custom === undefined &&
    scope.ignore.every((cursor) => {
      const next = cursor.path[cursor.at];
      return next === undefined || next.type === 'any' || !/^\d+$/.test(segmentText(next));
    })
  );
}

/** Equal leaves give equal text: -0 and 0, NaN and NaN, Dates of the same time. */
function leafSignature(value: unknown): string {
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

// ---------------------------------------------------------------- formatting

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
