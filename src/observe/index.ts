export type { ArmFigures } from './arm-metrics.js';
export type { Clock } from './clock.js';
export { systemClock } from './clock.js';
export type { LogMethod, Logger } from './logger.js';
export { silentLogger } from './logger.js';
export type { Notification, Notifier } from './notifier.js';
