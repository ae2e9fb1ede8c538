export * from './compare/index.js';
export * from './config/index.js';
export type { MigrationErrorCode } from './errors.js';
export { InvalidOptionError, MigrationGlueError } from './errors.js';
export * from './hashing/index.js';
export * from './observe/index.js';
export * from './core/index.js';
export * from './data/index.js';
export * from './rollout/index.js';
