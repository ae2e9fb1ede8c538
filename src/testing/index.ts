export type { CallSelector, FakeCall, FakeCallStatus, FakeScript, FakeService, FakeServiceOptions, LatencyScript, SleepingClock } from './fake-service.js';
export { fakeService } from './fake-service.js';
export type { InMemoryRepositoryOptions, RepositoryCounts, RepositoryOp, RepositoryOpSelector } from './in-memory-repository.js';
export { InMemoryRepository, InjectedFailure } from './in-memory-repository.js';
export type { ManualClockOptions } from './manual-clock.js';
export { ManualClock, defaultStartTime } from './manual-clock.js';
export type { Random } from './random.js';
export { seededRandom } from './random.js';
export type { EventRecorder, RecordedEvent, RecordedEventsByName } from './record-events.js';
export { glueEventNames, recordEvents } from './record-events.js';
export type { KeyOrder, KeySide, SimulateTrafficOptions, SimulatedError, TrafficResult } from './simulate-traffic.js';
export { simulateTraffic } from './simulate-traffic.js';
export type {
  ArmBehaviour,
  NewArmBehaviour,
  RecordedCall,
  ReplayLatency,
  ReplayMigrationOptions,
  ReplayResult,
  ReplayRollback,
  ReplayStep,
  ReplayTick,
  ReplayTraffic,
  TrafficLevel,
  TrafficSegment,
} from './replay-migration.js';
export { replayMigration } from './replay-migration.js';
