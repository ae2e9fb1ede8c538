import { metrics } from '@opentelemetry/api';
import { DataPointType, MeterProvider, MetricReader } from '@opentelemetry/sdk-metrics';
import type { DataPoint, Histogram, MetricData } from '@opentelemetry/sdk-metrics';
import { describe, expect, it } from 'vitest';
import { InMemoryConfigStore, InvalidOptionError, MigrationGlue, phases, silentLogger } from '../../src/index.js';
import { instrumentGlue } from '../../src/otel/index.js';

/** A reader the test collects from on demand. */
class TestReader extends MetricReader {
  protected override async onShutdown(): Promise<void> {}
  protected override async onForceFlush(): Promise<void> {}
}

async function collect(reader: TestReader): Promise<Map<string, MetricData>> {
  const { resourceMetrics } = await reader.collect();
  const byName = new Map<string, MetricData>();
  for (const scope of resourceMetrics.scopeMetrics) for (const metric of scope.metrics) byName.set(metric.descriptor.name, metric);
  return byName;
}

function points(metric: MetricData | undefined): DataPoint<unknown>[] {
  return (metric?.dataPoints ?? []) as DataPoint<unknown>[];
}

function valueOf(metric: MetricData | undefined, attributes: Record<string, string>): unknown {
  return points(metric).find((p) => Object.entries(attributes).every(([k, v]) => p.attributes[k] === v))?.value;
}

function setup(config = phases.preparation()) {
  const reader = new TestReader();
  const provider = new MeterProvider({ readers: [reader] });
  const meter = provider.getMeter('migration-glue-test');
  const store = new InMemoryConfigStore(config);
  let n = 0;
  const glue = new MigrationGlue<{ userId: string }, number>({
    name: 'checkout',
    oldService: async () => 1,
    newService: async () => {
      n++;
      if (n % 4 === 0) throw new Error('new failed');
      return 2;
    },
    config: store,
    logger: silentLogger,
  });
  return { reader, provider, meter, store, glue };
}

describe('instrumentGlue', () => {
  describe('options', () => {
    it('names a bad meter, glue or prefix and the value received', () => {
      const { glue, meter } = setup();
      expect(() => instrumentGlue(glue, { meter: {} as never })).toThrow(/option `meter`/);
      expect(() => instrumentGlue(undefined as never, { meter })).toThrow(InvalidOptionError);
      expect(() => instrumentGlue(glue, { meter, prefix: '9bad' })).toThrow(/option `prefix` .*got "9bad"/);
    });

    it('accepts the global no-op meter', () => {
      const { glue } = setup();
      const stop = instrumentGlue(glue, { meter: metrics.getMeter('noop') });
      stop();
    });
  });

  describe('when calls are served', () => {
    it('counts calls and errors per arm and records their latency', async () => {
      const { reader, meter, glue, store } = setup({ shadowMode: false, newSystemEnabled: true, newSystemPercentage: 100, fallbackEnabled: false });
      instrumentGlue(glue, { meter });
      for (let i = 0; i < 8; i++) await glue.process({ userId: `u${i}` }).catch(() => undefined);
      await store.save(phases.preparation());
      for (let i = 0; i < 3; i++) await glue.process({ userId: `u${i}` });
      const byName = await collect(reader);
      const calls = byName.get('migration_glue.calls');
      expect(valueOf(calls, { migration: 'checkout', arm: 'new', outcome: 'ok' })).toBe(6);
      expect(valueOf(calls, { migration: 'checkout', arm: 'new', outcome: 'error' })).toBe(2);
      expect(valueOf(calls, { migration: 'checkout', arm: 'old', outcome: 'ok' })).toBe(3);
      expect(valueOf(byName.get('migration_glue.errors'), { arm: 'new' })).toBe(2);
      const latency = byName.get('migration_glue.latency');
      expect(latency?.dataPointType).toBe(DataPointType.HISTOGRAM);
      expect(latency?.descriptor.unit).toBe('ms');
      expect((valueOf(latency, { arm: 'new', outcome: 'ok' }) as Histogram).count).toBe(6);
      expect(valueOf(byName.get('migration_glue.new_percentage'), { migration: 'checkout' })).toBe(0);
    });
  });

  describe('when new fails in canary, mismatches in shadow, and the glue rolls back', () => {
    it('counts fallbacks, mismatches by kind and rollbacks, under a custom prefix', async () => {
      const { reader, meter, glue, store } = setup({ shadowMode: false, newSystemEnabled: true, newSystemPercentage: 100, fallbackEnabled: true });
      instrumentGlue(glue, { meter, prefix: 'shop.checkout' });
      for (let i = 0; i < 8; i++) await glue.process({ userId: `u${i}` });
      expect(valueOf((await collect(reader)).get('shop.checkout.new_percentage'), {})).toBe(100);
      await store.save(phases.shadow());
      for (let i = 0; i < 4; i++) await glue.process({ userId: `u${i}` });
      await glue.drain();
      await glue.rollback('too many mismatches');
      const byName = await collect(reader);
      expect(valueOf(byName.get('shop.checkout.fallbacks'), { migration: 'checkout' })).toBe(2);
      const mismatches = points(byName.get('shop.checkout.mismatches'));
      expect(mismatches.reduce((sum, p) => sum + (p.value as number), 0)).toBe(4);
      expect(mismatches.every((p) => typeof p.attributes.kind === 'string')).toBe(true);
      expect(valueOf(byName.get('shop.checkout.rollbacks'), { migration: 'checkout' })).toBe(1);
      expect(valueOf(byName.get('shop.checkout.new_percentage'), {})).toBe(0);
    });
  });

  describe('after unsubscribing', () => {
    it('records nothing more', async () => {
      const { reader, meter, glue } = setup();
      const stop = instrumentGlue(glue, { meter });
      await glue.process({ userId: 'a' });
      stop();
      stop();
      await glue.process({ userId: 'b' });
      const byName = await collect(reader);
      expect(valueOf(byName.get('migration_glue.calls'), { arm: 'old', outcome: 'ok' })).toBe(1);
      expect(points(byName.get('migration_glue.new_percentage'))).toHaveLength(0);
    });
  });
});
