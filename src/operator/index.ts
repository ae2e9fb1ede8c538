// migration-glue/operator: what the command line and the dashboard do, for
// scripts and bots. A store is named by URL (file:…, redis://…); ioredis is
// loaded only for a redis:// store.
export { OperatorError, openOperator } from '../cli/operator.js';
export type { Operator, OperatorArmFigures, OperatorFleet, OperatorOptions, OperatorPhase, OperatorStatus, OperatorTarget } from '../cli/operator.js';
export { defaultDashboardPort, startDashboard } from '../dashboard/server.js';
export type { Dashboard, DashboardOptions } from '../dashboard/server.js';
export type { DashboardOperator } from '../dashboard/live-state.js';
export type { JournalSource } from '../dashboard/journal-feed.js';
