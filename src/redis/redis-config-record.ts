import type { Redis } from 'ioredis';
import type { MigrationConfig } from '../config/migration-config.js';
import { MigrationConfigError, isRolledBack, parseMigrationConfig } from '../config/migration-config.js';
import type { RampState } from '../config/ramp-state.js';
import { parseRampState } from '../config/ramp-state.js';
import { describeValue } from '../errors.js';

/** The highest version a record may hold: above it, versions would no longer be exact integers. */
export const maxVersion = Number.MAX_SAFE_INTEGER;

/** The record kept in Redis under `key`, and published on each save. */
export interface StoredRecord {
  /** The record as Redis holds it. */
  readonly raw: string;
  readonly version: number;
  readonly savedAt: number;
  readonly rolledBack: boolean;
  readonly config: MigrationConfig;
  /** The ramp state saved with the config (kept in the record as a JSON string). */
  readonly ramp: RampState | undefined;
}

// Compare-and-set, publish and lease check in one atomic step, so the order of
// messages on the channel is the order of versions.
// KEYS: config key, fence key (the config key again when unfenced).
// ARGV: expected version, config JSON, savedAt, '1' when the config is a rollback,
//       channel, fence token ('' when unfenced), '1' when the saver's own last config used new,
//       the exact record the saver holds ('' when none): anything else in the key, a
//       newer record or garbage this instance refused, makes a non-rollback save fail;
//       the ramp state's JSON ('' keeps the stored one), '1' or '0' to set the rollback flag
//       ('' computes it: a rollback over a config that used new, or over a rollback).
// A version is an integer from 0 to Number.MAX_SAFE_INTEGER (parseRecord refuses any other, so does
// the script: it counts from 0 over one, and a save at the limit keeps the limit, which instances
// serve as they serve any record of the version they hold).
export const SAVE_SCRIPT = `
if ARGV[6] ~= '' and redis.call('GET', KEYS[2]) ~= ARGV[6] then return {-1} end
local cur = redis.call('GET', KEYS[1])
local decoded = nil
local curVersion = 0
if cur then
  local ok, value = pcall(cjson.decode, cur)
  if ok and type(value) == 'table' then
    decoded = value
    local v = value.version
    if type(v) == 'number' and v >= 0 and v <= ${maxVersion} and v == math.floor(v) then curVersion = v end
  end
end
local isRollback = ARGV[4] == '1'
local expected = tonumber(ARGV[1])
if cur and not isRollback and cur ~= ARGV[8] then return {0, curVersion, cur} end
local version = math.max(curVersion, expected) + 1
if version > ${maxVersion} then version = ${maxVersion} end
local rolledBack = false
if isRollback then
  if decoded and type(decoded.config) == 'table' then
    local pc = decoded.config
    local prevRolledBack = pc.newSystemEnabled == false and pc.newSystemPercentage == 0
    rolledBack = (not prevRolledBack) or decoded.rolledBack == true
  else
    rolledBack = ARGV[7] == '1'
  end
end
local ramp = ''
if ARGV[9] ~= '' then
  ramp = ',"ramp":' .. cjson.encode(ARGV[9])
elseif decoded and type(decoded.ramp) == 'string' then
  ramp = ',"ramp":' .. cjson.encode(decoded.ramp)
end
if ARGV[10] == '1' then rolledBack = true elseif ARGV[10] == '0' then rolledBack = false end
local record = '{"version":' .. string.format('%d', version) .. ',"savedAt":' .. ARGV[3] ..
  ',"rolledBack":' .. (rolledBack and 'true' or 'false') .. ',"config":' .. ARGV[2] .. ramp .. '}'
redis.call('SET', KEYS[1], record)
redis.call('PUBLISH', ARGV[5], record)
return {1, version, record, cur or ''}
`;

