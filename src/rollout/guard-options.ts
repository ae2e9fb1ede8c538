import { z } from 'zod';
import type { ArmFigures } from '../observe/arm-metrics.js';
import type { Clock } from '../observe/clock.js';
import type { Logger } from '../observe/logger.js';
import { loggerOption } from '../observe/logger.js';
import type { Notifier } from '../observe/notifier.js';
import { notifierOption } from '../observe/notifier.js';
import { field, option, parseOptions } from '../option-schema.js';

/** Options of a RollbackGuard beyond its criteria. */
export interface RollbackGuardOptions {
  /** Old's figures from before new took traffic, e.g. measured last week. @default measured by the guard while new serves nothing */
  readonly baseline?: Pick<ArmFigures, 'calls' | 'errorRate' | 'p95'>;
  /**
   * The comparator's noise floor, measured in A/A mode (`shadow.aa`, old
   * against old) by an earlier deployment: shadow value mismatches are then
   * judged against `maxMismatchRate` plus this noise. @default measured while `aa` is on, else none
   */
  readonly noise?: { readonly compared: number; readonly mismatched: number };
  /** The clock steps are timed by: give the glue's. @default systemClock */
  readonly clock?: Clock;
  /** Told when a step stays inconclusive past `maxInconclusiveMs`. @default none */
  readonly notifier?: Notifier;
  /** @default the glue's logger is not reachable, so pino at `info` */
  readonly logger?: Logger;
  /**
   * How long `watch()` waits for `glue.rollback()` to settle, in ms of real
   * time, before it stops waiting (logged) and may trip again. The guard is
   * also re-armed at once when the glue's config moves forward again.
   * @default 30000
   */
  readonly rollbackTimeoutMs?: number;
}

type Baseline = Pick<ArmFigures, 'calls' | 'errorRate' | 'p95'>;
type Noise = { readonly compared: number; readonly mismatched: number };

function read(value: unknown, key: string): unknown {
  return typeof value === 'object' && value !== null ? (value as Record<string, unknown>)[key] : undefined;
}

function isBaseline(value: unknown): boolean {
  const [calls, errorRate, p95] = ['calls', 'errorRate', 'p95'].map((key) => read(value, key));
  return [calls, errorRate, p95].every((v) => typeof v === 'number' && Number.isFinite(v) && v >= 0) && (errorRate as number) <= 1;
}

function isNoise(value: unknown): boolean {
  const compared = read(value, 'compared');
  const mismatched = read(value, 'mismatched');
  return [compared, mismatched].every((v) => Number.isInteger(v) && (v as number) >= 0) && (mismatched as number) <= (compared as number);
}

const schema = z.strictObject({
  baseline: field<Baseline>(isBaseline, 'an object with finite, non-negative calls, errorRate (at most 1) and p95').optional(),
  noise: field<Noise>(isNoise, '{ compared, mismatched } with whole numbers, mismatched at most compared').optional(),
  clock: option.clock(),
  notifier: notifierOption(),
  logger: loggerOption('pino'),
  rollbackTimeoutMs: option.timerMs().default(30_000),
});

/** RollbackGuardOptions with defaults resolved. */
export type ResolvedGuardOptions = z.output<typeof schema>;

/** Checks a RollbackGuard's options once and resolves their defaults. @throws InvalidOptionError naming the bad or unknown option. */
export function resolveGuardOptions(options: RollbackGuardOptions): ResolvedGuardOptions {
  return parseOptions(schema, options, 'RollbackGuard');
}
