export type {
  Arm,
  ConfigChangeEvent,
  FallbackEvent,
  GlueEventName,
  GlueEvents,
  MismatchEvent,
  MismatchKind,
  RollbackEvent,
  RouteEvent,
  RouteReason,
  SettledEvent,
  ShadowErrorEvent,
  ShadowSkippedEvent,
} from './events.js';
export type { MigrationGlueOptions } from './migration-glue.js';
export { MigrationGlue } from './migration-glue.js';
export type { RoutingKeyFn } from './routing-key.js';
export { defaultRoutingKey } from './routing-key.js';
export type { Service, ServiceLike } from './service.js';
export type { ShadowOptions, ShadowOrder } from './shadow-runner.js';
export type { ArmStats, FingerprintCount, MigrationStats, ShadowStats } from './stats.js';
export type { AsyncMethodKeys, GlueServiceControl, GlueServiceOptions, GluedService, MethodPolicy, SecondaryFailure } from './glue-service.js';
export { glueService } from './glue-service.js';
export type { PhaseName } from './routing.js';
export { describeShare, inNewShare, newShare, phaseOf } from './routing.js';
export type { GlueLike, GlueLikeMismatch } from './glue-like.js';
