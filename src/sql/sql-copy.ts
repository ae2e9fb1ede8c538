import type { CopyRange, RangeCopy } from '../data/repository.js';
import { keyId } from '../data/keys.js';
import type { SqlQuery } from './sql-client.js';
import { rowsOf } from './sql-client.js';
import type { SqlStatements } from './sql-statements.js';
import { asText } from './sql-statements.js';
import type { SqlColumn } from './sql-table-info.js';
import { encode, valueExpression } from './sql-values.js';

/** What a sqlRepository tells the server-side copy about itself. */
export interface SqlCopyEndpoint {
  readonly query: SqlQuery;
  /** Quoted. */
  readonly table: string;
  /** ` COLLATE "x"` or ''. */
  readonly collate: string;
  /** The `columns` option, when given. */
  readonly columns: readonly string[] | undefined;
  /** True when `toRow` or `fromRow` maps rows: the copy would skip the mapping. */
  readonly mapped: boolean;
  readonly statements: () => Promise<SqlStatements>;
}

/** A copy from one table into another of the same database, planned once per pair. */
interface CopyPlan {
  /** The columns written, target-quoted, in order. */
  readonly list: string;
  /** The same columns read from the source, cast through text where the types differ. */
  readonly values: readonly string[];
  readonly source: SqlStatements;
  readonly target: SqlStatements;
}

const endpoints = new WeakMap<object, SqlCopyEndpoint>();
const plans = new WeakMap<SqlCopyEndpoint, WeakMap<SqlCopyEndpoint, Promise<CopyPlan | undefined>>>();

/** Registers `repository` as a table the server-side copy can read from and write to. */
export function registerCopyEndpoint(repository: object, endpoint: SqlCopyEndpoint): void {
  endpoints.set(repository, endpoint);
}

/**
 * Copies a key range of `source` into `target` in the database (see
 * Repository.copyRangeTo), or resolves undefined when `target` is not a
 * sqlRepository of the same database with the columns the copy writes.
 * Without `exclude`, one statement reads the range, inserts what the
 * target lacks and counts; with it, the range's keys are read first, the
 * excluded ones are left out of the insert, and the inserted keys are
 * returned.
 */
export async function copyRange<K>(source: SqlCopyEndpoint, targetRepository: unknown, range: CopyRange<K>): Promise<RangeCopy<K> | undefined> {
  const target = typeof targetRepository === 'object' && targetRepository !== null ? endpoints.get(targetRepository) : undefined;
  if (target === undefined) return undefined;
  let byTarget = plans.get(source);
  if (byTarget === undefined) plans.set(source, (byTarget = new WeakMap()));
  let pending = byTarget.get(target);
  if (pending === undefined) {
    pending = planCopy(source, target);
    byTarget.set(target, pending);
    // A failure (a server down) is not a verdict: plan again next time.
    pending.catch(() => byTarget.delete(target));
  }
  const plan = await pending;
  if (plan === undefined) return undefined;
  try {
    return await (range.exclude === undefined ? copyAll(plan, source, target, range) : copyExcept(plan, source, target, range));
  } catch (err) {
    // The target's role may not read the source table (42501): the statement wrote nothing; copy through the process.
    if ((err as { code?: unknown } | null)?.code !== '42501') throw err;
    byTarget.set(target, Promise.resolve(undefined));
    return undefined;
  }
}

async function planCopy(source: SqlCopyEndpoint, target: SqlCopyEndpoint): Promise<CopyPlan | undefined> {
  if (source.mapped || target.mapped) return undefined;
  const [s, t] = await Promise.all([source.statements(), target.statements()]);
  const sourceKey = s.info.key;
  const targetKey = t.info.key;
  if (sourceKey.name !== targetKey.name || sourceKey.type !== targetKey.type) return undefined;
  // The columns backfill's own copy would write: the target's list, else every column the source reads.
  const names = target.columns ?? [...s.info.columns.keys()];
  const pairs: [SqlColumn, SqlColumn][] = [];
  for (const name of names) {
    const from = s.info.columns.get(name);
    const to = t.info.columns.get(name);
    if (from === undefined || to === undefined || to.type === '') return undefined;
    pairs.push([from, to]);
  }
  if (!(await sameDatabase(source.query, target.query))) return undefined;
  return {
    list: pairs.map(([, to]) => to.quoted).join(', '),
    // Through text where the types differ: what the row-by-row copy does (the source's text, the target type's input function).
    values: pairs.map(([from, to]) => (from.type === to.type ? `${source.table}.${from.quoted}` : `${source.table}.${from.quoted}::text::${to.type}`)),
    source: s,
    target: t,
  };
}

const identitySql = `SELECT current_database() AS db, (SELECT oid FROM pg_catalog.pg_database WHERE datname = current_database())::int8::text AS oid,
  pg_postmaster_start_time()::text AS started, coalesce(inet_server_port(), 0)::text AS port`;

/**
 * Whether two clients reach the same database: the same client, or the
 * same database (name and OID) of a server started at the same
 * microsecond on the same port. A doubt answers no (the copy then goes
 * through the process, which is always correct).
 */
async function sameDatabase(a: SqlQuery, b: SqlQuery): Promise<boolean> {
  if (a === b) return true;
  const [x, y] = await Promise.all([a(identitySql, []), b(identitySql, [])]);
  const one = rowsOf(x)[0];
  const two = rowsOf(y)[0];
  if (one === undefined || two === undefined) return false;
  return ['db', 'oid', 'started', 'port'].every((name) => one[name] !== null && one[name] !== undefined && String(one[name]) === String(two[name]));
}

