export type { OpenFeatureClient, OpenFeatureConfigOptions, OpenFeatureConfigProvider } from './openfeature-config-provider.js';
export { openFeatureConfigProvider } from './openfeature-config-provider.js';
