/**
 * An example of a user's own test suite, written against the testing kit
 * (`migration-glue/testing`): a made-up shop moves checkout from a legacy
 * service to a new one and wants, before going live, to know that
 *   1. its comparator ignores exactly the fields that may differ,
 *   2. a failing new checkout falls back to the legacy one,
 *   3. the canary sends the intended share of customers to new, each always
 *      to the same side,
 *   4. the orders table, dual-written to the new database, loses no order
 *      when the new database fails,
 *   5. its ramp and rollback criteria would have rolled back last month's
 *      bad release of checkout-v2, and only that one.
 * In a real project the imports read 'migration-glue' and 'migration-glue/testing'.
 */
import { describe, expect, it } from 'vitest';
import { DualWriteRepository, MigrationGlue, deepEqualComparator, phases, silentLogger, verify } from '../../src/index.js';
import type { MigrationConfig } from '../../src/index.js';
import { InMemoryRepository, ManualClock, fakeService, recordEvents, replayMigration, seededRandom, simulateTraffic } from '../../src/testing/index.js';
import type { FakeServiceOptions, RecordedCall, TrafficSegment } from '../../src/testing/index.js';

interface Cart {
  readonly customerId: string;
  readonly items: readonly { readonly sku: string; readonly qty: number; readonly unitPrice: number }[];
}

interface Receipt {
  readonly orderId: string;
  readonly createdAt: string;
  readonly total: number;
  readonly currency: string;
  readonly lines: readonly { readonly sku: string; readonly amount: number }[];
}

/** What both checkouts compute; they differ in ids, timestamps and float noise only. */
function receipt(cart: Cart, orderId: string, createdAt: string, noise = 0): Receipt {
  const lines = cart.items.map((item) => ({ sku: item.sku, amount: item.qty * item.unitPrice + noise }));
  return { orderId, createdAt, currency: 'EUR', total: lines.reduce((sum, line) => sum + line.amount, 0), lines };
}

const cartOf = (customerId: string): Cart => ({
  customerId,
  items: [
    { sku: 'book', qty: 2, unitPrice: 12.5 },
    { sku: 'pen', qty: 3, unitPrice: 1.1 },
  ],
});

/** The comparator the team will run in shadow mode: ids and timestamps differ by design, amounts to the cent. */
const checkoutComparator = deepEqualComparator<Receipt>({ ignore: ['orderId', 'createdAt'], normalize: { precision: 2 } });

function checkoutGlue(config: MigrationConfig, clock: ManualClock, newScript: Partial<FakeServiceOptions<Cart, Receipt>> = {}) {
  const legacy = fakeService<Cart, Receipt>({
    name: 'legacy-checkout',
    output: (cart, i) => receipt(cart, `L-${i}`, new Date(clock.now()).toISOString()),
    latency: { kind: 'normal', mean: 120, sd: 30 },
    clock,
  });
  const next = fakeService<Cart, Receipt>({
    name: 'checkout-v2',
    // float noise of a thousandth of a cent: the comparator must not flag it
    output: (cart, i) => receipt(cart, `N-${i}`, new Date(clock.now() + 3).toISOString(), 0.00001),
    latency: { kind: 'normal', mean: 60, sd: 10 },
    clock,
    ...newScript,
  });
  const glue = new MigrationGlue<Cart, Receipt>({
    name: 'checkout',
    oldService: legacy,
    newService: next,
    config,
    routingKey: (cart) => cart.customerId,
    comparator: checkoutComparator,
    clock,
    logger: silentLogger,
  });
  return { glue, legacy, next };
}

describe('checkout migration: shadow comparison', () => {
  it('ignores order ids, timestamps and sub-cent noise: no mismatch over 1,000 carts', async () => {
    const clock = new ManualClock();
    const { glue, next } = checkoutGlue(phases.shadow(), clock);
    const seen = recordEvents(glue);
    const result = await simulateTraffic(glue, { keys: 1_000, concurrency: 50, input: cartOf });
    expect(next.calls).toHaveLength(1_000);
    expect(result.servedBy).toEqual({ old: 1_000, new: 0 });
    expect(seen.events.mismatch).toEqual([]);
    expect(result.stats.shadow).toMatchObject({ compared: 1_000, mismatched: 0 });
  });

  it('still catches a wrong total, naming the field', async () => {
    const clock = new ManualClock();
    const { glue } = checkoutGlue(phases.shadow(), clock, {
      // v2 forgets the pens on every tenth call
      output: (cart, i) => receipt(i % 10 === 0 ? { ...cart, items: cart.items.slice(0, 1) } : cart, `N-${i}`, 'now'),
    });
    const seen = recordEvents(glue);
    const result = await simulateTraffic(glue, { keys: 200, input: cartOf });
    expect(result.mismatches).toBe(20);
    expect(seen.events.mismatch[0]?.comparison.diff.map((d) => d.path)).toEqual(['total', 'lines[1]']);
  });
});

