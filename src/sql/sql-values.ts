/**
 * How a column's values travel between PostgreSQL and JS:
 * - `native`: the client's own value, exact for these types (boolean,
 *   smallint, integer, text, varchar, char, name, uuid); written as given.
 * - `float`: real and double precision, read as the server's text (shortest
 *   exact digits) and turned into a JS number; written back as its shortest
 *   exact text, `-0` included.
 * - `text`: everything else (bigint, numeric, dates and times, intervals,
 *   json and jsonb, bytea, arrays, ranges, enums, domains, extension types):
 *   the server's text form, a string, written back through the type's own
 *   input function. Nothing passes through a JS double or Date.
 */
export type ValueKind = 'native' | 'float' | 'text';

const nativeTypes = new Set([16, 18, 19, 21, 23, 25, 1042, 1043, 2950]);
const floatTypes = new Set([700, 701]);
const jsonTypes = new Set([114, 3802]);

/** The kind of a column of (base) type `oid`. */
export function kindOf(oid: number): ValueKind {
  if (nativeTypes.has(oid)) return 'native';
  return floatTypes.has(oid) ? 'float' : 'text';
}

/**
 * What a column of this kind reads as: itself or its text form
 * (`"col"::text`). A guarded column's value gets a U+0001 in front when it
 * starts with U+FEFF or U+0001, so that a client that drops a leading
 * byte-order mark (PGlite) cannot change it; `decode` removes it.
 */
export function selectExpression(quoted: string, kind: ValueKind, guarded: boolean): string {
  if (!guarded && kind === 'native') return quoted;
  return `${valueExpression(quoted, kind, guarded)} AS ${quoted}`;
}

/** The value a column of this kind reads as, without an alias (see selectExpression). */
export function valueExpression(quoted: string, kind: ValueKind, guarded: boolean): string {
  const value = kind === 'native' ? quoted : `${quoted}::text`;
  if (!guarded) return value;
  return `CASE WHEN left(${value}, 1) IN (chr(65279), chr(1)) THEN chr(1) || ${value} ELSE ${value} END`;
}

/** The placeholder for a value written to a column: text parameters go through the type's input function. */
export function placeholder(index: number, kind: ValueKind, type: string): string {
  return kind === 'native' ? `$${index}` : `$${index}::text::${type}`;
}

/** A value read from a column of this kind, as the entity holds it. */
export function decode(value: unknown, kind: ValueKind, guarded = false): unknown {
  if (guarded && typeof value === 'string' && value.charCodeAt(0) === 1) return value.slice(1);
  // Number() reads 'NaN', 'Infinity' and '-0' as PostgreSQL writes them.
  return kind === 'float' && typeof value === 'string' ? Number(value) : value;
}

/**
 * A value written to a column of this kind: native values pass as given;
 * others become the text PostgreSQL reads back exactly. Strings are taken
 * as the text form itself (for json and jsonb: the JSON text).
 */
export function encode(value: unknown, kind: ValueKind, oid: number): unknown {
  if (kind === 'native' || value === null || value === undefined) return value ?? null;
  if (typeof value === 'string') return value;
  if (Array.isArray(value) && !jsonTypes.has(oid)) return arrayLiteral(value);
  if (jsonTypes.has(oid)) return JSON.stringify(value);
  return scalarText(value);
}

function scalarText(value: unknown): string {
  if (typeof value === 'number') return Object.is(value, -0) ? '-0' : String(value);
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? 'invalid Date' : value.toISOString();
  if (value instanceof Uint8Array) return `\\x${Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString('hex')}`;
  if (typeof value === 'object' && value !== null) return JSON.stringify(value);
  return String(value);
}

/**
 * A PostgreSQL array literal: every element quoted (backslash and double
 * quote escaped), NULL for null; the text node-postgres writes for the same
 * JS array. Built with one join: node-postgres concatenates element by
 * element, which took about three times longer per value on arrays of
 * 16,000 JSON texts.
 */
export function arrayLiteral(items: readonly unknown[]): string {
  const parts = items.map((item) => {
    if (item === null || item === undefined) return 'NULL';
    if (Array.isArray(item)) return arrayLiteral(item);
    const text = typeof item === 'string' ? item : scalarText(item);
    return `"${text.replace(/[\\"]/g, '\\$&')}"`;
  });
  return `{${parts.join(',')}}`;
}
