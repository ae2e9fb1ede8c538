export type { BackfillOptions, BackfillProgress, BackfillResult, ThrottleAnswer } from './backfill.js';
export { backfill } from './backfill.js';
export type { CheckpointStore } from './checkpoint-store.js';
export { InMemoryCheckpointStore } from './checkpoint-store.js';
export { AbortedError, RepairLogError } from './data-errors.js';
export type {
  DataMismatchEvent,
  DualWriteEvents,
  DualWriteStats,
  ReadFallbackEvent,
  RepairLogFailureEvent,
  RepairResult,
  SecondaryFailureEvent,
  ShadowReadErrorEvent,
} from './dual-write-events.js';
export type { DualWriteRepositoryOptions } from './dual-write-repository.js';
export { DualWriteRepository } from './dual-write-repository.js';
export type { FileCheckpointStoreOptions } from './file-checkpoint-store.js';
export { FileCheckpointStore } from './file-checkpoint-store.js';
export type { FileRepairLogOptions } from './file-repair-log.js';
export { FileRepairLog } from './file-repair-log.js';
export type { CompareKeys } from './keys.js';
export { compareKeys } from './keys.js';
export type { Sleep } from './options.js';
export type { KeySplitter, PartitionLease, PartitionLeases, PartitionProgress, PartitionRange, PartitionedBackfillResult } from './partition.js';
export type { PartitionedBackfillOptions } from './partition-backfill.js';
export { backfillPartitioned } from './partition-backfill.js';
export { LeaseLostError } from './partition-errors.js';
export type { InMemoryPartitionLeasesOptions } from './partition-memory-leases.js';
export { InMemoryPartitionLeases } from './partition-memory-leases.js';
export type { LoggedRepair, RepairEntry, RepairLog, Side } from './repair-log.js';
export { InMemoryRepairLog } from './repair-log.js';
export type { CopyRange, KeyRange, RangeChecksum, RangeCopy, Repository } from './repository.js';
export type { TombstoneStore } from './tombstone-store.js';
export { InMemoryTombstoneStore } from './tombstone-store.js';
export type { KeyList, RecheckOptions, VerifyOptions, VerifyReport } from './verify.js';
export { verify } from './verify.js';