describe('checkout migration: when checkout-v2 fails in canary', () => {
  it('the customer gets the legacy receipt, and each failure is a fallback event', async () => {
    const clock = new ManualClock();
    const outage = new Error('payment provider timeout');
    const { glue, next } = checkoutGlue(phases.canary(100), clock, { failRate: 0.05, error: outage, seed: 2026 });
    const seen = recordEvents(glue);
    const result = await simulateTraffic(glue, { keys: 500, calls: 2_000, concurrency: 20, input: cartOf });
    const failures = next.calls.filter((call) => call.status === 'error').length;
    expect(failures).toBeGreaterThan(50);
    expect(result.errors).toEqual([]);
    expect(result.fallbacks).toBe(failures);
    expect(result.servedBy).toEqual({ old: failures, new: 2_000 - failures });
    expect(seen.events.fallback.every((event) => event.error === outage)).toBe(true);
  });

  it('without fallback the customer sees the error: the reason to keep fallback on in canary', async () => {
    const clock = new ManualClock();
    const { glue } = checkoutGlue({ ...phases.canary(100), fallbackEnabled: false }, clock, { failOn: [3] });
    const result = await simulateTraffic(glue, { keys: 10, input: cartOf });
    expect(result.errors.map((error) => error.call)).toEqual([3]);
  });

  it('a hanging checkout-v2 is cut off by newTimeoutMs and falls back', async () => {
    const clock = new ManualClock();
    const { legacy, next } = checkoutGlue(phases.canary(100), clock, { hang: [0] });
    const glue = new MigrationGlue<Cart, Receipt>({
      name: 'checkout',
      oldService: legacy,
      newService: next,
      config: phases.canary(100),
      routingKey: (cart) => cart.customerId,
      newTimeoutMs: 20, // real time: a hang is the one thing a manual clock cannot end
      clock,
      logger: silentLogger,
    });
    const seen = recordEvents(glue);
    const answer = await glue.process(cartOf('c-1'));
    expect(answer.orderId).toMatch(/^L-/);
    expect(seen.count('fallback')).toBe(1);
  });
});

describe('checkout migration: canary share', () => {
  it('5 % canary sends about 5 % of customers to checkout-v2, each customer always to the same side', async () => {
    const clock = new ManualClock();
    const { glue } = checkoutGlue(phases.canary(5), clock);
    const result = await simulateTraffic(glue, { keys: 20_000, calls: 40_000, concurrency: 100, input: cartOf });
    expect(result.keysBy.both).toBe(0);
    expect(result.keysBy.new / 20_000).toBeGreaterThan(0.045);
    expect(result.keysBy.new / 20_000).toBeLessThan(0.055);
    expect(result.servedBy.new).toBe(2 * result.keysBy.new);
  });

  it('raising the canary from 5 % to 25 % moves customers only from legacy to v2', async () => {
    const clock = new ManualClock();
    const before = await simulateTraffic(checkoutGlue(phases.canary(5), clock).glue, { keys: 5_000, input: cartOf });
    const after = await simulateTraffic(checkoutGlue(phases.canary(25), clock).glue, { keys: 5_000, input: cartOf });
    for (const [customer, side] of before.byKey) if (side === 'new') expect(after.byKey.get(customer)).toBe('new');
    expect(after.keysBy.new).toBeGreaterThan(before.keysBy.new * 4);
  });

  it('v2 is faster: its p95 in the stats is under the legacy p95', async () => {
    const clock = new ManualClock();
    const { glue } = checkoutGlue(phases.canary(50), clock);
    const { stats } = await simulateTraffic(glue, { keys: 4_000, concurrency: 40, input: cartOf });
    expect(stats.new.p95).toBeGreaterThan(60);
    expect(stats.new.p95).toBeLessThan(stats.old.p95);
  });
});

interface Order {
  readonly id: string;
  readonly customerId: string;
  readonly total: number;
}

