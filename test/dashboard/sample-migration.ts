import type { OperatorStatus } from '../../src/cli/operator-types.js';
import type { JournalEntry } from '../../src/rollout/journal.js';

// A migration part way through its ramp, for the screenshot: twelve days of
// journal (steps, approvals, a rollback, metrics every six hours) and the
// status a Redis store with fleet figures would give now.

const hour = 3_600_000;
const day = 24 * hour;

/** The journal of the sample migration, ending at `now`. */
export function sampleJournal(now: number): JournalEntry[] {
  const start = now - 12 * day;
  const entries: JournalEntry[] = [];
  const at = (days: number) => Math.round(start + days * day);
  entries.push({ at: at(0), kind: 'phase', migration: 'pricing', phase: 'shadow', percentage: 100 });
  const steps: [number, number][] = [[1, 1], [2, 5], [4, 10], [6.5, 25], [8, 1], [9, 5], [10, 10], [11.2, 25]];
  for (const [days, percentage] of steps) {
    entries.push({ at: at(days) - hour, kind: 'approval', migration: 'pricing', approved: true, percentage });
    entries.push({ at: at(days), kind: 'step', migration: 'pricing', percentage });
  }
  entries.push({ at: at(7.4), kind: 'rollback', migration: 'pricing', percentage: 25, reason: 'rollback guard: new error rate 2.1 % (always-valid interval 1.4 % to 3.0 %, limit 1 %) over 4180' });
  entries.push({ at: at(7.5), kind: 'issue', migration: 'pricing', issue: 'v2 timed out on the tax service under load', resolution: 'connection pool raised from 10 to 50', owner: 'payments team' });
  entries.push({ at: at(7.9), kind: 'resume', migration: 'pricing', message: 'ramp resumed in shadow mode' });
  for (let t = at(1); t < now; t += 6 * hour) {
    const percentage = [...steps].reverse().find(([d]) => at(d) <= t)?.[1] ?? 0;
    const bad = t > at(6.5) && t < at(7.4);
    const wave = Math.sin(t / (5 * hour));
    entries.push({
      at: t,
      kind: 'metrics',
      migration: 'pricing',
      data: {
        percentage,
        old: { calls: 20_000, errorRate: 0.004 + 0.001 * wave, p95: 118 + 6 * wave },
        new: { calls: percentage * 200, errorRate: bad ? 0.021 : 0.0045 + 0.001 * wave, p95: bad ? 260 : 126 + 8 * wave },
        shadow: { compared: 0, mismatchRate: 0 },
      },
    });
  }
  return entries.sort((a, b) => a.at - b.at);
}

/** The status now: canary 25 %, waiting for approval of 50 %. */
export function sampleStatus(now: number): Partial<OperatorStatus> {
  return {
    store: 'redis://10.0.4.12:6379?key=migration:pricing',
    phase: 'canary',
    percentage: 25,
    config: { shadowMode: false, newSystemEnabled: true, newSystemPercentage: 25, fallbackEnabled: true },
    progress: { taken: 4, steps: 7, next: 50 },
    ramp: {
      revision: 41,
      stepRevision: 39,
      step: 3,
      since: now - 0.8 * day,
      nextAt: now - 2 * hour,
      blockedBy: 'approval',
      pendingApproval: { step: 4, percentage: 50, requestedAt: now - 2 * hour },
      approvals: [
        { percentage: 10, by: 'release owner', at: now - 2 * day - hour, revision: 35, comment: 'error rate flat since the pool fix' },
        { percentage: 25, by: 'release owner', at: now - 0.8 * day - hour, revision: 38 },
      ],
      lastRollback: { at: now - 4.6 * day, by: 'rollback guard', reason: 'new error rate 2.1 % over 4180 calls (limit 1 %)', percentage: 25 },
      verdict: { verdict: 'pass', reasons: [], at: now - 5 * 60_000 },
      updatedAt: now - 2 * hour,
    },
    fleet: {
      instances: 6,
      windowMs: 300_000,
      at: now,
      old: { calls: 61_204, errors: 251, errorRate: 0.0041, p95: 121 },
      new: { calls: 20_388, errors: 92, errorRate: 0.0045, p95: 129 },
      shadow: {
        compared: 0,
        mismatched: 0,
        mismatchRate: 0,
        fingerprints: [
          { fingerprint: 'a41f09c2', description: 'total: 12.0048 vs 12 (rounding)', count: 1_843 },
          { fingerprint: '7be2d115', description: 'currency: missing in new', count: 212 },
          { fingerprint: '0c9d33aa', description: 'lines[].tax: 0.2 vs 0.19', count: 37 },
        ],
      },
    },
  };
}
