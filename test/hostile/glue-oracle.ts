import fc from 'fast-check';
import type { MigrationConfig, RoutingKey, ShadowOrder } from '../../src/index.js';
import { bucketOf, defaultRoutingKey, phaseOf } from '../../src/index.js';
import { isRoutingKey } from '../../src/hashing/hasher.js';
import type { Expected, Named } from './arbitraries.js';
import { inputArb } from './arbitraries.js';

// What the caller of a glue must get, computed from DESIGN's phase table
// alone: the harness's oracle.

/** A phase of the table, with the fallback flag a user may set. */
export interface Phase {
  readonly label: string;
  readonly config: MigrationConfig;
}

function phase(label: string, config: MigrationConfig): Phase {
  return { label, config, [fc.toStringMethod]: () => label } as Phase;
}

export const phaseArb: fc.Arbitrary<Phase> = fc.oneof(
  fc.constant(phase('preparation', { shadowMode: false, newSystemEnabled: false, newSystemPercentage: 0, fallbackEnabled: false })),
  fc.constant(phase('shadow', { shadowMode: true, newSystemEnabled: true, newSystemPercentage: 100, fallbackEnabled: false })),
  fc
    .tuple(fc.integer({ min: 1, max: 10_000 }), fc.boolean())
    .map(([n, fallback]) =>
      phase(`canary ${n / 100} % fallback ${fallback}`, { shadowMode: false, newSystemEnabled: true, newSystemPercentage: n / 100, fallbackEnabled: fallback }),
    ),
  fc.boolean().map((fallback) => phase(`full fallback ${fallback}`, { shadowMode: false, newSystemEnabled: true, newSystemPercentage: 100, fallbackEnabled: fallback })),
);

export const orderArb: fc.Arbitrary<ShadowOrder> = fc.constantFrom('parallel', 'old-first', 'new-first', 'random');

/** An input: a hostile value alone, or one carrying a routing key beside a hostile payload. */
export const glueInputArb: fc.Arbitrary<Named<unknown>> = fc.oneof(
  inputArb,
  fc.tuple(fc.oneof(fc.string({ minLength: 1, maxLength: 6 }), fc.integer()), inputArb).map(([userId, payload]) => {
    const label = `{ userId: ${JSON.stringify(userId)}, payload: ${payload.label} }`;
    return { label, make: () => ({ userId, payload: payload.make() }), [fc.toStringMethod]: () => label } as Named<unknown>;
  }),
);

/**
 * The documented default routing key; undefined when there is no usable key
 * (reading the input throws, or the key is NaN, Infinity, '' or not a string
 * or number): such a call is a missing-key call, and old serves it.
 */
export function defaultKeyOf(input: unknown): RoutingKey | undefined {
  try {
    return usableKey(defaultRoutingKey(input));
  } catch {
    return undefined;
  }
}

/** `key` when it is a usable routing key (a non-empty string or a finite number), else undefined. */
export function usableKey(key: unknown): RoutingKey | undefined {
  return isRoutingKey(key) ? key : undefined;
}

/** Expected outcome, plus `timeout`: the glue's own ERR_TIMEOUT (new did not answer within `newTimeoutMs`). */
export type Oracle = Expected | { readonly kind: 'timeout' };

/** The side the phase table sends `key` to. */
export function sideOf(config: MigrationConfig, key: RoutingKey | undefined, salt: string): 'old' | 'new' {
  const p = phaseOf(config);
  if (p === 'preparation' || p === 'shadow') return 'old';
  if (config.newSystemPercentage === 100) return 'new';
  const usable = usableKey(key);
  if (usable === undefined) return 'old';
  return bucketOf(usable, salt) < Math.round(config.newSystemPercentage * 100) ? 'new' : 'old';
}

/** What the caller of `process` must get (with `newTimeoutMs` set on the glue). */
export function expectedOf(config: MigrationConfig, key: RoutingKey | undefined, salt: string, old: Expected, neu: Expected): Oracle {
  if (sideOf(config, key, salt) === 'old') return old;
  if (neu.kind !== 'error' && neu.kind !== 'pending') return neu;
  if (config.fallbackEnabled) return old;
  return neu.kind === 'pending' ? { kind: 'timeout' } : neu;
}
