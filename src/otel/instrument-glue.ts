import type { Meter, ObservableCallback } from '@opentelemetry/api';
import { z } from 'zod';
import type { GlueLike } from '../core/glue-like.js';
import { phaseOf } from '../core/routing.js';
import { InvalidOptionError, describeValue } from '../errors.js';
import { field, hasMethods, parseOptions } from '../option-schema.js';

/** @deprecated Use GlueLike (src/core/glue-like.ts): what every integration needs of a glue, under one name. */
export type InstrumentableGlue = GlueLike;

/** Options of instrumentGlue. */
export interface InstrumentGlueOptions {
  /** The OpenTelemetry meter the instruments are created on, e.g. `metrics.getMeter('checkout')`. Required. */
  readonly meter: Meter;
  /**
   * Prefix of every instrument name: `${prefix}.calls`, `${prefix}.latency`…
   * Letters, digits, `_`, `.`, `-` and `/`, starting with a letter.
   * @default 'migration_glue'
   */
  readonly prefix?: string;
}

/** Bucket boundaries of the latency histogram, in ms: from sub-millisecond calls to timeouts. */
const LATENCY_BOUNDARIES_MS = [0.5, 1, 2.5, 5, 10, 25, 50, 75, 100, 250, 500, 750, 1000, 2500, 5000, 10000];

const NAME = /^[A-Za-z][A-Za-z0-9_./-]{0,200}$/;

const isMeter = (value: unknown): boolean => hasMethods(value, ['createCounter', 'createHistogram', 'createObservableGauge']);

const optionsSchema = z.strictObject({
  meter: field<Meter>(isMeter, 'an OpenTelemetry Meter (metrics.getMeter(name))'),
  prefix: field<string>((value) => typeof value === 'string' && NAME.test(value), 'a name that starts with a letter and holds only letters, digits, _ . - /').default(
    'migration_glue',
  ),
});

/**
 * Reports a glue's figures as OpenTelemetry instruments on `meter`, from
 * its events (no work on the call path beyond one event per served call).
 * Every measurement carries the `migration` attribute.
 *
 * - `${prefix}.calls` (counter): served calls, by `arm` (old, new) and `outcome` (ok, error);
 * - `${prefix}.errors` (counter): failed calls, by `arm`;
 * - `${prefix}.latency` (histogram, ms): duration of served calls, by `arm` and `outcome`;
 * - `${prefix}.fallbacks` (counter): new failed in canary and old served;
 * - `${prefix}.mismatches` (counter): shadow mismatches, by `kind` (value, error, flaky);
 * - `${prefix}.shadow_errors` (counter): shadow calls of new that failed or timed out, by `reason`;
 * - `${prefix}.rollbacks` (counter): effective rollbacks;
 * - `${prefix}.new_percentage` (observable gauge, %): the share of keys sent to (or shadowed on) new, 0 when disabled.
 *
 * Returns a function that stops reporting (the instruments stay on the meter, idle).
 * @throws InvalidOptionError on a missing glue or meter, or a bad prefix.
 */
export function instrumentGlue(glue: GlueLike, options: InstrumentGlueOptions): () => void {
  const candidate = glue as Partial<GlueLike> | null | undefined;
  if (typeof candidate !== 'object' || candidate === null || typeof candidate.on !== 'function' || typeof candidate.stats !== 'function') {
    throw new InvalidOptionError('glue', `must be a MigrationGlue (on, stats), got ${describeValue(glue)}`);
  }
  const { meter: m, prefix } = parseOptions(optionsSchema, options, 'instrumentGlue');
  const migration = glue.name;
  const calls = m.createCounter(`${prefix}.calls`, { description: 'Calls served by the migration, by arm and outcome', unit: '{call}' });
  const errors = m.createCounter(`${prefix}.errors`, { description: 'Calls that failed, by arm', unit: '{call}' });
  const latency = m.createHistogram(`${prefix}.latency`, {
    description: 'Duration of served calls, by arm and outcome',
    unit: 'ms',
    advice: { explicitBucketBoundaries: LATENCY_BOUNDARIES_MS },
  });
  const fallbacks = m.createCounter(`${prefix}.fallbacks`, { description: 'Calls where new failed and old served', unit: '{call}' });
  const mismatches = m.createCounter(`${prefix}.mismatches`, { description: 'Shadow comparisons where old and new disagreed, by kind', unit: '{comparison}' });
  const shadowErrors = m.createCounter(`${prefix}.shadow_errors`, { description: 'Shadow calls of new that failed or timed out, by reason', unit: '{call}' });
  const rollbacks = m.createCounter(`${prefix}.rollbacks`, { description: 'Effective rollbacks of the migration', unit: '{rollback}' });
  const percentage = m.createObservableGauge(`${prefix}.new_percentage`, { description: 'Share of routing keys on new (or shadowed), 0 when new is disabled', unit: '%' });

  const observe: ObservableCallback = (result) => {
    const config = glue.stats().config;
    result.observe(phaseOf(config) === 'preparation' ? 0 : config.newSystemPercentage, { migration });
  };
  percentage.addCallback(observe);

  // Attribute objects built once: the settled listener runs on every served call.
  const attrs = {
    old: { ok: { migration, arm: 'old', outcome: 'ok' }, error: { migration, arm: 'old', outcome: 'error' }, arm: { migration, arm: 'old' } },
    new: { ok: { migration, arm: 'new', outcome: 'ok' }, error: { migration, arm: 'new', outcome: 'error' }, arm: { migration, arm: 'new' } },
  } as const;
  const only = { migration };

  const offs = [
    glue.on('settled', (event) => {
      const arm = attrs[event.arm];
      const outcome = event.ok ? arm.ok : arm.error;
      calls.add(1, outcome);
      if (!event.ok) errors.add(1, arm.arm);
      latency.record(event.durationMs > 0 ? event.durationMs : 0, outcome);
    }),
    glue.on('fallback', () => fallbacks.add(1, only)),
    glue.on('mismatch', (event) => mismatches.add(1, { migration, kind: event.kind })),
    glue.on('shadowError', (event) => shadowErrors.add(1, { migration, reason: event.reason })),
    glue.on('rollback', () => rollbacks.add(1, only)),
  ];
  let stopped = false;
  return () => {
    if (stopped) return;
    stopped = true;
    for (const off of offs) off();
    percentage.removeCallback(observe);
  };
}
