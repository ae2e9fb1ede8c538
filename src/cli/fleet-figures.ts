import type { Redis } from 'ioredis';
import { FleetHistogram } from '../redis/fleet-histogram.js';
import type { SerializedHistogram } from '../redis/fleet-histogram.js';
import type { OperatorArmFigures, OperatorFleet } from './operator-types.js';

// Reads the figures FleetStats instances publish (`${prefix}:instances`, and
// a hash `${prefix}:instance:${id}` with a `figures` field each) and sums
// them over the sliding window, as an operator sees the fleet.

interface PublishedArm {
  readonly calls?: unknown;
  readonly errors?: unknown;
  readonly latency?: SerializedHistogram;
}

interface Published {
  readonly windowMs?: unknown;
  readonly window?: { readonly old?: PublishedArm; readonly new?: PublishedArm };
  readonly shadow?: {
    readonly window?: { readonly compared?: unknown; readonly mismatched?: unknown };
    readonly fingerprints?: readonly { readonly fingerprint?: unknown; readonly description?: unknown; readonly count?: unknown }[];
  };
}

const count = (value: unknown): number => (typeof value === 'number' && Number.isFinite(value) && value > 0 ? value : 0);

/** The fleet's summed figures, or undefined when no instance publishes under `prefix`. Never throws on a malformed figure. */
export async function readFleetFigures(redis: Redis, prefix: string): Promise<OperatorFleet | undefined> {
  const ids = await redis.smembers(`${prefix}:instances`);
  if (ids.length === 0) return undefined;
  const pipeline = redis.pipeline();
  for (const id of ids) pipeline.hget(`${prefix}:instance:${id}`, 'figures');
  const replies = (await pipeline.exec()) ?? [];
  const all: Published[] = [];
  for (const [err, raw] of replies) {
    if (err !== null || typeof raw !== 'string') continue;
    try {
      const value: unknown = JSON.parse(raw);
      if (typeof value === 'object' && value !== null) all.push(value as Published);
    } catch {
      // a figure this version cannot read: left out
    }
  }
  if (all.length === 0) return undefined;
  const arm = (side: 'old' | 'new'): OperatorArmFigures => {
    const latency = new FleetHistogram();
    let calls = 0;
    let errors = 0;
    for (const p of all) {
      const figures = p.window?.[side];
      if (figures === undefined || figures === null) continue;
      calls += count(figures.calls);
      errors += count(figures.errors);
      if (typeof figures.latency === 'object' && figures.latency !== null) latency.addSerialized(figures.latency);
    }
    return { calls, errors, errorRate: calls === 0 ? 0 : errors / calls, p95: calls === 0 ? 0 : latency.percentiles().p95 };
  };
  const compared = all.reduce((sum, p) => sum + count(p.shadow?.window?.compared), 0);
  const mismatched = all.reduce((sum, p) => sum + count(p.shadow?.window?.mismatched), 0);
  const byFingerprint = new Map<string, { fingerprint: string; description: string; count: number }>();
  for (const p of all) {
    for (const f of Array.isArray(p.shadow?.fingerprints) ? (p.shadow?.fingerprints ?? []) : []) {
      if (typeof f?.fingerprint !== 'string') continue;
      const seen = byFingerprint.get(f.fingerprint);
      byFingerprint.set(f.fingerprint, { fingerprint: f.fingerprint, description: String(f.description ?? ''), count: (seen?.count ?? 0) + count(f.count) });
    }
  }
  return {
    instances: all.length,
    windowMs: count(all[0]?.windowMs),
    old: arm('old'),
    new: arm('new'),
    shadow: {
      compared,
      mismatched,
      mismatchRate: compared === 0 ? 0 : mismatched / compared,
      fingerprints: [...byFingerprint.values()].sort((a, b) => b.count - a.count).slice(0, 20),
    },
    at: Date.now(),
  };
}
