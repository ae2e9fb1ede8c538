import type { RampVerdict } from '../config/ramp-state.js';
import { describeValue } from '../errors.js';
import type { Logger } from '../observe/logger.js';
import { errorText } from './bounded.js';
import type { RollbackGuard } from './rollback-guard.js';

/** What a ramp makes of the guard's answer. */
export interface RampHealth {
  readonly ok: boolean;
  readonly enough: boolean;
  readonly reasons: readonly string[];
  readonly verdict: RampVerdict['verdict'];
}

/** The guard's verdict; a guard that throws or answers garbage holds the ramp (logged). */
export function readGuard(guard: Pick<RollbackGuard, 'check'>, logger: Logger, migration: string): RampHealth {
  try {
    const health: unknown = guard.check();
    if (typeof health !== 'object' || health === null) throw new TypeError(`guard.check() returned ${describeValue(health)}`);
    const { ok, enough, reasons, needed } = health as Record<string, unknown>;
    const list = Array.isArray(reasons) ? reasons.slice(0, 20).map((r) => (typeof r === 'string' ? r : describeValue(r))) : [];
    if (ok === true) {
      // Inconclusive: what the judge still waits for, and how many more calls it needs by estimate.
      const more = typeof needed === 'number' && Number.isFinite(needed) ? [`about ${Math.ceil(needed)} more calls needed`] : [];
      return enough === true
        ? { ok: true, enough: true, reasons: [], verdict: 'pass' }
        : { ok: true, enough: false, reasons: [...list, ...more], verdict: 'inconclusive' };
    }
    return { ok: false, enough: false, reasons: list.length > 0 ? list : ['the guard did not say ok'], verdict: 'fail' };
  } catch (err) {
    logger.warn({ err, migration }, 'rollback guard check threw; ramp held');
    return { ok: false, enough: false, reasons: [`guard check threw: ${errorText(err)}`], verdict: 'fail' };
  }
}
