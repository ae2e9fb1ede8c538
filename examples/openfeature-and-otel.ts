/**
 * The config from an OpenFeature flag, the glue's figures as OpenTelemetry
 * metrics. In a real project the imports read 'migration-glue/openfeature'
 * and 'migration-glue/otel', with your own OpenFeature provider and meter.
 * Run with `npx tsx examples/openfeature-and-otel.ts`.
 */
import { InMemoryProvider, OpenFeature } from '@openfeature/server-sdk';
import { MeterProvider, MetricReader } from '@opentelemetry/sdk-metrics';
import { MigrationGlue, phases, silentLogger } from '../src/index.js';
import type { MigrationConfig } from '../src/index.js';
import { openFeatureConfigProvider } from '../src/openfeature/index.js';
import { instrumentGlue } from '../src/otel/index.js';

// 1. A flag whose JSON value is the migration config: the flag service moves the percentage.
const flag = (config: MigrationConfig) => ({ 'checkout-migration': { variants: { on: config }, defaultVariant: 'on', disabled: false } }) as never;
const flags = new InMemoryProvider(flag(phases.canary(10)));
await OpenFeature.setProviderAndWait(flags);
const config = openFeatureConfigProvider({ client: OpenFeature.getClient(), flagKey: 'checkout-migration', logger: silentLogger });
await config.ready();

// 2. A meter: here an in-process reader; in production your OTLP exporter.
class Reader extends MetricReader {
  protected override async onShutdown(): Promise<void> {}
  protected override async onForceFlush(): Promise<void> {}
}
const reader = new Reader();
const meter = new MeterProvider({ readers: [reader] }).getMeter('checkout');

const glue = new MigrationGlue<{ userId: string }, string>({
  name: 'checkout',
  oldService: async () => 'v1',
  newService: async () => 'v2',
  config,
  logger: silentLogger,
});
const stopMetrics = instrumentGlue(glue, { meter });

for (let i = 0; i < 1_000; i++) await glue.process({ userId: `user-${i}` });
console.log(`flag at 10 %: new served ${glue.stats().new.calls} of 1000 calls`);

// The flag changes: the glue follows on its next call.
flags.putConfiguration(flag(phases.canary(50)));
await new Promise((resolve) => setTimeout(resolve, 20));
for (let i = 0; i < 1_000; i++) await glue.process({ userId: `user-${i}` });
console.log(`flag at 50 %: config in force ${glue.stats().config.newSystemPercentage} %, new served ${glue.stats().new.calls} of 2000 calls`);

const { resourceMetrics } = await reader.collect();
const names = resourceMetrics.scopeMetrics.flatMap((scope) => scope.metrics.map((metric) => metric.descriptor.name));
console.log(`OpenTelemetry instruments: ${names.join(', ')}`);

stopMetrics();
config.close();
await glue.close();
await OpenFeature.close();