function ordered(endpoint: SqlCopyEndpoint, plan: CopyPlan): string {
  return `${endpoint.table}.${plan.source.info.key.quoted}${endpoint.collate}`;
}

/** The range's bounds as conditions, their keys appended to `params`. */
function bounds<K>(plan: CopyPlan, order: string, range: CopyRange<K>, params: unknown[]): string[] {
  const where: string[] = [];
  if (range.after !== null) {
    params.push(plan.source.keyParam(range.after));
    where.push(`${order} > ${keyPlaceholder(plan, params.length)}`);
  }
  if (range.upTo !== undefined && range.upTo !== null) {
    params.push(plan.source.keyParam(range.upTo));
    where.push(`${order} <= ${keyPlaceholder(plan, params.length)}`);
  }
  return where;
}

function keyPlaceholder(plan: CopyPlan, index: number): string {
  const key = plan.source.info.key;
  return key.kind === 'native' ? `$${index}` : `$${index}::text::${key.type}`;
}

/**
 * One statement: the range's keys (an index scan, a few bytes a row) fix
 * its count and last key; the rows up to that key are inserted where the
 * target lacks them, all in one snapshot. Keys only in the CTE: a batch of
 * wide rows would not fit in work_mem.
 */
async function copyAll<K>(plan: CopyPlan, source: SqlCopyEndpoint, target: SqlCopyEndpoint, range: CopyRange<K>): Promise<RangeCopy<K>> {
  const key = plan.source.info.key;
  const order = ordered(source, plan);
  const params: unknown[] = [];
  const where = bounds(plan, order, range, params);
  params.push(range.limit);
  const filter = where.length === 0 ? '' : ` WHERE ${where.join(' AND ')}`;
  const sql =
    `WITH r AS MATERIALIZED (SELECT ${order} AS k FROM ${source.table}${filter} ORDER BY ${order} LIMIT $${params.length}), ` +
    `e AS (SELECT count(*) AS n, (SELECT r.k FROM r ORDER BY r.k DESC LIMIT 1) AS last FROM r), ` +
    `i AS (INSERT INTO ${target.table} (${plan.list}) SELECT ${plan.values.join(', ')} FROM ${source.table} ` +
    `WHERE ${[...where, `${order} <= (SELECT e.last FROM e)`].join(' AND ')} ON CONFLICT (${plan.target.info.key.quoted}) DO NOTHING RETURNING 1) ` +
    `SELECT e.n::int8::text AS n, (SELECT count(*) FROM i)::int8::text AS inserted, ${valueExpression('e.last', key.kind, key.guarded)} AS last FROM e`;
  const row = rowsOf(await target.query(sql, params))[0] ?? {};
  const last = row.last === null || row.last === undefined ? null : (plan.source.readKey(row.last) as K);
  return { count: Number(row.n), inserted: Number(row.inserted), last };
}

/** The range's keys first, then one insert of the range without the excluded keys, returning the keys inserted. */
async function copyExcept<K>(
  plan: CopyPlan,
  source: SqlCopyEndpoint,
  target: SqlCopyEndpoint,
  range: CopyRange<K>,
): Promise<RangeCopy<K>> {
  const s = plan.source;
  const key = s.info.key;
  const order = ordered(source, plan);
  const params: unknown[] = [];
  const where = bounds(plan, order, range, params);
  const keysSql = `SELECT ${valueExpression(`${source.table}.${key.quoted}`, key.kind, key.guarded)} AS k FROM ${source.table}${where.length === 0 ? '' : ` WHERE ${where.join(' AND ')}`} ORDER BY ${order} LIMIT $${params.length + 1}`;
  const keys = rowsOf(await source.query(keysSql, [...params, range.limit])).map((row) => s.readKey(row.k) as K);
  if (keys.length === 0) return { count: 0, inserted: 0, last: null, insertedKeys: [] };
  const skip = await (range.exclude as (keys: readonly K[]) => Promise<readonly K[]>).call(range, keys);
  const last = keys[keys.length - 1] as K;
  // The range as read: up to its last key (within upTo).
  params.push(s.keyParam(last));
  where.push(`${order} <= ${keyPlaceholder(plan, params.length)}`);
  if (skip.length > 0) {
    params.push(skip.map((k) => asText(encode(k, key.kind, key.oid))));
    where.push(`NOT (${source.table}.${key.quoted} = ANY($${params.length}::text[]::${key.type}[]))`);
  }
  const t = plan.target;
  const sql =
    `INSERT INTO ${target.table} (${plan.list}) SELECT ${plan.values.join(', ')} FROM ${source.table} WHERE ${where.join(' AND ')} ` +
    `ON CONFLICT (${t.info.key.quoted}) DO NOTHING RETURNING ${valueExpression(t.info.key.quoted, t.info.key.kind, t.info.key.guarded)} AS k`;
  const insertedKeys = rowsOf(await target.query(sql, params)).map((row) => t.readKey(row.k) as K);
  // A key written into the source between the two statements, inside the range, is copied too: count it as read.
  const known = new Set(keys.map(keyId));
  const appeared = insertedKeys.filter((k) => !known.has(keyId(k))).length;
  return { count: keys.length + appeared, inserted: insertedKeys.length, last, insertedKeys };
}