describe('checkout migration: the orders table', () => {
  // Totals drawn under a seed: a failing run replays with the same orders.
  const random = seededRandom(2026);
  const order = (i: number): Order => ({ id: `order-${String(i).padStart(4, '0')}`, customerId: `c-${i % 7}`, total: Math.round(random() * 20_000) / 100 });

  function ordersTables(config: MigrationConfig) {
    const legacyDb = new InMemoryRepository<Order, string>({ keyOf: (o) => o.id, name: 'legacy-db' });
    const newDb = new InMemoryRepository<Order, string>({ keyOf: (o) => o.id, name: 'orders-v2-db' });
    const orders = new DualWriteRepository<Order, string>({ name: 'orders', old: legacyDb, new: newDb, keyOf: (o) => o.id, config, logger: silentLogger });
    return { legacyDb, newDb, orders };
  }

  it('a failing new database never fails the customer, and repair() catches it up', async () => {
    const { legacyDb, newDb, orders } = ordersTables(phases.shadow());
    newDb.failNext('save', 3).failKey('order-0007', 'save');
    for (let i = 0; i < 20; i++) await orders.save(order(i));
    expect(legacyDb.size).toBe(20);
    expect(newDb.size).toBe(16);
    newDb.heal();
    expect(await orders.repair()).toMatchObject({ failed: 0, remaining: 0 });
    expect(newDb.snapshot()).toEqual(legacyDb.snapshot());
  });

  it('a new database that dies mid-batch during the backfill is caught by verify', async () => {
    const { legacyDb, newDb } = ordersTables(phases.shadow());
    legacyDb.seed(Array.from({ length: 50 }, (_, i) => order(i)));
    newDb.failMidBatch(30);
    await expect(newDb.bulkInsert?.(legacyDb.snapshot())).rejects.toThrow('orders-v2-db: injected bulkInsert failure');
    const report = await verify({ old: legacyDb, new: newDb, keyOf: (o) => o.id });
    expect(report).toMatchObject({ checked: 50, missing: { count: 20 } });
    expect(newDb.counts.rowsWritten).toBe(30);
  });
});

describe('checkout migration: would our ramp have caught last month?', () => {
  const day = 24 * 60 * 60 * 1000;
  const legacy = { errorRate: 0.002, latencyMs: { kind: 'normal', mean: 120, sd: 30 } } as const;
  const v2 = { errorRate: 0, latencyMs: { kind: 'normal', mean: 60, sd: 10 } } as const;
  const traffic = (v2Then: TrafficSegment['new']): TrafficSegment[] => [
    { from: 0, to: 12 * day, callsPerMinute: 6_000, old: legacy, new: v2 },
    // Release 2.4 of checkout-v2 went out on day 12: one payment in twenty failed.
    { from: 12 * day, to: 16 * day, callsPerMinute: 6_000, old: legacy, new: v2Then },
  ];
  const criteria = { maxErrorRate: 0.02, maxErrorRateOverBaseline: 0.01 };

  it('our looser criteria still roll back the bad release at 25 %, the step it landed in', async () => {
    const result = await replayMigration({ traffic: traffic({ ...v2, errorRate: 0.05 }), criteria });
    expect(result.steps.map((step) => step.percentage)).toEqual([1, 5, 10, 25]);
    expect(result.rollbacks).toEqual([expect.objectContaining({ percentage: 25, reason: expect.stringMatching(/new error rate .*always-valid interval/) })]);
    // The release landed five days into a healthy 25 % step, whose evidence it must first outweigh: days, not
    // minutes. In production, call guard.restartStep() when deploying new, and the judge sees the release alone.
    const late = (result.rollbacks[0]?.offsetMs ?? 0) - 12 * day;
    expect(late).toBeGreaterThan(0);
    expect(late).toBeLessThan(3 * day);
  }, 30_000);

  it('and ride out the slower 2.4.1 (p95 up by half) without a rollback', async () => {
    const result = await replayMigration({ traffic: traffic({ errorRate: 0, latencyMs: { kind: 'normal', mean: 90, sd: 15 } }), criteria });
    expect(result.rollbacks).toEqual([]);
    expect(result.finalPercentage).toBe(50);
  }, 30_000);

  it('replays the calls recorded in production the same way', async () => {
    const start = Date.UTC(2026, 1, 1);
    const recorded: RecordedCall[] = [];
    for (let s = 0; s < 4 * 3600; s++) {
      recorded.push({ at: start + s * 1000, arm: 'old', ok: s % 500 !== 0, latencyMs: 100 + (s % 40) });
      // v2 served every other second and started failing one call in ten at 02:00.
      if (s % 2 === 0) recorded.push({ at: start + s * 1000 + 1, arm: 'new', ok: !(s >= 2 * 3600 && s % 20 === 0), latencyMs: 50 + (s % 20) });
    }
    const plan = [{ percentage: 10, holdMs: 30 * 60_000 }, { percentage: 100, holdMs: 60 * 60_000 }];
    // Recorded from the 10 % step on: four hours hold too few comparisons to pass a shadow step first.
    const result = await replayMigration({ traffic: recorded, plan, config: phases.canary(10), criteria: { ...criteria, minSamples: 30 }, tickEveryMs: 15 * 60_000 });
    expect(result.steps.map((step) => step.percentage)).toEqual([100]);
    expect(result.rollbacks[0]).toMatchObject({ percentage: 100, reason: expect.stringMatching(/new error rate .*always-valid interval/) });
  });
});
