// Paths in a diff: parsed from rule strings, rendered for entries.

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

export function segmentText(segment: PathSegment): string {
  return segment.type === 'key' ? segment.key : segment.type === 'index' ? String(segment.index) : '*';
}

/** A path built while walking; its text is only computed when something needs it. */
export class Path {
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