/** Parses and validates a record read from Redis; an error names what is wrong. */
export function parseRecord(raw: string): StoredRecord | MigrationConfigError {
  let value: unknown;
  try {
    value = JSON.parse(raw);
  } catch (err) {
    return new MigrationConfigError([{ path: '(root)', message: `is not valid JSON: ${(err as Error).message}` }]);
  }
  if (typeof value !== 'object' || value === null || !('config' in value)) {
    return new MigrationConfigError([{ path: '(root)', message: 'must be a record { version, savedAt, rolledBack, config }' }]);
  }
  const envelope = value as { version?: unknown; savedAt?: unknown; rolledBack?: unknown; config: unknown; ramp?: unknown };
  if (typeof envelope.version !== 'number' || !Number.isInteger(envelope.version) || envelope.version < 0 || envelope.version > maxVersion) {
    return new MigrationConfigError([
      { path: 'version', message: `must be an integer from 0 to ${maxVersion} (Number.MAX_SAFE_INTEGER), got ${describeValue(envelope.version)}` },
    ]);
  }
  let config: MigrationConfig;
  try {
    config = parseMigrationConfig(envelope.config);
  } catch (err) {
    if (err instanceof MigrationConfigError) {
      return new MigrationConfigError(err.issues.map((issue) => ({ path: `config.${issue.path}`, message: issue.message })));
    }
    throw err;
  }
  return {
    raw,
    version: envelope.version,
    savedAt: typeof envelope.savedAt === 'number' ? envelope.savedAt : 0,
    rolledBack: envelope.rolledBack === true,
    config,
    ramp: parseStoredRamp(envelope.ramp),
  };
}


/** The ramp state kept in a record as a JSON string; undefined when absent or invalid (never blocking the config). */
function parseStoredRamp(value: unknown): RampState | undefined {
  if (typeof value !== 'string') return undefined;
  try {
    return parseRampState(JSON.parse(value));
  } catch {
    return undefined;
  }
}

/** What SAVE_SCRIPT answered: 1 written (with the record and the one it replaced), 0 refused (with the key's record), -1 lease not held. */
export interface SaveReply {
  readonly status: number;
  readonly version: unknown;
  readonly record: unknown;
  readonly previous: unknown;
}

/** Runs SAVE_SCRIPT with one save's arguments. @throws the Redis error, or an Error on a reply it cannot read. */
export async function runSaveScript(
  redis: Redis,
  save: {
    readonly key: string;
    readonly channel: string;
    readonly config: MigrationConfig;
    readonly fence: { readonly key: string; readonly token: string } | undefined;
    readonly version: number;
    readonly expected: string;
    readonly usedNew: boolean;
    readonly ramp: RampState | undefined;
    readonly savedAt: number;
  },
): Promise<SaveReply> {
  const reply: unknown = await redis.eval(
    SAVE_SCRIPT,
    2,
    save.key,
    save.fence?.key ?? save.key,
    String(save.version),
    JSON.stringify(save.config),
    String(save.savedAt),
    isRolledBack(save.config) ? '1' : '0',
    save.channel,
    save.fence?.token ?? '',
    save.usedNew ? '1' : '0',
    save.expected,
    save.ramp === undefined ? '' : JSON.stringify(save.ramp),
    save.ramp?.rolledBack === undefined ? '' : save.ramp.rolledBack ? '1' : '0',
  );
  if (!Array.isArray(reply) || typeof reply[0] !== 'number') {
    throw new Error(`[migration-glue] unexpected reply from Redis to a config save: ${describeValue(reply)}`);
  }
  const [status, version, record, previous] = reply as [number, unknown, unknown, unknown];
  return { status, version, record, previous };
}

/** The error a save that is not a rollback gets when the key holds an invalid record: names the key and the way out. */
export function invalidRecordError(key: string, stored: MigrationConfigError): MigrationConfigError {
  const error = new MigrationConfigError(stored.issues);
  error.message =
    error.message.replace('invalid config:', `invalid config record in redis key "${key}":`) +
    '; a save that is not a rollback does not replace it: fix or delete the key, roll back, or save with { overwriteInvalid: true }';
  return error;
}
