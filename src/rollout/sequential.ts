/**
 * Always-valid confidence bounds for the rollback judge.
 *
 * The judge looks after every call, so an ordinary confidence interval,
 * checked thousands of times, would be crossed by chance sooner or later.
 * These bounds are confidence sequences: the probability that the true value
 * ever leaves them, at any of the infinitely many looks, is at most `alpha`.
 *
 * Method: the asymptotic confidence sequence of Waudby-Smith, Arbour,
 * Sinha, Kennedy and Ramdas ("Time-uniform central limit theory and
 * asymptotic confidence sequences", Annals of Statistics, 2024), built on
 * Robbins' normal mixture. For the mean of t observations with standard
 * deviation σ, the bound is mean ± σ·r(t), with
 *
 *   r(t) = sqrt( 2 (t ρ² + 1) / (t² ρ²) · ln( sqrt(t ρ² + 1) / α ) )
 *
 * and ρ² tuned so that the bound is tightest near `tOpt` observations:
 * ρ² = (−2 ln α + ln(−2 ln α + 1)) / tOpt. GrowthBook's sequential engine
 * uses the same boundary. We use one side of it at level α (the judge only
 * ever asks "is new worse?"), which is conservative: the two-sided sequence
 * at level α covers each side at level α/2.
 */

/** A point estimate and its always-valid lower and upper bounds. */
export interface Bound {
  readonly estimate: number;
  readonly lower: number;
  readonly upper: number;
}

/** Events (errors, mismatches, slow calls) among trials (calls, comparisons). */
export interface Counts {
  readonly trials: number;
  readonly events: number;
}

/** ρ² of the normal mixture, tuned for a bound tightest near `tOpt` observations. */
export function mixtureRho2(alpha: number, tOpt: number): number {
  const l = -2 * Math.log(alpha);
  return (l + Math.log(l + 1)) / Math.max(1, tOpt);
}

/**
 * Radius of the confidence sequence for the mean of `t` unit-variance
 * observations (multiply by the standard deviation). Infinite before the
 * first observation.
 */
export function mixtureRadius(t: number, alpha: number, tOpt: number): number {
  if (!(t > 0)) return Number.POSITIVE_INFINITY;
  const rho2 = mixtureRho2(alpha, tOpt);
  const v = t * rho2 + 1;
  return Math.sqrt(((2 * v) / (t * t * rho2)) * Math.log(Math.sqrt(v) / alpha));
}

/**
 * Variance of one Bernoulli trial, estimated with one pseudo-event and one
 * pseudo-non-event added (as Agresti and Coull do), so that a run of zero
 * errors, or of errors only, never claims zero variance.
 */
function bernoulliVariance({ trials, events }: Counts): number {
  const p = (events + 1) / (trials + 2);
  return p * (1 - p);
}

function rateOf({ trials, events }: Counts): number {
  return trials > 0 ? events / trials : 0;
}

/**
 * Always-valid bounds on the rate `events / trials` of one stream: the
 * rates p that the boundary does not exclude, |rate − p| ≤ sqrt(p(1 − p))·r(n),
 * solved for p (Wilson's inversion). Using the variance of each candidate p
 * rather than of the observed rate keeps the bounds honest for rare events
 * (zero errors so far) and sharp for frequent ones (a 10 % error rate
 * against a 1 % limit is clear within a few hundred calls).
 */
export function rateBound(counts: Counts, alpha: number, tOpt: number): Bound {
  const n = counts.trials;
  const estimate = rateOf(counts);
  if (!(n > 0)) return { estimate, lower: 0, upper: 1 };
  const radius = mixtureRadius(n, alpha, tOpt);
  const z2 = radius * radius * n;
  const centre = (estimate + z2 / (2 * n)) / (1 + z2 / n);
  const half = (Math.sqrt(z2) / (1 + z2 / n)) * Math.sqrt((estimate * (1 - estimate)) / n + z2 / (4 * n * n));
  // The interval holds the estimate; rounding in centre ∓ half must not push a bound past it
  // (at 0 events the lower bound came out a few 1e-17 above 0, failing a limit of 0).
  return { estimate, lower: Math.max(0, Math.min(estimate, centre - half)), upper: Math.min(1, Math.max(estimate, centre + half)) };
}

/**
 * Always-valid bounds on the difference of two rates, `a − b` (new minus the
 * control). The variance of the difference, s²ₐ/nₐ + s²ᵦ/nᵦ, is spread over
 * all n = nₐ + nᵦ observations, as for a two-sample mean. A control with a
 * fixed count (a baseline measured earlier) enters with its own n.
 */
export function rateDifferenceBound(a: Counts, b: Counts, alpha: number, tOpt: number): Bound {
  const estimate = rateOf(a) - rateOf(b);
  if (a.trials <= 0 || b.trials <= 0) return { estimate, lower: -1, upper: 1 };
  const n = a.trials + b.trials;
  const variance = bernoulliVariance(a) / a.trials + bernoulliVariance(b) / b.trials;
  const radius = Math.sqrt(variance * n) * mixtureRadius(n, alpha, tOpt);
  return { estimate, lower: Math.max(-1, estimate - radius), upper: Math.min(1, estimate + radius) };
}

/**
 * The level a control's quantile must be read at so that, with probability
 * at least 1 − alpha, it is not below the true `q`-quantile: the usual
 * order-statistic bound, q + z·sqrt(q(1 − q)/n), with z from alpha.
 * Reading the control high keeps an unlucky control sample from making a
 * healthy new look slow.
 */
export function upperQuantileLevel(q: number, n: number, alpha: number): number {
  if (!(n > 0)) return 1;
  return Math.min(1, q + normalQuantile(1 - alpha) * Math.sqrt((q * (1 - q)) / n));
}

/**
 * The standard normal quantile (Acklam's rational approximation, relative
 * error below 1.2e-9), for `p` in (0, 1).
 */
export function normalQuantile(p: number): number {
  if (!(p > 0 && p < 1)) return p <= 0 ? Number.NEGATIVE_INFINITY : Number.POSITIVE_INFINITY;
  const a = [-39.69683028665376, 220.9460984245205, -275.9285104469687, 138.357751867269, -30.66479806614716, 2.506628277459239];
  const b = [-54.47609879822406, 161.5858368580409, -155.6989798598866, 66.80131188771972, -13.28068155288572];
  const c = [-0.007784894002430293, -0.3223964580411365, -2.400758277161838, -2.549732539343734, 4.374664141464968, 2.938163982698783];
  const d = [0.007784695709041462, 0.3224671290700398, 2.445134137142996, 3.754408661907416];
  const low = 0.02425;
  const poly = (k: readonly number[], x: number): number => k.reduce((acc, coef) => acc * x + coef, 0);
  if (p < low) {
    const q = Math.sqrt(-2 * Math.log(p));
    return poly(c, q) / (poly(d, q) * q + 1);
  }
  if (p > 1 - low) {
    const q = Math.sqrt(-2 * Math.log(1 - p));
    return -poly(c, q) / (poly(d, q) * q + 1);
  }
  const q = p - 0.5;
  const r = q * q;
  return (poly(a, r) * q) / (poly(b, r) * r + 1);
}
