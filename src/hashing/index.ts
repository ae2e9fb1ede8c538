export type { Hasher, RoutingKey } from './hasher.js';
export { BUCKETS, bucketOf, murmur3Hasher } from './hasher.js';
