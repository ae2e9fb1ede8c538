/**
 * Configs, stores and routing: validation errors that name the field, a
 * config file shared by processes, sticky bucketing, a custom hasher,
 * logger, notifier and clock. Run with `npx tsx examples/config-and-routing.ts`.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  FileConfigStore,
  MigrationConfigError,
  MigrationGlue,
  MigrationGlueError,
  bucketOf,
  migrationConfigSchema,
  murmur3Hasher,
  parseMigrationConfig,
  phases,
  staticConfig,
} from '../src/index.js';
import type { Clock, Comparator, ConfigProvider, ConfigStore, Hasher, Logger, MigrationConfig, MigrationStats, Notifier, Service } from '../src/index.js';

// 1. Validation names every bad field, and why.
try {
  parseMigrationConfig({ shadowMode: 'yes', newSystemEnabled: true, newSystemPercentage: 12.345, fallbackEnabled: true });
} catch (err) {
  if (err instanceof MigrationConfigError) console.log(`1. ${err.code}: ${err.issues.map((i) => `${i.path} ${i.message}`).join('; ')}`);
}
console.log(`   the zod schema is exported for your own config files: ${Object.keys(migrationConfigSchema.shape).join(', ')}`);

// 2. A config file every process on the machine shares; edits are picked up, bad edits refused.
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'migration-glue-'));
const file = path.join(dir, 'pricing-migration.json');
const store: ConfigStore = new FileConfigStore({ path: file, initial: phases.preparation() });
await store.save(phases.canary(10));
console.log(`2. ${path.basename(file)} holds ${JSON.stringify(JSON.parse(fs.readFileSync(file, 'utf8')))}`);

// 3. Sticky, monotonic routing: a key's bucket never changes, so raising the percentage only adds keys.
const bucket = bucketOf('user-42', 'pricing');
console.log(`3. user-42 is in bucket ${bucket}: on new from ${(bucket + 1) / 100} %; murmur3 of "pricing:user-42" is ${murmur3Hasher.hash32(new TextEncoder().encode('pricing:user-42'))}`);

// 4. Pluggable parts: a hasher (here: by the key's last letter, to match an assignment made elsewhere), a logger, a notifier, a clock.
const byLastLetter: Hasher = { hash32: (bytes) => ((bytes[bytes.length - 1] ?? 97) - 97) * 500 };
const lines: string[] = [];
const logger: Logger = { debug() {}, info: (_c, m) => void lines.push(`info ${m}`), warn: (_c, m) => void lines.push(`warn ${m}`), error: (_c, m) => void lines.push(`error ${m}`) };
const notifier: Notifier = { notify: (n) => void lines.push(`notify ${n.kind}: ${n.message}`) };
const clock: Clock = { now: () => Date.UTC(2026, 0, 1) };
const oldService: Service<{ userId: string }, string> = { process: async () => 'v1' };
const glue = new MigrationGlue({ name: 'pricing', oldService, newService: async () => 'v2', config: store, hasher: byLastLetter, logger, notifier, clock });
const served = await Promise.all(['a', 'b', 'c', 'd'].map((userId) => glue.process({ userId })));
console.log(`4. users a, b, c, d with the custom hasher at 10 %: ${served.join(' ')}`);
await glue.rollback('example: rolling back');
console.log(`   ${lines.join(' | ')}`);
const stats: MigrationStats = glue.stats();
console.log(`   after rollback: ${stats.phase}, ${stats.old.calls + stats.new.calls} calls so far`);

// 5. A static config cannot be saved: the glue switches itself on rollback. Errors carry stable codes.
const fixed = new MigrationGlue({ name: 'static', oldService, newService: async () => 'v2', config: staticConfig(phases.full()), logger });
await fixed.close();
await fixed.process({ userId: 'a' }).catch((err: unknown) => console.log(`5. after close: ${MigrationGlueError.is(err, 'ERR_CLOSED') ? 'ERR_CLOSED' : String(err)}`));

// 6. Your own pluggable parts: a read-only provider (here from an environment variable) and a comparator.
const fromEnv: ConfigProvider = {
  current: (): MigrationConfig => parseMigrationConfig(JSON.parse(process.env.PRICING_MIGRATION ?? JSON.stringify(phases.shadow()))),
  subscribe: () => () => {},
};
const sameTotal: Comparator<{ total: number }> = {
  compare: (a, b) => {
    const equal = a.ok && b.ok && Math.abs(a.value.total - b.value.total) < 0.005;
    return equal ? { equal, diff: [], truncated: false } : { equal, kind: 'value', diff: [{ path: 'total', kind: 'changed', old: a.ok ? a.value.total : a.error, new: b.ok ? b.value.total : b.error }], truncated: false };
  },
};
const totals = new MigrationGlue<{ userId: string }, { total: number }>({ name: 'totals', oldService: async () => ({ total: 10 }), newService: async () => ({ total: 10.001 }), config: fromEnv, comparator: sameTotal, logger });
await totals.process({ userId: 'a' });
await totals.drain();
console.log(`6. shadow from an env provider, custom comparator: ${totals.stats().shadow.matched} matched, ${totals.stats().shadow.mismatched} mismatched`);
await totals.close();

await glue.close();
store.close?.();
fs.rmSync(dir, { recursive: true, force: true });
