import type { CompareKeys } from '../data/keys.js';
import { compareCodePoints } from '../data/keys.js';
import { describeValue, MigrationGlueError } from '../errors.js';

/** What decides the order of a key column, as read from the catalog. */
export interface KeyColumnOrder {
  /** The (base) type of the key column. */
  readonly oid: number;
  /** Whether the collation in force sorts by code point (C, POSIX, the builtin provider). */
  readonly codePoint: boolean;
}

const integerTypes = new Set([21, 23]);
const decimalTypes = new Set([20, 26, 1700]);
const textTypes = new Set([18, 25, 1043]);

/**
 * A comparison that orders keys exactly as PostgreSQL orders the key
 * column, or undefined when JS cannot reproduce that order (a linguistic
 * collation, a type without a known order).
 */
export function keyComparator(order: KeyColumnOrder): CompareKeys<unknown> | undefined {
  const { oid, codePoint } = order;
  if (integerTypes.has(oid) || decimalTypes.has(oid)) return compareDecimal;
  if (oid === 16) return (a, b) => Number(a === true || a === 't' || a === 'true') - Number(b === true || b === 't' || b === 'true');
  // uuid and bytea (as `\x` hex) sort by their bytes, which their lower-case text preserves; `name` always sorts as C.
  if (oid === 2950 || oid === 17) return (a, b) => compareCodePoints(lower(a), lower(b));
  if (oid === 19 || (textTypes.has(oid) && codePoint)) return (a, b) => compareCodePoints(String(a), String(b));
  return undefined;
}

function lower(value: unknown): string {
  return String(value).toLowerCase();
}

interface Decimal {
  /** -1, 0 or 1; `rank` orders the specials around the finite values. */
  readonly sign: number;
  readonly rank: number;
  /** Digits before the point, no leading zeros. */
  readonly int: string;
  /** Digits after the point, no trailing zeros. */
  readonly frac: string;
}

/**
 * Orders integers and decimals given as numbers, bigints or strings
 * (PostgreSQL's text form of bigint and numeric) by value, as PostgreSQL
 * does: `-Infinity` first, `Infinity` then `NaN` last.
 * @throws MigrationGlueError ERR_INVALID_KEY for anything that is not a number.
 */
export function compareDecimal(a: unknown, b: unknown): number {
  if (typeof a === 'number' && typeof b === 'number' && Number.isFinite(a) && Number.isFinite(b)) return a < b ? -1 : a > b ? 1 : 0;
  const x = parseDecimal(a);
  const y = parseDecimal(b);
  if (x.rank !== y.rank) return x.rank - y.rank;
  if (x.rank !== 0) return 0;
  if (x.sign !== y.sign) return x.sign - y.sign;
  const magnitude =
    x.int.length !== y.int.length ? x.int.length - y.int.length : x.int !== y.int ? (x.int < y.int ? -1 : 1) : x.frac === y.frac ? 0 : x.frac < y.frac ? -1 : 1;
  // 0 - magnitude, not -magnitude: two equal negative values compare as 0, never -0.
  return x.sign < 0 ? 0 - magnitude : magnitude;
}

const decimalPattern = /^\s*([+-]?)(\d*)(?:\.(\d*))?(?:[eE]([+-]?\d+))?\s*$/;

function parseDecimal(value: unknown): Decimal {
  const text = typeof value === 'number' && Number.isInteger(value) ? BigInt(value).toString() : typeof value === 'string' || typeof value === 'number' || typeof value === 'bigint' ? String(value) : undefined;
  const special = text?.trim().toLowerCase();
  if (special === 'nan') return { sign: 0, rank: 2, int: '', frac: '' };
  if (special === 'infinity' || special === '+infinity' || special === 'inf') return { sign: 1, rank: 1, int: '', frac: '' };
  if (special === '-infinity' || special === '-inf') return { sign: -1, rank: -1, int: '', frac: '' };
  const match = text === undefined ? null : decimalPattern.exec(text);
  if (match === null || (match[2] === '' && (match[3] ?? '') === '')) {
    throw new MigrationGlueError('ERR_INVALID_KEY', `a key of a numeric column must be a number or its decimal text, got ${describeValue(value)}`);
  }
  const exponent = Number(match[4] ?? 0);
  // PostgreSQL's numeric holds at most 131072 digits before the point and 16383 after.
  if (Math.abs(exponent) > 200_000) throw new MigrationGlueError('ERR_INVALID_KEY', `a numeric key is out of range: ${describeValue(value)}`);
  let digits = `${match[2]}${match[3] ?? ''}`;
  let point = (match[2] as string).length + exponent;
  // Shift the decimal point by the exponent, padding with zeros either side.
  if (point < 0) {
    digits = `${'0'.repeat(-point)}${digits}`;
    point = 0;
  } else if (point > digits.length) {
    digits = `${digits}${'0'.repeat(point - digits.length)}`;
  }
  const int = digits.slice(0, point).replace(/^0+/, '');
  const frac = digits.slice(point).replace(/0+$/, '');
  const zero = int === '' && frac === '';
  return { sign: zero ? 0 : match[1] === '-' ? -1 : 1, rank: 0, int, frac };
}
