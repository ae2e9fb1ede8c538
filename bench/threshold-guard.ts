/**
 * The rule the RollbackGuard used before it became a sequential judge,
 * kept here only as the reference of `npm run bench:judge`: fixed limits on
 * the glue's 5-minute sliding window, checked after every call new served
 * and every mismatch, with 100 samples needed in the window.
 */
import type { AnyGlue } from '../src/index.js';
import { defaultRollbackCriteria as c } from '../src/index.js';

export class ThresholdGuard {
  readonly #glue: AnyGlue;
  #baseline: { errorRate: number; p95: number } | undefined;
  #tripped = false;

  constructor(glue: AnyGlue) {
    this.#glue = glue;
  }

  watch(): () => void {
    const judge = (): void => this.#judge();
    const offSettled = this.#glue.on('settled', (event) => {
      if (event.arm === 'new') judge();
    });
    const offMismatch = this.#glue.on('mismatch', judge);
    return () => {
      offSettled();
      offMismatch();
    };
  }

  #judge(): void {
    if (this.#tripped) return;
    const stats = this.#glue.stats();
    const fresh = stats.new.window;
    const old = stats.old.window;
    const shadow = stats.shadow.window;
    if (stats.new.calls === 0 && old.calls >= c.minSamples) this.#baseline = { errorRate: old.errorRate, p95: old.p95 };
    const control = old.calls >= c.minSamples ? { errorRate: old.errorRate, p95: old.p95 } : this.#baseline;
    let reason: string | undefined;
    if (fresh.calls >= c.minSamples) {
      if (fresh.errorRate > c.maxErrorRate) reason = 'error rate';
      else if (control !== undefined && fresh.errorRate > control.errorRate + c.maxErrorRateOverBaseline) reason = 'error rate over baseline';
      else if (control !== undefined && control.p95 > 0 && fresh.p95 > c.maxP95Ratio * control.p95) reason = 'p95';
    }
    if (shadow.compared >= c.minSamples && shadow.mismatchRate > c.maxMismatchRate) reason = 'mismatch rate';
    if (reason === undefined) return;
    this.#tripped = true;
    void this.#glue.rollback(`threshold rule: ${reason}`).catch(() => {});
  }
}
